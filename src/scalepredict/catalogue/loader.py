"""Reading a catalogue: the YAML mapping -> a checked `Catalogue`, the built-in one, and the
JSON view the API and the planner page read."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

from scalepredict.catalogue.types import (
    Catalogue,
    CatalogueError,
    Dimension,
    Example,
    Factor,
    Field,
    Mitigation,
    Theme,
)

BUILT_IN = "catalogue.yaml"


def _field(raw: dict[str, Any]) -> Field:
    return Field(
        name=raw["name"],
        role=raw["role"],
        type=raw["type"],
        description=raw.get("description", ""),
        label=raw.get("label", ""),
        nullable=bool(raw.get("nullable", False)),
        unique=bool(raw.get("unique", False)),
        feature=bool(raw.get("feature", False)),
        categories=tuple(raw.get("categories", ())),
        min=raw.get("min"),
        max=raw.get("max"),
    )


def parse_catalogue(raw: dict[str, Any]) -> Catalogue:
    """Build and check a Catalogue from its YAML mapping."""
    scale = raw["scale"]
    lo, hi = int(scale["min"]), int(scale["max"])
    themes = {name: Theme(name, t["label"], t["description"]) for name, t in raw["themes"].items()}
    effort_cost = {name: int(e["cost"]) for name, e in raw["efforts"].items()}
    dimensions = tuple(
        Dimension(d["name"], d["label"], d["description"]) for d in raw["dimensions"]
    )
    dim_names = {d.name for d in dimensions}
    factors = []
    for f in raw["factors"]:
        name = f["name"]
        if f["dimension"] not in dim_names:
            raise CatalogueError(f"factor {name}: unknown dimension {f['dimension']!r}")
        rubric = {int(k): str(v) for k, v in f["rubric"].items()}
        if sorted(rubric) != list(range(lo, hi + 1)):
            raise CatalogueError(f"factor {name}: rubric must describe every level {lo}..{hi}")
        mitigations = tuple(
            Mitigation(m["action"], m["theme"], m["effort"], int(m["months"]))
            for m in f["mitigations"]
        )
        if len(mitigations) < 2:
            raise CatalogueError(f"factor {name}: needs at least two mitigation actions")
        for m in mitigations:
            if m.theme not in themes:
                raise CatalogueError(f"factor {name}: unknown theme {m.theme!r}")
            if m.effort not in effort_cost:
                raise CatalogueError(f"factor {name}: unknown effort {m.effort!r}")
        factors.append(Factor(name, f["dimension"], f["label"], f["question"], rubric, mitigations))
    names = [f.name for f in factors] + [c["name"] for c in raw["context"]]
    if len(names) != len(set(names)):
        raise CatalogueError("factor and context names must be unique")
    for d in dimensions:
        if not any(f.dimension == d.name for f in factors):
            raise CatalogueError(f"dimension {d.name} has no factor")
    return Catalogue(
        version=int(raw["version"]),
        scale_min=lo,
        scale_max=hi,
        themes=themes,
        effort_cost=effort_cost,
        dimensions=dimensions,
        factors=tuple(factors),
        context=tuple(_field(c) for c in raw["context"]),
        outcome=_field(raw["outcome"]),
        truth=_field(raw["truth"]),
        examples=tuple(Example(e["title"], dict(e["proposal"])) for e in raw.get("examples", ())),
        _factor_index={f.name: f for f in factors},
    )


@cache
def load_catalogue() -> Catalogue:
    text = resources.files("scalepredict.catalogue").joinpath(BUILT_IN).read_text(encoding="utf-8")
    return parse_catalogue(yaml.safe_load(text))


def catalogue_dict(cat: Catalogue | None = None) -> dict[str, Any]:
    """A JSON-ready view of the catalogue (for the API, the page and the template)."""
    cat = cat or load_catalogue()
    return {
        "version": cat.version,
        "scale": {"min": cat.scale_min, "max": cat.scale_max},
        "themes": {
            t.name: {"label": t.label, "description": t.description} for t in cat.themes.values()
        },
        "efforts": cat.effort_cost,
        "dimensions": [
            {
                "name": d.name,
                "label": d.label,
                "description": d.description,
                "factors": [
                    {
                        "name": f.name,
                        "label": f.label,
                        "question": f.question,
                        "rubric": {str(k): v for k, v in f.rubric.items()},
                        "mitigations": [m.__dict__ for m in f.mitigations],
                    }
                    for f in cat.factors
                    if f.dimension == d.name
                ],
            }
            for d in cat.dimensions
        ],
        "context": [
            {k: v for k, v in c.__dict__.items() if v not in (None, ())} for c in cat.context
        ],
        "outcome": {"name": cat.outcome.name, "description": cat.outcome.description},
        "examples": [{"title": e.title, "proposal": e.proposal} for e in cat.examples],
    }
