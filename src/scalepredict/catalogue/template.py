"""The data template for a funding body coding its own portfolio: an empty CSV with the right
header and the rubric as Markdown, both rendered from the catalogue."""

from __future__ import annotations

from pathlib import Path

from scalepredict.catalogue import Catalogue, Field, load_catalogue


def _field_rule(f: Field) -> str:
    if f.type == "category":
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
    }[f.type]
    extra = ", unique" if f.unique else ""
    return f"{rule}{', ' + ', '.join(bounds) if bounds else ''}{extra}"


def rubric_markdown(cat: Catalogue | None = None) -> str:
    cat = cat or load_catalogue()
    lines = [
        "# ScalePredict assessment rubric",
        "",
        f"Score every factor {cat.scale_min}..{cat.scale_max} with the level whose description "
        "fits the evidence best. Leave the cell empty when you cannot answer: an unknown answer "
        "is better than a guess.",
        "",
        "## Context columns",
        "",
        "| column | required | rule | meaning |",
        "|---|---|---|---|",
    ]
    for f in cat.context:
        lines.append(
            f"| `{f.name}` | {'no' if f.nullable else 'yes'} | {_field_rule(f)} | {f.description} |"
        )
    o = cat.outcome
    lines += [
        f"| `{o.name}` | only for history | 0 or 1 | {o.description} |",
        "",
    ]
    for d in cat.dimensions:
        lines += [f"## {d.label}", "", d.description, ""]
        for factor in cat.factors:
            if factor.dimension != d.name:
                continue
            lines += [f"### `{factor.name}`: {factor.label}", "", f"*{factor.question}*", ""]
            lines += [f"- **{level}**: {text}" for level, text in factor.rubric.items()]
            lines.append("")
    return "\n".join(lines)


def write_template(out_dir: str | Path, labelled: bool = True) -> list[Path]:
    """Write `assessments.csv` (header only) and `rubric.md` into `out_dir`."""
    cat = load_catalogue()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    columns = cat.labelled_columns() if labelled else cat.assessment_columns()
    csv_path = out / "assessments.csv"
    csv_path.write_text(",".join(columns) + "\n", encoding="utf-8")
    md_path = out / "rubric.md"
    md_path.write_text(rubric_markdown(cat), encoding="utf-8")
    return [csv_path, md_path]
