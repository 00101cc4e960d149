"""What happened to scored initiatives: outcomes (the catalogue's outcome field, the date it was
observed, whether the initiative was funded), each matched to the latest scoring of its id in
the audit, and the join of scorings with outcomes that monitoring and retraining read.

Recording is all-or-nothing: a batch with any bad row stores nothing and every bad row is
reported (row, field, rule). The same outcome sent again is a no-op; a different one for an
id that has one is refused unless `replace`, and the value it replaces goes to the history."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Connection, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from scalepredict.catalogue import Catalogue
from scalepredict.data.identifiers import NO_LASTING_KEY
from scalepredict.store.audit import SCORING_ENDPOINTS
from scalepredict.store.outcome_rows import (
    FUNDED,
    ID,
    OBSERVED_ON,
    OutcomeRecord,
    Problem,
    as_date,
    parse,
)
from scalepredict.store.schema import outcome_history, outcomes, scored_proposals

STATUSES = ("recorded", "pending", "expired")
_CHUNK = 500  # ids per IN (...) query: well under SQLite's bound variables limit
_ATTEMPTS = 3  # a batch retried after a concurrent first write of one of its ids


class OutcomesRejected(ValueError):
    """Nothing was stored: `problems` lists every bad row. `conflict` when the only problems
    are outcomes that differ from ones already recorded (send again with replace)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self.conflict = all(p.conflict for p in problems)
        super().__init__(f"{len(problems)} problem(s); nothing was recorded")


@dataclass
class Recorded:
    recorded: int = 0  # new outcomes
    replaced: int = 0  # outcomes that replaced another (the old one is in the history)
    unchanged: int = 0  # the same outcome sent again
    ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"recorded": self.recorded, "replaced": self.replaced, "unchanged": self.unchanged}


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for k in range(0, len(items), _CHUNK):
        yield items[k : k + _CHUNK]


def latest_scorings(conn: Connection, ids: list[str]) -> dict[str, Any]:
    """id -> its latest scoring row in the audit (score and portfolio answers)."""
    found: dict[str, Any] = {}
    sp = scored_proposals
    for chunk in _chunks(ids):
        latest = (
            select(func.max(sp.c.id))
            .where(sp.c.initiative_id.in_(chunk), sp.c.endpoint.in_(SCORING_ENDPOINTS))
            .group_by(sp.c.initiative_id)
        )
        rows = conn.execute(
            select(sp.c.id, sp.c.initiative_id, sp.c.scored_at).where(sp.c.id.in_(latest))
        )
        found.update({r.initiative_id: r for r in rows})
    return found


def _existing(conn: Connection, ids: list[str]) -> dict[str, Any]:
    """The recorded outcomes of `ids`, locked until the transaction ends (PostgreSQL: row
    locks in id order; SQLite: the transaction already holds the write lock), so two writers
    of one id take turns and each replaces the value the other wrote."""
    found: dict[str, Any] = {}
    for chunk in _chunks(sorted(set(ids))):
        query = select(outcomes).where(outcomes.c.initiative_id.in_(chunk))
        if conn.dialect.name != "sqlite":
            query = query.order_by(outcomes.c.initiative_id).with_for_update()
        found.update({r.initiative_id: r for r in conn.execute(query)})
    return found


def _utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def record(
    eng: Engine,
    records: Sequence[dict[str, Any]],
    cat: Catalogue,
    key_name: str,
    replace: bool = False,
) -> Recorded:
    """Validate and store a batch of outcomes in one transaction; OutcomesRejected (nothing
    stored) if any row is bad: an id never scored, a value outside the catalogue, a date that
    is not one or is before the scoring, or a different outcome for a recorded id without
    `replace`."""
    if cat.file_row:  # row 17 of one file is not row 17 of the next
        raise OutcomesRejected([Problem(0, "", ID, NO_LASTING_KEY, "")])
    parsed, problems = parse(records, cat)
    for attempt in range(_ATTEMPTS):
        try:
            with eng.begin() as conn:
                if conn.dialect.name == "sqlite":
                    # take the write lock before reading: two writers must not both read the
                    # value they replace (busy_timeout bounds the wait)
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                return _record(conn, parsed, list(problems), cat, key_name, replace)
        except IntegrityError:
            # another writer recorded a first outcome of one of these ids meanwhile (no row
            # to lock before it existed): again, now against its row (409, or a replace)
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _record(
    conn: Connection,
    parsed: list[tuple[int, OutcomeRecord]],
    problems: list[Problem],
    cat: Catalogue,
    key_name: str,
    replace: bool,
) -> Recorded:
    done = Recorded()
    now = datetime.now(UTC)
    ids = [o.initiative_id for _, o in parsed]
    scorings = latest_scorings(conn, ids)
    existing = _existing(conn, ids)
    writes: list[tuple[OutcomeRecord, Any, Any]] = []
    for i, o in parsed:
        scoring = scorings.get(o.initiative_id)
        if scoring is None:
            problems.append(
                Problem(
                    i,
                    o.initiative_id,
                    ID,
                    "must be an initiative that was scored (no scoring of it in the audit)",
                    o.initiative_id,
                )
            )
            continue
        scored_on = _utc(scoring.scored_at).date()
        if o.observed_on < scored_on:
            problems.append(
                Problem(
                    i,
                    o.initiative_id,
                    OBSERVED_ON,
                    f"must be on or after its latest scoring ({scored_on})",
                    str(o.observed_on),
                )
            )
            continue
        old = existing.get(o.initiative_id)
        if old is not None and not o.same_as(old) and not replace:
            problems.append(
                Problem(
                    i,
                    o.initiative_id,
                    cat.outcome.name,
                    f"already recorded as {old.outcome} observed on {as_date(old.observed_on)}"
                    f"{'' if old.funded is None else f' (funded: {str(old.funded).lower()})'}; "
                    "replace it explicitly (API: replace: true; CLI: --replace)",
                    o.outcome,
                    conflict=True,
                )
            )
            continue
        writes.append((o, scoring, old))
    if problems:
        raise OutcomesRejected(sorted(problems, key=lambda p: p.index))
    for o, scoring, old in writes:
        values = {
            "outcome": o.outcome,
            "outcome_code": o.outcome_code,
            "observed_on": o.observed_on,
            "funded": o.funded,
            "scoring_id": scoring.id,
            "key_name": key_name,
            "recorded_at": now,
        }
        if old is None:
            conn.execute(insert(outcomes), {ID: o.initiative_id, **values})
            done.recorded += 1
        elif o.same_as(old):
            done.unchanged += 1
            continue
        else:
            kept = {c: getattr(old, c) for c in values}
            conn.execute(
                insert(outcome_history),
                {ID: o.initiative_id, **kept, "replaced_at": now, "replaced_by": key_name},
            )
            conn.execute(
                update(outcomes).where(outcomes.c.initiative_id == o.initiative_id),
                values,
            )
            done.replaced += 1
        done.ids.append(o.initiative_id)
    return done


