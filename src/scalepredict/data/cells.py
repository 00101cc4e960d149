"""Cells as the catalogue reads them: each column parsed into its type (level labels, categories
and booleans matched without regard to case or spaces at the ends), the outcome through its
mapping, and the file's columns checked against the catalogue's (a near miss named)."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue, Field, category_spellings, fold, spellings
from scalepredict.data.schema import DTYPES, fields_by_name
from scalepredict.data.tables import DataFileError

ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"  # a date, maybe a time
HINTS = 10  # columns named in a message (and "did you mean" lookups): bounded work and text
_TRUE, _FALSE = {"true", "yes", "y", "t", "1", "1.0"}, {"false", "no", "n", "f", "0", "0.0"}


def parse_cells(raw: pd.Series, f: Field) -> tuple[pd.Series, pd.Series]:
    """Return the typed column and a mask of cells that held a value of the wrong type."""
    present = raw.notna()
    if f.labels and f.type == "score":  # a level's label ("Satisfactory") reads as its level
        by_text = {t: str(k) for t, k in spellings(f).items()}
        raw = raw.map(lambda v: by_text.get(fold(str(v)), v), na_action="ignore")
    if f.type == "boolean":
        text = raw.astype("str").str.strip().str.casefold()
        typed = pd.Series(pd.NA, index=raw.index, dtype="Int64")
        typed[text.isin(_TRUE) & present] = 1
        typed[text.isin(_FALSE) & present] = 0
        return typed, present & typed.isna()
    if f.type in ("string", "category"):
        typed = raw.astype("str").str.strip().where(present)
        if f.categories:  # "ida " reads as "IDA", as labels do; an exact spelling wins
            exact, folded = set(f.categories), category_spellings(f)
            typed = typed.map(
                lambda v: v if v in exact else folded.get(fold(v), v), na_action="ignore"
            )
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


def type_rule(f: Field) -> str:
    if f.type == "score" and f.labels:
        every = [*f.labels.values(), *(t for ts in f.other_labels.values() for t in ts)]
        words = ", ".join(f'"{t}"' for t in every)
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
        # a header that differs from an absent column only in spaces or case ("Outcome "):
        # named, not guessed, so a file is read by the catalogue's columns or not at all
        every = fields_by_name(cat, labelled=True)  # the outcome too: its absence makes proposals
        absent = {fold(shown.get(n, n)): shown.get(n, n) for n in every if n not in present}
        hints = []
        for c in unknown[:HINTS]:
            if fold(c) in absent:
                hints.append(
                    f"column {c!r} in the file: did you mean {absent[fold(c)]!r}? (they differ "
                    "only in spaces or case: write the file's spelling as the field's column)"
                )
                continue
            near = difflib.get_close_matches(c, known, n=1)
            hints.append(f"{c} (did you mean {near[0]}?)" if near else c)
        more = f" and {len(unknown) - HINTS} more" if len(unknown) > HINTS else ""
        parts.append(f"unknown column(s): {', '.join(hints)}{more}")
    if dupes:
        parts.append(f"duplicate column(s): {', '.join(dupes)}")
    if parts:
        raise DataFileError("; ".join(parts))


def outcome_cells(raw: pd.Series, cat: Catalogue) -> tuple[pd.Series, pd.Series, pd.Series, str]:
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
