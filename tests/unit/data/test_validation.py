"""Bad input never passes silently: every problem named by file row, id, column and rule."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalepredict.cli import app
from scalepredict.data.tables import DataFileError, read_table, write_table
from scalepredict.data.validation import validate_file, validate_table
from tests.conftest import file_limits


def _corrupt(path: Path, edits: dict[tuple[int, str], str], out: Path) -> Path:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    for (i, col), value in edits.items():
        raw.loc[i, col] = value
    raw.to_csv(out, index=False)
    return out


def test_generated_data_is_valid(small_csv):
    result = validate_file(small_csv, limits=file_limits())
    assert result.valid, result.problems
    assert result.labelled
    assert result.frame["value_case"].dtype == "Int64"


@pytest.mark.parametrize(
    "column, value, rule",
    [
        ("value_case", "abc", "whole score"),  # wrong type
        ("security", "3.5", "whole score"),  # not a whole score
        ("security", "9", "whole score"),  # out of range
        ("city_resources", "0", ">= 1"),
        ("budget_eur", "-10", ">= 0"),  # negative money
        ("city_population", "12", ">= 1000"),  # implausible population
        ("duration_months", "900", "<= 120"),
        ("stage", "Pilots", "one of"),  # unknown category ("Pilot" reads as "pilot")
        ("domain", "space", "one of"),
        ("assessed_on", "31/12/2020", "date"),  # unparseable date
        ("city", "", "required"),
        ("scaled_up", "2", "<= 1"),
    ],
)
def test_each_bad_cell_is_named(small_csv, tmp_path, column, value, rule):
    bad = _corrupt(small_csv, {(7, column): value}, tmp_path / "bad.csv")
    result = validate_file(bad, limits=file_limits())
    assert not result.valid
    assert len(result.problems) == 1, result.problems
    p = result.problems.iloc[0]
    assert p["row"] == 9  # index 7 is line 9: line 1 is the header
    assert p["column"] == column
    assert rule in p["rule"]
    assert p["value"] == value
    assert p["initiative_id"] == pd.read_csv(small_csv)["initiative_id"][7] or column == "city"


def test_duplicate_id_names_both_rows(small_csv, tmp_path):
    ids = pd.read_csv(small_csv)["initiative_id"]
    bad = _corrupt(small_csv, {(5, "initiative_id"): ids[2]}, tmp_path / "dup.csv")
    problems = validate_file(bad, limits=file_limits()).problems
    assert list(problems["row"]) == [4, 7]
    assert set(problems["rule"]) == {"unique (duplicate value)"}


def test_all_problems_are_collected_at_once(small_csv, tmp_path):
    bad = _corrupt(
        small_csv,
        {(1, "stage"): "x", (2, "security"): "7", (3, "budget_eur"): "-1", (3, "partners"): "lots"},
        tmp_path / "many.csv",
    )
    problems = validate_file(bad, limits=file_limits()).problems
    assert list(zip(problems["row"], problems["column"], strict=True)) == [
        (3, "stage"),
        (4, "security"),
        (5, "budget_eur"),
        (5, "partners"),
    ]


def test_unknown_answers_are_allowed(small_csv, tmp_path):
    bad = _corrupt(small_csv, {(0, "value_case"): "", (1, "security"): "NA"}, tmp_path / "u.csv")
    result = validate_file(bad, limits=file_limits())
    assert result.valid
    assert result.frame["value_case"].isna()[0]


def test_proposals_without_outcome_validate_as_assessments(small_frame, tmp_path):
    path = write_table(
        small_frame.drop(columns=["scaled_up", "true_probability"]), tmp_path / "p.csv"
    )
    result = validate_file(path, limits=file_limits())
    assert result.valid and not result.labelled


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b"\xff\xfe\xfa garbage \xc3\x28 more", "binary"),
        (b"initiative_id|city|stage\nA|B|pilot\n", "pipe"),
    ],
)
def test_unusable_files_get_one_line(tmp_path, content, message):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=message) as e:
        read_table(path, file_limits())
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_files_read_like_comma_ones(small_csv, tmp_path, delimiter):
    """As spreadsheets save CSV where the decimal mark is a comma."""
    frame = pd.read_csv(small_csv, dtype=str, keep_default_na=False)
    path = tmp_path / "other.csv"
    frame.to_csv(path, sep=delimiter, index=False)
    read = read_table(path, file_limits()).frame
    assert list(read.columns) == list(frame.columns) and len(read) == len(frame)
    assert validate_file(path, limits=file_limits()).valid


def test_header_only_file(small_csv, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(small_csv.read_text().splitlines()[0] + "\n")
    with pytest.raises(DataFileError, match="no data rows"):
        read_table(path, file_limits())


def test_missing_and_unknown_columns_are_named(small_frame, tmp_path):
    path = write_table(
        small_frame.drop(columns=["city"]).rename(columns={"value_case": "valeu_case"}),
        tmp_path / "cols.csv",
    )
    with pytest.raises(DataFileError) as e:
        validate_file(path, limits=file_limits())
    msg = str(e.value)
    assert "missing required column(s): city, value_case" in msg
    assert "unknown column(s): valeu_case (did you mean value_case?)" in msg


def test_parquet_is_read_and_checked(small_frame, tmp_path):
    frame = small_frame.copy()
    frame.loc[3, "stage"] = "scaled"
    result = validate_file(write_table(frame, tmp_path / "d.parquet"), limits=file_limits())
    assert list(result.problems["row"]) == [4]  # Parquet rows count from 1
    assert result.problems["column"].tolist() == ["stage"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_quarantine_splits_exactly_and_leaves_input_alone(small_csv, tmp_path, runner):
    bad = _corrupt(small_csv, {(4, "stage"): "?x", (9, "security"): "8"}, tmp_path / "in.csv")
    before = _digest(bad)
    good_path, bad_path = tmp_path / "good.csv", tmp_path / "bad.csv"
    res = runner.invoke(
        app, ["validate", str(bad), "--quarantine", str(bad_path), "--out", str(good_path)]
    )
    assert res.exit_code == 1
    assert _digest(bad) == before
    good, quarantined, original = (pd.read_csv(p, dtype=str) for p in (good_path, bad_path, bad))
    assert len(good) + len(quarantined) == len(original)
    assert sorted(quarantined["initiative_id"]) == sorted(original["initiative_id"][[4, 9]])
    assert validate_file(good_path, limits=file_limits()).valid
    merged = pd.concat([good, quarantined]).set_index("initiative_id").sort_index()
    pd.testing.assert_frame_equal(merged, original.set_index("initiative_id").sort_index())


def test_cli_refuses_to_overwrite_input(small_csv, runner):
    res = runner.invoke(app, ["validate", str(small_csv), "--out", str(small_csv)])
    assert res.exit_code == 2
    assert "refusing to overwrite" in res.output


def test_cli_valid_file_prints_summary(small_csv, runner):
    res = runner.invoke(app, ["validate", str(small_csv)])
    assert res.exit_code == 0, res.output
    assert (
        "valid" in res.output
        and "proof_of_concept" in res.output
        and "unknown answers" in res.output
    )


def test_cli_garbage_exits_2_without_traceback(tmp_path, runner):
    path = tmp_path / "g.csv"
    path.write_bytes(bytes(range(256)) * 10)
    res = runner.invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output and "binary" in res.output


NUMERIC_RULES = {
    "city_resources": (1, 5),
    "duration_months": (1, 120),
    "partners": (0, 200),
    "security": (1, 5),
}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    column=st.sampled_from(sorted(NUMERIC_RULES)),
    value=st.integers(-10_000, 10_000),
    row=st.integers(0, 399),
)
def test_numeric_rules_hold_for_any_value(small_frame, column, value, row):
    """Property: a value is flagged exactly when it breaks its range, at the right row."""
    frame = small_frame.astype({column: "object"}).astype(str).replace("<NA>", "")
    frame.loc[row, column] = str(value)
    from scalepredict.data.tables import RawTable

    result = validate_table(RawTable(frame.replace("", None), Path("mem.csv"), 2))
    lo, hi = NUMERIC_RULES[column]
    if lo <= value <= hi:
        assert result.valid
    else:
        assert result.problems[["row", "column"]].values.tolist() == [[row + 2, column]]


def test_huge_whole_numbers_are_named_not_a_crash(small_csv, tmp_path):
    bad = _corrupt(
        small_csv, {(2, "security"): "1e20", (3, "partners"): "1e300"}, tmp_path / "h.csv"
    )
    problems = validate_file(bad, limits=file_limits()).problems
    assert problems[["row", "column"]].values.tolist() == [[4, "security"], [5, "partners"]]


def test_a_level_labelled_like_an_unknown_token_is_that_level(tmp_path):
    """`None` is an unknown token, but on a scale labelled None/Some/All it is level 1."""
    from scalepredict.catalogue import parse_catalogue

    cat = parse_catalogue(
        {
            "dimensions": [{"name": "d"}],
            "factors": [
                {
                    "name": "share",
                    "dimension": "d",
                    "scale": {"min": 1, "max": 3, "labels": {1: "None", 2: "Some", 3: "All"}},
                },
                {"name": "other", "dimension": "d", "scale": {"min": 1, "max": 3}},
            ],
            "context": [{"name": "ref", "type": "string", "unique": True}],
            "outcome": {"name": "ok", "success": ["yes"], "failure": ["no"]},
        }
    )
    path = tmp_path / "labels.csv"
    path.write_text("ref,share,other\na,None,None\nb, some ,2\nc,NA,3\nd,,1\n")
    result = validate_file(path, labelled=False, cat=cat, limits=file_limits())
    assert result.valid, result.problems
    assert result.frame["share"].tolist() == [1, 2, pd.NA, pd.NA]
    assert result.frame["other"].tolist() == [pd.NA, 2, 3, 1]  # no labels: None is unknown
