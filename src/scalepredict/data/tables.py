"""Reading and writing assessment tables (CSV or Parquet) with one-line explanations for files
that are not tables at all: empty, binary, wrong delimiter, unreadable Parquet."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from scalepredict.settings import Settings

MAX_HEADER_BYTES = 16 * 2**20  # a header longer than this is counted by its first 16 MiB
PARQUET_SUFFIXES = {".parquet", ".pq"}


@dataclass(frozen=True)
class FileLimits:
    """What a table file may hold, checked before it is parsed (the settings' max_columns,
    max_row_groups and max_parquet_bytes): small enough to travel with each Dask task."""

    columns: int
    row_groups: int
    parquet_bytes: int

    @classmethod
    def of(cls, settings: Settings) -> FileLimits:
        return cls(settings.max_columns, settings.max_row_groups, settings.max_parquet_bytes)


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


def read_table(path: str | Path, limits: FileLimits) -> RawTable:
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if path.is_dir():
        raise DataFileError(f"{path}: is a directory, not a data file")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path}: the file is empty (0 bytes)")
    if is_parquet(path):
        pf = _parquet_file(path, limits)
        try:
            frame = pf.read().to_pandas()
        except Exception as e:  # pyarrow raises many types for a corrupt file
            raise DataFileError(f"{path}: not a readable Parquet file ({type(e).__name__})") from e
        first_row = 1
    else:
        with path.open("rb") as fh:
            head, first = fh.read(65536), (fh.seek(0), fh.readline(MAX_HEADER_BYTES))[1]
        _check_width(first, path, limits.columns)
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


def read_parquet_rows(path: str | Path, start: int, stop: int, limits: FileLimits) -> RawTable:
    """Rows [start, stop) of a Parquet file (0-based), numbered as in the whole file: a
    partition's problems name the row a person finds. Only the row groups holding them are
    decoded, in batches, so a part of a file written as one large row group costs no more
    memory than the part itself."""
    import pyarrow as pa

    path = Path(path)
    pf = _parquet_file(path, limits, part=(start, stop))
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


def _parquet_file(path: Path, limits: FileLimits, part: tuple[int, int] | None = None) -> Any:
    """The file opened from its footer and checked before anything is decoded: its columns
    (how many, and flat types only: no struct, list or map), its row groups, and the decoded
    size of what will be read (the whole file, or the row groups holding rows [start, stop))
    as the metadata states it (a small file can expand a thousandfold)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        meta = pf.metadata
    except Exception as e:  # pyarrow raises many types for a corrupt file
        raise DataFileError(f"{path}: not a readable Parquet file ({type(e).__name__})") from e
    if meta.num_columns > limits.columns:
        raise DataFileError(
            f"{path}: the file has {meta.num_columns} columns; at most {limits.columns} are read"
        )
    nested = [f.name for f in pf.schema_arrow if pa.types.is_nested(f.type)]
    if nested:
        raise DataFileError(
            f"{path}: column {nested[0]!r} is nested (struct, list or map); an assessment "
            "table has one value per cell"
        )
    if meta.num_row_groups > limits.row_groups:
        raise DataFileError(
            f"{path}: the file has {meta.num_row_groups} row groups; at most "
            f"{limits.row_groups} are read"
        )
    size, offset = 0, 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        if part is None or (offset < part[1] and offset + group.num_rows > part[0]):
            # pages as stored after dictionary decoding, or 8 bytes a cell (a dictionary of one
            # value stands for millions of cells), whichever is larger
            size += max(group.total_byte_size, 8 * group.num_rows * group.num_columns)
        offset += group.num_rows
    if size > limits.parquet_bytes:
        raise DataFileError(
            f"{path}: the data read would decode to {size} bytes; at most "
            f"{limits.parquet_bytes} are read at once"
        )
    return pf


def _check_width(first_line: bytes, label: Path, limit: int) -> None:
    """Refuse a header wider than `limit` columns before parsing it: the cost of reading and
    checking a file grows with its columns, so a 100,000-column header must not get that far."""
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


def read_csv_bytes(data: bytes, max_columns: int, name: str = "upload.csv") -> RawTable:
    """An uploaded CSV (the planner page's portfolio), with the same checks as a file."""
    label = Path(name)
    if not data:
        raise DataFileError(f"{label}: the file is empty (0 bytes)")
    _check_width(data.split(b"\n", 1)[0][:MAX_HEADER_BYTES], label, max_columns)
    return _finish(_read_csv(io.BytesIO(data), data[:65536], label), label, first_row=2)


def safe_cell(value: object) -> object:
    """A cell a spreadsheet will not run as a formula (=, +, -, @, tab, CR first): such text
    is written after a quote, as spreadsheets themselves mark literal text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _text_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])]


def formula_safe(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell made `safe_cell` (numbers stay numbers)."""
    out = df.copy()
    for col in _text_columns(out):
        out[col] = out[col].map(safe_cell)
    return out


def _for_writing(df: pd.DataFrame) -> pd.DataFrame:
    """Whole-number float columns (money) are written without a trailing '.0'."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s) and s.dropna().mod(1).eq(0).all():
            out[col] = s.astype("Int64")
    return out


def csv_text(df: pd.DataFrame) -> str:
    """A frame as CSV text: dates as YYYY-MM-DD, unknown as empty, fields quoted where needed.
    Python's csv module quotes a field for the characters of its line ending only, so with
    '\n' line ends a text cell holding a carriage return would go out bare and split its row
    in every reader: such a frame gets RFC 4180's '\r\n' line ends, which quote it."""
    has_cr = any(df[c].astype(str).str.contains("\r", regex=False).any() for c in _text_columns(df))
    return df.to_csv(
        index=False,
        date_format="%Y-%m-%d",
        lineterminator="\r\n" if has_cr else "\n",
        quoting=csv.QUOTE_MINIMAL,
    )


def write_table(df: pd.DataFrame, path: str | Path, for_people: bool = False) -> Path:
    """Write a frame as Parquet or CSV (by suffix, `csv_text`); dates as YYYY-MM-DD, unknown
    as empty. `for_people`: an answer a person opens in a spreadsheet, so CSV text is
    `formula_safe`."""
    path = Path(path)
    if for_people and not is_parquet(path):
        df = formula_safe(df)
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_parquet(path):
        df.to_parquet(path, index=False)
    else:
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write(csv_text(_for_writing(df)))
    return path
