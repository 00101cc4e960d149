"""What a running service holds: the served model (the champion, or the last-known-good cache)
and the audit log. A reload swaps the model atomically; a request reads it once, so it finishes
on the model it started with."""

from __future__ import annotations

import logging
import threading
from typing import Any

from scalepredict.api.errors import NotReady
from scalepredict.catalogue import Catalogue
from scalepredict.inference.predictor import Predictor
from scalepredict.store.audit import AuditLog
from scalepredict.tracking import champion

log = logging.getLogger("scalepredict.api")


class WrongCatalogue(Exception):
    """A model of another catalogue than the one this service speaks."""


class ReloadRefused(Exception):
    """The registry's champion could not be loaded; the current model keeps serving."""

    def __init__(self, previous: str | None, cause: Exception) -> None:
        self.previous, self.cause = previous, cause
        super().__init__(f"{type(cause).__name__}: {str(cause)[:300]}")


class ServiceState:
    """Serves models of one catalogue (its request models are built from it): a champion
    trained on another catalogue is refused at start and on reload."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.predictor: Predictor | None = None
        self.refused: str | None = None  # why the registry's champion is not served
        self._audit: AuditLog | None = None
        self._reload_lock = threading.Lock()

    @property
    def audit(self) -> AuditLog:
        if self._audit is None:  # opened in the serving process, not at import
            self._audit = AuditLog()
        return self._audit

    def start(self) -> None:
        """Open the audit log and load the champion (registry, else cache). Without a model the
        service stays alive but not ready, and /readyz says why."""
        _ = self.audit
        try:
            predictor = champion.load_at_start()
            self._check_catalogue(predictor)
        except Exception as e:
            self.refused = f"{type(e).__name__}: {str(e)[:300]}"
            log.error("no model could be loaded: %s", self.refused)
            return
        self.predictor = predictor
        info = predictor.info
        log.info("serving %s v%s from %s", info["name"], info["version"], info["source"])

    def _check_catalogue(self, predictor: Predictor) -> None:
        theirs = predictor.bundle.catalogue
        if theirs.fingerprint != self.catalogue.fingerprint:
            raise WrongCatalogue(
                f"model v{predictor.info.get('version')} was trained on catalogue "
                f"{theirs.name!r} ({theirs.fingerprint}); this service serves "
                f"{self.catalogue.name!r} ({self.catalogue.fingerprint}): set the catalogue "
                "setting to the model's catalogue"
            )

    @property
    def ready(self) -> bool:
        return self.predictor is not None

    def model(self) -> tuple[Predictor, dict[str, Any]]:
        predictor = self.predictor  # one read per request: a reload never changes it midway
        if predictor is None:
            raise NotReady
        info = predictor.info
        return predictor, {k: info[k] for k in ("name", "version", "source")}

    def reload(self) -> tuple[str | None, Predictor]:
        """Load the current champion; returns (previous version, new predictor)."""
        with self._reload_lock:
            previous = self.predictor.info["version"] if self.predictor else None
            try:
                candidate = champion.from_registry()
                self._check_catalogue(candidate)
            except Exception as e:
                log.error(
                    "reload refused: %s: %s; still serving v%s", type(e).__name__, e, previous
                )
                raise ReloadRefused(previous, e) from e
            self.predictor = candidate
        return previous, candidate
