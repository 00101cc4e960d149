"""Clean JSON proposals take the fast path and give exactly the full validation's result (the
typed frame, dtypes included, the raw cells, no problems); anything else is left to the full
validation, so its problem reports are unchanged. For the built-in catalogue, the World Bank
IEG one (labels as words, "Not Rated") and generated ones with every field type."""

from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalepredict.catalogue import Catalogue, Field, load_catalogue, parse_catalogue, read_catalogue
from scalepredict.data.fast_records import fast_records
from scalepredict.data.records import validate_records, validate_records_fully
from scalepredict.settings import get_settings
from tests.e2e.live_server import proposals_json

ROOT = Path(__file__).resolve().parents[3]
BUILT_IN = load_catalogue(get_settings())
IEG = read_catalogue(ROOT / "examples" / "world-bank-ieg" / "catalogue.yaml", get_settings())
MISSING = object()  # the key left out of the proposal
WORDS = ["None", "Very Low", "Low", "Fair", "Medium", "Good", "High", "Very High", "Top", "Best"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(records: Any, cat: Catalogue) -> Any:
    """Where the fast path answers, its result is the full validation's; either way
    `validate_records` gives the full validation's problems. Returns the fast result."""
    fast = fast_records(records, cat)
    full = validate_records_fully(records, cat)
    final = validate_records(records, cat)
    pd.testing.assert_frame_equal(final.problems, full.problems)
    if fast is None:
        return None
    assert full.valid, full.problems.to_string()
    pd.testing.assert_frame_equal(fast.frame, full.frame)
    pd.testing.assert_frame_equal(fast.raw.frame, full.raw.frame)
    pd.testing.assert_frame_equal(fast.problems, full.problems)
    assert (fast.raw.path, fast.raw.first_row) == (full.raw.path, full.raw.first_row)
    assert fast.labelled == full.labelled
    np.testing.assert_array_equal(fast.not_rated, full.not_rated)
    return fast


# --- catalogues ----------------------------------------------------------------------------


@st.composite
def catalogues(draw: st.DrawFn) -> Catalogue:
    """A catalogue with each context type (nullable or not, renamed or not), factor scales of
    numbers, words ("None" among them) or grades, default or own unknown tokens, ignored
    columns and maybe a truth column."""
    factors = []
    for k in range(draw(st.integers(1, 4))):
        lo = draw(st.sampled_from([0, 1]))
        levels = range(lo, lo + draw(st.integers(2, 7)) + 1)
        scale: dict[str, Any] = {"min": levels[0], "max": levels[-1]}
        style = draw(st.sampled_from(["numbers", "words", "grades"]))
        if style == "words":
            scale["labels"] = dict(zip(levels, WORDS, strict=False))
        elif style == "grades":
            scale["labels"] = {v: f"Grade {chr(65 + v)} of f{k}" for v in levels}
        factor = {"name": f"f{k}", "dimension": "d", "scale": scale}
        if draw(st.booleans()):
            factor["column"] = f"Factor {k}"
        factors.append(factor)
    ident: dict[str, Any] = {"name": "key", "type": "string", "unique": True}
    if draw(st.booleans()):
        ident |= {"type": "integer", "min": 1}
    context = [ident]
    kinds = st.sampled_from(["string", "category", "open", "integer", "number", "date", "boolean"])
    for i, kind in enumerate(draw(st.lists(kinds, min_size=1, max_size=5))):
        c: dict[str, Any] = {"name": f"c{i}", "type": kind, "nullable": draw(st.booleans())}
        if kind == "category":
            c["categories"] = ["north", "south", "Far East"]
        elif kind == "open":
            c["type"] = "category"  # a category without a closed list: any text
        elif kind == "integer":
            c["min"] = draw(st.sampled_from([0, 1, -50]))
            c["max"] = draw(st.sampled_from([9, 5000]))
        elif kind == "number":
            c |= draw(st.sampled_from([{}, {"min": 0.5, "max": 1e9}, {"min": -1}]))
        elif kind == "date":
            c |= draw(st.sampled_from([{}, {"min": "2015-01-01", "max": "2024-12-31"}]))
        if draw(st.booleans()):
            c["column"] = f"Context {i}"
        context.append(c)
    raw: dict[str, Any] = {
        "name": "generated",
        "dimensions": [{"name": "d"}],
        "factors": factors,
        "context": context,
        "identifier": "key",
        "outcome": {"name": "done", "column": "Done?", "success": ["Yes"], "failure": ["No"]},
        "ignore": ["Notes", "Exported At"],
    }
    if draw(st.booleans()):
        raw["unknown"] = ["", "Not Rated", "n.a."]
    if draw(st.booleans()):
        raw["truth"] = {"name": "true_p", "type": "number"}
    return parse_catalogue(raw, "generated")


ANY_CATALOGUE = st.one_of(st.just(BUILT_IN), st.just(IEG), catalogues())


# --- clean proposals -----------------------------------------------------------------------


def _spaced(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, f" {text}", f"{text}\t", f"  {text} "])


