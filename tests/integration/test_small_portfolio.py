"""A funding body's small history end to end: 300 projects train through the CLI into a private
MLflow registry (cross-validated, a simple family chosen by the data where it wins), the
served model says which family it is and how much it knows, and an additive family (the
logistic regression, the explainable boosting machine) scores through the pyfunc,
`score --explain --plan` and a second run's gate."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml

from scalepredict.cli import app
from scalepredict.data.synthetic import generate
from scalepredict.data.tables import write_table
from scalepredict.model.families import FAMILY_WORDS
from tests.conftest import SMALL_CONFIG

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["logistic", "ebm"])
def small_store(request, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp(f"small-mlflow-{request.param}")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    mp.setenv("SCALEPREDICT_MODEL_NAME", "small-fund")
    data = write_table(generate(300, seed=31, truth=True), root / "history.csv")
    config = root / "family.yaml"
    config.write_text(
        yaml.safe_dump({**SMALL_CONFIG, "families": [request.param], "evaluation": {"repeats": 1}})
    )
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, ["train", "--data", str(data), "--config", str(config)])
    assert res.exit_code == 0, res.output
    yield {
        "root": root,
        "data": data,
        "config": config,
        "output": res.output,
        "family": request.param,
    }
    mp.undo()


def test_the_training_summary_says_what_serves_and_how_much_it_knows(small_store):
    out = " ".join(small_store["output"].split())  # as read, whatever the line breaks
    assert "as champion" in out
    assert FAMILY_WORDS[small_store["family"]] in out
    assert "learned from 300 labelled projects" in out
    assert "cross-validation" in out and "95% interval" in out
    assert "Learned from only 300 labelled projects" in out  # the plain warning


def test_the_family_scores_through_the_pyfunc_and_the_cli(small_store, runner, tmp_path):
    proposals = generate(12, seed=77).drop(columns=["scaled_up"])
    path = write_table(proposals, tmp_path / "proposals.csv")
    model = mlflow.pyfunc.load_model("models:/small-fund@champion")
    p = np.asarray(model.predict(pd.read_csv(path)))
    assert p.shape == (12,) and ((p > 0) & (p < 1)).all()
    out = tmp_path / "scored.json"
    res = runner.invoke(app, ["score", str(path), "--out", str(out), "--explain", "--plan"])
    assert res.exit_code == 0, res.output
    records = json.loads(out.read_text())
    records = records["results"] if isinstance(records, dict) else records
    np.testing.assert_allclose([r["probability"] for r in records], p, atol=1e-6)  # 6 decimals
    for r in records:
        ex = r["explanation"]
        assert abs(sum(ex["dimensions"].values()) - (ex["margin"] - ex["base_value"])) < 1e-3


def test_a_second_run_on_the_same_rows_is_judged_on_nothing_new(small_store, runner):
    """A retrain on exactly the champion's rows leaves it no unseen row to be judged on."""
    res = runner.invoke(
        app, ["train", "--data", str(small_store["data"]), "--config", str(small_store["config"])]
    )
    assert res.exit_code == 0, res.output
    assert "as challenger" in res.output
    assert "too few outcomes to tell: 0 rows the champion never learned from" in res.output
