"""Exports as people write them: two spellings of one level, categories in any case, a
composite identifier, repeats of a name that is no key, the text limit a catalogue sets; and,
for any catalogue, every spelling of a level reads as that level."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalepredict.catalogue import CatalogueError, parse_catalogue
from scalepredict.data.generic import generate_for
from scalepredict.data.identifiers import repeats
from scalepredict.data.quarantine import left_out
from scalepredict.data.records import validate_records, validate_records_fully
from scalepredict.data.tables import RawTable
from scalepredict.data.validation import validate_table
from tests.integration.test_any_catalogue import catalogues

BASE: dict[str, Any] = {
    "name": "exports",
    "scale": {"min": 1, "max": 4, "labels": {1: "Poor", 2: "Fair", 3: "Good", 4: "Strong"}},
    "dimensions": [{"name": "d"}],
    "factors": [{"name": "f1", "dimension": "d"}, {"name": "f2", "dimension": "d"}],
    "context": [
        {"name": "project", "type": "string", "column": "Project"},
        {"name": "year", "type": "integer", "column": "Evaluation Year"},
        {"name": "lending", "type": "category", "categories": ["IDA", "IBRD"]},
    ],
    "identifier": "project",
    "outcome": {"name": "ok", "success": ["Yes"], "failure": ["No"], "not_rated": ["N/R"]},
}


def _cat(**changes: Any) -> Any:
    raw = copy.deepcopy(BASE)
    raw.update(changes)
    return parse_catalogue(raw, "exports")


def _table(rows: list[dict[str, Any]]) -> RawTable:
    return RawTable(pd.DataFrame(rows, dtype=object), Path("export.csv"), first_row=2)


def _row(project: str = "P1", year: int = 2019, **cells: Any) -> dict[str, Any]:
    base = {"Project": project, "Evaluation Year": year, "lending": "IDA", "f1": 2, "f2": 3}
    return base | {"ok": "Yes"} | cells


def test_two_labels_for_one_level_read_as_that_level():
    scale = {"min": 1, "max": 4, "labels": {1: ["Poor", "Weak"], 2: "Fair", 3: "Good", 4: "Strong"}}
    cat = _cat(scale=scale)
    rows = [_row(f"P{i}", f1=text) for i, text in enumerate(["Poor", "weak ", " WEAK", "Fair"])]
    result = validate_table(_table(rows), True, cat)
    assert result.valid, result.problems
    assert result.frame["f1"].tolist() == [1, 1, 1, 2]
    assert cat.factor("f1").labels[1] == "Poor"  # the first label is the one shown
    # the JSON path reads them alike, fast or full
    records = [{"project": "A", "year": 1, "lending": "IDA", "f1": "Weak", "f2": None}]
    assert validate_records(records, cat).frame["f1"].tolist() == [1]
    assert validate_records_fully(records, cat).frame["f1"].tolist() == [1]


@pytest.mark.parametrize(
    ("labels", "rule"),
    [
        ({1: ["Poor", "Fair"], 2: "Fair", 3: "Good", 4: "Strong"}, "a level label is used twice"),
        ({1: [], 2: "Fair", 3: "Good", 4: "Strong"}, "cannot be empty"),
        ({1: ["Poor", "2"], 2: "Fair", 3: "Good", 4: "Strong"}, "a number must be its level"),
    ],
)
def test_a_contradiction_among_several_labels_is_refused(labels, rule):
    with pytest.raises(CatalogueError, match=rule):
        _cat(scale={"min": 1, "max": 4, "labels": labels})


def test_categories_are_matched_like_labels():
    cat = _cat()
    rows = [_row(f"P{i}", lending=text) for i, text in enumerate(["ida", " Ibrd", "IDA", "IDB"])]
    result = validate_table(_table(rows), True, cat)
    assert result.frame["lending"].tolist()[:3] == ["IDA", "IBRD", "IDA"]
    assert result.problems[["row", "column", "value"]].values.tolist() == [[5, "lending", "IDB"]]
    records = [{"project": "A", "year": 1, "lending": "ibrd", "f1": 1, "f2": 1}]
    assert validate_records(records, cat).frame["lending"].tolist() == ["IBRD"]


def test_categories_that_differ_only_in_case_stay_valid_and_exact():
    context = copy.deepcopy(BASE["context"])
    context[2]["categories"] = ["IDA", "ida", "IBRD"]  # valid before case-blind matching
    cat = _cat(context=context)
    rows = [_row(f"P{i}", lending=text) for i, text in enumerate(["ida", "IDA", "ibrd", "Ida"])]
    result = validate_table(_table(rows), True, cat)
    assert result.frame["lending"].tolist()[:3] == ["ida", "IDA", "IBRD"]
    assert result.problems["value"].tolist() == ["Ida"]  # ambiguous: which of the two?


def test_the_text_limit_is_the_catalogues():
    long = "x" * 300
    assert not validate_table(_table([_row(long)]), True, _cat()).valid  # 256 by default
    assert validate_table(_table([_row(long)]), True, _cat(text_max=400)).valid
    short = validate_table(_table([_row("P" * 11)]), True, _cat(text_max=10))
    assert short.problems["rule"].tolist() == ["at most 10 characters"]


def test_a_composite_identifier_refuses_only_repeats_of_the_whole_key():
    cat = _cat(identifier=["project", "year"])
    assert cat.key == ("project", "year") and cat.id_column == "project"
    rows = [_row("P1", 2019), _row("P1", 2023), _row("P2", 2019), _row("P1", 2019, f1=4)]
    result = validate_table(_table(rows), True, cat)
    p = result.problems
    assert p["row"].tolist() == [2, 5]
    assert set(p["column"]) == {"Project + Evaluation Year"}
    assert set(p["initiative_id"]) == {"P1 / 2019"} and set(p["rule"]) == {
        "unique (duplicate value)"
    }
    # a key that names a field twice, or a field that is not there, is refused
    with pytest.raises(CatalogueError, match="listed twice"):
        _cat(identifier=["project", "project"])
    with pytest.raises(CatalogueError, match="'team' is not a context field"):
        _cat(identifier=["project", "team"])


def test_repeats_of_an_identifier_that_is_no_key_are_kept_and_reported():
    cat = _cat()  # `project` is the identifier, not marked unique
    rows = [_row("P1", 2019), _row("P1", 2023), _row("P2"), _row("P1", 2024, ok="N/R")]
    result = validate_table(_table(rows), True, cat)
    assert result.valid
    left = left_out(result, cat)
    assert left.kept == 3 and left.not_rated == 1 and left.quarantined == 0
    assert "1 Project value(s) repeat in 2 row(s), all kept" in left.repeated
    assert "'P1' at rows 2, 3" in left.repeated
    # marked unique, the same repeats are problems: quarantined and counted, not kept
    context = copy.deepcopy(BASE["context"])
    context[0]["unique"] = True
    strict = _cat(context=context)
    result = validate_table(_table(rows), True, strict)
    assert set(result.problems["rule"]) == {"unique (duplicate value)"}
    assert left_out(result, strict).quarantined == 3 and repeats(result.good(), strict) == ""


WORDS_SPELT = st.sampled_from([str.lower, str.upper, str.title, lambda t: f"  {t} "])


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw=catalogues(), data=st.data())
def test_any_catalogue_reads_every_spelling_of_a_level_as_that_level(raw, data):
    """A catalogue valid before stays valid with a second label on every labelled level, and a
    file written with any of them, in any case, reads as the file written with the numbers."""
    cat = parse_catalogue(raw, "random")
    more = copy.deepcopy(raw)
    for f in more["factors"]:
        labels = f["scale"].get("labels")
        if labels:
            f["scale"]["labels"] = {k: [t, f"{t} (level {k})"] for k, t in labels.items()}
    spelt = parse_catalogue(more, "random, two labels a level")
    frame = generate_for(cat, 30, seed=data.draw(st.integers(0, 50))).astype(object)
    numbers = frame.copy()
    for f in cat.factors:
        column = f.column or f.name
        if not f.labels:
            continue
        by_text = {t: k for k, t in f.labels.items()}
        numbers[column] = frame[column].map(by_text, na_action="ignore")

        def write(text: str, level: int) -> str:
            other = f"{text} (level {level})" if data.draw(st.booleans()) else text
            return data.draw(WORDS_SPELT)(other)

        frame[column] = [
            cell if pd.isna(cell) else write(cell, by_text[cell]) for cell in frame[column]
        ]
    want = validate_table(RawTable(numbers, Path("numbers.csv"), 2), True, cat)
    got = validate_table(RawTable(frame, Path("words.csv"), 2), True, spelt)
    assert got.valid, got.problems.head()
    pd.testing.assert_frame_equal(got.frame, want.frame)


def test_a_catalogue_that_does_not_use_text_max_keeps_its_fingerprint():
    """Models trained before the key existed carry their catalogue's fingerprint: it holds."""
    assert _cat(text_max=256).fingerprint == _cat().fingerprint
    assert _cat(text_max=300).fingerprint != _cat().fingerprint
    assert "text_max" not in _cat().source


