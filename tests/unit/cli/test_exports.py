"""Real exports through the commands as they are: the IEG ratings as published (not-rated
outcomes) through `evaluate`, rows left out said at the console with their reason, a training
that would lose too many rows refused before it starts, a header that differs only in spaces."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from scalepredict.catalogue import load_catalogue
from scalepredict.cli import app
from scalepredict.data.generic import generate_for
from scalepredict.data.tables import write_table
from scalepredict.data.validation import validate_file
from scalepredict.settings import get_settings
from tests.conftest import ROOT, file_limits

pytestmark = pytest.mark.slow  # a small model is fitted, and one trained and registered

IEG = ROOT / "examples" / "world-bank-ieg"
CATALOGUE = IEG / "catalogue.yaml"
EXPORT = IEG / "data" / "ieg_world_bank_project_performance_ratings_01-17-2026.csv"
RATED = 150  # rated rows of the export beside every not-rated one


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, int]:
    """A slice of the IEG file as published: every not-rated row and the first rated ones."""
    raw = pd.read_csv(EXPORT, dtype=str, keep_default_na=False)
    unrated = raw["Outcome"] == "Not Rated"
    part = pd.concat([raw[unrated], raw[~unrated].head(RATED)]).sort_index()
    path = tmp_path_factory.mktemp("ieg") / "export.csv"
    part.to_csv(path, index=False)
    return path, int(unrated.sum())


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A small IEG model (its own catalogue inside), fitted on generated rows."""
    from scalepredict.model.config import TrainConfig
    from scalepredict.model.fit import fit

    cat = load_catalogue(get_settings(), CATALOGUE)
    root = tmp_path_factory.mktemp("ieg-model")
    history = write_table(generate_for(cat, 400, seed=5).astype("string"), root / "h.csv")
    config = TrainConfig(
        seed=1,
        families=("checklist",),
        evaluation={"repeats": 1, "folds": 3},
        split={"test": 0.2, "calibration": 0.2},
    )
    return fit(
        validate_file(history, True, cat, limits=file_limits()).good(), config, cat=cat
    ).bundle.save(root / "b")


