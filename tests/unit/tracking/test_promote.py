"""After `scalepredict promote N`, the registry and the runs agree: N holds `champion` and no
other alias, its training run says promoted=true and the previous champion's says false. On a
private MLflow store with two registered versions as training registers them (no model is
loaded: promoting moves aliases and tags only)."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient

from scalepredict.cli import app
from scalepredict.settings import get_settings
from scalepredict.tracking.registry import CHALLENGER, CHAMPION, connect, experiment_id

NAME = "scalepredict"


@pytest.fixture()
def registry(tmp_path, monkeypatch) -> MlflowClient:
    """v1 champion (promoted by the gate), v2 challenger (kept out by it)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    client = connect(get_settings())
    exp = experiment_id(client, get_settings().experiment)
    client.create_registered_model(NAME)
    for version, alias in (("1", CHAMPION), ("2", CHALLENGER)):
        with mlflow.start_run(experiment_id=exp) as run:
            mlflow.set_tags({"model_version": version, "promoted": str(alias == CHAMPION).lower()})
        client.create_model_version(NAME, f"runs:/{run.info.run_id}/model", run.info.run_id)
        client.set_registered_model_alias(NAME, alias, version)
    return client


def _aliases(client: MlflowClient) -> dict[str, list[str]]:
    return {v: client.get_model_version(NAME, v).aliases for v in ("1", "2")}


def _promoted(client: MlflowClient) -> dict[str, str]:
    return {
        v: client.get_run(client.get_model_version(NAME, v).run_id).data.tags["promoted"]
        for v in ("1", "2")
    }


def test_promote_leaves_one_alias_per_version_and_the_runs_say_who_was_promoted(registry, runner):
    res = runner.invoke(app, ["promote", "2", "--reason", "reviewed by the panel"])
    assert res.exit_code == 0, res.output
    assert "version 2 is now champion (was 1)" in res.output
    assert _aliases(registry) == {"1": [], "2": [CHAMPION]}
    assert _promoted(registry) == {"1": "false", "2": "true"}
    old_run = registry.get_run(registry.get_model_version(NAME, "1").run_id)
    assert old_run.data.tags["replaced_by"] == "v2"

    # and back: the alias and both tags follow; the challenger alias is not invented again
    res = runner.invoke(app, ["promote", "1", "--reason", "restore"])
    assert res.exit_code == 0, res.output
    assert _aliases(registry) == {"1": [CHAMPION], "2": []}
    assert _promoted(registry) == {"1": "true", "2": "false"}


def test_promoting_a_version_that_does_not_exist_changes_nothing(registry, runner):
    res = runner.invoke(app, ["promote", "7"])
    assert res.exit_code == 2 and "cannot promote version 7" in res.output
    assert _aliases(registry) == {"1": [CHAMPION], "2": [CHALLENGER]}
    assert _promoted(registry) == {"1": "true", "2": "false"}
