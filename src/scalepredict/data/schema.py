"""Pandera schemas derived from the catalogue (no column list is written here).

Two schemas: an *assessment* (a proposal, no outcome) and a *labelled record* (assessment +
`scaled_up`). Both are strict: an unknown column (a misspelt factor) is an error, except the
generator's `true_probability`, which is recognized but optional. The schemas check rules on a
frame whose columns already have their catalogue types (see `validation.parse_columns`)."""

from __future__ import annotations

from functools import cache

import pandas as pd
import pandera.pandas as pa

from scalepredict.catalogue import Catalogue, Field, load_catalogue

# pandas dtype of each catalogue type once parsed; nullable integers keep "unknown" as <NA>.
DTYPES: dict[str, str] = {
    "string": "str",
    "category": "str",
    "integer": "Int64",
    "score": "Int64",
    "number": "float64",
    "date": "datetime64[ns]",
}


def _bound(f: Field, value: float | str) -> float | pd.Timestamp:
    return pd.Timestamp(value) if f.type == "date" else float(value)


def rule_checks(f: Field) -> list[pa.Check]:
    """The value rules of one field, each with the message a user reads in a report."""
    checks: list[pa.Check] = []
    if f.type == "category":
        checks.append(pa.Check.isin(f.categories, error=f"one of: {', '.join(f.categories)}"))
    elif f.type == "score":
        checks.append(
            pa.Check.in_range(f.min, f.max, error=f"a whole score {f.min}..{f.max} (or empty)")
        )
    elif f.type == "string":
        checks.append(pa.Check.str_length(min_value=1, error="not blank"))
    else:
        if f.min is not None:
            checks.append(pa.Check.ge(_bound(f, f.min), error=f">= {f.min}"))
        if f.max is not None:
            checks.append(pa.Check.le(_bound(f, f.max), error=f"<= {f.max}"))
    return checks


def _column(f: Field, required: bool = True) -> pa.Column:
    return pa.Column(
        DTYPES[f.type],
        checks=rule_checks(f),
        nullable=f.nullable,
        unique=f.unique,
        report_duplicates="all",
        required=required,
        title=f.name,
        description=f.description,
    )


def _schema(fields: tuple[Field, ...], cat: Catalogue, name: str) -> pa.DataFrameSchema:
    columns = {f.name: _column(f) for f in fields}
    columns[cat.truth.name] = _column(cat.truth, required=False)
    return pa.DataFrameSchema(columns, strict=True, ordered=False, name=name)


@cache
def assessment_schema() -> pa.DataFrameSchema:
    """A proposal: context + factor scores, no outcome."""
    cat = load_catalogue()
    return _schema(cat.assessment_fields(), cat, "assessment")


@cache
def labelled_schema() -> pa.DataFrameSchema:
    """A historical record: an assessment plus the observed `scaled_up` outcome."""
    cat = load_catalogue()
    return _schema(cat.labelled_fields(), cat, "labelled_record")


def fields_by_name(labelled: bool) -> dict[str, Field]:
    cat = load_catalogue()
    fields = cat.labelled_fields() if labelled else cat.assessment_fields()
    return {f.name: f for f in (*fields, cat.truth)}
