"""Proposals to be scored, from a CSV or from JSON records, through one validation: the same
unknown tokens, level labels, coercions (3.0 is the whole number 3; 2.5, NaN, Infinity are
refused), the same rules and the same problem rows.

History columns (the outcome, the generator's truth) are accepted and ignored on every path:
a proposal is being scored, and a table exported from history can be sent as it is.

JSON carries types a CSV has not; those that no CSV cell could mean are refused before parsing:
`true` or a list where a number belongs, text where a number belongs (send 3, not "3"), a
number where text or a date belongs."""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from scalepredict.catalogue import Catalogue, Field, spellings
from scalepredict.data.fast_records import fast_records
from scalepredict.data.schema import fields_by_name
from scalepredict.data.tables import RawTable
from scalepredict.data.validation import (
    PROBLEM_COLUMNS,
    ValidationResult,
    in_catalogue_names,
    validate_table,
)

NUMERIC = ("integer", "score", "number")
HINTED = 200  # unknown fields given a "did you mean" (as many as an answer lists)


def validate_proposals(
    raw: RawTable, cat: Catalogue, refused: pd.DataFrame | None = None
) -> ValidationResult:
    """A table of proposals (a CSV upload or JSON records), history columns dropped."""
    named = in_catalogue_names(raw, cat)
    history = [c for c in cat.history_columns if c in named.frame.columns]
    frame = named.frame.drop(columns=history)
    return validate_table(replace(named, frame=frame), False, cat, refused)


def validate_records(records: list[Any], cat: Catalogue) -> ValidationResult:
    """JSON proposals (a request body) -> the same result as their CSV would give; proposal k
    (from 1) is row k. Fields that are not the catalogue's are reported per proposal.
    Clean proposals are typed directly (`fast_records`); any doubt runs the full validation."""
    fast = fast_records(records, cat)
    if fast is not None:
        return fast
    return validate_records_fully(records, cat)


def validate_records_fully(records: list[Any], cat: Catalogue) -> ValidationResult:
    """`validate_records` through the object frame and the table's whole validation: the
    reference the fast path is held to, and the path that reports every problem."""
    known = fields_by_name(cat, labelled=True)
    allowed = {*known, *cat.ignore}
    extra: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    hints = HINTED  # "did you mean" lookups: bounded work, however many fields are sent
    for k, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            extra.append(_problem(k, None, "", "an object of fields", rec))
            rows.append({})
            continue
        rid = rec.get(cat.id_column)
        for key in rec:
            if key not in allowed:
                hints -= 1
                near = difflib.get_close_matches(str(key), list(known), n=1) if hints >= 0 else []
                hint = f" (did you mean {near[0]}?)" if near else ""
                extra.append(
                    _problem(k, rid, _safe(str(key)), f"a field of the catalogue{hint}", None)
                )
        rows.append({key: v for key, v in rec.items() if key in allowed})
    columns = [f.name for f in cat.assessment_fields()]
    present = {key for r in rows for key in r}
    columns += [c for c in (*cat.history_columns, *cat.ignore) if c in present]
    # a missing field and null are one thing (unknown); NaN sent as a number is not
    frame = pd.DataFrame([[r.get(c) for c in columns] for r in rows], columns=columns, dtype=object)
    fields = {f.name: f for f in cat.assessment_fields()}
    refused = pd.DataFrame(
        {c: [_wrong_kind(v, fields[c], cat) for v in frame[c]] for c in fields},
        index=frame.index,
    )
    shown = frame.copy()
    for c in refused.columns[refused.any()]:  # a refused value shown as JSON writes it (NaN)
        shown.loc[refused[c], c] = frame.loc[refused[c], c].map(_json_text)
    result = validate_proposals(RawTable(shown, Path("request"), first_row=1), cat, refused)
    if not extra:
        return result
    not_objects = {p["row"] for p in extra if p["column"] == ""}
    kept = result.problems[~result.problems["row"].isin(not_objects)]
    problems = pd.concat([kept, pd.DataFrame(extra, columns=PROBLEM_COLUMNS)], ignore_index=True)
    problems = problems.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
    return replace(result, problems=problems)


def _problem(row: int, rid: Any, column: str, rule: str, value: Any) -> dict[str, Any]:
    shown = "" if value is None else _json_text(value)
    rid = "" if rid is None else _safe(rid) if isinstance(rid, str) else _json_text(rid)
    return {"row": row, "initiative_id": rid, "column": column, "rule": rule, "value": shown}


def _safe(text: str) -> str:
    """Text that UTF-8 can hold (JSON may carry a lone surrogate, which no column can)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(text)[1:-1]
    return text


def _json_text(value: Any) -> str:
    """As JSON writes it (true, NaN), text as is, unless it reads as a number ("3")."""
    if isinstance(value, str) and pd.isna(pd.to_numeric(value, errors="coerce")):
        return _safe(value[:200])
    try:
        return json.dumps(value)[:200]
    except (TypeError, ValueError):
        return str(value)[:200]


def _wrong_kind(value: Any, f: Field, cat: Catalogue) -> bool:
    """A JSON value of a kind the field cannot hold (before any parsing)."""
    if value is None:
        return False
    if isinstance(value, dict | list):
        return True
    if isinstance(value, bool):
        return f.type != "boolean"
    if isinstance(value, float) and not math.isfinite(value):
        return True
    if isinstance(value, str):
        if _safe(value) != value:
            return True  # a lone surrogate: not text
        labels = set(spellings(f))
        if value in cat.unknown or value.strip().casefold() in labels:
            return False
        return f.type in (*NUMERIC, "boolean")
    return f.type not in NUMERIC  # a number where text, a date or true/false belongs
