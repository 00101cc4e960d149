"""The model a service serves: the registry's champion, copied to a local last-known-good cache.

At start the champion comes from the MLflow registry and is copied to the cache; when the
registry cannot be reached, the cache serves and says so. A candidate that cannot be loaded or
was built for another catalogue is refused, so the caller keeps the model it has. A deliberate
promotion (past the gate) moves the alias and says so in the runs' tags."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import numpy as np
from mlflow.exceptions import MlflowException

from scalepredict.catalogue import load_catalogue
from scalepredict.catalogue.template import example_proposal
from scalepredict.data.validation import typed_records
from scalepredict.inference.predictor import Predictor
from scalepredict.model.bundle import BundleError, ModelBundle
from scalepredict.settings import Settings
from scalepredict.tracking import registry

log = logging.getLogger("scalepredict.tracking.champion")
INFO_FILE = "source.json"


def _name(settings: Settings) -> str:
    """The registered model the service serves: the settings' name, else their catalogue's."""
    return registry.model_name(settings, load_catalogue(settings))


def _smoke_test(bundle: ModelBundle) -> None:
    """A model must score known-good assessments (its catalogue's worked examples, else one
    built from the catalogue's rules) to finite probabilities before it serves."""
    cat = bundle.catalogue
    examples = [e.proposal for e in cat.examples] or [example_proposal(cat)]
    p = bundle.probability(typed_records(examples, cat))
    if p.shape != (len(examples),) or not np.all(np.isfinite(p)) or not np.all((p >= 0) & (p <= 1)):
        raise BundleError("model failed its smoke test (non-finite or out-of-range output)")


def _info(bundle: ModelBundle, version: str, source: str, name: str) -> dict:
    meta = bundle.meta
    return {
        "name": name,
        "version": version,
        "alias": registry.CHAMPION,
        "source": source,
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "trained_at": meta.get("trained_at"),
        "run_id": meta.get("run_id"),
        "data": meta.get("data"),
        "metrics": meta.get("metrics", {}),
        "family": bundle.kind,
        "card": meta.get("card", {}),  # how much the model knows (`model/card.py`)
        "calibration": bundle.calibrator.method,
        "conformal_alpha": bundle.conformal.alpha,
    }


def registry_version(settings: Settings) -> str | None:
    """The version the champion alias names now (None: no champion)."""
    client = registry.connect(settings, create=False)
    version = registry.version_by_alias(client, registry.CHAMPION, _name(settings))
    return None if version is None else str(version.version)


def from_registry(settings: Settings) -> Predictor:
    """The current champion from MLflow, smoke-tested and copied to the cache. When the cache
    already holds that version of that model from that store, it is loaded from there: the
    registry still says which version is champion, and the download is skipped."""
    client = registry.connect(settings, create=False)
    name = _name(settings)
    version = registry.version_by_alias(client, registry.CHAMPION, name)
    if version is None:
        raise BundleError(f"no {registry.CHAMPION} registered at {settings.tracking_uri}")
    # what the cache holds: a version of a registered model in a tracking store
    source = {"version": str(version.version), "name": name, "store": settings.tracking_uri}
    key = registry.signing_key(settings)
    cache = settings.model_cache
    try:
        if (cache / INFO_FILE).exists() and json.loads((cache / INFO_FILE).read_text()) == source:
            bundle = registry.verified_bundle(cache / "bundle", key, "the model cache")
            _smoke_test(bundle)
            return Predictor(bundle, _info(bundle, source["version"], "registry", name))
    except (OSError, ValueError, BundleError) as e:  # no usable cache: download
        log.info("model cache not used (%s: %s)", type(e).__name__, str(e)[:200])
    uri = f"models:/{name}/{version.version}"
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = registry.download_bundle(uri, tmp, settings)
        except MlflowException as e:
            raise BundleError(f"cannot load {uri}: {e.message}") from e
        bundle = registry.verified_bundle(local, key, f"v{version.version}")
        _smoke_test(bundle)
        _write_cache(local, source, cache)
    return Predictor(bundle, _info(bundle, str(version.version), "registry", name))


def _write_cache(bundle_dir: Path, source: dict[str, str], target: Path) -> None:
    """Replace the cache `target` atomically: copy beside it, then rename over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".cache-"))
    shutil.copytree(bundle_dir, staging / "bundle")
    (staging / INFO_FILE).write_text(json.dumps(source))
    old = target.with_name(target.name + ".old")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def from_cache(settings: Settings) -> Predictor:
    target = settings.model_cache
    key = registry.signing_key(settings)
    bundle = registry.verified_bundle(target / "bundle", key, "the model cache")
    _smoke_test(bundle)
    version = json.loads((target / INFO_FILE).read_text())["version"]
    return Predictor(bundle, _info(bundle, version, "cache", _name(settings)))


def load_at_start(settings: Settings) -> Predictor:
    """Registry first; the cache when the registry cannot be reached or has no champion."""
    try:
        return from_registry(settings)
    except Exception as e:
        log.warning("registry unavailable (%s: %s); trying the local cache", type(e).__name__, e)
        predictor = from_cache(settings)
        predictor.info["registry_error"] = f"{type(e).__name__}: {str(e)[:300]}"
        return predictor


def promote(settings: Settings, version: str, reason: str, name: str) -> str | None:
    """Deliberately make `version` the champion, bypassing the gate; logged as its own run."""
    client = registry.connect(settings)
    client.get_model_version(name, version)  # raises if it does not exist
    previous = registry.version_by_alias(client, registry.CHAMPION, name)
    exp_id = registry.experiment_id(client, settings.experiment)
    with mlflow.start_run(experiment_id=exp_id, run_name=f"promote-v{version}"):
        mlflow.set_tags(
            {
                "action": "manual_promotion",
                "model_version": version,
                "reason": reason,
                "previous_champion": previous.version if previous else "none",
            }
        )
    client.set_registered_model_alias(name, registry.CHAMPION, version)
    client.set_model_version_tag(name, version, "manual_promotion", reason)
    return previous.version if previous else None


def settle_promotion(settings: Settings, version: str, previous: str | None, name: str) -> None:
    """After a deliberate promotion moved the champion alias to `version`: one alias per
    version (a promoted challenger stops being the challenger), and the training runs'
    `promoted` tags say what was done: true on the new champion's run, false on the previous
    champion's, with who replaced whom."""
    client = registry.connect(settings)
    challenger = registry.version_by_alias(client, registry.CHALLENGER, name)
    if challenger is not None and str(challenger.version) == str(version):
        client.delete_registered_model_alias(name, registry.CHALLENGER)
    if previous is not None and str(previous) != str(version):
        old_run = client.get_model_version(name, previous).run_id
        if old_run:
            client.set_tag(old_run, "promoted", "false")
            client.set_tag(old_run, "replaced_by", f"v{version}")
    new_run = client.get_model_version(name, version).run_id
    if new_run:
        client.set_tag(new_run, "promoted", "true")
        client.set_tag(new_run, "promoted_by", "manual promotion")
