"""`--engine dask`: a Parquet file scored and explained in parts on a real Dask cluster gives
what one process gives, row for row; bad rows are reported by their row in the whole file; a
worker killed mid-run costs nothing; a failed run leaves no output that looks complete."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import dask
import pandas as pd
import pytest
from distributed import Client, LocalCluster, as_completed

from scalepredict.cli import app
from scalepredict.data.synthetic import generate
from scalepredict.data.tables import write_table
from scalepredict.inference.batch import ScoreOptions, score_frame
from scalepredict.inference.cluster import SUCCESS, BatchError, InvalidBatch, score_file
from scalepredict.inference.predictor import Predictor
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.ebm import EbmModel
from scalepredict.model.features import feature_matrix
from scalepredict.settings import get_settings
from tests.conftest import file_limits

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(small_fit, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "bundle"
    small_fit[1].bundle.save(path)
    return path


@pytest.fixture(scope="module")
def proposals(tmp_path_factory) -> Path:
    frame = generate(1200, seed=31).drop(columns=["scaled_up"])
    return write_table(frame, tmp_path_factory.mktemp("data") / "proposals.parquet")


def _cli(runner, *args: object):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _leftovers(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if ".partial-" in p.name]


def test_parts_on_worker_processes_equal_one_process(runner, model, proposals, tmp_path):
    single, parts = tmp_path / "single.parquet", tmp_path / "scored"
    res = _cli(runner, "score", proposals, "--out", single, "--explain", "--model-uri", model)
    assert res.exit_code == 0, res.output
    res = _cli(
        runner, "score", proposals, "--out", parts, "--explain", "--model-uri", model,
        "--engine", "dask", "--workers", 2, "--partition-rows", 250,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "scoring: 5/5 parts done" in res.output  # plain progress lines off a terminal
    assert sorted(p.name for p in parts.iterdir()) == [
        SUCCESS,
        *(f"part-{k:05d}.parquet" for k in range(5)),
    ]
    pd.testing.assert_frame_equal(pd.read_parquet(parts), pd.read_parquet(single))
    assert _leftovers(tmp_path) == []


def test_explain_in_parts_equals_one_process(runner, model, proposals):
    local = _cli(runner, "explain", "--data", proposals, "--json", "--model-uri", model)
    assert local.exit_code == 0, local.output
    res = _cli(
        runner, "explain", "--data", proposals, "--json", "--model-uri", model,
        "--engine", "dask", "--workers", 2, "--partition-rows", 400,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    import json

    def importance(output: str) -> dict:
        return json.loads(output[output.index("{") :])

    want, got = importance(local.stdout), importance(res.stdout)
    assert want.keys() == got.keys()
    for stage in want:  # the same means, summed in another order: equal to the last digit
        assert got[stage] == pytest.approx(want[stage], abs=1.1e-5)


def test_bad_rows_are_named_by_file_row_and_nothing_is_written(runner, model, tmp_path):
    frame = generate(900, seed=32).drop(columns=["scaled_up"])
    frame.loc[5, "data_quality"] = 9
    frame.loc[700, "initiative_id"] = frame.loc[10, "initiative_id"]  # across two parts
    bad = write_table(frame, tmp_path / "bad.parquet")
    out = tmp_path / "scored"
    res = _cli(
        runner, "score", bad, "--out", out, "--model-uri", model,
        "--engine", "dask", "--workers", 2, "--partition-rows", 300,
    )  # fmt: skip
    assert res.exit_code == 1, res.output
    report = res.output
    assert "3 problem(s)" in report
    for row, initiative in (("6", "INI-0000006"), ("11", "INI-0000011"), ("701", "INI-0000011")):
        assert f"│ {row} " in report and initiative in report
    assert not out.exists() and _leftovers(tmp_path) == []


def test_unusable_inputs_and_outputs_are_refused_in_one_line(runner, model, proposals, tmp_path):
    csv = write_table(pd.read_parquet(proposals), tmp_path / "p.csv")
    res = _cli(runner, "score", csv, "--out", tmp_path / "o", "--engine", "dask")
    assert res.exit_code == 2 and "reads Parquet" in res.output
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    res = _cli(
        runner, "score", proposals, "--out", taken, "--model-uri", model, "--engine", "dask",
        "--workers", 1,
    )  # fmt: skip
    assert res.exit_code == 2 and "not an empty directory" in res.output
    assert [p.name for p in taken.iterdir()] == ["keep.txt"]
    res = _cli(
        runner, "score", proposals, "--out", tmp_path / "o", "--model-uri", model,
        "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9",
    )  # fmt: skip
    assert res.exit_code == 2 and "cannot reach the Dask scheduler" in res.output


def _on_workers_and_in_one(
    predictor: Predictor, proposals, tmp_path, rows: int, processes: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first `rows` proposals scored, explained and planned on two Dask workers (threads
    or processes), and the same in this process."""
    from scalepredict.data.validation import validate_file

    few = write_table(pd.read_parquet(proposals).head(rows), tmp_path / "few.parquet")
    options = ScoreOptions(explain=True, plan=True, target=0.6)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=processes) as cluster,
        Client(cluster) as client,
    ):
        n = score_file(
            client, predictor, few, tmp_path / "out", options, 30, _quiet, limits=file_limits()
        )
        assert n == rows
    want = score_frame(predictor, validate_file(few, limits=file_limits()).frame, options)
    return pd.read_parquet(tmp_path / "out"), want


