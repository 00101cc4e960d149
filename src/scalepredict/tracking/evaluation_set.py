"""The fixed evaluation set: from the data size at which training keeps a holdout, one set of
rows that no version learns from, on which every new version and the champion are scored
under the same metric names (`eval_*`), so the compare view compares like with like.

The first training run with a holdout keeps its test split as version 1 of the registered
model's evaluation set: a CSV artifact of that run, logged as an MLflow dataset (context
`evaluation`) and named by the registered model's tags. Every later run reads it back, keeps
its rows and its groups (cities) out of training, uses it as its test split (holdout) or
scores it beside its cross-validation, and logs it as its `evaluation` input: the same name
and digest in every run. A set the catalogue no longer reads (a field renamed) is replaced by
the next version from the next run's test split. A time split keeps its own latest rows."""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.data.pandas_dataset import from_pandas
from mlflow.exceptions import MlflowException

from scalepredict.catalogue import Catalogue
from scalepredict.data.row_hashes import row_hashes
from scalepredict.data.tables import DataFileError, FileLimits, write_table
from scalepredict.data.validation import groups_of, validate_file
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.candidates import outcome_of
from scalepredict.model.metrics import probability_metrics

VERSION_TAG, RUN_TAG = "evaluation_set_version", "evaluation_set_run"
RUN_LABEL_TAG = "evaluation_set"  # on each run scored on it: which set its eval_* are on
ARTIFACTS = "evaluation_set"
PREFIX = "eval_"  # every version's metrics on the set, the champion's too


@dataclass
class EvaluationSet:
    version: int
    frame: pd.DataFrame

    def label(self, model: str) -> str:
        return f"{model} evaluation set v{self.version}"


def _file(version: int) -> str:
    return f"v{version}.csv"


def _read(path: Path, cat: Catalogue, limits: FileLimits) -> pd.DataFrame | None:
    """The set as training reads data (the same types, hence the same digest each run); None
    when this catalogue cannot read it (another catalogue's set under the same model name)."""
    try:
        result = validate_file(path, True, cat, limits=limits)
    except DataFileError:
        return None
    return result.good() if result.valid else None


def load(
    client: MlflowClient, model: str, cat: Catalogue, limits: FileLimits
) -> tuple[EvaluationSet | None, int]:
    """(the registered model's evaluation set, None when it has none the catalogue reads;
    its latest version number, 0 when none was ever kept)."""
    try:
        tags = client.get_registered_model(model).tags
    except MlflowException:  # no such model yet
        return None, 0
    if VERSION_TAG not in tags:
        return None, 0
    version = int(tags[VERSION_TAG])
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = client.download_artifacts(tags[RUN_TAG], f"{ARTIFACTS}/{_file(version)}", tmp)
        except (MlflowException, OSError):
            return None, version
        frame = _read(Path(path), cat, limits)
    return (None if frame is None else EvaluationSet(version, frame)), version


def keep_out(frame: pd.DataFrame, kept: EvaluationSet, cat: Catalogue) -> pd.DataFrame:
    """`frame` without the set's rows and, when the catalogue groups rows, its groups: its
    cities stay unseen in training, as a test split's do."""
    from scalepredict.data.row_hashes import _each_row

    out = np.isin(_each_row(frame, cat), row_hashes(kept.frame, cat))
    if cat.group:
        out |= groups_of(frame, cat).astype(str).isin(groups_of(kept.frame, cat).astype(str))
    return frame[~np.asarray(out)].reset_index(drop=True)


def create(test: pd.DataFrame, version: int, cat: Catalogue, limits: FileLimits) -> EvaluationSet:
    """A new version from this run's test split, stored as an artifact of the active run."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_table(test, Path(tmp) / _file(version))
        mlflow.log_artifact(str(path), ARTIFACTS)
        frame = _read(path, cat, limits)
    assert frame is not None, "a test split of valid rows reads back valid"
    return EvaluationSet(version, frame)


def register(client: MlflowClient, model: str, kept: EvaluationSet, run_id: str) -> None:
    """Name the set on the registered model (the run that stores it)."""
    client.set_registered_model_tag(model, VERSION_TAG, str(kept.version))
    client.set_registered_model_tag(model, RUN_TAG, run_id)


def log_dataset(frame: pd.DataFrame, name: str, source: str, context: str, cat: Catalogue) -> None:
    """A data set as an MLflow input of the active run: name, digest, source and rows."""
    # MLflow warns that a local path matches two equivalent source types, and that integer
    # columns cannot hold missing values (a hint for model signatures, not for data sets).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        dataset = from_pandas(frame, source=source, name=name, targets=cat.outcome.name)
        mlflow.log_input(dataset, context=context)


def log_input(kept: EvaluationSet, model: str, cat: Catalogue) -> None:
    """The set as an MLflow dataset of the active run: one name and digest in every run."""
    source = f"{ARTIFACTS}/{_file(kept.version)}"
    log_dataset(kept.frame, kept.label(model), source, "evaluation", cat)


def scores(bundle: ModelBundle, kept: EvaluationSet) -> dict[str, float]:
    """A version's figures on the set, as `eval_<metric>`."""
    y = outcome_of(kept.frame, bundle.catalogue)
    m = probability_metrics(y, bundle.probability(kept.frame))
    return {f"{PREFIX}{k}": float(v) for k, v in m.items() if np.isfinite(v)}


def backfill(client: MlflowClient, run_id: str, figures: dict[str, float], label: str) -> bool:
    """Log a champion's `eval_*` on its own training run when that run has none on this set
    (it was trained before the set existed): the compare view then shows both runs' figures
    on the same rows. False when it already had them."""
    run = client.get_run(run_id)
    if run.data.tags.get(RUN_LABEL_TAG) == label:
        return False
    for key, value in figures.items():
        client.log_metric(run_id, key, value)
    client.set_tag(run_id, RUN_LABEL_TAG, label)
    return True
