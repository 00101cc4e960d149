"""JSON proposals that are clean, typed straight from the Python values: the same frame the full
validation (`records.validate_records`) builds, without its object frame and Pandera pass, which
cost tens of milliseconds for a single proposal.

It accepts only what it is sure of: each value of a kind the field takes, in range, in the
catalogue's categories, a label or an unknown token spelt as the slow path reads it. At the first
doubt it answers None and the caller runs the full validation, so every problem is reported
there, as before; nothing is refused here."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue, Field, category_spellings, fold, spellings
from scalepredict.data.schema import DTYPES, fields_by_name
from scalepredict.data.tables import RawTable
from scalepredict.data.validation import PROBLEM_COLUMNS, ValidationResult

# A whole number beyond this is refused by the slow path (not exact as a float): leave it there.
EXACT = 2**53
# The whitespace pandas' Arrow strings and Python's `str.strip` surely agree on; text with
# other characters at its ends (\x1c, a no-break space) is left to the slow path.
_SPACE = " \t\n\r\x0b\x0c"
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")
# Well inside the nanosecond range pandas holds (1677-09-21 .. 2262-04-11).
_EARLIEST, _LATEST = datetime(1678, 1, 1), datetime(2262, 1, 1)


class _Defer(Exception):
    """A value the fast path is not sure of: the full validation decides."""


Column = Callable[[list[Any]], Any]  # a field's values -> its typed array (or _Defer)


@dataclass(frozen=True)
class _Plan:
    """What one catalogue needs, derived once: field order, accepted keys, a parser per field."""

    columns: tuple[str, ...]
    allowed: frozenset[str]
    parsers: tuple[Column, ...]
    unique: tuple[bool, ...]


_PLANS: dict[str, _Plan | None] = {}


def fast_records(records: Any, cat: Catalogue) -> ValidationResult | None:
    """The result of validating clean JSON proposals, or None to run the full validation."""
    plan = _plan(cat)
    if plan is None or type(records) is not list or not records:
        return None
    allowed = plan.allowed
    for rec in records:
        if type(rec) is not dict or not allowed.issuperset(rec):
            return None  # not an object, or a field that is not the catalogue's: reported there
    typed: dict[str, Any] = {}
    raw = np.empty((len(records), len(plan.columns)), dtype=object)  # the cells as sent
    try:
        for j, (name, parse, unique) in enumerate(
            zip(plan.columns, plan.parsers, plan.unique, strict=True)
        ):
            values = [rec.get(name) for rec in records]
            if cat.filled_in(name):  # proposal k is row k, as on the full path
                values = [k if v is None else v for k, v in enumerate(values, start=1)]
            column = parse(values)
            if unique and _duplicated(column):
                return None
            typed[name] = column
            raw[:, j] = values
    except _Defer:
        return None
    cells = pd.DataFrame(raw, columns=list(plan.columns), dtype=object)
    return ValidationResult(
        raw=RawTable(cells, Path("request"), first_row=1),
        frame=pd.DataFrame(typed),
        problems=pd.DataFrame(columns=PROBLEM_COLUMNS),
        labelled=False,
        not_rated=np.zeros(len(records), dtype=bool),
    )


def _plan(cat: Catalogue) -> _Plan | None:
    """The catalogue's plan, or None when its shape is one the fast path does not mirror."""
    key = cat.fingerprint
    if cat.source and key in _PLANS:
        return _PLANS[key]
    plan = _build(cat)
    if cat.source:  # a catalogue built in code has no source to key on: planned each time
        _PLANS[key] = plan
    return plan


def _build(cat: Catalogue) -> _Plan | None:
    fields = cat.assessment_fields()
    names = [f.name for f in fields]
    allowed = frozenset({*fields_by_name(cat, labelled=True), *cat.ignore})
    unknown = frozenset(u for u in cat.unknown if isinstance(u, str))
    if (
        len(set(names)) != len(names)
        or set(cat.ignore) & set(names)  # the slow path would drop the field's column
        or set(cat.renames) & allowed  # a field's column named as another field: renamed there
        or len(unknown) != len(cat.unknown)
    ):
        return None
    parsers = []
    for f in fields:
        texts = list(spellings(f))
        if f.labels and (f.type != "score" or any(_numeric(t) or not t.isascii() for t in texts)):
            return None  # a label a number also reads as ("3", "1e2"), or not ASCII: slow path
        try:
            parsers.append(_parser(f, unknown, cat.text_max))
        except ValueError:  # a bound that is no number: the full validation says what it says
            return None
    return _Plan(tuple(names), allowed, tuple(parsers), tuple(f.unique for f in fields))


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parser(f: Field, unknown: frozenset[str], text_max: int) -> Column:
    kind = f.type
    if kind in ("string", "category"):
        return lambda values: _texts(values, f, unknown, text_max)
    if kind == "date":
        return lambda values: _dates(values, f, unknown)
    if kind == "boolean":
        return lambda values: _booleans(values, f, unknown)
    lo, hi = _bounds(f)
    if kind == "number":
        return lambda values: _numbers(values, f, unknown, lo, hi)
    by_text = spellings(f)
    return lambda values: _wholes(values, f, unknown, lo, hi, by_text)


