"""The identifier of a row: one context field, or several (a composite key such as project and
evaluation year), or the row in the file for an export without any id. A field marked `unique`
and a composite key refuse repeats (each repeat is a problem row); a field that is no key (a
project's name, evaluated twice) keeps its repeats and they are reported, so no row is ever
dropped without a word."""

from __future__ import annotations

import pandas as pd

from scalepredict.catalogue import Catalogue

SEPARATOR = " / "  # between a composite key's values where one text names a row
EXAMPLES = 3  # repeated values named in the report


def with_file_rows(frame: pd.DataFrame, cat: Catalogue, first_row: int) -> pd.DataFrame:
    """`frame` with the file-row identifier filled in where the catalogue names rows by their
    row in the file: each cell left blank (or the whole column, absent) gets its row; a value
    given is kept (and checked as any identifier is)."""
    if not cat.file_row:
        return frame
    rows = pd.Series(frame.index + first_row, index=frame.index, dtype=object)
    name = cat.id_column
    if name not in frame:
        return frame.assign(**{name: rows})[[name, *frame.columns]]
    cells = frame[name].astype(object)
    blank = cells.isna() | cells.isin(cat.unknown)
    return frame.assign(**{name: cells.where(~blank, rows)}) if blank.any() else frame


NO_LASTING_KEY = (
    "this catalogue names each project by its row in a file (identifier: file_row), which "
    "another file does not keep: outcomes need an identifier field that stays with the project"
)


def key_text(frame: pd.DataFrame, cat: Catalogue) -> pd.Series | None:
    """Each row's identifier as text ("P001 / 2019" for a composite key), or None when the
    frame lacks a key field."""
    if any(k not in frame for k in cat.key):
        return None
    if len(cat.key) == 1:
        return frame[cat.key[0]]
    parts = [frame[k].astype("object").map(lambda v: "" if pd.isna(v) else str(v)) for k in cat.key]
    out = parts[0]
    for p in parts[1:]:
        out = out + SEPARATOR + p
    return out


def duplicated_key(frame: pd.DataFrame, cat: Catalogue) -> pd.Series:
    """Rows whose composite key repeats another row's (all of them), as a mask; a single
    identifier field's repeats are the schema's (`unique`) or the report's."""
    if len(cat.key) < 2 or any(k not in frame for k in cat.key):
        return pd.Series(False, index=frame.index)
    return frame.duplicated(subset=list(cat.key), keep=False)


def repeats(frame: pd.DataFrame, cat: Catalogue, first_row: int = 1) -> str:
    """The repeats of an identifier that is no key, in words ("" when none): kept, reported."""
    if len(cat.key) != 1 or cat.key[0] not in frame:
        return ""
    name = cat.key[0]
    if cat.context_field(name).unique:
        return ""  # repeats are problems there, quarantined and counted
    ids = frame[name]
    twice = ids.notna() & ids.duplicated(keep=False)
    if not twice.any():
        return ""
    shown = {n: c for c, n in cat.renames.items()}.get(name, name)
    rows = pd.Series(frame.index[twice.to_numpy()] + first_row, index=ids[twice].to_numpy())
    examples = []
    for value, at in list(rows.groupby(level=0, sort=False))[:EXAMPLES]:
        examples.append(f"{str(value)[:60]!r} at rows {', '.join(map(str, at.to_numpy()))}")
    n_values = int(ids[twice].nunique())
    return (
        f"{n_values} {shown} value(s) repeat in {int(twice.sum())} row(s), all kept "
        f"(e.g. {'; '.join(examples)}); {name} is no unique key: mark it unique: true to "
        "refuse repeats, or make the identifier a list of fields"
    )
