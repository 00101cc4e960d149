"""What a running service holds: the served model (the champion, or the last-known-good cache)
and the audit log. A reload swaps the model atomically; a request reads it once, so it finishes
on the model it started with."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from scalepredict.api.errors import AtCapacity, AuditUnavailable, NotReady
from scalepredict.catalogue import Catalogue
from scalepredict.inference.predictor import Predictor
from scalepredict.settings import get_settings
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
        self.settings = get_settings()  # read once: the request path reads limits from here
        self.predictor: Predictor | None = None
        self.refused: str | None = None  # why the registry's champion is not served
        self._audit_checked: tuple[float, str | None] = (0.0, None)  # (when, problem)
        self._inflight = 0  # proposals being scored now, across the worker's threads
        self._inflight_lock = threading.Lock()
        self.on_shed: Callable[[], None] = lambda: None  # the guard counts refusals
        self._audit: AuditLog | None = None
        self._reload_lock = threading.Lock()
        self._poller: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def audit(self) -> AuditLog:
        """The audit log, opened (and its database upgraded) on first use in the serving
        process; a database that cannot be reached raises, and the next use tries again."""
        if self._audit is None:
            self._audit = AuditLog(self.settings)
        return self._audit

    def start(self) -> None:
        """Open the audit log and load the champion (registry, else cache). Without a model, or
        without its database, the service stays alive but not ready, and /readyz says why."""
        try:
            _ = self.audit
        except Exception as e:
            log.error("the database cannot be opened: %s", e)
        try:
            predictor = champion.load_at_start(self.settings)
            self._check_catalogue(predictor)
        except Exception as e:
            self.refused = f"{type(e).__name__}: {str(e)[:300]}"
            log.error("no model could be loaded: %s", self.refused)
            self._start_polling()  # a champion registered later makes the service ready
            return
        self.predictor = predictor
        info = predictor.info
        self.refused = info.get("registry_error")  # serving the cache: why not the registry's
        log.info("serving %s v%s from %s", info["name"], info["version"], info["source"])
        self._start_polling()

    def _start_polling(self) -> None:
        """Follow the registry's champion alias: every replica converges on the champion
        within one period, whoever moved the alias or reloaded one replica."""
        period = self.settings.champion_poll_seconds
        if period <= 0 or self._poller is not None:
            return
        self._poller = threading.Thread(
            target=self._poll, args=(period,), name="champion-poll", daemon=True
        )
        self._poller.start()

    def _poll(self, period: float) -> None:
        failed: str | None = None  # a version that failed to load is not retried every period
        while not self._stopping.wait(period):
            try:
                version = champion.registry_version(self.settings)
            except Exception as e:  # registry down: keep serving, try again next period
                log.debug("champion poll: %s", e)
                continue
            info = self.predictor.info if self.predictor else {}
            # A model served from the cache is replaced by the registry's once it is back.
            served = info.get("version") if info.get("source") == "registry" else None
            if version is None or version in (served, failed):
                continue
            try:
                previous, candidate = self.reload()
                self.refused = None
                log.info("new champion: v%s -> v%s", previous, candidate.info["version"])
                failed = None
            except ReloadRefused:
                failed = version

    def stop(self) -> None:
        self._stopping.set()

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
        return self.predictor is not None and self.audit_problem() is None

    def audit_problem(self) -> str | None:
        """Why the audit cannot be written now (checked at most once a second), or None."""
        when, problem = self._audit_checked
        if time.monotonic() - when > 1.0:
            try:
                problem = self.audit.writable()
            except Exception as e:  # not opened yet: unreachable at start
                problem = str(e)[:300]
            self._audit_checked = (time.monotonic(), problem)
        return problem

    @contextmanager
    def admitted(self, proposals: int) -> Iterator[None]:
        """Score `proposals` only if the work in progress leaves room: past the budget a
        request would wait beyond the client's timeout and be scored (and audited) for
        nobody, so it is refused (503 + Retry-After) before any work starts."""
        budget = self.settings.max_inflight_proposals
        with self._inflight_lock:
            if self._inflight and self._inflight + proposals > budget:
                self.on_shed()
                raise AtCapacity(f"{self._inflight} proposals in progress, budget {budget}")
            self._inflight += proposals
        try:
            yield
        finally:
            with self._inflight_lock:
                self._inflight -= proposals

    def record(
        self,
        started: float,
        request_id: str,
        endpoint: str,
        key_name: str,
        model_version: str,
        items: list[tuple[str, dict, dict]],
    ) -> None:
        """Audit an answer about to be sent. An answer later than the request timeout reaches
        nobody (the client has had its timeout), so it is refused, not audited; a store that
        cannot be written refuses the answer too (503): every answer sent has its rows."""
        timeout = self.settings.request_timeout
        if time.monotonic() - started > timeout:
            log.warning(
                "%s %s answered after %d s: not audited, not sent", endpoint, request_id, timeout
            )
            raise AuditUnavailable(f"the answer took longer than {timeout} s")
        try:
            self.audit.record(request_id, endpoint, key_name, model_version, items)
        except Exception as e:
            self._audit_checked = (time.monotonic(), f"{type(e).__name__}")
            log.error("audit write failed: %s: %s", type(e).__name__, str(e)[:300])
            raise AuditUnavailable(type(e).__name__) from e

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
                candidate = champion.from_registry(self.settings)
                self._check_catalogue(candidate)
            except Exception as e:
                log.error(
                    "reload refused: %s: %s; still serving v%s", type(e).__name__, e, previous
                )
                # /readyz says why the registry's champion is not the one served
                self.refused = f"{type(e).__name__}: {str(e)[:300]}"
                raise ReloadRefused(previous, e) from e
            self.predictor = candidate
            self.refused = None
        return previous, candidate
