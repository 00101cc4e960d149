"""Validation at the edge: parse each column into its catalogue type, check the Pandera schema
with every failure collected (lazy), and report each problem as a person finds it: file row,
initiative_id, column, rule, offending value."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from scalepredict.catalogue import Field, load_catalogue
from scalepredict.data.schema import DTYPES, assessment_schema, fields_by_name, labelled_schema
from scalepredict.data.tables import DataFileError, RawTable, read_table

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

    @property
    def valid(self) -> bool:
        return self.problems.empty

    @property
    def bad_mask(self) -> np.ndarray:
        bad_rows = set(self.problems["row"].dropna().astype(int))
        rows = np.arange(len(self.frame)) + self.raw.first_row
        return np.isin(rows, list(bad_rows))

    def good(self) -> pd.DataFrame:
        """Typed rows without any problem, ready for features."""
        return self.frame.loc[~self.bad_mask].reset_index(drop=True)


def _parse_one(raw: pd.Series, f: Field) -> tuple[pd.Series, pd.Series]:
    """Return the typed column and a mask of cells that held a value of the wrong type."""
    present = raw.notna()
    if f.type in ("string", "category"):
        typed = raw.astype("str").str.strip().where(present)
        return typed.astype(DTYPES[f.type]), pd.Series(False, index=raw.index)
    if f.type == "date":
        typed = pd.to_datetime(raw, errors="coerce", format="ISO8601")
        if typed.dt.tz is not None:
            typed = typed.dt.tz_localize(None)
        # dates pandas cannot hold in nanoseconds (year 214) are not plausible dates either
        typed = typed.where((typed >= pd.Timestamp.min) & (typed <= pd.Timestamp.max))
        return typed.astype(DTYPES["date"]), present & typed.isna()
    numeric = pd.to_numeric(raw, errors="coerce")
    wrong = present & numeric.isna()
    if DTYPES[f.type] == "Int64":
        # not whole, or too large for an exact integer (1e20): not a valid count or score
        fractional = numeric.notna() & ((numeric % 1 != 0) | (numeric.abs() > 2**53))
        wrong |= fractional
        numeric = numeric.where(~fractional).astype("Int64")
    return numeric.astype(DTYPES[f.type]), wrong


def _type_rule(f: Field) -> str:
    return {
        "date": "a date (YYYY-MM-DD)",
        "integer": "a whole number",
        "score": f"a whole score {f.min}..{f.max} (or empty)",
        "number": "a number",
    }.get(f.type, "text")


def check_columns(columns: Iterable[str], labelled: bool) -> None:
    """Missing required or unknown columns make the whole file unusable: say so in one line."""
    fields = fields_by_name(labelled)
    cat = load_catalogue()
    columns = list(columns)
    required = [n for n in fields if n != cat.truth.name]
    missing = [n for n in required if n not in columns]
    unknown = [c for c in columns if c not in fields]
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    parts = []
    if missing:
        parts.append(f"missing required column(s): {', '.join(missing)}")
    if unknown:
        hints = []
        for c in unknown:
            near = difflib.get_close_matches(c, list(fields), n=1)
            hints.append(f"{c} (did you mean {near[0]}?)" if near else c)
        parts.append(f"unknown column(s): {', '.join(hints)}")
    if dupes:
        parts.append(f"duplicate column(s): {', '.join(dupes)}")
    if parts:
        raise DataFileError("; ".join(parts))


def validate_table(raw: RawTable, labelled: bool | None = None) -> ValidationResult:
    """Validate a raw table. `labelled=None` decides from the presence of the outcome column."""
    cat = load_catalogue()
    if labelled is None:
        labelled = cat.outcome.name in raw.frame.columns
    check_columns(raw.frame.columns, labelled)
    fields = fields_by_name(labelled)
    typed: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    ids = raw.frame.get(cat.id_column)
    for name in raw.frame.columns:
        f = fields[name]
        col, wrong = _parse_one(raw.frame[name], f)
        typed[name] = col
        if wrong.any():
            problems.append(
                pd.DataFrame(
                    {
                        "index": raw.frame.index[wrong],
                        "column": name,
                        "rule": _type_rule(f),
                        "value": raw.frame.loc[wrong, name].astype(str),
                    }
                )
            )
    frame = pd.DataFrame(typed)[list(raw.frame.columns)]
    schema = labelled_schema() if labelled else assessment_schema()
    try:
        schema.validate(frame, lazy=True)
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
    return ValidationResult(raw, frame, _problem_table(problems, raw, ids), labelled)


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _problem_table(parts: list[pd.DataFrame], raw: RawTable, ids: pd.Series | None) -> pd.DataFrame:
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
    return p.sort_values(["row", "column"], kind="stable")[PROBLEM_COLUMNS].reset_index(drop=True)


def validate_file(path: str | Path, labelled: bool | None = None) -> ValidationResult:
    return validate_table(read_table(path), labelled)


def summarize(frame: pd.DataFrame) -> dict[str, object]:
    """One-screen facts about a valid frame: rows, stages, unknown-answer rates, base rates."""
    cat = load_catalogue()
    factors = cat.factor_names
    stage_counts = frame["stage"].value_counts().reindex(list(cat.stages), fill_value=0)
    missing = frame[factors].isna().mean().sort_values(ascending=False)
    summary: dict[str, object] = {
        "rows": len(frame),
        "cities": int(frame["city"].nunique()),
        "per_stage": {k: int(v) for k, v in stage_counts.items()},
        "missing_answer_rate": round(float(frame[factors].isna().to_numpy().mean()), 4),
        "missing_by_factor": {k: round(float(v), 4) for k, v in missing.items()},
    }
    if cat.outcome.name in frame:
        rates = frame.groupby("stage", observed=True)[cat.outcome.name].mean()
        summary["scaled_up_rate_by_stage"] = {
            s: round(float(rates[s]), 4) for s in cat.stages if s in rates
        }
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


def parse_assessments(df: pd.DataFrame, source: str = "<input>") -> pd.DataFrame:
    """Validate an in-memory frame (strings or typed; rows count from 1) and return it typed."""
    raw = RawTable(df.reset_index(drop=True), Path(source), first_row=1)
    result = validate_table(raw)
    if not result.valid:
        raise InvalidAssessmentError(result.problems)
    return result.frame


def typed_records(records: list[dict]) -> pd.DataFrame:
    """Records already checked at their edge (the API's pydantic models, generated from the
    same catalogue) -> the typed frame, without running the schema a second time."""
    fields = fields_by_name(labelled=False)
    raw = pd.DataFrame.from_records(records)
    columns = {name: _parse_one(raw[name], fields[name])[0] for name in raw.columns}
    return pd.DataFrame(columns, index=raw.index)
