"""A Parquet file read in row ranges gives the file's rows, numbered as in the whole file,
however its row groups and the ranges fall."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalepredict.data.tables import DataFileError, parquet_rows, read_parquet_rows, read_table
from scalepredict.data.validation import validate_table
from scalepredict.inference.batch import split_rows
from tests.conftest import file_limits


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(group=st.integers(1, 120), per_part=st.integers(20, 130))
def test_parts_put_together_are_the_file(small_frame, tmp_path, group, per_part):
    path = tmp_path / "f.parquet"
    pq.write_table(
        pa.Table.from_pandas(small_frame, preserve_index=False), path, row_group_size=group
    )
    whole = read_table(path, file_limits())
    parts = [
        read_parquet_rows(path, p.start, p.stop, file_limits())
        for p in split_rows(parquet_rows(path), per_part)
    ]
    assert [p.first_row for p in parts] == list(range(1, len(small_frame) + 1, per_part))
    pd.testing.assert_frame_equal(
        pd.concat([p.frame for p in parts], ignore_index=True), whole.frame
    )


def test_a_part_names_its_bad_row_as_the_whole_file_does(small_frame, tmp_path):
    bad = small_frame.copy()
    bad.loc[250, "security"] = 9
    path = tmp_path / "bad.parquet"
    bad.to_parquet(path, index=False)
    part = validate_table(read_parquet_rows(path, 200, 300, file_limits()))
    whole = validate_table(read_table(path, file_limits()))
    pd.testing.assert_frame_equal(part.problems, whole.problems)
    assert part.problems["row"].tolist() == [251]


def test_not_parquet_or_unreadable_is_one_line(tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataFileError, match="not a readable Parquet file"):
        parquet_rows(tmp_path / "x.parquet")
    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(DataFileError, match="not a Parquet file"):
        parquet_rows(tmp_path / "x.csv")