def _strip(text: str) -> str:
    """`str.strip` where it is sure to be what pandas' `.str.strip()` does."""
    stripped = text.strip()
    if stripped != text and text.strip(_SPACE) != stripped:
        raise _Defer
    if not stripped.isascii() and any(
        not c.isascii() and not c.isalnum() for c in (stripped[:1], stripped[-1:])
    ):
        raise _Defer  # a non-ASCII end may be space to one of them (Unicode versions differ)
    return stripped


def _missing(value: Any, f: Field, unknown: frozenset[str]) -> bool:
    """None or an unknown token (a string spelt exactly as the catalogue's): no answer."""
    if value is None or (type(value) is str and value in unknown):
        if not f.nullable:
            raise _Defer  # required (empty)
        return True
    return False


def _bounds(f: Field) -> tuple[float, float]:
    lo = -math.inf if f.min is None else float(f.min)
    hi = math.inf if f.max is None else float(f.max)
    return lo, hi


def _wholes(
    values: list[Any],
    f: Field,
    unknown: frozenset[str],
    lo: float,
    hi: float,
    by_text: dict[str, int],
) -> pd.api.extensions.ExtensionArray:
    """Scores and counts: whole numbers (3 or 3.0), a level's label, nothing else."""
    out = np.zeros(len(values), dtype=np.int64)
    mask = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        t = type(v)
        if t is int:
            level = v
        elif t is float and v.is_integer():
            level = int(v)
        elif t is str and by_text:  # a label wins over an unknown token spelt the same ("None")
            if not v.isascii():  # casefolds that pandas and Python may not share
                raise _Defer
            found = by_text.get(_strip(v).casefold())
            if found is None:
                mask[i] = _missing(v, f, unknown) or _defer()
                continue
            level = found
        else:
            mask[i] = _missing(v, f, unknown) or _defer()
            continue
        if not (lo <= level <= hi and -EXACT <= level <= EXACT):
            raise _Defer
        out[i] = level
    return pd.arrays.IntegerArray(out, mask)


def _numbers(
    values: list[Any], f: Field, unknown: frozenset[str], lo: float, hi: float
) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if _missing(v, f, unknown):
            continue
        t = type(v)
        exact = (t is float and math.isfinite(v)) or (t is int and -EXACT <= v <= EXACT)
        if not (exact and lo <= v <= hi):
            raise _Defer
        out[i] = v
    return out


def _booleans(
    values: list[Any], f: Field, unknown: frozenset[str]
) -> pd.api.extensions.ExtensionArray:
    out = np.zeros(len(values), dtype=np.int64)
    mask = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if type(v) is bool:
            out[i] = int(v)
        else:
            mask[i] = _missing(v, f, unknown) or _defer()
    return pd.arrays.IntegerArray(out, mask)


def _texts(
    values: list[Any], f: Field, unknown: frozenset[str], text_max: int
) -> pd.api.extensions.ExtensionArray:
    closed = f.type == "category" and bool(f.categories)
    exact, folded = frozenset(f.categories), category_spellings(f)
    out: list[str | None] = []
    for v in values:
        if _missing(v, f, unknown):
            out.append(None)
            continue
        if type(v) is not str:
            raise _Defer
        if not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: not text
                raise _Defer from None
        if "\x00" in v:  # refused by the full validation
            raise _Defer
        text = _strip(v)
        if closed and text not in exact:  # "ida" reads as "IDA", as the full validation does
            text = folded.get(fold(text), "")
        if not text or len(text) > text_max:
            raise _Defer
        out.append(text)
    return pd.array(out, dtype=DTYPES[f.type])


def _dates(values: list[Any], f: Field, unknown: frozenset[str]) -> np.ndarray:
    """A calendar date (maybe with a time) as ISO 8601 writes it, within pandas' range."""
    out: list[datetime | None] = []
    for v in values:
        if _missing(v, f, unknown):
            out.append(None)
            continue
        if type(v) is not str or not v.isascii():
            raise _Defer
        m = _DATE.fullmatch(_strip(v))
        if m is None:
            raise _Defer
        try:
            y, mo, d, h, mi, sec = (int(p) for p in m.groups(default="0"))
            when = datetime(y, mo, d, h, mi, sec)
        except ValueError:  # 2026-02-30, 25:00
            raise _Defer from None
        if not _EARLIEST <= when <= _LATEST:
            raise _Defer
        out.append(when)
    dates = np.array(out, dtype="datetime64[us]").astype(DTYPES["date"])
    known = dates[~np.isnat(dates)]
    if (f.min is not None and (known < pd.Timestamp(f.min).to_datetime64()).any()) or (
        f.max is not None and (known > pd.Timestamp(f.max).to_datetime64()).any()
    ):
        raise _Defer
    return dates


def _defer() -> Any:
    raise _Defer


def _duplicated(column: Any) -> bool:
    """Any value twice, absent ones included (the slow path's rule decides those)."""
    return bool(pd.Series(column).duplicated().any()) if len(column) > 1 else False
