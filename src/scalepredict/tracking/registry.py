"""MLflow access: where the tracking store is, the experiment, the registered model and its
aliases (`champion`, `challenger`; registry stages are deprecated), and loading a model back."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from scalepredict.catalogue import Catalogue
from scalepredict.data.validation import groups_of, stage_of
from scalepredict.inference.predictor import Predictor
from scalepredict.model import signing
from scalepredict.model.bundle import BundleError, ModelBundle
from scalepredict.settings import Settings
from scalepredict.tracking.pyfunc import BUNDLE_ARTIFACT

log = logging.getLogger("scalepredict.tracking.registry")
CHAMPION, CHALLENGER = "champion", "challenger"
# What the registry answers for a model or alias that does not exist (yet).
NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}


def model_name(settings: Settings, cat: Catalogue) -> str:
    """The setting's model name, else the catalogue's own, else `scalepredict`."""
    return settings.model_name or cat.model_name or "scalepredict"


def _sqlite_path(uri: str) -> Path | None:
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


class MissingStore(BundleError):
    """The tracking URI names an embedded store that does not exist."""


def connect(settings: Settings, create: bool = True) -> MlflowClient:
    """Point MLflow at the tracking store. Training creates the embedded SQLite store; a reader
    (the service, scoring) is told that it is missing, not handed a new empty one."""
    uri = settings.tracking_uri
    # MLflow reads these from the environment at each request / download: bounded HTTP
    # retries, and no download bars (they would flood the server and CI logs).
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = str(settings.registry_retries)
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(settings.registry_timeout)
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = str(settings.artifacts_progress_bar)
    db = _sqlite_path(uri)
    if db is not None:
        if not create and not db.exists():
            raise MissingStore(f"no MLflow store at {db} (MLFLOW_TRACKING_URI={uri})")
        db.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


# MLflow 3's UI opens an experiment without this tag in its GenAI view (traces, prompts):
# ours is a model-training experiment (runs, metrics, models).
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}


def experiment_id(client: MlflowClient, name: str) -> str:
    """The experiment's id, created if missing; tagged a model-training experiment (also when
    an older version created it)."""
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        for key, value in EXPERIMENT_KIND.items():
            if exp.tags.get(key) != value:
                client.set_experiment_tag(exp.experiment_id, key, value)
        return exp.experiment_id
    db = _sqlite_path(client.tracking_uri)
    # Artifacts live beside the SQLite file (mlruns/artifacts), not in the working directory.
    location = (db.parent / "artifacts").resolve().as_uri() if db is not None else None
    return client.create_experiment(name, artifact_location=location, tags=EXPERIMENT_KIND)


def model_uri(alias: str, name: str) -> str:
    return f"models:/{name}@{alias}"


def version_by_alias(client: MlflowClient, alias: str, name: str) -> ModelVersion | None:
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as e:
        if e.error_code in NOT_FOUND:
            return None  # no such model or alias yet
        raise  # an unreachable or failing registry is not "no champion"


def signing_key(settings: Settings, create: bool = False) -> bytes:
    """The bundle signing key: SCALEPREDICT_SIGNING_KEY, else the key file. Training creates
    the file (0600) when missing; a reader without a key refuses every registered model."""
    if settings.signing_key is not None and settings.signing_key.get_secret_value():
        return settings.signing_key.get_secret_value().encode()
    path = settings.signing_key_file
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        log.warning("created a signing key at %s (keep it; models signed with it need it)", path)
    try:
        key = path.read_text().strip().encode()
    except OSError as e:
        raise BundleError(
            f"no signing key (SCALEPREDICT_SIGNING_KEY unset, {path}: {e.strerror}): "
            "registered models cannot be verified; refused"
        ) from None
    if not key:
        raise BundleError(f"the signing key file {path} is empty; refused")
    return key


def download_bundle(uri: str, dst: str, settings: Settings) -> Path:
    """The bundle directory of a registered version or a run's model: its data files only
    (the model's code is neither downloaded nor run)."""
    if uri.startswith("models:/"):
        version = resolve_version(uri, settings)
        if version is None:
            raise BundleError(f"{uri}: no such registered model, version or alias")
        ref = uri.removeprefix("models:/")
        name = ref.split("@", 1)[0] if "@" in ref else ref.rpartition("/")[0]
        uri = f"models:/{name}/{version}"
    return Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"{uri.rstrip('/')}/artifacts/{BUNDLE_ARTIFACT}", dst_path=dst
        )
    )


