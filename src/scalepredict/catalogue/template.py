"""The data template for a funding body coding its own portfolio: an empty CSV with the right
header and the rubric as Markdown, both rendered from the catalogue."""

from __future__ import annotations

import csv
from pathlib import Path

from scalepredict.catalogue.types import Catalogue, Factor, Field


def _field_rule(f: Field) -> str:
    if f.type == "category" and f.categories:
        return "one of " + ", ".join(f"`{c}`" for c in f.categories)
    bounds = []
    if f.min is not None:
        bounds.append(f">= {f.min}")
    if f.max is not None:
        bounds.append(f"<= {f.max}")
    rule = {
        "date": "date YYYY-MM-DD",
        "integer": "whole number",
        "number": "number",
        "string": "text",
        "category": "text",
        "boolean": "true or false",
    }[f.type]
    extra = ", unique" if f.unique else ""
    return f"{rule}{', ' + ', '.join(bounds) if bounds else ''}{extra}"


def _column(f: Field | Factor) -> str:
    return f.column or f.name


def _levels(f: Factor) -> str:
    if not f.labels:
        return f"{f.scale_min}..{f.scale_max}"
    return ", ".join(f"{k} = {t}" for k, t in f.labels.items())


def rubric_markdown(cat: Catalogue) -> str:
    scales = {(f.scale_min, f.scale_max) for f in cat.factors}
    if len(scales) == 1 and not any(f.labels for f in cat.factors):
        lo, hi = next(iter(scales))
        how = f"Score every factor {lo}..{hi}"
    else:
        how = "Score every factor on its own scale (below; a level's label reads as its number)"
    unknown = ", ".join(f"`{t}`" for t in cat.unknown if t) or "an empty cell"
    lines = [
        f"# {cat.title or cat.name}: assessment rubric",
        "",
        f"{how} with the level whose description fits the evidence best. Leave the cell empty "
        f"(or write one of {unknown}) when you cannot answer: an unknown answer is better than "
        "a guess.",
        "",
        "## Context columns",
        "",
        "| column | required | rule | meaning |",
        "|---|---|---|---|",
    ]
    for f in cat.context:
        lines.append(
            f"| `{_column(f)}` | {'no' if f.nullable else 'yes'} | {_field_rule(f)} "
            f"| {f.description} |"
        )
    m = cat.outcome_map
    coding = f"success: {', '.join(m.success)}; failure: {', '.join(m.failure)}"
    if m.not_rated:
        coding += f"; not rated (left out): {', '.join(m.not_rated)}"
    lines += [
        f"| `{_column(cat.outcome)}` | only for history | {coding} | {cat.outcome.description} |",
        "",
    ]
    for d in cat.dimensions:
        lines += [f"## {d.label}", "", d.description, ""]
        for factor in cat.factors:
            if factor.dimension != d.name:
                continue
            lines += [f"### `{_column(factor)}`: {factor.label}", ""]
            if factor.question:
                lines += [f"*{factor.question}*", ""]
            if factor.rubric:
                lines += [f"- **{level}**: {text}" for level, text in factor.rubric.items()]
            else:
                lines.append(f"- levels: {_levels(factor)}")
            lines.append("")
    return "\n".join(lines)


def write_template(out_dir: str | Path, cat: Catalogue, labelled: bool = True) -> list[Path]:
    """Write `assessments.csv` (header only, the file's own column names) and `rubric.md`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fields = cat.labelled_fields() if labelled else cat.assessment_fields()
    fields = tuple(f for f in fields if not cat.filled_in(f.name))
    csv_path = out / "assessments.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow([_column(f) for f in fields])
    md_path = out / "rubric.md"
    md_path.write_text(rubric_markdown(cat), encoding="utf-8")
    return [csv_path, md_path]


def example_proposal(cat: Catalogue) -> dict[str, object]:
    """A proposal that satisfies every rule of the catalogue (the middle of each range, the
    first category, every factor at its middle level): a known-good input for smoke tests."""
    out: dict[str, object] = {}
    for f in cat.context:
        if f.type == "category":
            value: object = f.categories[0] if f.categories else "example"
        elif f.type == "string":
            value = "example-1" if f.name == cat.id_column else "example"
        elif f.type == "boolean":
            value = False
        elif f.type == "date":
            value = str(f.min or "2020-01-01")
        else:
            lo = float(f.min) if f.min is not None else 0.0
            hi = float(f.max) if f.max is not None else lo + 10
            value = (lo + hi) / 2 if f.type == "number" else int((lo + hi) // 2)
        out[f.name] = value
    for factor in cat.factors:
        out[factor.name] = (factor.scale_min + factor.scale_max) // 2
    return out
