"""The model's life after launch through the real service: proposals from a shifted scenario
are scored, their outcomes recorded through /outcomes, the monitor sees the shift and the
realized performance, and `retrain` sends a new model through the promotion gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from scalepredict.data.synthetic import generate
from scalepredict.data.synthetic_parameters import scenario_parameters
from tests.e2e.live_server import Server, trained_service_env

pytestmark = [pytest.mark.service, pytest.mark.slow]
BIN = Path(sys.executable).parent


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    own = {k: v for k, v in env.items() if not k.startswith("_")}
    return subprocess.run(
        [str(BIN / "scalepredict"), *args],
        env={**os.environ, **own, "SCALEPREDICT_MONITOR_DIR": str(Path(env["_root"]) / "mon")},
        capture_output=True,
        text=True,
    )


def test_score_record_outcomes_monitor_and_retrain(tmp_path):
    env = trained_service_env(tmp_path)
    shifted = generate(400, seed=77, params=scenario_parameters("covariate", 1.0))
    shifted["initiative_id"] = [f"SHIFT-{i:04d}" for i in range(len(shifted))]
    proposals = shifted.drop(columns="scaled_up")
    proposals["assessed_on"] = proposals["assessed_on"].dt.strftime("%Y-%m-%d")
    with Server.started(env, "lifecycle.log") as server:
        r = httpx.post(
            f"{server.url}/score",
            params={"explain": "false"},
            content=json.dumps({"proposals": json.loads(proposals.to_json(orient="records"))}),
            headers={
                "Authorization": f"Bearer {env['_scorer']}",
                "Content-Type": "application/json",
            },
            timeout=300,
        )
        assert r.status_code == 200, r.text[:500]
        today = datetime.now(UTC).date().isoformat()
        outcomes = [
            {"initiative_id": i, "scaled_up": int(y), "observed_on": today, "funded": True}
            for i, y in zip(shifted["initiative_id"], shifted["scaled_up"], strict=True)
        ]
        recorder = {"Authorization": f"Bearer {env['_recorder']}"}
        r = httpx.post(
            f"{server.url}/outcomes", json={"outcomes": outcomes}, headers=recorder, timeout=60
        )
        assert r.status_code == 200, r.text[:500]
        assert r.json()["recorded"] == len(outcomes)
        again = httpx.post(
            f"{server.url}/outcomes", json={"outcomes": outcomes}, headers=recorder, timeout=60
        )
        assert again.json()["unchanged"] == len(outcomes)  # re-sending is a no-op
        summary = httpx.get(
            f"{server.url}/admin/monitor",
            headers={"Authorization": f"Bearer {env['_admin']}"},
            timeout=120,
        )
        assert summary.status_code == 200, summary.text[:500]

    monitor = _cli(env, "monitor", "--json")
    report = json.loads(monitor.stdout)
    assert report["verdict"] in ("watch", "act"), report.get("reasons")
    assert monitor.returncode == {"watch": 3, "act": 4}[report["verdict"]]
    assert summary.json()["verdict"] == report["verdict"]
    window = report["windows"][0]
    assert window["drift"]["status"] == "drift"
    assert "city_resources" in json.dumps(window["drift"]["flagged"])
    assert window["labelled"] == len(outcomes)  # every outcome joined to its scoring
    assert window["realized"]["roc_auc"] > 0.6

    retrain = _cli(
        env,
        "retrain",
        "--data",
        env["_data"],
        "--config",
        env["_config"],
        "--out",
        str(tmp_path / "retrain.csv"),
    )
    assert retrain.returncode == 0, retrain.stdout + retrain.stderr
    assert f"{len(outcomes)} rows added" in retrain.stdout
    assert "registered scalepredict version 2 as" in retrain.stdout  # the gate decided