def _numbers(f: Field) -> st.SearchStrategy[Any]:
    lo = -1e12 if f.min is None else float(f.min)
    hi = 1e12 if f.max is None else float(f.max)
    if f.type == "number":
        return st.one_of(
            st.floats(lo, hi, allow_nan=False), st.integers(math.ceil(lo), math.floor(hi))
        )
    whole = st.integers(math.ceil(lo), min(math.floor(hi), math.ceil(lo) + 10_000))
    return st.one_of(whole, whole.map(float))  # 3 and 3.0 alike


def _dates(f: Field) -> st.SearchStrategy[str]:
    lo = date.fromisoformat(str(f.min)) if f.min else date(1990, 1, 1)
    hi = date.fromisoformat(str(f.max)) if f.max else date(2035, 12, 31)
    days = st.dates(lo, hi)
    times = st.sampled_from(["", "T10:30", " 23:59:59", "T00:00:00"])
    return st.builds(lambda d, t: d.isoformat() + t, days, times)


def _text() -> st.SearchStrategy[str]:
    letters = st.text("abcXYZ -'éßΣ中0123", min_size=1, max_size=20)
    return letters.filter(lambda s: bool(s.strip())).flatmap(lambda s: _spaced(s.strip()))


def clean_value(f: Field, cat: Catalogue) -> st.SearchStrategy[Any]:
    """A value the field takes, in any form JSON may carry it."""
    if f.type == "score":
        assert f.min is not None and f.max is not None
        levels = st.integers(int(f.min), int(f.max))
        forms = [levels, levels.map(float)]
        if f.labels:
            words = st.sampled_from(list(f.labels.values()))
            forms.append(words.flatmap(lambda w: st.sampled_from([w, w.upper(), w.lower()])))
            forms.append(words.flatmap(_spaced))
        value = st.one_of(*forms)
    elif f.type in ("integer", "number"):
        value = _numbers(f)
    elif f.type == "date":
        value = _dates(f)
    elif f.type == "boolean":
        value = st.booleans()
    elif f.type == "category" and f.categories:
        value = st.sampled_from(f.categories).flatmap(_spaced)
    else:
        value = _text().filter(lambda s: s not in cat.unknown)
    if f.nullable:
        return st.one_of(value, st.sampled_from([None, MISSING, *cat.unknown]))
    return value


@st.composite
def clean_records(draw: st.DrawFn, cat: Catalogue) -> list[dict[str, Any]]:
    """1-6 valid proposals with unique identifiers, maybe history and ignored columns."""
    out = []
    for k in range(draw(st.integers(1, 6))):
        rec: dict[str, Any] = {}
        for f in cat.assessment_fields():
            if f.name == cat.id_column:
                rec[f.name] = k + 1 if f.type == "integer" else f"ID-{k}"
            else:
                value = draw(clean_value(f, cat))
                if value is not MISSING:
                    rec[f.name] = value
        if draw(st.booleans()):  # exported from history: ignored on every path
            rec[cat.outcome.name] = draw(st.sampled_from(["Yes", 1, None, [1]]))
        if cat.ignore and draw(st.booleans()):
            rec[cat.ignore[0]] = draw(st.sampled_from(["2026-01-01", {"any": "thing"}]))
        out.append(rec)
    return out


@SETTINGS
@given(data=st.data(), cat=ANY_CATALOGUE)
def test_clean_proposals_take_the_fast_path_and_match_the_full_validation(data, cat):
    records = data.draw(clean_records(cat))
    assert _check(records, cat) is not None


# --- faults --------------------------------------------------------------------------------

ODD_TEXTS = [
    "3",
    " 3 ",
    "",
    "  ",
    "NA",
    " NA",
    "none",
    "Unknown",
    "Not Rated",
    "not rated",
    "yes",
    "true",
    "north",
    "North",
    "Far  East",
    "2024-02-30",
    "2024-01-01T24:00",
    "2024-01-01T10:00",
    "\uff12\uff10\uff12\uff14-01-01",
    "2024-1-1",
    "0001-01-01",
    "9999-12-31",
    "2016-06-30Z",
    "\x1cnorth\x1c",
    "\u00a0north",
    "\ud800",
    "Satisfactory",
    " highly satisfactory ",
    "Grade B of f0",
    "Very Low",
    "VERY LOW",
    "\ufb01ne",
    "\u212aelvin",
    "north\u3000",
    "x" * 300,
]
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-100, 10_000),
    st.sampled_from([2**53 + 1, 2**70, -(2**60)]),
    st.floats(),  # NaN, infinities, 2.5, 1e300
    st.sampled_from([2.5, 3.0, -0.0, 1e300, 0.1]),
    st.sampled_from(ODD_TEXTS),
    st.text(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


@st.composite
def faulty_records(draw: st.DrawFn, cat: Catalogue) -> list[Any]:
    """Clean proposals with faults: odd values, fields left out or not the catalogue's, a
    duplicate identifier, a proposal that is not an object."""
    records: list[Any] = draw(clean_records(cat))
    keys = [*cat.assessment_columns(), *cat.renames, "not_a_field", cat.outcome.name]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(records) - 1))
        rec = records[at]
        fault = draw(st.sampled_from(["value", "value", "value", "drop", "duplicate", "object"]))
        if not isinstance(rec, dict):
            continue
        if fault == "value":
            rec[draw(st.sampled_from(keys))] = draw(ODD)
        elif fault == "drop":
            rec.pop(draw(st.sampled_from(cat.assessment_columns())), None)
        elif fault == "duplicate" and isinstance(records[0], dict):  # [0] may be a non-object
            rec[cat.id_column] = records[0].get(cat.id_column)
        else:
            records[at] = draw(st.sampled_from([7, None, "proposal", [rec]]))
    return records


