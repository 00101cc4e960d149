"""The monitor's MLflow run: its verdict and headline figures as tags and metrics, the HTML
and JSON reports as artifacts, in the training runs' experiment so a model's life reads in
one place."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import mlflow

from scalepredict.tracking import registry


def log_monitor_run(
    reports: tuple[Path, Path], verdict: str, metrics: dict[str, float], tags: dict[str, str]
) -> str:
    client = registry.connect()
    exp_id = registry.experiment_id(client)
    with mlflow.start_run(
        experiment_id=exp_id, run_name=f"monitor-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    ) as run:
        mlflow.set_tags({"action": "monitor", "verdict": verdict, **tags})
        mlflow.log_metrics(metrics)
        for path in reports:
            mlflow.log_artifact(str(path), "monitor")
    return run.info.run_id