def test_an_export_without_any_id_is_named_by_its_file_row(tmp_path):
    cat = _cat(identifier="file_row")  # `project` repeats: it is no key, and there is no other
    assert cat.key == ("file_row",) and cat.file_row and "file_row" not in cat.feature_context
    rows = [_row("P1"), _row("P1"), _row("P2", lending="IDB"), _row("P3", ok="N/R")]
    result = validate_table(_table(rows), True, cat)
    assert result.frame["file_row"].tolist() == [2, 3, 4, 5]  # the header is row 1
    # a problem names the row the person finds, under the identifier's heading too
    assert result.problems[["row", "initiative_id", "column"]].values.tolist() == [
        [4, 4, "lending"]
    ]
    assert left_out(result, cat).kept == 2  # the repeated project is no repeated key
    # JSON proposals are numbered from 1, fast path or full, and may leave the field out
    records = [{"project": "A", "year": 1, "lending": "IDA", "f1": 1, "f2": None}] * 2
    for check in (validate_records, validate_records_fully):
        assert check(records, cat).frame["file_row"].tolist() == [1, 2]
    # a value given is kept and checked as an identifier: unique
    given = validate_records([records[0] | {"file_row": 7}, records[0] | {"file_row": 7}], cat)
    assert set(given.problems["rule"]) == {"unique (duplicate value)"}


