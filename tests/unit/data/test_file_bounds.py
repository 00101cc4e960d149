"""Files checked before they are decoded or parsed whole: a Parquet file's columns, nested
types, row groups and decoded size (from its footer); a catalogue's size, factors and levels
per scale; each refused with one line naming the bound, never a traceback or a MemoryError."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalepredict.catalogue import CatalogueError, read_catalogue
from scalepredict.data.tables import (
    DataFileError,
    read_parquet_rows,
    read_table,
    safe_cell,
    write_table,
)
from scalepredict.settings import get_settings
from tests.conftest import ROOT, file_limits

BUILT_IN = ROOT / "src" / "scalepredict" / "catalogue" / "catalogue.yaml"


def test_a_small_parquet_file_that_decodes_huge_is_refused_from_its_footer(tmp_path, monkeypatch):
    path = tmp_path / "bomb.parquet"
    # 2 million equal strings: a few KB on disk, tens of MB decoded
    pq.write_table(pa.table({"city": ["x" * 20] * 2_000_000}), path, compression="zstd")
    assert path.stat().st_size < 200_000
    monkeypatch.setenv("SCALEPREDICT_MAX_PARQUET_BYTES", str(4 * 2**20))
    with pytest.raises(DataFileError, match=r"would decode to .* at most 4194304"):
        read_table(path, file_limits())
    with pytest.raises(DataFileError, match="would decode"):
        read_parquet_rows(path, 0, 10, file_limits())  # its row group alone decodes past the bound


def test_a_struct_column_is_refused_before_reading(tmp_path):
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"initiative_id": ["a"], "meta": [{"k": 1}]}), path)
    with pytest.raises(DataFileError, match="'meta' is nested"):
        read_table(path, file_limits())


def test_a_parquet_file_with_20000_columns_is_refused_at_once(tmp_path):
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({f"c{k}": [1] for k in range(20_000)}), path)
    started = time.perf_counter()
    with pytest.raises(DataFileError, match="20000 columns; at most 1000"):
        read_table(path, file_limits())
    assert time.perf_counter() - started < 5  # 36 s and 600 MB before the bound


def test_too_many_row_groups_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "groups.parquet"
    pq.write_table(pa.table({"a": list(range(50))}), path, row_group_size=5)
    monkeypatch.setenv("SCALEPREDICT_MAX_ROW_GROUPS", "9")
    with pytest.raises(DataFileError, match="10 row groups; at most 9"):
        read_table(path, file_limits())


def _catalogue(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load(BUILT_IN.read_text())
    change(raw)
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_scale_of_a_billion_levels_is_refused_before_listing_them(tmp_path):
    path = _catalogue(tmp_path, lambda raw: raw["scale"].update({"min": 1, "max": 10**9}))
    with pytest.raises(CatalogueError, match="at most 101 levels"):
        read_catalogue(path, get_settings())


def test_too_many_factors_are_refused_before_any_is_checked(tmp_path, monkeypatch):
    """The count is checked first (10^5 factors checked one by one took minutes); the size of
    the file before it is read at all. Spies, not clocks: the order is the behaviour."""
    from scalepredict.catalogue import loader

    def many(raw):
        first = raw["factors"][0]
        raw["factors"] = [{**first, "name": f"f{k}"} for k in range(5_000)]

    def never(*args, **kwargs):
        raise AssertionError("the work the bound is there to spare was done")

    path = _catalogue(tmp_path, many)
    monkeypatch.setenv("SCALEPREDICT_MAX_CATALOGUE_BYTES", str(2**30))  # the count refuses it
    monkeypatch.setattr(loader.CatalogueSpec, "model_validate", never)
    with pytest.raises(CatalogueError, match="at most 500 factors"):
        read_catalogue(path, get_settings())
    monkeypatch.delenv("SCALEPREDICT_MAX_CATALOGUE_BYTES")
    with path.open("a") as fh:
        fh.write("# padding\n" * 2**17)  # past the default 1 MiB
    monkeypatch.setattr(loader.yaml, "safe_load", never)
    with pytest.raises(CatalogueError, match="bytes; at most 1048576"):
        read_catalogue(path, get_settings())  # by default refused by its size, before it is read


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lo=st.integers(-(10**12), 10**12), span=st.integers(-5, 10**12))
def test_any_scale_is_accepted_or_refused_with_a_named_problem(tmp_path, lo, span):
    path = _catalogue(tmp_path, lambda raw: raw["scale"].update({"min": lo, "max": lo + span}))
    try:
        cat = read_catalogue(path, get_settings())
    except CatalogueError as e:
        assert "scale" in str(e)
    else:
        assert all(f.scale_max - f.scale_min < 101 for f in cat.factors)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        # line breaks drawn as often as the rest: a bare one would split its row
        st.text(st.characters(exclude_categories=("Cs",)) | st.sampled_from("\r\n"), max_size=10),
        min_size=1,
    )
)
def test_any_text_is_written_to_csv_answers_so_no_spreadsheet_runs_it(tmp_path, texts):
    import pandas as pd

    path = write_table(pd.DataFrame({"initiative_id": texts}), tmp_path / "x.csv", for_people=True)
    with path.open(newline="", encoding="utf-8") as f:  # as a spreadsheet reads it: every row
        back = [row[0] if row else "" for row in csv.reader(f)][1:]
    # one row per text, a carriage return or a line break inside one included
    for cell, sent in zip(back, texts, strict=True):
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r")
        assert cell == safe_cell(sent)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n_cols=st.integers(1, 1500), nested=st.booleans())
def test_any_parquet_shape_is_read_or_refused_with_one_line(tmp_path, n_cols, nested):
    columns = {f"c{k}": [1] for k in range(n_cols)}
    if nested:
        columns["c0"] = [[1, 2]]
    path = tmp_path / "any.parquet"
    pq.write_table(pa.table(columns), path)
    try:
        read_table(path, file_limits())
    except DataFileError as e:
        assert "\n" not in str(e) and (n_cols > 1000 or nested)
    else:
        assert n_cols <= 1000 and not nested
