"""What one outcome must hold, checked on its own and against the others of its batch (the
database is `outcomes.record`'s business): the id, the catalogue's outcome value, the date it
was observed, whether the initiative was funded."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from scalepredict.catalogue import Catalogue

ID = "initiative_id"
OBSERVED_ON = "observed_on"
FUNDED = "funded"
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n"}


@dataclass(frozen=True)
class Problem:
    index: int  # position in the batch (0-based); callers turn it into a row or a path
    initiative_id: str | None
    field: str
    rule: str
    value: Any = None
    conflict: bool = False  # a valid outcome that differs from the one recorded


@dataclass(frozen=True)
class OutcomeRecord:
    initiative_id: str
    outcome: str  # the catalogue's spelling
    outcome_code: float | None  # 1 success, 0 failure, None not rated
    observed_on: date
    funded: bool | None

    def same_as(self, row: Any) -> bool:
        """The outcome already recorded: `funded` left out is not a change (it is optional)."""
        return (self.outcome, self.observed_on) == (row.outcome, as_date(row.observed_on)) and (
            self.funded is None or self.funded == row.funded
        )


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _date(value: Any) -> date | None:
    """An ISO date (YYYY-MM-DD), a date, or a datetime; None if it is none of these."""
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _funded(value: Any) -> tuple[bool | None, bool]:
    """(value, valid): true/false, 1/0, yes/no; empty is unknown."""
    if _missing(value):
        return None, True
    if isinstance(value, bool):
        return value, True
    text = str(value).strip().casefold()
    if text.endswith(".0"):
        text = text[:-2]
    if text in _TRUE:
        return True, True
    if text in _FALSE:
        return False, True
    return None, False


def columns_problem(columns: Iterable[str], cat: Catalogue) -> str | None:
    """Why a table with these columns cannot hold outcomes (a column missing or unknown)."""
    have, name = set(columns), cat.outcome.name
    missing = [c for c in (ID, name, OBSERVED_ON) if c not in have]
    unknown = sorted(have - {ID, name, OBSERVED_ON, FUNDED})
    expected = f"expected {ID}, {name}, {OBSERVED_ON} and optionally {FUNDED}"
    if missing:
        return f"missing column(s) {', '.join(missing)}; {expected}"
    if unknown:
        return f"unknown column(s) {', '.join(unknown)}; {expected}"
    return None


def parse(
    records: Sequence[dict[str, Any]], cat: Catalogue
) -> tuple[list[tuple[int, OutcomeRecord]], list[Problem]]:
    """Each record checked on its own (fields, types, the catalogue's outcome values) and
    against the others (one outcome per id per batch)."""
    name = cat.outcome.name
    allowed = ", ".join(cat.outcome_map.values)
    parsed: list[tuple[int, OutcomeRecord]] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    latest = datetime.now(UTC).date() + timedelta(days=1)  # today somewhere on Earth
    for i, rec in enumerate(records):
        raw_id = rec.get(ID)
        iid = None if _missing(raw_id) else str(raw_id).strip()
        bad: list[Problem] = []
        unknown = sorted(set(rec) - {ID, name, OBSERVED_ON, FUNDED})
        if unknown:
            bad.append(
                Problem(
                    i,
                    iid,
                    unknown[0],
                    f"unknown field; send {ID}, {name}, {OBSERVED_ON} and optionally {FUNDED}",
                )
            )
        if iid is None:
            bad.append(Problem(i, None, ID, "required: may not be empty", raw_id))
        elif "\x00" in iid:
            bad.append(Problem(i, None, ID, "must not contain NUL characters", iid[:200]))
        elif not _utf8(iid):
            bad.append(Problem(i, None, ID, "must be text (a lone surrogate is not)", iid[:200]))
        elif len(iid) > 128:
            bad.append(Problem(i, iid[:40], ID, "at most 128 characters", iid[:200]))
        elif iid in seen:
            bad.append(Problem(i, iid, ID, f"unique: also in row {seen[iid]} of this batch"))
        else:
            seen[iid] = i
        value = rec.get(name)
        canonical = None if _missing(value) else cat.outcome_map.canonical(value)
        if _missing(value):
            bad.append(Problem(i, iid, name, f"required: one of {allowed}", value))
        elif canonical is None:
            bad.append(Problem(i, iid, name, f"must be one of {allowed}", _echo(value)))
        observed = _date(rec.get(OBSERVED_ON))
        if observed is None:
            rule = "required" if _missing(rec.get(OBSERVED_ON)) else "must be a date"
            bad.append(
                Problem(i, iid, OBSERVED_ON, f"{rule} (YYYY-MM-DD)", _echo(rec.get(OBSERVED_ON)))
            )
        elif observed > latest:
            bad.append(Problem(i, iid, OBSERVED_ON, "must not be in the future", str(observed)))
        funded, ok = _funded(rec.get(FUNDED))
        if not ok:
            bad.append(Problem(i, iid, FUNDED, "must be true or false", _echo(rec.get(FUNDED))))
        if bad:
            problems.extend(bad)
            continue
        assert iid is not None and canonical is not None and observed is not None
        code = cat.outcome_map.code(canonical)
        parsed.append(
            (
                i,
                OutcomeRecord(
                    iid,
                    canonical,
                    None if code is None or math.isnan(code) else code,
                    observed,
                    funded,
                ),
            )
        )
    return parsed, problems


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _echo(value: Any) -> Any:
    if isinstance(value, str):
        return value[:200]
    return value if isinstance(value, int | float | bool) or value is None else str(value)[:200]