def test_evaluate_skips_and_counts_not_rated_outcomes_of_a_real_export(runner, export, bundle):
    path, unrated = export
    assert unrated > 0  # the file as published has them
    res = runner.invoke(
        app, ["evaluate", "--data", str(path), "--model-uri", str(bundle), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert f"skipped {unrated} row(s) whose outcome is not rated" in res.stderr
    metrics = json.loads(res.stdout)
    assert metrics["n"] == RATED and metrics["not_rated_skipped"] == unrated
    assert metrics["file_rows"] == RATED + unrated


def test_evaluate_with_no_rated_row_says_so(runner, export, bundle, tmp_path):
    raw = pd.read_csv(export[0], dtype=str, keep_default_na=False)
    path = tmp_path / "unrated.csv"
    raw[raw["Outcome"] == "Not Rated"].to_csv(path, index=False)
    res = runner.invoke(app, ["evaluate", "--data", str(path), "--model-uri", str(bundle)])
    assert res.exit_code == 2
    assert "no row with a rated outcome" in " ".join(res.stderr.split())
    assert "Traceback" not in res.output


def test_a_column_that_differs_only_in_spaces_or_case_is_named(runner, export, tmp_path):
    raw = pd.read_csv(export[0], dtype=str, keep_default_na=False)
    path = tmp_path / "upper.csv"
    raw.rename(columns={"Outcome": "OUTCOME"}).to_csv(path, index=False)
    res = runner.invoke(app, ["validate", "--catalogue", str(CATALOGUE), str(path)])
    assert res.exit_code == 2
    said = " ".join(res.stderr.split())
    assert "column 'OUTCOME' in the file: did you mean 'Outcome'?" in said
    # a file's headers are read without spaces at their ends; a catalogue's column with one
    spaced = yaml.safe_load(CATALOGUE.read_text())
    spaced["outcome"]["column"] = "Outcome "
    (tmp_path / "spaced.yaml").write_text(yaml.safe_dump(spaced))
    res = runner.invoke(
        app, ["validate", "--catalogue", str(tmp_path / "spaced.yaml"), str(export[0])]
    )
    assert res.exit_code == 2
    said = " ".join(res.stderr.split())
    assert "column 'Outcome' in the file: did you mean 'Outcome '?" in said


def _names_catalogue(tmp_path: Path) -> Path:
    """The IEG catalogue identified by the project's name, which repeats in real exports."""
    raw = yaml.safe_load(CATALOGUE.read_text())
    raw["identifier"] = "project_name"
    for c in raw["context"]:
        c.pop("unique", None)
    path = tmp_path / "by-name.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_repeats_of_a_non_unique_identifier_are_kept_and_reported(runner, export, tmp_path):
    raw = pd.read_csv(export[0], dtype=str, keep_default_na=False)
    rated = raw.index[raw["Outcome"] != "Not Rated"]
    raw.loc[rated[5], "Project Name"] = raw.loc[rated[1], "Project Name"]
    path = tmp_path / "repeats.csv"
    raw.to_csv(path, index=False)
    res = runner.invoke(
        app, ["validate", "--catalogue", str(_names_catalogue(tmp_path)), str(path)]
    )
    assert res.exit_code == 0, res.output
    said = " ".join(res.stderr.split())
    assert "Project Name value(s) repeat in" in said and "all kept" in said
    assert f"{RATED} rows" in res.stdout  # every rated row kept


def _training_config(tmp_path: Path) -> Path:
    path = tmp_path / "train.yaml"
    small = {"families": ["checklist"], "evaluation": {"repeats": 1, "folds": 3}}
    path.write_text(yaml.safe_dump({"on_bad_rows": "quarantine", **small}))
    return path


def test_quarantine_is_said_at_the_console_and_refused_above_the_share(
    runner, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    cat = load_catalogue(get_settings(), CATALOGUE)
    raw = generate_for(cat, 240, seed=7).astype("string")
    raw.loc[raw.index[:60], "Approval FY"] = "next year"  # a quarter of the rows
    data = write_table(raw, tmp_path / "h.csv")
    args = ["train", "--catalogue", str(CATALOGUE), "--data", str(data)]
    args += ["--config", str(_training_config(tmp_path))]
    res = runner.invoke(app, args)
    assert res.exit_code == 1, res.output  # above the default share: refused before training
    said = " ".join(res.stderr.split())
    assert "60 of 240 row(s) (25%) have problems" in said and "max_quarantine_share" in said
    assert "registered" not in res.stdout

    monkeypatch.setenv("SCALEPREDICT_MAX_QUARANTINE_SHARE", "0.3")
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    said = " ".join(res.stderr.split())
    assert "left out 60 of 240 row(s) (25%) for problems (quarantined)" in said
    assert "Approval FY: a whole number (60)" in said
    assert "trained on 180 of 240 row(s)" in " ".join(res.stdout.split())


def _rows_catalogue(tmp_path: Path) -> Path:
    """The IEG catalogue for an export without the project id: rows named by their file row."""
    raw = yaml.safe_load(CATALOGUE.read_text())
    raw["identifier"] = "file_row"
    raw["context"] = [c for c in raw["context"] if c["name"] != "project_id"]
    for example in raw.get("examples", []):
        example["proposal"].pop("project_id", None)
    path = tmp_path / "by-row.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_an_export_without_an_id_trains_and_scores_by_its_file_rows(
    runner, export, tmp_path, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    raw = pd.read_csv(export[0], dtype=str, keep_default_na=False).drop(columns="Project ID")
    path = tmp_path / "no-id.csv"
    raw.to_csv(path, index=False)
    catalogue = str(_rows_catalogue(tmp_path))
    res = runner.invoke(app, ["validate", "--catalogue", catalogue, str(path)])
    assert res.exit_code == 0, res.output
    args = ["train", "--catalogue", catalogue, "--data", str(path)]
    res = runner.invoke(app, [*args, "--config", str(_training_config(tmp_path))])
    assert res.exit_code == 0, res.output
    assert f"trained on {RATED} of {len(raw)} row(s)" in " ".join(res.stdout.split())
    # a bad cell is named by the row a person finds; answers name each project by its row
    raw.loc[3, "Outcome"] = "Splendid"
    raw.to_csv(path, index=False)
    res = runner.invoke(app, ["validate", "--catalogue", catalogue, str(path)])
    said = " ".join(res.stderr.split())
    assert res.exit_code == 1 and re.search(r"5 │ 5 │ Outcome .* Splendid", said), said
    out = tmp_path / "scores.csv"
    proposals = tmp_path / "proposals.csv"
    raw.drop(columns="Outcome").head(5).to_csv(proposals, index=False)
    res = runner.invoke(app, ["score", "--catalogue", catalogue, str(proposals), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out)["initiative_id"].tolist() == [2, 3, 4, 5, 6]
