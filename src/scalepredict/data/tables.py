"""Reading and writing assessment tables (CSV or Parquet) with one-line explanations for files
that are not tables at all: empty, binary, wrong delimiter, unreadable Parquet."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scalepredict.settings import get_settings

MAX_HEADER_BYTES = 16 * 2**20  # a header longer than this is counted by its first 16 MiB
PARQUET_SUFFIXES = {".parquet", ".pq"}


class DataFileError(ValueError):
    """The file cannot be read as an assessment table; the message is one line for a person."""


@dataclass(frozen=True)
class RawTable:
    """Cells as read (strings for CSV), plus how to turn a frame index into a row a person finds."""

    frame: pd.DataFrame
    path: Path
    first_row: int  # file row of index 0: 2 for CSV (line 1 is the header), 1 for Parquet

    def row_number(self, index: int) -> int:
        return int(index) + self.first_row


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def _looks_binary(head: bytes) -> bool:
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start < len(head) - 4  # a multi-byte character cut at the end is fine
    return False


def read_table(path: str | Path) -> RawTable:
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if path.is_dir():
        raise DataFileError(f"{path}: is a directory, not a data file")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path}: the file is empty (0 bytes)")
    if is_parquet(path):
        try:
            frame = pd.read_parquet(path)
        except Exception as e:  # pyarrow raises many types for a corrupt file
            raise DataFileError(f"{path}: not a readable Parquet file ({type(e).__name__})") from e
        first_row = 1
    else:
        with path.open("rb") as fh:
            head, first = fh.read(65536), (fh.seek(0), fh.readline(MAX_HEADER_BYTES))[1]
        _check_width(first, path)
        frame = _read_csv(path, head, path)
        first_row = 2
    return _finish(frame, path, first_row)


def parquet_rows(path: str | Path) -> int:
    """Rows in a Parquet file, from its footer (nothing else is read)."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    if not is_parquet(path):
        raise DataFileError(f"{path}: not a Parquet file (.parquet or .pq)")
    try:
        return int(pq.ParquetFile(path).metadata.num_rows)
    except Exception as e:  # pyarrow raises many types for a corrupt file
        raise DataFileError(f"{path}: not a readable Parquet file ({type(e).__name__})") from e


def read_parquet_rows(path: str | Path, start: int, stop: int) -> RawTable:
    """Rows [start, stop) of a Parquet file (0-based), numbered as in the whole file: a
    partition's problems name the row a person finds. Only the row groups holding them are
    decoded, in batches, so a part of a file written as one large row group costs no more
    memory than the part itself."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    pf = pq.ParquetFile(path)
    groups, first = [], None
    offset = 0
    for g in range(pf.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if offset < stop and offset + n > start:
            groups.append(g)
            first = offset if first is None else first
        offset += n
    batches, at = [], first or 0
    for batch in pf.iter_batches(batch_size=8192, row_groups=groups):
        lo, hi = max(start - at, 0), min(stop - at, batch.num_rows)
        if hi > lo:
            batches.append(batch.slice(lo, hi - lo))
        at += batch.num_rows
        if at >= stop:
            break
    table = pa.Table.from_batches(batches, schema=pf.schema_arrow)
    return _finish(table.to_pandas(), path, first_row=start + 1)


def _check_width(first_line: bytes, label: Path) -> None:
    """Refuse a header wider than any catalogue before parsing it: the cost of reading and
    checking a file grows with its columns, so a 100,000-column header must not get that far."""
    limit = get_settings().max_columns
    try:
        n = len(next(csv.reader([first_line.decode("utf-8", errors="replace")]), []))
    except csv.Error:  # NUL bytes and the like: the binary check names the problem
        return
    if n > limit:
        raise DataFileError(f"{label}: the header has {n} columns; at most {limit} are read")


def _delimiter(head: bytes) -> str:
    """Comma, unless the header has no comma but semicolons or tabs (as spreadsheets save CSV
    in locales whose decimal mark is a comma): then that one."""
    header = head.split(b"\n", 1)[0]
    counts = {d: header.count(d.encode()) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[","] == 0 and counts[best] > 0 else ","


def _read_csv(source: Path | io.BytesIO, head: bytes, label: Path) -> pd.DataFrame:
    """Every cell as a string (types and the catalogue's unknown tokens are read later, per
    column); only an empty cell is NA here."""
    if _looks_binary(head):
        raise DataFileError(f"{label}: binary content, not a UTF-8 CSV text file")
    try:
        frame = pd.read_csv(
            source,
            sep=_delimiter(head),
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8",
        )
    except pd.errors.EmptyDataError as e:
        raise DataFileError(f"{label}: the file has no header and no rows") from e
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        msg = str(e).strip().splitlines()[0]
        raise DataFileError(f"{label}: cannot be parsed as CSV: {msg}") from e
    if len(frame.columns) == 1:
        header = str(frame.columns[0])
        for delim, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
            if delim in header:
                raise DataFileError(
                    f"{label}: the header uses {name}s ({delim!r}) as delimiter; "
                    "ScalePredict reads comma-separated CSV"
                )
    return frame


def _finish(frame: pd.DataFrame, label: Path, first_row: int) -> RawTable:
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise DataFileError(f"{label}: the file has a header but no data rows")
    return RawTable(frame=frame.reset_index(drop=True), path=label, first_row=first_row)


def read_csv_bytes(data: bytes, name: str = "upload.csv") -> RawTable:
    """An uploaded CSV (the planner page's portfolio), with the same checks as a file."""
    label = Path(name)
    if not data:
        raise DataFileError(f"{label}: the file is empty (0 bytes)")
    _check_width(data.split(b"\n", 1)[0][:MAX_HEADER_BYTES], label)
    return _finish(_read_csv(io.BytesIO(data), data[:65536], label), label, first_row=2)


def _for_writing(df: pd.DataFrame) -> pd.DataFrame:
    """Whole-number float columns (money) are written without a trailing '.0'."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s) and s.dropna().mod(1).eq(0).all():
            out[col] = s.astype("Int64")
    return out


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame as Parquet or CSV (by suffix); dates as YYYY-MM-DD, unknown as empty."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_parquet(path):
        df.to_parquet(path, index=False)
    else:
        _for_writing(df).to_csv(
            path,
            index=False,
            date_format="%Y-%m-%d",
            lineterminator="\n",
            quoting=csv.QUOTE_MINIMAL,
        )
    return path