def history(eng: Engine, initiative_id: str) -> list[dict[str, Any]]:
    """Replaced outcomes of an id, oldest first."""
    query = (
        select(outcome_history)
        .where(outcome_history.c.initiative_id == initiative_id)
        .order_by(outcome_history.c.id)
    )
    with eng.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def _timestamp(value: date | datetime | str | None) -> datetime | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return (ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)).to_pydatetime()


def _number(value: Any) -> int | str:
    """A catalogue value as data: "1" -> 1 for catalogues whose outcome is a number."""
    return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value


def _plan_effort(output: dict[str, Any]) -> float | None:
    plan = output.get("plan")
    if isinstance(plan, dict) and "total_effort" in plan:
        return float(plan["total_effort"])
    return None


def scorings_with_outcomes(
    engine: Engine,
    since: date | datetime | str | None = None,
    until: date | datetime | str | None = None,
    horizon_months: int = 24,
    now: date | datetime | str | None = None,
) -> pd.DataFrame:
    """The latest scoring of each initiative scored in [since, until) (score and portfolio
    answers), with its outcome if one is recorded: one row per initiative, columns
    initiative_id, scored_at (UTC), model_version, the scored input's fields, probability,
    plan_effort (the plan's total effort, None without a plan),
    outcome (the catalogue's value, or None), outcome_code (1.0 success, 0.0 failure, NaN not
    rated or none yet), observed_on, funded, status. `status` is `recorded` with an outcome,
    else `expired` once `horizon_months` have passed since the scoring (no success was
    recorded in time: read it as a failure), else `pending`."""
    sp, oc = scored_proposals, outcomes
    window: list[ColumnElement[bool]] = [sp.c.endpoint.in_(SCORING_ENDPOINTS)]
    if (start := _timestamp(since)) is not None:
        window.append(sp.c.scored_at >= start)
    if (end := _timestamp(until)) is not None:
        window.append(sp.c.scored_at < end)
    latest = select(func.max(sp.c.id)).where(*window).group_by(sp.c.initiative_id)
    query = (
        select(
            sp.c.initiative_id,
            sp.c.scored_at,
            sp.c.model_version,
            sp.c.input,
            sp.c.output,
            oc.c.outcome,
            oc.c.outcome_code,
            oc.c.observed_on,
            oc.c.funded,
        )
        .select_from(sp.outerjoin(oc, oc.c.initiative_id == sp.c.initiative_id))
        .where(sp.c.id.in_(latest))
        .order_by(sp.c.scored_at, sp.c.id)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    base = ["initiative_id", "scored_at", "model_version"]
    tail = ["probability", "plan_effort", "outcome", "outcome_code", OBSERVED_ON, FUNDED, "status"]
    if not rows:
        return pd.DataFrame(columns=base + tail)
    inputs = pd.DataFrame([json.loads(r.input) for r in rows])
    inputs = inputs.drop(columns=[c for c in (*base, *tail) if c in inputs.columns])
    out = pd.DataFrame(
        {
            "initiative_id": [r.initiative_id for r in rows],
            "scored_at": pd.to_datetime([_utc(r.scored_at) for r in rows], utc=True),
            "model_version": [r.model_version for r in rows],
        }
    )
    out = pd.concat([out, inputs], axis=1)
    outputs = [json.loads(r.output) for r in rows]
    out["probability"] = [o.get("probability") for o in outputs]
    out["plan_effort"] = [_plan_effort(o) for o in outputs]
    out["outcome"] = pd.Series([_number(r.outcome) for r in rows], dtype=object)
    out["outcome_code"] = [r.outcome_code if r.outcome_code is not None else math.nan for r in rows]
    out[OBSERVED_ON] = pd.Series([r.observed_on for r in rows], dtype=object)
    out[FUNDED] = pd.Series([r.funded for r in rows], dtype=object)
    at = pd.Timestamp(_timestamp(now) or datetime.now(UTC))
    expired = out["scored_at"] + pd.DateOffset(months=horizon_months) <= at
    out["status"] = [
        "recorded" if r.outcome is not None else ("expired" if e else "pending")
        for r, e in zip(rows, expired, strict=True)
    ]
    return out
