"""The assessment catalogue: the single source of truth, loaded from `catalogue.yaml` into typed,
immutable objects. Everything else (schemas, generator, features, API models, the planner page,
the data template) is derived from the `Catalogue` returned by `load_catalogue()`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

FieldType = Literal["string", "category", "integer", "number", "date", "score"]
Role = Literal["identifier", "context", "outcome", "truth", "factor"]
Effort = Literal["low", "medium", "high"]


class CatalogueError(ValueError):
    """The catalogue file contradicts itself (unknown dimension, missing rubric level, ...)."""


@dataclass(frozen=True)
class Mitigation:
    action: str
    theme: str
    effort: Effort
    months: int


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    description: str


@dataclass(frozen=True)
class Factor:
    name: str
    dimension: str
    label: str
    question: str
    rubric: dict[int, str]
    mitigations: tuple[Mitigation, ...]


@dataclass(frozen=True)
class Field:
    """One column of an assessment file. Factors are fields too (type `score`)."""

    name: str
    role: Role
    type: FieldType
    description: str
    label: str = ""  # for people (the planner page's form, the OpenAPI titles)
    nullable: bool = False
    unique: bool = False
    feature: bool = False
    categories: tuple[str, ...] = ()
    min: float | str | None = None
    max: float | str | None = None


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    description: str


@dataclass(frozen=True)
class Example:
    """A worked assessment (the planner page's "load an example"); validated by the tests."""

    title: str
    proposal: dict[str, Any]


@dataclass(frozen=True)
class Catalogue:
    version: int
    scale_min: int
    scale_max: int
    themes: dict[str, Theme]
    effort_cost: dict[str, int]
    dimensions: tuple[Dimension, ...]
    factors: tuple[Factor, ...]
    context: tuple[Field, ...]
    outcome: Field
    truth: Field
    examples: tuple[Example, ...] = ()
    _factor_index: dict[str, Factor] = field(default_factory=dict, repr=False, compare=False)

    # --- names, derived once so callers never rebuild column lists -------------------------
    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    @property
    def dimension_names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    @property
    def scores(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))

    def factor(self, name: str) -> Factor:
        try:
            return self._factor_index[name]
        except KeyError:
            raise KeyError(f"unknown factor {name!r}") from None

    def factors_of(self, dimension: str) -> list[str]:
        return [f.name for f in self.factors if f.dimension == dimension]

    def context_field(self, name: str) -> Field:
        for f in self.context:
            if f.name == name:
                return f
        raise KeyError(f"unknown context field {name!r}")

    @property
    def id_column(self) -> str:
        """The unique identifier of an assessment (`initiative_id`)."""
        return next(f.name for f in self.context if f.unique)

    @property
    def stages(self) -> tuple[str, ...]:
        return self.context_field("stage").categories

    @property
    def factor_fields(self) -> tuple[Field, ...]:
        return tuple(
            Field(
                name=f.name,
                role="factor",
                type="score",
                description=f.question,
                label=f.label,
                nullable=True,  # an assessor may not know the answer
                feature=True,
                min=self.scale_min,
                max=self.scale_max,
            )
            for f in self.factors
        )

    def assessment_fields(self) -> tuple[Field, ...]:
        """Columns of a proposal, in file order: context then the 20 factors."""
        return self.context + self.factor_fields

    def labelled_fields(self) -> tuple[Field, ...]:
        return (*self.assessment_fields(), self.outcome)

    def assessment_columns(self) -> list[str]:
        return [f.name for f in self.assessment_fields()]

    def labelled_columns(self) -> list[str]:
        return [f.name for f in self.labelled_fields()]

    @property
    def feature_context(self) -> list[str]:
        """Context fields the model may use (never identifiers, outcome or truth)."""
        return [f.name for f in self.context if f.feature]


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
    text = resources.files("scalepredict").joinpath("catalogue.yaml").read_text(encoding="utf-8")
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
