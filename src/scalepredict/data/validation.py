"""Validation at the edge: parse each column into its catalogue type, check the Pandera schema
with every failure collected (lazy), and report each problem as a person finds it: file row,
initiative_id, column, rule, offending value."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from scalepredict.catalogue import Catalogue, builtin_catalogue, spellings
from scalepredict.data.cells import check_columns, outcome_cells, parse_cells, type_rule
from scalepredict.data.identifiers import duplicated_key, key_text, with_file_rows
from scalepredict.data.schema import fields_by_name, schema_for
from scalepredict.data.tables import FileLimits, RawTable, read_table

PROBLEM_COLUMNS = ["row", "initiative_id", "column", "rule", "value"]
_PANDERA_RULES = {
    "not_nullable": "required (empty)",
    "field_uniqueness": "unique (duplicate value)",
}


@dataclass(frozen=True)
class ValidationResult:
    raw: RawTable
    frame: pd.DataFrame  # typed, every row (cells that failed to parse are <NA>)
    problems: pd.DataFrame  # PROBLEM_COLUMNS, sorted by row
    labelled: bool
    not_rated: np.ndarray  # rows whose outcome the catalogue calls "not rated" (left out)

    @property
    def valid(self) -> bool:
        return self.problems.empty

    @property
    def bad_mask(self) -> np.ndarray:
        bad_rows = set(self.problems["row"].dropna().astype(int))
        rows = np.arange(len(self.frame)) + self.raw.first_row
        return np.isin(rows, list(bad_rows))

    def good(self) -> pd.DataFrame:
        """Typed rows without any problem (and, for history, with a rated outcome)."""
        return self.frame.loc[~self.bad_mask & ~self.not_rated].reset_index(drop=True)


def in_catalogue_names(raw: RawTable, cat: Catalogue) -> RawTable:
    """The file's columns under the catalogue's field names, the columns it ignores dropped and
    a file-row identifier filled in."""
    frame = raw.frame.drop(columns=[c for c in cat.ignore if c in raw.frame.columns])
    frame = with_file_rows(frame.rename(columns=cat.renames), cat, raw.first_row)
    return replace(raw, frame=frame)


def validate_table(
    raw: RawTable,
    labelled: bool | None = None,
    cat: Catalogue | None = None,
    refused: pd.DataFrame | None = None,
) -> ValidationResult:
    """Validate a raw table against `cat` (default: the built-in catalogue). `labelled=None`
    decides from the presence of the outcome column. `refused` marks cells already known to be
    of the wrong type (JSON's `true` for a score): reported under the field's type rule."""
    cat = cat or builtin_catalogue()
    given, raw = raw, in_catalogue_names(raw, cat)
    if labelled is None:
        labelled = cat.outcome.name in raw.frame.columns
    check_columns(raw.frame.columns, labelled, cat)
    fields = fields_by_name(cat, labelled)
    typed: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    ids = key_text(raw.frame, cat)
    not_rated = pd.Series(False, index=raw.frame.index)
    for name in raw.frame.columns:
        f = fields[name]
        if name == cat.outcome.name:
            col, wrong, not_rated, rule = outcome_cells(raw.frame[name], cat)
            empty = raw.frame[name].isna() & ~not_rated
            if empty.any():
                problems.append(_problems(raw, empty, name, "required (empty)"))
        else:
            cells = raw.frame[name]
            unknown = cells.astype("object").isin(cat.unknown)
            if f.labels:  # a level's own label ("None") is an answer, not an unknown token
                texts = set(spellings(f))
                unknown &= ~cells.astype("str").str.strip().str.casefold().isin(texts)
            bad = refused[name] if refused is not None and name in refused else unknown & False
            cells = cells.mask(unknown | bad)
            col, wrong = parse_cells(cells, f)
            wrong = wrong | bad
            rule = type_rule(f)
            if f.type in ("string", "category"):  # PostgreSQL text cannot hold NUL
                nul = col.notna() & col.astype("str").str.contains("\x00", regex=False)
                if nul.any():
                    problems.append(_problems(raw, nul, name, "text without NUL characters"))
        typed[name] = col
        if wrong.any():
            problems.append(_problems(raw, wrong, name, rule))
    frame = pd.DataFrame(typed)[list(raw.frame.columns)]
    try:
        schema_for(cat, labelled).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as e:
        fc = e.failure_cases
        problems.append(
            pd.DataFrame(
                {
                    "index": fc["index"],
                    "column": fc["column"],
                    "rule": fc["check"].map(lambda c: _PANDERA_RULES.get(str(c), str(c))),
                    "value": fc["failure_case"].map(_show),
                }
            )
        )
    shown = {n: c for c, n in cat.renames.items()}
    repeated = duplicated_key(frame, cat)
    if repeated.any() and ids is not None:  # a composite key's repeats, named by all its columns
        key = " + ".join(shown.get(k, k) for k in cat.key)
        problems.append(
            pd.DataFrame(
                {
                    "index": frame.index[repeated],
                    "column": key,
                    "rule": "unique (duplicate value)",
                    "value": ids[repeated].astype(str),
                }
            )
        )
    table = _problem_table(problems, raw, ids, shown)
    return ValidationResult(given, frame, table, labelled, not_rated.to_numpy(bool))


def _problems(raw: RawTable, mask: pd.Series, column: str, rule: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "index": raw.frame.index[mask],
            "column": column,
            "rule": rule,
            "value": raw.frame.loc[mask, column].astype(str),
        }
    )


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _problem_table(
    parts: list[pd.DataFrame], raw: RawTable, ids: pd.Series | None, shown: dict[str, str]
) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    p = pd.concat(parts, ignore_index=True)
    # A cell with a type error is <NA> once parsed; don't report it again as "required (empty)".
    p = p.drop_duplicates(subset=["index", "column"], keep="first")
    index = pd.to_numeric(p["index"], errors="coerce")
    p["row"] = (index + raw.first_row).astype("Int64")
    # Show the value as the user wrote it, not as parsed (-5, not -5.0).
    p["value"] = [
        _show(raw.frame.at[int(i), c]) if pd.notna(i) and c in raw.frame else v
        for i, c, v in zip(index, p["column"], p["value"], strict=True)
    ]
    p["initiative_id"] = (
        index.map(lambda i: "" if pd.isna(i) or pd.isna(ids.iloc[int(i)]) else ids.iloc[int(i)])
        if ids is not None
        else ""
    )
    p = p.sort_values(["row", "column"], kind="stable")[PROBLEM_COLUMNS].reset_index(drop=True)
    p["column"] = p["column"].map(lambda c: shown.get(c, c))  # as the file names it
    return p


def validate_file(
    path: str | Path,
    labelled: bool | None = None,
    cat: Catalogue | None = None,
    *,
    limits: FileLimits,
) -> ValidationResult:
    return validate_table(read_table(path, limits), labelled, cat)


def stage_of(frame: pd.DataFrame, cat: Catalogue) -> pd.Series:
    """Each row's stage, or the one key `all` when the catalogue has no stage field."""
    if cat.stage:
        return frame[cat.stage].astype("object")
    return pd.Series(cat.booster_keys[0], index=frame.index, dtype="object")


def groups_of(frame: pd.DataFrame, cat: Catalogue) -> pd.Series:
    """The unit the split keeps together (a city): the group field, else each row alone."""
    if cat.group:
        return frame[cat.group].astype("object")
    return pd.Series(np.arange(len(frame)), index=frame.index)


def summarize(frame: pd.DataFrame, cat: Catalogue, not_rated: int = 0) -> dict[str, object]:
    """One-screen facts about a valid frame: rows, stages, unknown-answer rates, base rates."""
    factors = cat.factor_names
    stages = stage_of(frame, cat)
    stage_counts = stages.value_counts().reindex(list(cat.booster_keys), fill_value=0)
    missing = frame[factors].isna().mean().sort_values(ascending=False)
    summary: dict[str, object] = {
        "rows": len(frame),
        "groups": int(groups_of(frame, cat).nunique()),
        "group_field": cat.group or "row",
        "per_stage": {k: int(v) for k, v in stage_counts.items()},
        "missing_answer_rate": round(float(frame[factors].isna().to_numpy().mean()), 4),
        "missing_by_factor": {k: round(float(v), 4) for k, v in missing.items()},
    }
    if cat.outcome.name in frame:
        rates = frame[cat.outcome.name].astype(float).groupby(stages).mean()
        summary[f"{cat.outcome.name}_rate_by_stage"] = {
            s: round(float(rates[s]), 4) for s in cat.booster_keys if s in rates
        }
        summary["not_rated"] = not_rated
    return summary


class InvalidAssessmentError(ValueError):
    """Rows of an in-memory frame broke the schema; `problems` has one row per problem."""

    def __init__(self, problems: pd.DataFrame, limit: int = 20) -> None:
        self.problems = problems
        lines = [
            f"row {r.row} ({r.initiative_id}) {r.column}: must be {r.rule}, got {r.value!r}"
            for r in problems.head(limit).itertuples()
        ]
        more = f"\n... and {len(problems) - limit} more" if len(problems) > limit else ""
        super().__init__(f"{len(problems)} problem(s):\n" + "\n".join(lines) + more)


def parse_assessments(df: pd.DataFrame, cat: Catalogue, source: str = "<input>") -> pd.DataFrame:
    """Validate an in-memory frame (strings or typed; rows count from 1) and return it typed."""
    raw = RawTable(df.reset_index(drop=True), Path(source), first_row=1)
    result = validate_table(raw, None, cat)
    if not result.valid:
        raise InvalidAssessmentError(result.problems)
    return result.frame


def typed_records(records: list[dict], cat: Catalogue) -> pd.DataFrame:
    """Records already checked at their edge (the API's pydantic models, generated from the
    same catalogue) -> the typed frame, without running the schema a second time."""
    fields = fields_by_name(cat, labelled=False)
    raw = pd.DataFrame.from_records(records)
    columns = {name: parse_cells(raw[name], fields[name])[0] for name in raw.columns}
    return pd.DataFrame(columns, index=raw.index)
