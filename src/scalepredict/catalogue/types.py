"""The assessment catalogue's typed, immutable objects: dimensions, factors with their rubric
and mitigations, context fields, the outcome. Everything else (schemas, generator, features,
API models, the planner page, the data template) is derived from a `Catalogue`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
