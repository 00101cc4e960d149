"""Validation at the edge: parse each column into its catalogue type, check the Pandera schema
with every failure collected (lazy), and report each problem as a person finds it: file row,
initiative_id, column, rule, offending value."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from scalepredict.catalogue import Catalogue, Field, load_catalogue
from scalepredict.data.schema import DTYPES, fields_by_name, schema_for
from scalepredict.data.tables import DataFileError, RawTable, read_table

PROBLEM_COLUMNS = ["row", "initiative_id", "column", "rule", "value"]
ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"  # a date, maybe a time
HINTS = 10  # columns named in a message (and "did you mean" lookups): bounded work and text
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


_TRUE, _FALSE = {"true", "yes", "y", "t", "1", "1.0"}, {"false", "no", "n", "f", "0", "0.0"}


def _parse_one(raw: pd.Series, f: Field) -> tuple[pd.Series, pd.Series]:
    """Return the typed column and a mask of cells that held a value of the wrong type."""
    present = raw.notna()
    if f.labels and f.type == "score":  # a level's label ("Satisfactory") reads as its level
        by_text = {t.strip().casefold(): str(k) for k, t in f.labels.items()}
        raw = raw.map(lambda v: by_text.get(str(v).strip().casefold(), v), na_action="ignore")
    if f.type == "boolean":
        text = raw.astype("str").str.strip().str.casefold()
        typed = pd.Series(pd.NA, index=raw.index, dtype="Int64")
        typed[text.isin(_TRUE) & present] = 1
        typed[text.isin(_FALSE) & present] = 0
        return typed, present & typed.isna()
    if f.type in ("string", "category"):
        typed = raw.astype("str").str.strip().where(present)
        return typed.astype(DTYPES[f.type]), pd.Series(False, index=raw.index)
    if f.type == "date":
        # a calendar date as written in ISO 8601, nothing pandas would also guess ("now", "2026")
        text = raw.astype("str").str.strip()
        typed = pd.to_datetime(
            text.where(text.str.fullmatch(ISO_DATE)), errors="coerce", format="ISO8601"
        )
        if typed.dt.tz is not None:
            typed = typed.dt.tz_localize(None)
        # dates pandas cannot hold in nanoseconds (year 214) are not plausible dates either
        typed = typed.where((typed >= pd.Timestamp.min) & (typed <= pd.Timestamp.max))
        return typed.astype(DTYPES["date"]), present & typed.isna()
    numeric = pd.to_numeric(raw, errors="coerce")
    numeric = numeric.where(np.isfinite(numeric.astype(float)))  # "inf" is no count or amount
    wrong = present & numeric.isna()
    if DTYPES[f.type] == "Int64":
        # not whole, or too large for an exact integer (1e20): not a valid count or score
        fractional = numeric.notna() & ((numeric % 1 != 0) | (numeric.abs() > 2**53))
        wrong |= fractional
        numeric = numeric.where(~fractional).astype("Int64")
    return numeric.astype(DTYPES[f.type]), wrong


def _type_rule(f: Field) -> str:
    if f.type == "score" and f.labels:
        words = ", ".join(f'"{t}"' for t in f.labels.values())
        return f"a whole score {f.min}..{f.max}, one of {words} (or empty)"
    return {
        "date": "a date (YYYY-MM-DD)",
        "integer": "a whole number",
        "score": f"a whole score {f.min}..{f.max} (or empty)",
        "number": "a number",
        "boolean": "true or false",
    }.get(f.type, "text")


def check_columns(columns: Iterable[str], labelled: bool, cat: Catalogue) -> None:
    """Missing required or unknown columns make the whole file unusable: say so in one line
    (in the file's own column names)."""
    fields = fields_by_name(cat, labelled)
    shown = {name: col for col, name in cat.renames.items()}
    columns = list(columns)
    present = set(columns)
    truth = cat.truth.name if cat.truth else None
    required = [n for n in fields if n != truth]
    missing = [n for n in required if n not in present]
    unknown = [c for c in columns if c not in fields]
    dupes = sorted(c for c, n in Counter(columns).items() if n > 1)[:HINTS]
    parts = []
    if missing:
        parts.append(f"missing required column(s): {', '.join(shown.get(n, n) for n in missing)}")
    if unknown:
        known = [shown.get(n, n) for n in fields]
        hints = []
        for c in unknown[:HINTS]:
            near = difflib.get_close_matches(c, known, n=1)
            hints.append(f"{c} (did you mean {near[0]}?)" if near else c)
        more = f" and {len(unknown) - HINTS} more" if len(unknown) > HINTS else ""
        parts.append(f"unknown column(s): {', '.join(hints)}{more}")
    if dupes:
        parts.append(f"duplicate column(s): {', '.join(dupes)}")
    if parts:
        raise DataFileError("; ".join(parts))


def _outcome(raw: pd.Series, cat: Catalogue) -> tuple[pd.Series, pd.Series, pd.Series, str]:
    """The outcome as 1 / 0 through the catalogue's mapping: (typed, wrong, not rated, rule)."""
    m = cat.outcome_map
    unknown = raw.isna() | raw.astype("str").isin(cat.unknown)
    found = [None if skip else m.code(v) for v, skip in zip(raw, unknown, strict=True)]
    mapped = pd.Series([c is not None for c in found], index=raw.index)
    codes = pd.Series([np.nan if c is None else c for c in found], index=raw.index, dtype=float)
    numeric = pd.to_numeric(raw, errors="coerce")
    not_rated = mapped & codes.isna()
    if m.not_rated:  # an unknown token in the outcome column means "not rated"
        not_rated |= unknown
    unmapped = ~unknown & ~mapped
    # a number the mapping does not know is left to the schema's range rule (2 -> "<= 1")
    wrong = unmapped & numeric.isna()
    typed = codes.where(~unmapped, numeric).where(~not_rated)
    typed = typed.astype("Float64").round().astype("Int64")
    options = [f"{v} (success)" for v in m.success] + [f"{v} (failure)" for v in m.failure]
    options += [f"{v} (not rated)" for v in m.not_rated]
    return typed, wrong, not_rated, "one of: " + ", ".join(options)


def in_catalogue_names(raw: RawTable, cat: Catalogue) -> RawTable:
    """The file's columns under the catalogue's field names; the columns it ignores dropped."""
    frame = raw.frame.drop(columns=[c for c in cat.ignore if c in raw.frame.columns])
    return replace(raw, frame=frame.rename(columns=cat.renames))


def validate_table(
    raw: RawTable,
    labelled: bool | None = None,
    cat: Catalogue | None = None,
    refused: pd.DataFrame | None = None,
) -> ValidationResult:
    """Validate a raw table against `cat` (default: the configured catalogue). `labelled=None`
    decides from the presence of the outcome column. `refused` marks cells already known to be
    of the wrong type (JSON's `true` for a score): reported under the field's type rule."""
    cat = cat or load_catalogue()
    given, raw = raw, in_catalogue_names(raw, cat)
    if labelled is None:
        labelled = cat.outcome.name in raw.frame.columns
    check_columns(raw.frame.columns, labelled, cat)
    fields = fields_by_name(cat, labelled)
    typed: dict[str, pd.Series] = {}
    problems: list[pd.DataFrame] = []
    ids = raw.frame.get(cat.id_column)
    not_rated = pd.Series(False, index=raw.frame.index)
    for name in raw.frame.columns:
        f = fields[name]
        if name == cat.outcome.name:
            col, wrong, not_rated, rule = _outcome(raw.frame[name], cat)
            empty = raw.frame[name].isna() & ~not_rated
            if empty.any():
                problems.append(_problems(raw, empty, name, "required (empty)"))
        else:
            cells = raw.frame[name]
            unknown = cells.astype("object").isin(cat.unknown)
            if f.labels:  # a level's own label ("None") is an answer, not an unknown token
                texts = {t.strip().casefold() for t in f.labels.values()}
                unknown &= ~cells.astype("str").str.strip().str.casefold().isin(texts)
            bad = refused[name] if refused is not None and name in refused else unknown & False
            cells = cells.mask(unknown | bad)
            col, wrong = _parse_one(cells, f)
            wrong = wrong | bad
            rule = _type_rule(f)
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
    table = _problem_table(problems, raw, ids, {n: c for c, n in cat.renames.items()})
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
    path: str | Path, labelled: bool | None = None, cat: Catalogue | None = None
) -> ValidationResult:
    return validate_table(read_table(path), labelled, cat)


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
    columns = {name: _parse_one(raw[name], fields[name])[0] for name in raw.columns}
    return pd.DataFrame(columns, index=raw.index)
