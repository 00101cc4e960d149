"""Outcomes written at the same time, on SQLite and PostgreSQL: every replaced value is kept
in the history, and a first write that loses a race is a conflict (409), not a database
error; ids that no column can hold are refused with the field named."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from scalepredict.settings import Settings
from scalepredict.store import outcomes
from scalepredict.store.audit import AuditLog

TODAY = str(datetime.now(UTC).date())


def _at_once(n: int, work) -> list:
    """`work(k)` in n threads released together; each result or the exception it raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(k: int) -> None:
        barrier.wait()
        try:
            results[k] = work(k)
        except Exception as e:
            results[k] = e

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture()
def audit(database_url) -> AuditLog:
    audit = AuditLog(Settings(database_url=database_url))
    ids = [f"R{k}" for k in range(5)]
    audit.record("r", "score", "funder", "1", [(i, {"initiative_id": i}, {}) for i in ids])
    return audit


def _outcome(iid: str, value, funded=None) -> dict:
    return {"initiative_id": iid, "scaled_up": value, "observed_on": TODAY, "funded": funded}


def test_three_simultaneous_replaces_keep_every_replaced_value(audit, cat):
    for iid in ("R0", "R1", "R2", "R3", "R4"):
        outcomes.record(audit.engine, [_outcome(iid, 0)], cat, "first")
        # three writers, three different outcomes (a left-out `funded` alone would be no
        # change, so every writer says it)
        sent = [
            _outcome(iid, 1, True),
            _outcome(iid, 1, False),
            _outcome(iid, 0, True),
        ]
        results = _at_once(
            3,
            lambda k, sent=sent: outcomes.record(
                audit.engine, [sent[k]], cat, f"w{k}", replace=True
            ),
        )
        assert all(isinstance(r, outcomes.Recorded) and r.replaced == 1 for r in results), results
        kept = outcomes.history(audit.engine, iid)
        # the history holds each value that was replaced, once: the first one and two writers'
        names = [h["key_name"] for h in kept]
        assert names[0] == "first" and len(names) == 3 and len(set(names)) == 3, names
        for h in kept[1:]:
            assert h["funded"] == sent[int(h["key_name"][1])]["funded"]
        # the writer not in the history is the one whose value is recorded now
        (winner,) = {"w0", "w1", "w2"} - set(names)
        final = outcomes.scorings_with_outcomes(audit.engine).set_index("initiative_id")
        assert final.loc[iid, "funded"] == sent[int(winner[1])]["funded"]


def test_a_first_write_that_loses_a_race_is_a_conflict_not_a_database_error(audit, cat):
    for iid in ("R0", "R1", "R2", "R3", "R4"):
        sent = [_outcome(iid, 1), _outcome(iid, 0, False), _outcome(iid, 0, True)]
        results = _at_once(
            3, lambda k, sent=sent: outcomes.record(audit.engine, [sent[k]], cat, f"w{k}")
        )
        recorded = [r for r in results if isinstance(r, outcomes.Recorded)]
        refused = [r for r in results if isinstance(r, outcomes.OutcomesRejected)]
        assert len(recorded) == 1 and recorded[0].recorded == 1, results
        assert len(refused) == 2 and all(r.conflict for r in refused), results


@pytest.mark.parametrize(
    ("iid", "rule"),
    [("R\x000", "must not contain NUL characters"), ("R\ud8000", "lone surrogate")],
)
def test_ids_no_column_can_hold_are_refused_naming_the_field(audit, cat, iid, rule):
    with pytest.raises(outcomes.OutcomesRejected) as e:
        outcomes.record(audit.engine, [_outcome(iid, 1)], cat, "desk")
    (problem,) = e.value.problems
    assert problem.field == "initiative_id" and rule in problem.rule
    assert not e.value.conflict
