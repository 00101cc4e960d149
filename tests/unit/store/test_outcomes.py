"""Outcomes on SQLite and PostgreSQL: matched to the latest scoring, validated all or nothing,
idempotent, replaced only on request with history, and joined with the scorings for
monitoring and retraining; for the built-in catalogue and a user's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from scalepredict.catalogue import load_catalogue
from scalepredict.settings import Settings, get_settings
from scalepredict.store import database, outcomes
from scalepredict.store.audit import AuditLog
from tests.conftest import ROOT

TODAY = datetime.now(UTC).date()
IEG = ROOT / "examples" / "world-bank-ieg" / "catalogue.yaml"


def _score(audit: AuditLog, ids, endpoint="score", version="3", p=0.25):
    audit.record(
        "r",
        endpoint,
        "funder",
        version,
        [
            (i, {"initiative_id": i, "city": "Ghent", "value_case": 4}, {"probability": p})
            for i in ids
        ],
    )


@pytest.fixture()
def audit(database_url) -> AuditLog:
    audit = AuditLog(Settings(database_url=database_url))
    _score(audit, ["A", "B", "C"])
    return audit


def _ok(iid: str, value=1, on=TODAY, funded=None) -> dict:
    return {"initiative_id": iid, "scaled_up": value, "observed_on": str(on), "funded": funded}


def _rows(audit: AuditLog, **kw) -> pd.DataFrame:
    return outcomes.scorings_with_outcomes(audit.engine, **kw).set_index("initiative_id")


def test_recorded_outcomes_join_the_latest_scoring(audit, cat):
    _score(audit, ["A"], version="4", p=0.75)  # A rescored by a newer model
    done = outcomes.record(audit.engine, [_ok("A", 1, funded=True), _ok("B", "0")], cat, "desk")
    assert done.as_dict() == {"recorded": 2, "replaced": 0, "unchanged": 0}
    rows = _rows(audit)
    assert list(rows.columns[:2]) == ["scored_at", "model_version"]
    assert rows.loc["A", "model_version"] == "4" and rows.loc["A", "probability"] == 0.75
    assert rows.loc["A", "outcome"] == 1 and rows.loc["A", "outcome_code"] == 1.0
    assert rows.loc["A", "funded"] is True and rows.loc["B", "funded"] is None
    assert rows.loc["B", "outcome"] == 0 and rows.loc["A", "observed_on"] == TODAY
    assert rows.loc["A", "city"] == "Ghent" and rows.loc["A", "value_case"] == 4
    assert list(rows.index) == ["B", "C", "A"]  # by time of the latest scoring
    assert rows["status"].to_dict() == {"A": "recorded", "B": "recorded", "C": "pending"}
    assert rows.loc["C", "outcome"] is None


def test_pending_becomes_expired_after_the_horizon(audit, cat):
    outcomes.record(audit.engine, [_ok("A")], cat, "desk")
    later = datetime.now(UTC) + timedelta(days=370)
    rows = _rows(audit, horizon_months=12, now=later)
    assert rows["status"].to_dict() == {"A": "recorded", "B": "expired", "C": "expired"}
    assert set(_rows(audit, horizon_months=24, now=later)["status"]) == {"recorded", "pending"}


def test_since_and_until_select_the_scorings_in_the_window(audit):
    assert len(_rows(audit, since=TODAY)) == 3
    assert len(_rows(audit, until=TODAY)) == 0
    assert len(_rows(audit, since=TODAY + timedelta(days=1))) == 0
    assert outcomes.scorings_with_outcomes(audit.engine, until="2000-01-01").empty


def test_what_ifs_and_plans_are_not_scorings(audit, cat):
    _score(audit, ["W"], endpoint="whatif")
    with pytest.raises(outcomes.OutcomesRejected) as e:
        outcomes.record(audit.engine, [_ok("W")], cat, "desk")
    assert e.value.problems[0].field == "initiative_id"
    assert "W" not in _rows(audit).index


def test_every_bad_row_is_reported_and_nothing_is_stored(audit, cat):
    batch = [
        _ok("A"),  # good, but the batch is refused as a whole
        _ok("nobody"),  # never scored
        _ok("B", value=2),  # outside the catalogue
        _ok("C", on=TODAY - timedelta(days=1)),  # before the scoring
        {**_ok("A"), "initiative_id": "C", "observed_on": "2026-02-30"},  # not a date
        {**_ok("B"), "funded": "maybe"},
        {"initiative_id": "", "scaled_up": 1},
        _ok("nobody-2", on=TODAY + timedelta(days=5)),  # in the future
    ]
    with pytest.raises(outcomes.OutcomesRejected) as e:
        outcomes.record(audit.engine, batch, cat, "desk")
    got = {(p.index, p.field) for p in e.value.problems}
    assert {
        (1, "initiative_id"),
        (2, "scaled_up"),
        (3, "observed_on"),
        (4, "observed_on"),
        (5, "funded"),
        (6, "initiative_id"),
        (6, "observed_on"),
        (7, "observed_on"),
    } <= got
    assert all(p.index != 0 for p in e.value.problems) and not e.value.conflict
    assert "one of 1, 0" in next(p.rule for p in e.value.problems if p.index == 2)
    assert "latest scoring" in next(p.rule for p in e.value.problems if p.index == 3)
    assert (_rows(audit)["status"] == "pending").all()


def test_the_same_outcome_again_is_a_no_op_and_a_different_one_needs_replace(audit, cat):
    outcomes.record(audit.engine, [_ok("A", 0)], cat, "desk")
    again = outcomes.record(audit.engine, [_ok("A", "0.0")], cat, "desk")
    assert again.as_dict() == {"recorded": 0, "replaced": 0, "unchanged": 1}
    with pytest.raises(outcomes.OutcomesRejected) as e:
        outcomes.record(audit.engine, [_ok("A", 1)], cat, "desk")
    assert e.value.conflict and "already recorded as 0" in e.value.problems[0].rule
    assert _rows(audit).loc["A", "outcome"] == 0
    done = outcomes.record(audit.engine, [_ok("A", 1)], cat, "lead", replace=True)
    assert done.as_dict() == {"recorded": 0, "replaced": 1, "unchanged": 0}
    assert _rows(audit).loc["A", "outcome"] == 1
    [old] = outcomes.history(audit.engine, "A")
    assert (old["outcome"], old["key_name"], old["replaced_by"]) == ("0", "desk", "lead")


def test_a_users_catalogue_uses_its_own_outcome_field_and_values(database_url):
    ieg = load_catalogue(get_settings(), IEG)
    audit = AuditLog(Settings(database_url=database_url))
    _score(audit, ["P1", "P2", "P3"])
    name = ieg.outcome.name
    rec = [
        {"initiative_id": "P1", name: "satisfactory", "observed_on": str(TODAY)},
        {"initiative_id": "P2", name: "Unsatisfactory", "observed_on": str(TODAY)},
        {"initiative_id": "P3", name: "Not Rated", "observed_on": str(TODAY)},
    ]
    outcomes.record(audit.engine, rec, ieg, "desk")
    rows = _rows(audit)
    assert rows["outcome"].to_dict() == {
        "P1": "Satisfactory",
        "P2": "Unsatisfactory",
        "P3": "Not Rated",
    }
    assert rows.loc["P1", "outcome_code"] == 1.0 and rows.loc["P2", "outcome_code"] == 0.0
    assert pd.isna(rows.loc["P3", "outcome_code"])
    with pytest.raises(outcomes.OutcomesRejected) as e:
        outcomes.record(audit.engine, [{**rec[0], name: 1}], ieg, "desk")
    assert "Highly Satisfactory" in e.value.problems[0].rule


def test_a_large_batch_is_matched_in_chunks(database_url, cat):
    audit = AuditLog(Settings(database_url=database_url))
    ids = [f"S-{k}" for k in range(1200)]
    _score(audit, ids)
    done = outcomes.record(audit.engine, [_ok(i, k % 2) for k, i in enumerate(ids)], cat, "desk")
    assert done.recorded == 1200
    assert (_rows(audit)["status"] == "recorded").all()
    assert database.engine(Settings(database_url=database_url)) is audit.engine


def test_a_catalogue_naming_rows_by_their_file_row_records_no_outcome(tmp_path):
    from tests.unit.data.test_exports import _cat

    audit = AuditLog(Settings(database_url=f"sqlite:///{tmp_path}/rows.db"))
    _score(audit, ["2"])  # row 2 of some file was scored; row 2 of the next is another project
    outcome = {"file_row": 2, "ok": "Yes", "observed_on": str(TODAY)}
    with pytest.raises(outcomes.OutcomesRejected) as refused:
        outcomes.record(audit.engine, [outcome], _cat(identifier="file_row"), "desk")
    assert "an identifier field that stays with the project" in refused.value.problems[0].rule
    assert outcomes.scorings_with_outcomes(audit.engine)["outcome"].isna().all()
