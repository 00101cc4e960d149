"""`retrain` never replaces history silently: an outcome reusing a history row's id for another
initiative (another city, stage or date) stops it unless told what to do; `--dry-run` reports
exactly what would change in the training set and writes and trains nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest

from scalepredict.cli import app
from scalepredict.data.synthetic import generate
from scalepredict.data.tables import write_table
from scalepredict.data.training_set import merge_outcomes
from scalepredict.data.validation import parse_assessments
from scalepredict.settings import get_settings
from scalepredict.store import outcomes
from scalepredict.store.audit import AuditLog

TODAY = datetime.now(UTC).date().isoformat()


def _history() -> pd.DataFrame:
    return generate(10, seed=4, truth=True)  # INI-0000001 ... INI-0000010


def _outcome_rows(cat) -> pd.DataFrame:
    """Outcomes as retraining reads them: 3 other initiatives under reused ids, 2 new ones,
    one history initiative whose outcome changed and one exactly as in the history."""
    history = _history()
    others = generate(3, seed=9)  # the same ids, other dates and stages ...
    others["city"] = "city-09999"  # ... and another city
    new = generate(2, seed=12).assign(initiative_id=["NEW-1", "NEW-2"])
    changed = history.iloc[[4]].assign(scaled_up=1 - history["scaled_up"].iloc[4])
    same = history.iloc[[5]]
    rows = pd.concat([others, new, changed, same], ignore_index=True)
    return rows[cat.labelled_columns()]


@pytest.mark.parametrize("policy", ["refuse", "replace", "keep"])
def test_each_outcome_is_added_replacing_unchanged_or_a_collision(cat, policy):
    history = parse_assessments(_history(), cat)
    change = merge_outcomes(history, parse_assessments(_outcome_rows(cat), cat), cat, policy)
    assert change.history == 10
    assert change.added == ["NEW-1", "NEW-2"]
    assert change.replaced == ["INI-0000005"] and change.unchanged == ["INI-0000006"]
    assert [c.id for c in change.collisions] == ["INI-0000001", "INI-0000002", "INI-0000003"]
    first = {f: (old, new) for f, old, new in change.collisions[0].differences}
    was, now = _history().iloc[0], _outcome_rows(cat).iloc[0]
    assert first == {
        "city": (was["city"], "city-09999"),
        "stage": ("pilot", "rollout"),
        "assessed_on": (f"{was['assessed_on']:%Y-%m-%d}", f"{now['assessed_on']:%Y-%m-%d}"),
    }
    assert change.refused == (policy == "refuse")
    frame = change.frame.set_index("initiative_id")
    assert frame.index.is_unique and len(frame) == 12  # 10 history rows + 2 new initiatives
    assert frame.loc["INI-0000005", "scaled_up"] == 1 - _history()["scaled_up"].iloc[4]
    reused = ["INI-0000001", "INI-0000002", "INI-0000003"]
    kept = ["city-09999"] * 3 if policy == "replace" else _history()["city"].iloc[:3].tolist()
    assert frame.loc[reused, "city"].tolist() == kept


@pytest.fixture()
def recorded(tmp_path, monkeypatch, cat):
    """A history file, and the outcome rows scored and recorded in a private database."""
    monkeypatch.setenv("SCALEPREDICT_DATABASE_URL", f"sqlite:///{tmp_path}/scalepredict.db")
    monkeypatch.setenv("SCALEPREDICT_MONITOR_DIR", str(tmp_path / "monitor"))
    rows = _outcome_rows(cat)
    pending = _history().iloc[[7]][cat.labelled_columns()]  # scored, outcome not known yet
    scored = pd.concat([rows, pending], ignore_index=True)
    proposals = json.loads(scored.drop(columns="scaled_up").to_json(orient="records"))
    audit = AuditLog(get_settings())
    for p in proposals:
        p["assessed_on"] = pd.Timestamp(p["assessed_on"], unit="ms").strftime("%Y-%m-%d")
    audit.record(
        "r",
        "score",
        "desk",
        "1",
        [(p["initiative_id"], p, {"probability": 0.5}) for p in proposals],
    )
    outcomes.record(
        audit.engine,
        [
            {"initiative_id": i, "scaled_up": int(y), "observed_on": TODAY}
            for i, y in zip(rows["initiative_id"], rows["scaled_up"], strict=True)
        ],
        cat,
        "desk",
    )
    return write_table(_history(), tmp_path / "history.csv")


def test_a_collision_stops_retrain_with_the_ids_and_fields_and_writes_nothing(
    recorded, runner, tmp_path, cat
):
    out = tmp_path / "retrain.csv"
    for dry in ([], ["--dry-run"]):
        res = runner.invoke(app, ["retrain", "--data", str(recorded), "--out", str(out), *dry])
        assert res.exit_code == 2, res.output
        text = " ".join(res.output.split())  # as a person reads it, whatever the line width
        assert "3 id collisions" in text and ": refused" in text
        was, now = _history().iloc[0], _outcome_rows(cat).iloc[0]
        assert (
            f"INI-0000001: in the history city {was['city']}, stage pilot, assessed_on "
            f"{was['assessed_on']:%Y-%m-%d}; in the outcome city city-09999, stage rollout, "
            f"assessed_on {now['assessed_on']:%Y-%m-%d}"
        ) in text
        assert "nothing was written or trained" in text and "--replace-history" in text
        assert not out.exists()


def test_dry_run_reports_exactly_what_would_change_and_changes_nothing(recorded, runner, tmp_path):
    out = tmp_path / "retrain.csv"
    res = runner.invoke(
        app, ["retrain", "--data", str(recorded), "--out", str(out), "--dry-run", "--keep-history"]
    )
    assert res.exit_code == 0, res.output
    lines = [line.strip() for line in res.output.splitlines()]
    assert lines[0] == "training set (dry run, nothing written or trained):"
    for expected in (
        "10 history rows",
        "2 rows added (initiatives new to the history)",
        "1 replacing history (the same initiative: its outcome or answers changed)",
        "1 unchanged (already in the history as they are)",
        "3 id collisions (a history row's id with another city, stage or assessed_on): "
        "excluded, the history rows kept (--keep-history)",
        "1 excluded as pending (no outcome yet, horizon not passed)",
        "= 12 training rows",
    ):
        assert expected in lines
    assert not out.exists() and not (tmp_path / "monitor").exists()
    both = runner.invoke(app, ["retrain", "--dry-run", "--replace-history", "--keep-history"])
    assert both.exit_code == 2 and "exclude each other" in both.output
