"""The assessment catalogue's typed, immutable objects: dimensions, factors with their scale,
labels, direction, rubric and mitigations, context fields, the outcome and its mapping.
Everything else (schemas, generators, features, API models, the planner page, the data
template) is derived from the `Catalogue` it is given; the built-in smart-city catalogue is
only the default."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

FieldType = Literal["string", "category", "integer", "number", "date", "boolean", "score"]
Role = Literal["identifier", "context", "outcome", "truth", "factor"]
Effort = str
ALL_STAGES = "all"  # the one booster's key when a catalogue has no stage field


class CatalogueError(ValueError):
    """The catalogue contradicts itself; `problems` holds (path in the file, rule) pairs."""

    def __init__(self, problems: list[tuple[str, str]] | str, source: str = "catalogue") -> None:
        self.problems = [(source, problems)] if isinstance(problems, str) else problems
        lines = [f"{path}: {rule}" for path, rule in self.problems]
        super().__init__(f"{source}: {len(lines)} problem(s)\n  " + "\n  ".join(lines))


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
    scale_min: int = 1
    scale_max: int = 5
    labels: dict[int, str] = field(default_factory=dict)  # level -> text, as a file may hold it
    direction: int = 1  # +1 a higher level helps, -1 it hurts, 0 no known direction
    column: str = ""  # the column's name in the user's file ("" = the name)
    other_labels: dict[int, tuple[str, ...]] = field(default_factory=dict)  # more spellings
    actionable: bool = True  # False: in the model and the explanation, never in a plan

    @property
    def movable(self) -> bool:
        """Whether a plan may step this factor: it has a direction and a team can act on it."""
        return self.direction != 0 and self.actionable

    @property
    def levels(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))

    @property
    def best(self) -> int:
        return self.scale_min if self.direction < 0 else self.scale_max


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
    column: str = ""
    log: bool = False
    direction: int = 0
    labels: dict[int, str] = field(default_factory=dict)
    other_labels: dict[int, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The outcome column and which of its values mean success (1) and failure (0); values in
    `not_rated` leave a row out of training, counted."""

    field: Field
    success: tuple[str, ...]
    failure: tuple[str, ...]
    not_rated: tuple[str, ...] = ()
    success_text: str = "succeeds"  # "90% confident it <success_text>"
    failure_text: str = "does not succeed"

    def code(self, value: str) -> float | None:
        """1.0, 0.0, NaN for not rated, or None for a value the catalogue does not know."""
        v = _norm(value)
        if v in {_norm(s) for s in self.success}:
            return 1.0
        if v in {_norm(s) for s in self.failure}:
            return 0.0
        if v in {_norm(s) for s in self.not_rated}:
            return float("nan")
        return None

    def canonical(self, value: Any) -> str | None:
        """The catalogue's own spelling of `value` ("1.0" -> "1"), or None if it knows none."""
        v = _norm(value)
        return next(
            (str(s) for s in (*self.success, *self.failure, *self.not_rated) if _norm(s) == v),
            None,
        )

    @property
    def values(self) -> tuple[str, ...]:
        return (*self.success, *self.failure, *self.not_rated)


def fold(text: str) -> str:
    """How labels and categories are matched: spaces at the ends and case do not count."""
    return text.strip().casefold()


def spellings(f: Field | Factor) -> dict[str, int]:
    """Every label of a scale, folded -> its level (the shown label and any other spelling)."""
    out = {fold(t): k for k, t in f.labels.items()}
    out.update({fold(t): k for k, ts in f.other_labels.items() for t in ts})
    return out


def category_spellings(f: Field) -> dict[str, str]:
    """A closed list's categories, folded -> as the catalogue writes them; a folded spelling
    two categories share ("IDA" and "ida") is left out: only its exact spellings match."""
    folded: dict[str, list[str]] = {}
    for c in f.categories:
        folded.setdefault(fold(c), []).append(c)
    return {k: v[0] for k, v in folded.items() if len(v) == 1}


def _norm(value: Any) -> str:
    text = str(value).strip()
    try:  # "1", "1.0" and 1 are the same value
        number = float(text)
        return str(int(number)) if number.is_integer() else text.casefold()
    except ValueError:
        return text.casefold()


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    description: str


@dataclass(frozen=True)
class Subgroup:
    """A group the metrics are broken down by: a numeric range or a set of values of a field."""

    name: str
    field: str
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Example:
    """A worked assessment (the planner page's "load an example"); validated by the tests."""

    title: str
    proposal: dict[str, Any]


@dataclass(frozen=True)
class Catalogue:
    version: int
    themes: dict[str, Theme]
    effort_cost: dict[str, int]
    dimensions: tuple[Dimension, ...]
    factors: tuple[Factor, ...]
    context: tuple[Field, ...]
    outcome: Field
    truth: Field | None
    outcome_map: Outcome
    examples: tuple[Example, ...] = ()
    name: str = "custom"
    title: str = ""
    model_name: str | None = None
    unknown: tuple[str, ...] = ()
    unknown_policy: str = "middle"  # how a blank answer is scored (`model.unknowns`)
    identifier: str = ""  # the key's first field (answers name a proposal by it)
    group: str | None = None
    stage: str | None = None
    date: str | None = None
    default_effort: str = "medium"
    effort_unit: tuple[str, str] = ("person-month", "person-months")  # of a cost of 1, of others
    ignore: tuple[str, ...] = ()
    subgroups: tuple[Subgroup, ...] = ()
    key: tuple[str, ...] = ()  # the identifier's fields: one, or a composite key
    file_row: bool = False  # the identifier is the row in the file (`identifier: file_row`)
    text_max: int = 256  # most characters in a text cell
    source: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _factor_index: dict[str, Factor] = field(default_factory=dict, repr=False, compare=False)

    # --- names, derived once so callers never rebuild column lists -------------------------
    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    @property
    def dimension_names(self) -> list[str]:
        return [d.name for d in self.dimensions]

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
        """The unique identifier of an assessment (`initiative_id` in the built-in one)."""
        return self.identifier

    def filled_in(self, name: str) -> bool:
        """Whether the reader fills field `name` in (a file-row identifier): a file, a request
        and a pyfunc input may leave it out."""
        return self.file_row and name == self.identifier

    @property
    def stages(self) -> tuple[str, ...]:
        """The stage field's categories, in order; () when the catalogue has no stage."""
        return self.context_field(self.stage).categories if self.stage else ()

    @property
    def booster_keys(self) -> tuple[str, ...]:
        """One booster per stage, or one for all rows."""
        return self.stages or (ALL_STAGES,)

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
                min=f.scale_min,
                max=f.scale_max,
                column=f.column,
                labels=f.labels,
                other_labels=f.other_labels,
                direction=f.direction,
            )
            for f in self.factors
        )

    def assessment_fields(self) -> tuple[Field, ...]:
        """Columns of a proposal, in file order: context then the factors."""
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

    @property
    def history_columns(self) -> tuple[str, ...]:
        """Columns only history has (the outcome, the generator's truth)."""
        return (self.outcome.name,) + ((self.truth.name,) if self.truth else ())

    @property
    def renames(self) -> dict[str, str]:
        """The user's column name -> field name, for every field whose column differs."""
        fields = (*self.assessment_fields(), self.outcome, *([self.truth] if self.truth else []))
        return {f.column: f.name for f in fields if f.column and f.column != f.name}

    @cached_property  # hot loops (the plan search) key caches on it; the source never changes
    def fingerprint(self) -> str:
        """Hash of the whole catalogue as written: a model serves only its own catalogue."""
        text = json.dumps(self.source, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
