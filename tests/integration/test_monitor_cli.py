"""`monitor`, `retrain` and `train --require-promotion` through the CLI, on a private MLflow
store and a real audit store written the way the service writes it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient
from typer.testing import CliRunner

from scalepredict.catalogue import load_catalogue as catalogue
from scalepredict.cli import app
from scalepredict.data.synthetic import generate
from scalepredict.data.synthetic_parameters import scenario_parameters
from scalepredict.data.tables import write_table
from scalepredict.model.bundle import ModelBundle
from scalepredict.settings import get_settings
from scalepredict.store.audit import AuditLog
from tests.conftest import SMALL_CONFIG

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("monitor")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    mp.setenv("SCALEPREDICT_AUDIT_URL", f"sqlite:///{root}/audit.db")
    mp.setenv("SCALEPREDICT_MONITOR_DIR", str(root / "monitor"))
    frame = generate(2000, seed=21, truth=True)
    data = write_table(frame, root / "train.csv")
    small = write_table(frame.head(400), root / "small.csv")
    config = root / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL_CONFIG))
    res = CliRunner().invoke(app, ["train", "--data", str(data), "--config", str(config)])
    assert res.exit_code == 0, res.output
    yield {"root": root, "data": data, "small": small, "config": config}
    mp.undo()


def _audit_shifted(n: int) -> pd.DataFrame:
    """Score a covariate-shifted batch with the champion and audit it as /score does."""
    from scalepredict.tracking.registry import load_predictor

    predictor = load_predictor("models:/scalepredict@champion", get_settings())
    rows = generate(n, seed=5, params=scenario_parameters("covariate", 1.0))
    rows["assessed_on"] = rows["assessed_on"].dt.strftime("%Y-%m-%d")
    proposals = json.loads(rows.drop(columns="scaled_up").to_json(orient="records"))
    results = predictor.assess(rows.drop(columns="scaled_up"), explain=False, plan=False)
    AuditLog(get_settings()).record(
        "req",
        "score",
        "test",
        "1",
        [(r["initiative_id"], p, r) for p, r in zip(proposals, results, strict=True)],
    )
    return rows


def test_monitor_reports_drift_with_exit_code_json_html_and_mlflow_run(env):
    _audit_shifted(400)
    res = CliRunner().invoke(app, ["monitor", "--json"])
    report = json.loads(res.stdout)
    assert report["verdict"] in ("watch", "act") and res.exit_code in (3, 4)
    assert res.exit_code == {"watch": 3, "act": 4}[report["verdict"]]
    assert report["windows"][0]["drift"]["status"] == "drift"
    assert (env["root"] / "monitor" / "monitor.html").read_text().count("<svg") >= 1
    run = MlflowClient().get_run(report["mlflow_run_id"])
    assert run.data.tags["verdict"] == report["verdict"]
    names = {a.path for a in MlflowClient().list_artifacts(run.info.run_id, "monitor")}
    assert names == {"monitor/monitor.html", "monitor/monitor.json"}


def test_the_monitor_run_has_its_own_experiment_its_figures_and_the_version_it_watched(
    env, tmp_path, monkeypatch
):
    """Scored proposals whose outcomes came in: the run carries the verdict, the realized AUC
    and ECE, the drift reasons, and names (and links) the model version it watched."""
    from scalepredict.store import outcomes

    monkeypatch.setenv("SCALEPREDICT_DATABASE_URL", f"sqlite:///{tmp_path}/audit.db")
    rows = _audit_shifted(400)
    today = datetime.now(UTC).date().isoformat()
    outcomes.record(
        AuditLog(get_settings()).engine,
        [
            {"initiative_id": i, "scaled_up": int(y), "observed_on": today}
            for i, y in zip(rows["initiative_id"], rows["scaled_up"], strict=True)
        ],
        catalogue(get_settings()),
        "test",
    )
    res = CliRunner().invoke(app, ["monitor", "--json", "--out", str(tmp_path)])
    report = json.loads(res.stdout)
    client = MlflowClient()
    run = client.get_run(report["mlflow_run_id"])
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "scalepredict-monitor"  # not among the training runs
    training = client.get_experiment_by_name("scalepredict")
    assert not client.search_runs([training.experiment_id], "tags.action = 'monitor'")
    tags, metrics = run.data.tags, run.data.metrics
    assert tags["verdict"] == report["verdict"] and tags["model_version"] == "1"
    assert tags["model_version_link"] == "models:/scalepredict/1"
    assert report["reasons"][0]["reason"] in tags["reasons"] and "input drift" in tags["reasons"]
    assert tags["drifted_fields"] != "none"
    pooled = report["versions"]["1"]["realized"]
    assert metrics["realized_roc_auc"] == pytest.approx(pooled["roc_auc"])
    assert metrics["realized_ece"] == pytest.approx(pooled["ece"])
    assert metrics["verdict_level"] == ["ok", "watch", "act"].index(report["verdict"])
    # and back: the version names the monitor run that last watched it
    version = client.get_model_version("scalepredict", "1")
    assert version.tags["last_monitor"] == f"{report['verdict']} {run.info.run_id}"


def test_monitor_refuses_a_backwards_range(env):
    res = CliRunner().invoke(app, ["monitor", "--since", "2026-02-01", "--until", "2026-01-01"])
    assert res.exit_code == 2 and "before" in res.output


def test_require_promotion_exits_3_when_the_gate_says_no(env):
    # 400 of the champion's own rows: the champion has seen the test set and wins
    res = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(env["small"]),
            "--config",
            str(env["config"]),
            "--require-promotion",
        ],
    )
    assert res.exit_code == 3, res.output
    assert "not promoted" in res.output


def test_retrain_prints_what_it_added_and_excluded(env):
    _audit_shifted(400)  # the same ids as in the monitor's test: still 400 initiatives
    out = env["root"] / "retrain.csv"
    res = CliRunner().invoke(
        app,
        ["retrain", "--data", str(env["data"]), "--config", str(env["config"]), "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert "0 rows added" in res.output and "400 excluded as pending" in res.output
    assert out.exists()
    assert "champion" in res.output or "challenger" in res.output


def test_the_bundle_of_a_trained_version_carries_its_profile(env):
    from scalepredict.tracking.registry import load_bundle

    bundle: ModelBundle = load_bundle("models:/scalepredict/1", get_settings())
    assert bundle.meta["profile"]["rows"] == 2000
