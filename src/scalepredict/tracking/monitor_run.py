"""The monitor's MLflow run: in an experiment of its own (monitor runs are not training runs),
its verdict, reasons and headline figures as tags and metrics, the HTML and JSON reports as
artifacts, and a link both ways with the model version it watched: the run names the version
(tags and a `models:/` link), the version names its latest monitor run."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException

from scalepredict.settings import Settings
from scalepredict.tracking import registry


def version_link(name: str, version: str, uri: str) -> str:
    """Where the model version opens: its page in the MLflow UI when the tracking store `uri` is
    a server, else its `models:/` URI (a local store has no pages)."""
    if uri.startswith(("http://", "https://")):
        return f"{uri.rstrip('/')}/#/models/{name}/versions/{version}"
    return f"models:/{name}/{version}"


def log_monitor_run(
    settings: Settings,
    reports: tuple[Path, Path],
    metrics: dict[str, float],
    tags: dict[str, str],
    experiment: str,
    model: tuple[str, str] | None,
) -> str:
    """Log one monitor run in `experiment`; `model`: (registered name, version) it watched."""
    client = registry.connect(settings)
    exp_id = registry.experiment_id(client, experiment)
    linked = dict(tags)
    if model is not None:
        name, version = model
        linked |= {
            "model_name": name,
            "model_version": version,
            "model_version_link": version_link(name, version, settings.tracking_uri),
        }
    with mlflow.start_run(
        experiment_id=exp_id, run_name=f"monitor-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    ) as run:
        mlflow.set_tags({"action": "monitor", **linked})
        mlflow.log_metrics(metrics)
        for path in reports:
            mlflow.log_artifact(str(path), "monitor")
    if model is not None:
        # the way back, from the version to what the monitor last said of it; a version
        # deleted meanwhile: the run is logged all the same
        with suppress(MlflowException):
            verdict = tags.get("verdict", "?")
            client.set_model_version_tag(*model, "last_monitor", f"{verdict} {run.info.run_id}")
    return run.info.run_id
