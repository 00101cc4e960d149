"""One settings object: defaults under the project root wherever the command runs, environment
overrides, secrets masked, and the training config validated with every problem named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalepredict.cli import app
from scalepredict.model.config import TrainConfig
from scalepredict.settings import Settings, get_settings
from tests.conftest import ROOT


def test_defaults_resolve_under_the_project_root_from_any_directory(tmp_path):
    code = "from scalepredict.settings import get_settings; print(get_settings().model_dump_json())"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCALEPREDICT_", "MLFLOW_"))}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    values = json.loads(out.stdout)
    assert values["tracking_uri"] == f"sqlite:///{ROOT}/mlruns/mlflow.db"
    assert Path(values["keys_file"]) == ROOT / "var" / "api_keys.json"
    assert values["database_url"] == f"sqlite:///{ROOT}/var/scalepredict.db"
    assert Path(values["training_config"]) == ROOT / "training" / "default.yaml"
    assert Path(values["signing_key_file"]) == ROOT / "var" / "signing.key"
    assert values["signing_key"] is None


def test_environment_overrides_and_bad_values_are_refused(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    monkeypatch.setenv("SCALEPREDICT_MAX_BODY_BYTES", "1234")
    s = get_settings()
    # a relative path is the user's, from where they run the command
    assert s.tracking_uri == f"sqlite:///{Path.cwd() / 'elsewhere.db'}"
    assert s.max_body_bytes == 1234
    monkeypatch.setenv("SCALEPREDICT_MAX_BODY_BYTES", "-1")
    with pytest.raises(ValueError, match=r"max_body_bytes|SCALEPREDICT_MAX_BODY_BYTES"):
        get_settings()


def test_settings_command_masks_passwords(runner, monkeypatch):
    # the database's former variable name still sets it
    monkeypatch.setenv("SCALEPREDICT_AUDIT_URL", "postgresql+psycopg://app:s3cret@db:5432/audit")
    result = runner.invoke(app, ["settings", "--json"])
    assert result.exit_code == 0, result.output
    assert "s3cret" not in result.output
    masked = "postgresql+psycopg://app:***@db:5432/audit"
    assert json.loads(result.output)["database_url"] == masked
    assert set(json.loads(result.output)) == {
        n for n in Settings.model_fields if getattr(get_settings(), n) is not None
    } | {"catalogue", "model_name", "dask_scheduler", "dask_workers", "dask_security"}
    table = runner.invoke(app, ["settings"])
    assert table.exit_code == 0 and "tracking_uri" in table.output


def test_the_default_training_config_is_valid_and_defaults_live_in_code(tmp_path):
    cfg = TrainConfig.from_yaml(ROOT / "training" / "default.yaml")
    assert cfg.search.trials >= 1 and cfg.split.test == 0.2
    minimal = tmp_path / "min.yaml"
    minimal.write_text("seed: 5\n")
    assert TrainConfig.from_yaml(minimal) == TrainConfig(seed=5)


def test_a_bad_training_config_names_every_problem(tmp_path, runner):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: 1\nsearch:\n  trials: 0\n  colour: red\nsplit:\n  test: 2\n")
    with pytest.raises(ValueError) as e:
        TrainConfig.from_yaml(bad)
    for path in ("search.trials", "search.colour", "split.test"):
        assert path in str(e.value)
    result = runner.invoke(app, ["train", "--config", str(bad)])
    assert result.exit_code == 2 and "search.colour" in result.output


def test_the_signing_key_is_masked_but_handed_to_child_processes(runner, monkeypatch):
    monkeypatch.setenv("SCALEPREDICT_SIGNING_KEY", "k3y-never-printed")
    for args in (["settings", "--json"], ["settings"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "k3y-never-printed" not in result.output
    assert json.loads(runner.invoke(app, ["settings", "--json"]).output)["signing_key"] == "*" * 10
    # `scalepredict serve` starts the server with the settings as environment variables
    assert get_settings().as_environment()["SCALEPREDICT_SIGNING_KEY"] == "k3y-never-printed"
