"""Proposals into the typed frame, from a JSON body or a CSV upload, through the one validation
both share (`scalepredict.data.records`); problems reported alike on both paths: where (the JSON
path or the file row), the proposal's number from 1, its id, the field, the rule, the value."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from scalepredict.api.errors import InvalidProposals, TooManyProposals, echo
from scalepredict.catalogue import Catalogue
from scalepredict.data.records import validate_proposals, validate_records
from scalepredict.data.schema import fields_by_name
from scalepredict.data.tables import DataFileError, read_csv_bytes
from scalepredict.data.validation import ValidationResult

SHOWN = 200  # problems listed in one answer (the count is in the message)


def from_records(
    records: list[Any], cat: Catalogue, where: str = "proposals", limit: int = 20
) -> pd.DataFrame:
    """JSON proposals -> typed frame; `where` is the body's field (`proposals`, or `proposal`
    for a single one). A proposal with more than `limit` fields that are not the catalogue's
    is refused before any is read (each such field costs a "did you mean" lookup)."""
    _refuse_unknown(records, cat, where, limit)
    result = validate_records(records, cat)
    if not result.valid:
        # problems name the file's columns; a JSON body has the catalogue's field names
        named = result.problems.assign(column=result.problems["column"].replace(cat.renames))

        def path(p: Any) -> str:
            at = f"{where}.{int(p.row) - 1}" if where == "proposals" else where
            return f"{at}.{p.column}" if p.column else at

        _refuse(replace(result, problems=named), f"the {where}", path)
    return result.frame


def _refuse_unknown(records: list[Any], cat: Catalogue, where: str, limit: int) -> None:
    allowed = {*fields_by_name(cat, labelled=True), *cat.ignore}
    problems = []
    for k, rec in enumerate(records):
        if not isinstance(rec, dict) or len(rec) <= limit:
            continue  # fewer fields than the limit cannot hold more unknown ones
        n = sum(1 for key in rec if key not in allowed)
        if n > limit:
            rid = rec.get(cat.id_column)
            problems.append(
                {
                    "path": f"{where}.{k}" if where == "proposals" else where,
                    "proposal": k + 1,
                    "initiative_id": echo(rid) if isinstance(rid, str | int) else None,
                    "column": None,
                    "rule": f"at most {limit} fields that are not the catalogue's ({n} sent)",
                    "value": None,
                }
            )
    if problems:
        n = len(problems)
        raise InvalidProposals(
            f"{n} problem(s) in the {where}; nothing was scored", problems[:SHOWN]
        )


def from_csv(
    body: bytes, filename: str, cat: Catalogue, limit: int, max_columns: int
) -> ValidationResult:
    """A CSV upload: counted, then checked whole (columns, every cell); rows are proposals."""
    try:
        raw = read_csv_bytes(body, max_columns, filename)
        TooManyProposals.check(len(raw.frame), limit, " rows")
        result = validate_proposals(raw, cat)
    except DataFileError as e:
        raise InvalidProposals(str(e), []) from e
    if not result.valid:
        _refuse(result, "the CSV", lambda p: f"row {p.row}.{p.column}", csv=True)
    return result


def _refuse(result: ValidationResult, what: str, path: Any, csv: bool = False) -> None:
    first = result.raw.first_row
    problems = []
    for p in result.problems.head(SHOWN).itertuples():
        known = pd.notna(p.row)
        entry = {
            "path": path(p) if known else str(p.column),
            "proposal": int(p.row) - first + 1 if known else None,
            "initiative_id": echo(p.initiative_id) if p.initiative_id != "" else None,
            "column": p.column or None,
            "rule": p.rule if p.rule.startswith("required") else f"must be {p.rule}",
            "value": echo(p.value),
        }
        if csv:
            entry["row"] = int(p.row) if known else None
        problems.append(entry)
    n = len(result.problems)
    raise InvalidProposals(f"{n} problem(s) in {what}; nothing was scored", problems)