def verified_bundle(directory: str | Path, key: bytes, source: str) -> ModelBundle:
    """A bundle whose signature is valid under `key`, parsed only after it is checked."""
    try:
        signing.verify(directory, key)
    except BundleError as e:
        why = str(e).removeprefix(f"{directory}: ")  # a download's temporary path says nothing
        log.error("model %s refused: %s", source, why)
        raise BundleError(f"{source}: {why}") from e
    return ModelBundle.load(directory)


def load_bundle(uri: str, settings: Settings) -> ModelBundle:
    """A bundle from an MLflow URI (`models:/...`, `runs:/...`), downloaded as data and
    verified against the signing key, or a local bundle directory (the user's own files)."""
    if "://" not in uri and "models:/" not in uri and "runs:/" not in uri:
        return ModelBundle.load(uri)
    connect(settings, create=False)
    key = signing_key(settings)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = download_bundle(uri, tmp, settings)
        except MlflowException as e:
            raise BundleError(f"cannot load {uri}: {e.message}") from e
        except OSError as e:
            raise BundleError(f"cannot load {uri}: {e}") from e
        return verified_bundle(local, key, uri)


def resolve_version(uri: str, settings: Settings) -> str | None:
    """The registered version a `models:/NAME@alias` or `models:/NAME/VERSION` URI names now,
    else None (a run URI or a local bundle directory)."""
    if not uri.startswith("models:/"):
        return None
    ref = uri.removeprefix("models:/")
    client = connect(settings, create=False)
    if "@" in ref:
        name, alias = ref.split("@", 1)
        found = version_by_alias(client, alias, name)
        return str(found.version) if found is not None else None
    name, _, version = ref.rpartition("/")
    return version if name and version.isdigit() else None


def load_predictor(uri: str, settings: Settings) -> Predictor:
    """A predictor from an MLflow URI (`models:/NAME@champion`) or a local bundle directory."""
    return Predictor(load_bundle(uri, settings), {"uri": uri})


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def data_fingerprint(
    path: str | Path | None, frame: pd.DataFrame, cat: Catalogue
) -> dict[str, Any]:
    """What a run was trained on: file hash, rows, cities and per-stage counts."""
    digest = (
        file_sha256(path)
        if path is not None
        else hashlib.sha256(
            pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
        ).hexdigest()
    )
    counts = stage_of(frame, cat).value_counts()
    return {
        "path": str(path) if path is not None else None,
        "sha256": digest,
        "rows": len(frame),
        "groups": int(groups_of(frame, cat).nunique()),
        "group_field": cat.group,
        "per_stage": {s: int(counts.get(s, 0)) for s in cat.booster_keys},
        "has_truth": cat.truth is not None and cat.truth.name in frame,
        "catalogue": cat.name,
        "catalogue_fingerprint": cat.fingerprint,
    }


def usable_champion(settings: Settings, cat: Catalogue) -> tuple[str | None, str | None]:
    """(the champion's version, why it cannot be used): a champion this version cannot load
    (an older bundle layout) or of another catalogue is no champion for `train --if-missing`."""
    name = model_name(settings, cat)
    current = version_by_alias(connect(settings), CHAMPION, name)
    if current is None:
        return None, None
    try:
        bundle = load_bundle(model_uri(CHAMPION, name), settings)
    except BundleError as e:
        return str(current.version), str(e)
    if bundle.catalogue.fingerprint != cat.fingerprint:
        return str(current.version), f"trained on another catalogue ({bundle.catalogue.name})"
    return str(current.version), None
