"""`scalepredict keys` and `scalepredict outcomes import` against the database (SQLite and
PostgreSQL): a readable report and a non-zero exit for bad rows, nothing stored unless all
rows are good."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from scalepredict.cli import app
from scalepredict.settings import Settings, get_settings
from scalepredict.store import outcomes
from scalepredict.store.audit import AuditLog
from scalepredict.store.keys import KeyStore
from tests.conftest import ROOT

TODAY = str(datetime.now(UTC).date())


def _said(result) -> str:
    """The output with the console's line wrapping undone."""
    return " ".join(result.output.split())


def test_keys_commands_work_on_the_database(runner, database_url):
    added = runner.invoke(app, ["keys", "add", "desk", "--role", "recorder"])
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[-1]
    assert KeyStore(get_settings(), ttl=0).identify(key).role == "recorder"
    listed = runner.invoke(app, ["keys", "list"]).output
    assert listed.split()[:2] == ["desk", "recorder"] and key not in listed
    assert runner.invoke(app, ["keys", "add", "x", "--role", "root"]).exit_code == 2
    assert runner.invoke(app, ["keys", "revoke", "desk"]).exit_code == 0
    assert KeyStore(get_settings(), ttl=0).identify(key) is None
    assert runner.invoke(app, ["keys", "revoke", "desk"]).exit_code == 2


def test_outcomes_import_reports_every_bad_row_and_stores_nothing(runner, database_url, tmp_path):
    audit = AuditLog(Settings(database_url=database_url))
    audit.record("r", "score", "funder", "2", [(i, {}, {"probability": 0.5}) for i in "ABC"])
    good = pd.DataFrame(
        {
            "initiative_id": ["A", "B", "C"],
            "scaled_up": [1, 0, 1],
            "observed_on": [TODAY] * 3,
            "funded": ["yes", "", "no"],
        }
    )
    bad = good.copy()
    bad.loc[1, "scaled_up"] = 7
    bad.loc[2, "initiative_id"] = "Z"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    r = runner.invoke(app, ["outcomes", "import", str(tmp_path / "bad.csv")])
    assert r.exit_code == 1
    assert "2 problem(s)" in _said(r) and "nothing was recorded" in _said(r)
    assert "scaled_up" in r.output and "Z" in r.output
    assert (outcomes.scorings_with_outcomes(audit.engine)["status"] == "pending").all()
    good.to_parquet(tmp_path / "good.parquet")
    r = runner.invoke(app, ["outcomes", "import", str(tmp_path / "good.parquet")])
    assert r.exit_code == 0, r.output
    assert "3 recorded" in _said(r)
    r = runner.invoke(app, ["outcomes", "import", str(tmp_path / "good.parquet")])
    assert "3 unchanged" in _said(r)
    good.loc[0, "scaled_up"] = 0
    good.to_csv(tmp_path / "changed.csv", index=False)
    r = runner.invoke(app, ["outcomes", "import", str(tmp_path / "changed.csv")])
    assert r.exit_code == 1 and "--replace" in _said(r)
    r = runner.invoke(app, ["outcomes", "import", str(tmp_path / "changed.csv"), "--replace"])
    assert r.exit_code == 0 and "1 replaced" in _said(r)
    rows = outcomes.scorings_with_outcomes(audit.engine).set_index("initiative_id")
    assert rows["outcome"].to_dict() == {"A": 0, "B": 0, "C": 1}
    assert rows["funded"].to_dict() == {"A": True, "B": None, "C": False}


def test_outcomes_import_of_an_unreadable_file_says_why(runner, database_url, tmp_path):
    (tmp_path / "empty.csv").write_text("")
    r = runner.invoke(app, ["outcomes", "import", str(tmp_path / "empty.csv")])
    assert r.exit_code == 2 and "empty" in _said(r)


def test_outcomes_import_names_missing_and_unknown_columns(runner, database_url, tmp_path):
    frame = pd.DataFrame({"initiative_id": ["A"], "scaled_up": [1], "observed_on": [TODAY]})
    frame.drop(columns="scaled_up").to_csv(tmp_path / "missing.csv", index=False)
    r = runner.invoke(app, ["outcomes", "import", str(tmp_path / "missing.csv")])
    assert r.exit_code == 2 and "missing column(s) scaled_up" in _said(r)
    frame.assign(note="x").to_csv(tmp_path / "extra.csv", index=False)
    r = runner.invoke(app, ["outcomes", "import", str(tmp_path / "extra.csv")])
    assert r.exit_code == 2 and "unknown column(s) note" in _said(r)


def test_outcomes_import_reads_a_users_catalogue_columns(runner, database_url, tmp_path):
    audit = AuditLog(Settings(database_url=database_url))
    audit.record("r", "score", "desk", "1", [("P0001", {}, {"probability": 0.7})])
    pd.DataFrame(
        {"Project ID": ["P0001"], "Outcome": ["Satisfactory"], "observed_on": [TODAY]}
    ).to_csv(tmp_path / "ieg.csv", index=False)
    ieg = str(ROOT / "examples" / "world-bank-ieg" / "catalogue.yaml")
    r = runner.invoke(app, ["outcomes", "import", str(tmp_path / "ieg.csv"), "--catalogue", ieg])
    assert r.exit_code == 0, r.output
    row = outcomes.scorings_with_outcomes(audit.engine).iloc[0]
    assert (row["outcome"], row["outcome_code"]) == ("Satisfactory", 1.0)