def test_in_process_workers_score_plans_too(small_fit, proposals, tmp_path):
    got, want = _on_workers_and_in_one(
        Predictor(small_fit[1].bundle), proposals, tmp_path, 90, processes=False
    )
    assert "plan_actions" in want
    pd.testing.assert_frame_equal(got, want)


def test_an_ebm_scores_explains_and_plans_on_worker_processes_as_in_one(
    small_fit, proposals, tmp_path
):
    """Another family through the same parts: the bundle loaded from its data files, sent to
    worker processes (pickled by Dask), gives what one process gives."""
    frame, trees = small_fit[0], small_fit[1].bundle
    cat = trees.catalogue
    ebm = EbmModel.fit(feature_matrix(frame, cat), frame[cat.outcome.name].astype(int), cat, 3)
    saved = ModelBundle(cat, ebm, trees.calibrator, trees.conformal).save(tmp_path / "ebm")
    got, want = _on_workers_and_in_one(
        Predictor(ModelBundle.load(saved)), proposals, tmp_path, 60, processes=True
    )
    pd.testing.assert_frame_equal(got, want)


def _quiet(futures, what) -> None:
    from distributed import wait

    wait(futures)


@pytest.mark.parametrize("retries", [3, 0])
def test_a_worker_killed_mid_run_is_retried_or_the_run_fails_cleanly(
    small_fit, proposals, tmp_path, retries
):
    """Dask's default: the part is run again, and the result is complete and right. With no
    retries allowed: a message naming the part, and no output."""
    predictor = Predictor(small_fit[1].bundle)
    killed: list[int] = []

    def kill_a_busy_worker(futures, what) -> None:
        for _ in as_completed(futures):  # after a part is done, while others run
            busy = [w for w, keys in client.processing().items() if keys]
            if what == "scoring" and busy and not killed:
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

    options = ScoreOptions(explain=True)
    out = tmp_path / "out"
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": retries}),
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        args = (client, predictor, proposals, out, options, 150, kill_a_busy_worker)
        if retries == 0:
            with pytest.raises(BatchError, match=r"died running rows \d+\.\.\d+"):
                score_file(*args, limits=file_limits())
            assert killed and not out.exists() and _leftovers(tmp_path) == []
            return
        n = score_file(*args, limits=file_limits())
    assert killed and n == 1200
    from scalepredict.data.validation import validate_file

    want = score_frame(predictor, validate_file(proposals, limits=file_limits()).frame, options)
    pd.testing.assert_frame_equal(pd.read_parquet(out), want)


def test_another_catalogue_in_its_own_column_names(tmp_path):
    """The World Bank IEG catalogue: columns renamed, levels written as labels, its own
    identifier; parts equal one process, and a duplicate across parts is named by the file's
    column name and row."""
    from scalepredict.catalogue import load_catalogue
    from scalepredict.data.generic import generate_for
    from scalepredict.data.validation import validate_file
    from scalepredict.model.config import TrainConfig
    from scalepredict.model.fit import fit
    from tests.conftest import ROOT

    cat = load_catalogue(get_settings(), ROOT / "examples" / "world-bank-ieg" / "catalogue.yaml")
    raw = generate_for(cat, 700, seed=4).astype("string")
    history = write_table(raw, tmp_path / "history.parquet")
    config = TrainConfig(
        seed=1,
        split={"test": 0.2, "calibration": 0.2},
        search={"trials": 1, "cv_folds": 2, "max_rounds": 60, "early_stopping_rounds": 10},
    )
    predictor = Predictor(
        fit(validate_file(history, True, cat, limits=file_limits()).good(), config, cat=cat).bundle
    )
    proposals = raw.drop(columns=[cat.outcome.column or cat.outcome.name]).head(300)
    path = write_table(proposals, tmp_path / "proposals.parquet")
    options = ScoreOptions(explain=True)
    id_column = next(c for c, n in cat.renames.items() if n == cat.id_column)
    dup = proposals.copy()
    dup.loc[250, id_column] = dup.loc[3, id_column]
    bad = write_table(dup, tmp_path / "dup.parquet")
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False) as cluster,
        Client(cluster) as client,
    ):
        score_file(
            client, predictor, path, tmp_path / "out", options, 100, _quiet, limits=file_limits()
        )
        with pytest.raises(InvalidBatch) as e:
            score_file(
                client, predictor, bad, tmp_path / "bad", options, 100, _quiet, limits=file_limits()
            )
    want = score_frame(
        predictor, validate_file(path, False, cat, limits=file_limits()).frame, options
    )
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out"), want)
    problems = e.value.problems
    assert problems["row"].tolist() == [4, 251]
    assert set(problems["column"]) == {id_column}
    assert not (tmp_path / "bad").exists()
