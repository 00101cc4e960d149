"""Pandera schemas derived from the catalogue (no column list is written here).

Two schemas per catalogue: an *assessment* (a proposal, no outcome) and a *labelled record*
(assessment + the outcome). Both are strict: an unknown column (a misspelt factor) is an error,
except the generator's truth column, which is recognized but optional. The schemas check rules on a
frame whose columns already have their catalogue types (see `validation.parse_columns`)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from scalepredict.catalogue import Catalogue, Field
from scalepredict.catalogue.spec import TEXT_MAX  # the default; a catalogue sets `text_max`

# pandas dtype of each catalogue type once parsed; nullable integers keep "unknown" as <NA>.
DTYPES: dict[str, str] = {
    "string": "str",
    "category": "str",
    "integer": "Int64",
    "score": "Int64",
    "number": "float64",
    "date": "datetime64[ns]",
    "boolean": "Int64",  # 0 / 1
}


def _bound(f: Field, value: float | str) -> float | pd.Timestamp:
    return pd.Timestamp(value) if f.type == "date" else float(value)


def rule_checks(f: Field, text_max: int = TEXT_MAX) -> list[pa.Check]:
    """The value rules of one field, each with the message a user reads in a report."""
    checks: list[pa.Check] = []
    if f.type == "category" and f.categories:
        checks.append(pa.Check.isin(f.categories, error=f"one of: {', '.join(f.categories)}"))
    elif f.type == "score":
        checks.append(
            pa.Check.in_range(f.min, f.max, error=f"a whole score {f.min}..{f.max} (or empty)")
        )
    elif f.type == "boolean":
        checks.append(pa.Check.isin([0, 1], error="true or false"))
    elif f.type in ("string", "category"):
        checks.append(pa.Check.str_length(min_value=1, error="not blank"))
        # the same bound as the API's, on every path (a 3 MB id would be a 9 MB audit row)
        checks.append(
            pa.Check.str_length(max_value=text_max, error=f"at most {text_max} characters")
        )
    else:
        if f.min is not None:
            checks.append(pa.Check.ge(_bound(f, f.min), error=f">= {f.min}"))
        if f.max is not None:
            checks.append(pa.Check.le(_bound(f, f.max), error=f"<= {f.max}"))
    return checks


def _column(f: Field, text_max: int, required: bool = True) -> pa.Column:
    return pa.Column(
        DTYPES[f.type],
        checks=rule_checks(f, text_max),
        nullable=f.nullable,
        unique=f.unique,
        report_duplicates="all",
        required=required,
        title=f.name,
        description=f.description,
    )


def _schema(fields: tuple[Field, ...], cat: Catalogue, name: str) -> pa.DataFrameSchema:
    columns = {f.name: _column(f, cat.text_max) for f in fields}
    if cat.truth is not None:
        columns[cat.truth.name] = _column(cat.truth, cat.text_max, required=False)
    return pa.DataFrameSchema(columns, strict=True, ordered=False, name=name)


_SCHEMAS: dict[tuple[str, bool], pa.DataFrameSchema] = {}


def schema_for(cat: Catalogue, labelled: bool) -> pa.DataFrameSchema:
    """A proposal (context + factor scores) or a historical record (+ the outcome)."""
    key = (cat.fingerprint, labelled)
    if key not in _SCHEMAS:
        fields = cat.labelled_fields() if labelled else cat.assessment_fields()
        _SCHEMAS[key] = _schema(fields, cat, "labelled_record" if labelled else "assessment")
    return _SCHEMAS[key]


def fields_by_name(cat: Catalogue, labelled: bool) -> dict[str, Field]:
    fields = cat.labelled_fields() if labelled else cat.assessment_fields()
    return {f.name: f for f in (*fields, *([cat.truth] if cat.truth else []))}