def test_a_file_row_identifier_is_filled_in_everywhere_a_row_is_read(tmp_path):
    from scalepredict.api.requests import request_models
    from scalepredict.catalogue.template import write_template
    from scalepredict.data.row_hashes import row_hashes
    from scalepredict.tracking.pyfunc import signature

    cat = _cat(identifier="file_row")
    csv_path, _ = write_template(tmp_path, cat, labelled=True)
    assert "file_row" not in csv_path.read_text().splitlines()[0]  # the reader fills it
    proposal = {"project": "A", "year": 1, "lending": "IDA", "f1": 1, "f2": 2}
    assert request_models(cat, 10).Proposal.model_validate(proposal).file_row is None
    assert not next(c for c in signature(cat).inputs.inputs if c.name == "file_row").required
    # the same answers at another row are the same row to the model (a hash of what it holds)
    first = validate_table(_table([_row("P1"), _row("P2")]), True, cat).frame
    later = validate_table(_table([_row("P0"), _row("P1"), _row("P2")]), True, cat).frame
    assert set(row_hashes(first, cat)) < set(row_hashes(later, cat))


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"identifier": ["file_row", "project"]}, "is an identifier alone"),
        (
            {
                "identifier": "file_row",
                "factors": [
                    {"name": "f1", "dimension": "d"},
                    {"name": "file_row", "dimension": "d"},
                ],
            },
            "names the file row",
        ),
    ],
)
def test_a_file_row_identifier_that_cannot_be_is_refused(changes, rule):
    with pytest.raises(CatalogueError, match=rule):
        _cat(**changes)


def test_a_field_named_file_row_is_that_field():
    context = [*copy.deepcopy(BASE["context"]), {"name": "file_row", "type": "string"}]
    cat = _cat(identifier="file_row", context=context)
    assert not cat.file_row and cat.context_field("file_row").type == "string"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=catalogues(), rows=st.integers(1, 40), first_row=st.sampled_from([1, 2]))
def test_any_catalogue_can_name_its_rows_by_their_file_row(raw, rows, first_row):
    """Any catalogue, identified by the file row instead, reads the same export with each row
    named by its row and every field as before; its own generated exports have no such column."""
    cat = parse_catalogue(raw, "as written")
    by_row = parse_catalogue(copy.deepcopy(raw) | {"identifier": "file_row"}, "by row")
    assert by_row.key == ("file_row",) and "file_row" not in by_row.feature_context
    assert "file_row" not in generate_for(by_row, 3, seed=rows)
    export = RawTable(generate_for(cat, rows, seed=rows), Path("export"), first_row=first_row)
    as_written, named = validate_table(export, True, cat), validate_table(export, True, by_row)
    assert named.valid, named.problems
    assert named.frame["file_row"].tolist() == list(range(first_row, first_row + rows))
    pd.testing.assert_frame_equal(named.frame.drop(columns="file_row"), as_written.frame)
