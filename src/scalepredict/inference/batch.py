"""A big Parquet file in parts: what one part's task does, wherever it runs.

Each part is a range of rows, read on its own (`tables.read_parquet_rows`), validated with the
same schema as a whole file (`validation.validate_table`) and numbered as in the whole file, so
a problem names the row a person finds. The rules that span parts (a field that must be unique)
are checked across the parts' values (`duplicates_across`). A scored part is written as one
Parquet file, under a temporary name first: a retried task overwrites its own part, and no
reader ever sees half a file. `cluster.py` runs these functions on Dask."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from scalepredict.catalogue import Catalogue
from scalepredict.data.schema import fields_by_name
from scalepredict.data.tables import FileLimits, read_parquet_rows
from scalepredict.data.validation import (
    PROBLEM_COLUMNS,
    ValidationResult,
    in_catalogue_names,
    validate_table,
)
from scalepredict.inference.explain import importance_sums
from scalepredict.inference.predictor import Predictor, flat_record

DUPLICATE_RULE = "unique (duplicate value)"  # the schema's words for it


@dataclass(frozen=True)
class Part:
    number: int
    start: int  # 0-based row of the whole file
    stop: int

    @property
    def name(self) -> str:
        return f"part-{self.number:05d}.parquet"


@dataclass(frozen=True)
class ScoreOptions:
    explain: bool = True
    plan: bool = False
    target: float | None = None
    max_effort: float | None = None


@dataclass
class PartCheck:
    """One part's validation: its problems (rows of the whole file) and, for each field that
    must be unique, its values by row, for the check across parts."""

    problems: pd.DataFrame
    unique_values: dict[str, pd.Series]


def split_rows(rows: int, per_part: int) -> list[Part]:
    return [
        Part(k, start, min(start + per_part, rows))
        for k, start in enumerate(range(0, rows, per_part))
    ]


def _validated(
    path: Path, part: Part, cat: Catalogue, labelled: bool, limits: FileLimits
) -> ValidationResult:
    return validate_table(read_parquet_rows(path, part.start, part.stop, limits), labelled, cat)


def check_part(
    path: Path, part: Part, cat: Catalogue, labelled: bool, limits: FileLimits
) -> PartCheck:
    result = _validated(path, part, cat, labelled, limits)
    raw = in_catalogue_names(result.raw, cat).frame
    uniques = {
        name: pd.Series(raw[name].to_numpy(), index=raw.index + result.raw.first_row)
        for name, f in fields_by_name(cat, labelled).items()
        if f.unique and name in raw
    }
    return PartCheck(result.problems, uniques)


def duplicates_across(checks: list[PartCheck], cat: Catalogue) -> pd.DataFrame:
    """Every row whose unique field repeats a value of another part (repeats inside one part
    are in that part's problems already), as problem rows."""
    shown = {n: c for c, n in cat.renames.items()}
    ids_by_row = pd.concat([c.unique_values.get(cat.id_column, pd.Series()) for c in checks])
    found = []
    for name in {n for c in checks for n in c.unique_values}:
        values = [c.unique_values[name].dropna() for c in checks]
        owner = pd.concat(
            [pd.Series(k, index=v.index) for k, v in enumerate(values)], ignore_index=False
        )
        every = pd.concat(values)
        parts_per_value = owner.groupby(every.to_numpy()).nunique()
        spanning = parts_per_value.index[parts_per_value > 1]
        hit = every[every.isin(spanning)]
        found.append(
            pd.DataFrame(
                {
                    "row": hit.index.astype("Int64"),
                    "initiative_id": ids_by_row.reindex(hit.index).fillna("").to_numpy(),
                    "column": shown.get(name, name),
                    "rule": DUPLICATE_RULE,
                    "value": hit.astype(str).to_numpy(),
                }
            )
        )
    if not found:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    return pd.concat(found, ignore_index=True)


def merge_problems(checks: list[PartCheck], cat: Catalogue) -> pd.DataFrame:
    """All problems of all parts, as one report sorted by row (a row's duplicate named once)."""
    tables = [c.problems for c in checks if not c.problems.empty]
    tables.append(duplicates_across(checks, cat))
    tables = [t for t in tables if not t.empty]
    if not tables:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    p = pd.concat(tables, ignore_index=True).drop_duplicates(subset=["row", "column"])
    return p.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def score_frame(predictor: Predictor, frame: pd.DataFrame, options: ScoreOptions) -> pd.DataFrame:
    """The flat rows `score` writes (one per assessment), for a whole file or a part of it."""
    records = predictor.assess(
        frame,
        explain=options.explain,
        plan=options.plan,
        target=options.target,
        max_effort=options.max_effort,
    )
    return pd.DataFrame([flat_record(r) for r in records])


def score_part(
    predictor: Predictor,
    path: Path,
    part: Part,
    labelled: bool,
    options: ScoreOptions,
    dest: Path,
    limits: FileLimits,
) -> int:
    """Score one part into `dest/part-NNNNN.parquet`; the rows written."""
    result = _validated(path, part, predictor.bundle.catalogue, labelled, limits)
    if not result.valid:  # the file changed since it was checked
        raise ValueError(f"{path}: rows {part.start + 1}..{part.stop} no longer validate")
    table = score_frame(predictor, result.frame, options)
    partial = dest / f".{part.name}.{os.getpid()}.tmp"
    table.to_parquet(partial, index=False)
    partial.replace(dest / part.name)
    return len(table)


def importance_part(
    predictor: Predictor, path: Path, part: Part, labelled: bool, limits: FileLimits
) -> dict:
    """One part's |SHAP| sums per stage (see `explain.importance_sums`)."""
    result = _validated(path, part, predictor.bundle.catalogue, labelled, limits)
    if not result.valid:
        raise ValueError(f"{path}: rows {part.start + 1}..{part.stop} no longer validate")
    return importance_sums(predictor.bundle, result.frame)
