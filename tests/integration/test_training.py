"""Training, tracking, the promotion gate and the MLflow client, on small data, private store."""

from __future__ import annotations

import sys
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient

from scalepredict.catalogue import builtin_catalogue
from scalepredict.cli import app
from scalepredict.data.synthetic import generate
from scalepredict.data.tables import write_table
from scalepredict.model.config import SplitConfig, TrainConfig
from scalepredict.model.fit import fit
from scalepredict.model.split import split_by_city
from scalepredict.settings import get_settings
from tests.conftest import SMALL_CONFIG

pytestmark = pytest.mark.slow

SMALL = SMALL_CONFIG


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> dict:
    """A private MLflow store with one champion trained on 2,000 generated rows."""
    root = tmp_path_factory.mktemp("mlflow")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    data = write_table(generate(2000, seed=21, truth=True), root / "train.csv")
    config = root / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL))
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, ["train", "--data", str(data), "--config", str(config)])
    assert res.exit_code == 0, res.output
    yield {"root": root, "data": data, "config": config, "first_output": res.output}
    mp.undo()


def _client() -> MlflowClient:
    from scalepredict.tracking.registry import connect

    return connect(get_settings())


def test_first_model_becomes_champion_with_full_tracking(store):
    assert "as champion" in store["first_output"]
    client = _client()
    v = client.get_model_version_by_alias("scalepredict", "champion")
    run = client.get_run(v.run_id)
    for key in (
        "test_roc_auc",
        "test_pr_auc",
        "test_log_loss",
        "test_brier",
        "test_ece",
        "test_bayes_roc_auc",
        "test_bayes_log_loss",
        "test_auc_gap",
        "test_stage_pilot_roc_auc",
        "test_resources_low_roc_auc",
        "baseline_logistic_regression_roc_auc",
        "baseline_checklist_roc_auc",
    ):
        assert key in run.data.metrics, key
    assert run.data.params["data_rows"] == "2000"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config", "plots", "model_report.md", "data_fingerprint.json"} <= artifacts
    plots = {Path(a.path).name for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {
        "calibration.png",
        "roc.png",
        "shap_summary_proof_of_concept.png",
        "shap_summary_rollout.png",
    } <= plots


def test_pyfunc_round_trip_on_a_raw_csv_frame(store, tmp_path):
    frame = generate(30, seed=99).drop(columns=["scaled_up"])
    path = write_table(frame, tmp_path / "proposals.csv")
    raw = pd.read_csv(path)  # strings for categoricals, NaN for unknown answers, int/float mix
    assert raw["value_case"].isna().any() or raw.isna().any().any()
    model = mlflow.pyfunc.load_model("models:/scalepredict@champion")
    p = np.asarray(model.predict(raw))
    assert p.shape == (30,)
    assert ((p > 0) & (p < 1)).all()
    from scalepredict.tracking.registry import load_bundle

    direct = load_bundle("models:/scalepredict@champion", get_settings())
    from scalepredict.data.validation import parse_assessments

    np.testing.assert_allclose(p, direct.probability(parse_assessments(raw, direct.catalogue)))


def test_loading_a_registered_model_leaves_the_import_path_as_it_was(store):
    from scalepredict.tracking.registry import load_bundle

    before = list(sys.path)
    load_bundle("models:/scalepredict@champion", get_settings())
    # MLflow prepends the model's copy of the package source; processes started from here on
    # (Dask workers inherit sys.path) must import the installed package, not that copy
    assert sys.path == before


def test_pyfunc_names_the_bad_cell(store):
    raw = generate(3, seed=1).drop(columns=["scaled_up"])
    raw["stage"] = raw["stage"].astype(object)
    raw.loc[1, "stage"] = "scaling"
    model = mlflow.pyfunc.load_model("models:/scalepredict@champion")
    with pytest.raises(Exception, match=r"row 2 .*stage"):
        model.predict(raw)


def test_gate_refuses_a_worse_model_and_the_champion_stays(store, runner):
    before = _client().get_model_version_by_alias("scalepredict", "champion").version
    # the checklist score alone, on data whose truth has interactions: on the rows the champion
    # never learned from (the same split, so its test split) it is not shown to be better
    config = store["root"] / "checklist.yaml"
    config.write_text(yaml.safe_dump({**SMALL, "families": ["checklist"]}))
    res = runner.invoke(app, ["train", "--data", str(store["data"]), "--config", str(config)])
    assert res.exit_code == 0, res.output
    assert "as challenger" in res.output
    assert "worse than the champion" in res.output or "too few outcomes to tell" in res.output
    assert "never learned from" not in res.output or "rows" in res.output
    client = _client()
    assert client.get_model_version_by_alias("scalepredict", "champion").version == before
    challenger = client.get_model_version_by_alias("scalepredict", "challenger")
    assert "gate" in challenger.tags

    # promote overrides deliberately, and is logged
    res = runner.invoke(app, ["promote", str(challenger.version), "--reason", "test override"])
    assert res.exit_code == 0, res.output
    assert (
        client.get_model_version_by_alias("scalepredict", "champion").version == challenger.version
    )
    runs = mlflow.search_runs(
        experiment_names=["scalepredict"], filter_string="tags.action = 'manual_promotion'"
    )
    assert len(runs) == 1 and runs["tags.reason"][0] == "test override"
    runner.invoke(app, ["promote", str(before), "--reason", "restore"])


def test_evaluate_json_by_stage_and_city_group(store, runner, tmp_path):
    path = write_table(generate(1500, seed=77, truth=True), tmp_path / "eval.csv")
    res = runner.invoke(app, ["evaluate", "--data", str(path), "--json"])
    assert res.exit_code == 0, res.output
    import json

    out = json.loads(res.output)
    for key in ("roc_auc", "log_loss", "brier", "ece", "n", "bayes_roc_auc", "bayes_log_loss"):
        assert key in out
    assert out["n"] == 1500
    assert {"stage_pilot", "population_small", "resources_low", "resources_high"} <= set(
        out["by_group"]
    )
    assert out["roc_auc"] <= out["bayes_roc_auc"] + 0.03


def test_bad_rows_give_the_report_not_a_traceback(store, runner, tmp_path):
    raw = pd.read_csv(store["data"], dtype=str, keep_default_na=False)
    raw.loc[5, "security"] = "high"
    path = tmp_path / "bad.csv"
    raw.to_csv(path, index=False)
    res = runner.invoke(app, ["train", "--data", str(path), "--config", str(store["config"])])
    assert res.exit_code == 1
    assert "security" in res.output and "high" in res.output and "Traceback" not in res.output


def test_the_mlflow_record_a_data_scientist_reads(store):
    """A model-training experiment, real run times, the data sets as inputs, and no run tag
    that claims to be champion (only the registry alias says that)."""
    client = _client()
    exp = client.get_experiment_by_name("scalepredict")
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"
    v = client.get_model_version_by_alias("scalepredict", "champion")
    run = client.get_run(v.run_id)
    assert "alias" not in run.data.tags and "champion" not in run.data.tags.values()
    seconds = (run.info.end_time - run.info.start_time) / 1000
    assert seconds >= run.data.metrics["train_seconds"]  # the run spans the fit
    inputs = {
        i.tags[0].value if i.tags else "": i.dataset for i in run.inputs.dataset_inputs
    }  # context -> dataset
    assert set(inputs) == {"training", "evaluation"}
    training = inputs["training"]
    assert training.name == "train" and training.digest
    assert str(store["data"]) in training.source
    assert '"num_rows": 2000' in training.profile
    assert '"num_rows": 2000' not in inputs["evaluation"].profile


def _evaluation_input(run):
    found = [i.dataset for i in run.inputs.dataset_inputs if i.tags[0].value == "evaluation"]
    assert len(found) == 1
    return found[0]


def test_every_version_and_the_champion_are_scored_on_one_evaluation_set(store, runner):
    """The first holdout's test split is kept: a later run trains without its rows or its
    cities, logs the same dataset (name, digest), and scores itself and the champion on it
    under the same names; the champion's own run carries the same figures."""
    client = _client()
    assert client.get_registered_model("scalepredict").tags["evaluation_set_version"] == "1"
    champion = client.get_model_version_by_alias("scalepredict", "champion")
    config = store["root"] / "again.yaml"
    config.write_text(yaml.safe_dump({**SMALL, "families": ["checklist"]}))
    res = runner.invoke(app, ["train", "--data", str(store["data"]), "--config", str(config)])
    assert res.exit_code == 0, res.output
    assert "kept out of training: scalepredict evaluation set v1" in res.output
    latest = max(client.search_model_versions("name='scalepredict'"), key=lambda v: int(v.version))
    new = client.get_run(latest.run_id)
    old = client.get_run(champion.run_id)
    kept_new, kept_old = _evaluation_input(new), _evaluation_input(old)
    assert kept_new.name == kept_old.name == "scalepredict evaluation set v1"
    assert kept_new.digest == kept_old.digest
    m, c = new.data.metrics, old.data.metrics
    rows = int(m["eval_n"])
    assert rows == c["eval_n"] == m["test_n"] == m["gate_difference_rows"]
    assert {"eval_roc_auc", "eval_log_loss", "eval_ece"} <= set(m) and {"eval_roc_auc"} <= set(c)
    for key in ("roc_auc", "log_loss", "ece"):  # the champion, scored again, the same
        assert m[f"champion_eval_{key}"] == pytest.approx(c[f"eval_{key}"])
    assert new.data.tags["evaluation_set"] == old.data.tags["evaluation_set"]
    assert new.data.tags["gate_metric"] == "log_loss"
    training = next(i.dataset for i in new.inputs.dataset_inputs if i.tags[0].value == "training")
    assert f'"num_rows": {2000 - rows}' in training.profile  # its cities' rows are all it holds


def test_a_run_not_promoted_fails_the_scheduler_and_shows_the_champion_beside_it(store):
    """`train --require-promotion` exits 3 when the gate keeps the champion; the run logs the
    champion's metrics on its own test set; progress lines reach a pipe (no terminal)."""
    import os
    import subprocess
    import sys

    client = _client()
    champion = client.get_model_version_by_alias("scalepredict", "champion").version

    def champion_run(c: MlflowClient) -> str:
        return c.get_model_version("scalepredict", champion).run_id

    path = store["data"]
    config = store["root"] / "checklist-only.yaml"  # not shown better than the champion
    config.write_text(yaml.safe_dump({**SMALL, "families": ["checklist"]}))
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "scalepredict.cli", "train", "--require-promotion"]
    out = subprocess.run(
        [*cmd, "--data", str(path), "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 3, out.stderr
    assert "not promoted" in out.stderr
    assert "cross-validation" in out.stderr or "comparing" in out.stderr  # plain lines, no bar
    assert "logging plots" in out.stderr
    assert "Downloading artifacts" not in out.stderr
    assert client.get_model_version_by_alias("scalepredict", "champion").version == champion
    challenger = client.get_model_version_by_alias("scalepredict", "challenger")
    run = client.get_run(challenger.run_id)
    m = run.data.metrics
    assert {"test_roc_auc", "champion_roc_auc", "champion_log_loss"} <= set(m)
    # both scored on the rows the champion never learned from (this split's test rows)
    assert m["gate_difference_rows"] == m["test_n"] and champion_run(client) != run.info.run_id
    assert run.data.tags["gate_case"] in {"worse", "cannot_tell"}
    assert run.data.tags["compared_with_champion"] == f"v{champion}"
    assert run.data.tags["promoted"] == "false"


def test_evaluate_names_the_version_and_warns_on_training_rows(store, runner, tmp_path):
    version = _client().get_model_version_by_alias("scalepredict", "champion").version
    res = runner.invoke(app, ["evaluate", "--data", str(store["data"])])
    assert res.exit_code == 0, res.output
    assert f"version {version}" in res.output
    assert "warning" in res.output and "file it was trained on" in res.output

    # a new file holding some of the training rows: the overlap is counted
    rows = pd.read_csv(store["data"])
    fresh = generate(300, seed=404, truth=True)
    fresh["initiative_id"] = [f"fresh-{i}" for i in range(len(fresh))]
    mixed = write_table(pd.concat([fresh, rows.head(200)]), tmp_path / "mixed.csv")
    res = runner.invoke(app, ["evaluate", "--data", str(mixed), "--json"])
    assert res.exit_code == 0, res.output
    assert "shares" in res.output and "of its 500 rows" in res.output

    clean = write_table(fresh, tmp_path / "fresh.csv")
    res = runner.invoke(app, ["evaluate", "--data", str(clean), "--json"])
    assert res.exit_code == 0, res.output
    import json

    out = json.loads(res.output)
    assert out["training_overlap_rows"] == 0
    assert out["model"]["version"] == str(version)


def test_a_service_start_reuses_the_cached_champion_only_for_that_version(
    store, tmp_path, monkeypatch
):
    from scalepredict.tracking import champion

    monkeypatch.setenv("SCALEPREDICT_MODEL_CACHE", str(tmp_path / "cache"))
    first = champion.from_registry(get_settings())  # downloads, writes the cache

    def no_download(**_: object) -> str:
        raise RuntimeError("downloaded")

    monkeypatch.setattr(mlflow.artifacts, "download_artifacts", no_download)
    again = champion.from_registry(get_settings())  # same version: from the cache, no download
    assert again.info["version"] == first.info["version"]
    assert again.info["source"] == "registry"
    # the cache of another store (or version) is not taken for the champion
    cache_info = tmp_path / "cache" / champion.INFO_FILE
    cache_info.write_text(cache_info.read_text().replace('"store": "', '"store": "x'))
    with pytest.raises(RuntimeError, match="downloaded"):
        champion.from_registry(get_settings())


# --- fast checks without MLflow ----------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted(small_fit):
    return small_fit


def test_no_city_on_both_sides(fitted):
    frame, result = fitted
    s = result.split
    cities = [set(getattr(s, k)["city"]) for k in ("dev", "calibration", "test")]
    assert (
        not (cities[0] & cities[2]) and not (cities[1] & cities[2]) and not (cities[0] & cities[1])
    )
    assert sum(s.sizes().values()) == len(frame)
    shares = s.test["stage"].value_counts(normalize=True) - frame["stage"].value_counts(
        normalize=True
    )
    assert shares.abs().max() < 0.05  # stratified by stage


def test_metrics_reproducible_for_a_seed(fitted):
    frame, result = fitted
    again = fit(frame, TrainConfig(**SMALL))
    assert again.test_metrics == result.test_metrics


@settings(max_examples=60, deadline=None)
@given(row=st.integers(0, 299), factor=st.integers(0, 19), steps=st.integers(1, 4))
def test_raising_a_factor_never_lowers_the_prediction(fitted, row, factor, steps):
    _, result = fitted
    one = result.split.test.iloc[[row % len(result.split.test)]].copy()
    name = one.columns[10 + factor]
    base = one[name].fillna(1)
    one[name] = base
    raised = one.copy()
    raised[name] = (base + steps).clip(upper=5)
    assert result.bundle.probability(raised)[0] >= result.bundle.probability(one)[0] - 1e-9


def test_split_refuses_impossible_fractions():
    with pytest.raises(ValueError, match="no data for training"):
        split_by_city(
            generate(100, 1), SplitConfig(test=0.6, calibration=0.5), 0, builtin_catalogue()
        )


def test_too_few_cities_is_a_clear_error(runner, tmp_path):
    frame = generate(300, 2)
    frame["city"] = "city-" + (frame.index % 10).astype(str)
    path = write_table(frame, tmp_path / "few.csv")
    res = runner.invoke(app, ["train", "--data", str(path)])
    assert res.exit_code == 2
    # what it would need, plainly (rich may wrap the line)
    said = " ".join(res.output.split())
    assert "10 cities; it needs at least 15" in said