@SETTINGS
@given(data=st.data(), cat=ANY_CATALOGUE)
def test_any_fault_is_left_to_the_full_validation(data, cat):
    _check(data.draw(faulty_records(cat)), cat)


# --- examples ------------------------------------------------------------------------------


def test_ieg_labels_unknown_tokens_and_floats():
    base = {
        "project_id": "P000001",
        "project_name": "Rural roads",
        "region": "South Asia",
        "country": "Nepal",
        "fcs_status": "non-FCS",
        "agreement_type": "IDA",
        "instrument": "IPF",
        "approval_fy": 2004,
        "evaluation_type": "ICR Review",
    }
    records = [
        base | {"quality_at_entry": "Satisfactory", "me_quality": "Substantial"},
        base | {"project_id": "P000002", "quality_at_entry": " highly satisfactory "},
        base | {"project_id": "P000003", "quality_at_entry": "Not Rated", "me_quality": 2.0},
        base | {"project_id": "P000004", "quality_at_entry": 3.0, "lending_group": None},
        base | {"project_id": "P000005", "closing_fy": 2011.0, "As of Date": "2024-01-31"},
    ]
    fast = _check(records, IEG)
    assert fast is not None
    assert fast.frame["quality_at_entry"].tolist() == [5, 6, pd.NA, 3, pd.NA]
    assert fast.frame["me_quality"].tolist() == [3, pd.NA, 2, pd.NA, pd.NA]
    assert fast.frame["closing_fy"].tolist() == [pd.NA] * 4 + [2011]
    assert "As of Date" not in fast.raw.frame


def test_built_in_nulls_missing_fields_dates_and_history():
    records = proposals_json(4, seed=3)
    records[0]["budget_eur"] = None
    del records[1]["partners"]
    records[1]["assessed_on"] = "2020-02-29T08:15"
    records[2]["value_case"] = "N/A"
    records[2]["scaled_up"] = "yes"  # history, ignored
    records[3]["city_resources"] = 4.0
    fast = _check(records, BUILT_IN)
    assert fast is not None
    assert fast.frame["assessed_on"].iloc[1] == datetime(2020, 2, 29, 8, 15)
    assert fast.frame["city_resources"].iloc[3] == 4
    assert pd.isna(fast.frame["value_case"].iloc[2]) and pd.isna(fast.frame["partners"].iloc[1])
    assert list(fast.frame.columns) == BUILT_IN.assessment_columns()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("city_resources", "3"),  # text where a number belongs
        ("city_resources", True),
        ("city_resources", 9),  # out of range
        ("value_case", 2.5),
        ("value_case", float("nan")),
        ("budget_eur", float("inf")),
        ("assessed_on", "2024-02-30"),
        ("assessed_on", 1_600_000_000_000),
        ("assessed_on", "1999-12-31"),  # before the catalogue's min
        ("stage", "Pilots"),  # no stage ("Pilot" reads as "pilot")
        ("city", "   "),
        ("city", None),  # required
        ("initiative_id", "INI-0000001"),  # the first proposal's
        ("valeu_case", 3),  # not a field
    ],
)
def test_each_problem_is_reported_by_the_full_validation(field, value):
    records = proposals_json(2, seed=2)
    records[1][field] = value
    assert fast_records(records, BUILT_IN) is None
    problems = validate_records(records, BUILT_IN).problems
    assert not problems.empty
    pd.testing.assert_frame_equal(problems, validate_records_fully(records, BUILT_IN).problems)


@pytest.mark.parametrize("city", ["\x1cGhent", "Ghent\u00a0", "\u3000Gent"])
def test_text_with_unusual_spaces_at_its_ends_is_left_to_the_full_validation(city):
    """Python's strip and pandas' may differ on these: the full validation reads them."""
    records = proposals_json(1, seed=2)
    records[0]["city"] = city
    assert fast_records(records, BUILT_IN) is None
    _check(records, BUILT_IN)


def test_no_proposals_or_not_a_list_is_left_to_the_full_validation():
    assert fast_records([], BUILT_IN) is None
    assert fast_records(tuple(proposals_json(1, seed=2)), BUILT_IN) is None
