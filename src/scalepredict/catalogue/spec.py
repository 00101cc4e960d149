"""The catalogue file format, as pydantic models: what a user writes in `catalogue.yaml`.

`check_spec` finds every contradiction at once, each with its path in the file
(`factors[3] (data_quality).dimension`), and `loader.parse_catalogue` turns a checked spec into
the immutable `Catalogue` the rest of the package works with. `scalepredict catalogue schema`
prints the JSON Schema of `CatalogueSpec`."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT_VERSION = 2
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# The model's derived features (`model.features`): each dimension's mean score and the weakest
# of them. No field may take their names, and "context" is the explanations' key for the
# context fields' share, so no dimension may take it.
DIMENSION_MEAN, WEAKEST, CONTEXT = "mean_{}", "weakest_dimension", "context"
# Cells that mean "unknown" unless a catalogue says otherwise.
DEFAULT_UNKNOWN = ["", "NA", "N/A", "n/a", "na", "null", "NULL", "None", "unknown", "Unknown", "?"]
FieldType = Literal["string", "category", "integer", "number", "date", "boolean"]
Direction = Literal[1, -1, 0]
TEXT_MAX = 256  # characters in a text cell by default (a 3 MB id would be a 9 MB audit row)
# `identifier: file_row` where no context field has that name: an export without any id names
# each project by its row in the file (the header is row 1), a field the reader fills in.
FILE_ROW = "file_row"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScaleSpec(_Spec):
    """An ordinal scale: whole levels `min..max`, optionally a text label per level (a file may
    hold the labels or the numbers)."""

    min: int
    max: int
    labels: dict[int, str | list[str]] = Field(
        default_factory=dict, description="a label per level, or a list: the first is shown"
    )


class MitigationSpec(_Spec):
    action: str = Field(min_length=1)
    theme: str | None = None
    effort: str = "medium"
    months: int = Field(3, ge=0)


class DimensionSpec(_Spec):
    name: str
    label: str = ""
    description: str = ""


class FactorSpec(_Spec):
    name: str
    dimension: str
    label: str = ""
    question: str = ""
    column: str | None = Field(None, description="the column's name in the user's file")
    scale: ScaleSpec | None = Field(None, description="default: the catalogue's scale")
    direction: Direction = Field(1, description="+1: a higher level helps; -1: hurts; 0: none")
    actionable: bool = Field(
        True,
        description="false: no team can change it (an after-the-fact rating): it stays in the "
        "model, the checklist and the explanation, but a plan never moves it",
    )
    rubric: dict[int, str] = Field(default_factory=dict, description="text per level")
    mitigations: list[MitigationSpec] = Field(default_factory=list)


class FieldSpec(_Spec):
    """A context column (or the identifier, the truth): its type and rule."""

    name: str
    type: FieldType
    column: str | None = None
    label: str = ""
    description: str = ""
    role: Literal["identifier", "context", "truth"] = "context"
    nullable: bool = False
    unique: bool = False
    feature: bool = False
    categories: list[str] | None = Field(None, description="closed list; absent: any text")
    min: float | str | None = None
    max: float | str | None = None
    log: bool = Field(False, description="the model sees log10 of the value")
    direction: Direction | None = Field(None, description="monotone effect on the outcome")


class OutcomeSpec(_Spec):
    """The outcome column and which of its values mean success; `not_rated` values are excluded
    from training and counted."""

    name: str
    column: str | None = None
    label: str = ""
    description: str = ""
    success: list[str | int] = Field(min_length=1)
    failure: list[str | int] = Field(min_length=1)
    not_rated: list[str | int] = Field(default_factory=list)
    values: list[str | int] | None = Field(None, description="every value the column may hold")
    success_text: str = Field("succeeds", description="how statements say success")
    failure_text: str = Field("does not succeed", description="how statements say failure")


class ThemeSpec(_Spec):
    label: str
    description: str = ""


class EffortSpec(_Spec):
    cost: int = Field(ge=1)
    description: str = ""


class EffortUnitSpec(_Spec):
    """What one effort cost counts: person-months by default, or money ("k EUR"), days..."""

    one: str = Field("person-month", min_length=1, description="the unit of a cost of 1")
    many: str = Field("person-months", min_length=1, description="the unit of any other cost")


class SubgroupSpec(_Spec):
    """A group the metrics are broken down by (small cities, poor cities, ...): the rows whose
    field is in `values`, or in [min, max) (either bound may be absent)."""

    name: str
    field: str
    min: float | None = None
    max: float | None = None
    values: list[str] | None = None


class ExampleSpec(_Spec):
    title: str
    proposal: dict[str, Any]


def _default_efforts() -> dict[str, EffortSpec]:
    return {"low": EffortSpec(cost=1), "medium": EffortSpec(cost=2), "high": EffortSpec(cost=4)}


class CatalogueSpec(_Spec):
    version: int = Field(FORMAT_VERSION, ge=1, le=FORMAT_VERSION)
    name: str = "custom"
    title: str = ""
    model_name: str | None = Field(None, description="registered model name for this catalogue")
    identifier: str | list[str] | None = Field(
        None,
        description="the context field that identifies a row, or a list of them (a composite "
        f"key), or {FILE_ROW} (the row in the file); default: the context field marked unique",
    )
    text_max: int = Field(TEXT_MAX, gt=0, description="most characters in a text cell")
    group: str | None = Field(None, description="context field the split is grouped by")
    stage: str | None = Field(None, description="category field: one booster per stage")
    date: str | None = Field(None, description="date field for a time-ordered split")
    scale: ScaleSpec | None = None
    unknown: list[str] = Field(default_factory=lambda: list(DEFAULT_UNKNOWN))
    unknown_policy: Literal["middle", "lowest", "learned"] = Field(
        "middle",
        description="how a blank answer is scored: never better than the middle of the scale "
        "(middle), than its least favourable level (lowest), or as the model learned (learned)",
    )
    themes: dict[str, ThemeSpec] = Field(default_factory=dict)
    efforts: dict[str, EffortSpec] = Field(default_factory=_default_efforts)
    default_effort: str = "medium"
    effort_unit: EffortUnitSpec = Field(
        default_factory=EffortUnitSpec, description="the unit of the efforts' costs"
    )
    dimensions: list[DimensionSpec] = Field(min_length=1)
    factors: list[FactorSpec] = Field(min_length=1)
    context: list[FieldSpec] = Field(min_length=1)
    outcome: OutcomeSpec
    truth: FieldSpec | None = None
    ignore: list[str] = Field(default_factory=list, description="file columns to drop")
    subgroups: list[SubgroupSpec] = Field(default_factory=list)
    examples: list[ExampleSpec] = Field(default_factory=list)


def label_list(labels: str | list[str]) -> list[str]:
    """A level's labels as a list (one label may be written alone)."""
    return [labels] if isinstance(labels, str) else list(labels)


def identifier_fields(spec: CatalogueSpec) -> list[str]:
    """The identifier's context fields: one, several (a composite key), or none named."""
    ref = spec.identifier
    return [] if ref is None else [ref] if isinstance(ref, str) else list(ref)


def by_file_row(spec: CatalogueSpec) -> bool:
    """Whether each row is named by its row in the file (`identifier: file_row`, no such field)."""
    return spec.identifier == FILE_ROW and all(c.name != FILE_ROW for c in spec.context)


def _levels(spec: CatalogueSpec, f: FactorSpec) -> ScaleSpec | None:
    return f.scale or spec.scale


def check_spec(spec: CatalogueSpec, max_levels: int = 101) -> list[tuple[str, str]]:
    """Every contradiction in a parsed spec: (path in the file, rule broken); a scale of more
    than `max_levels` levels is one (checked before its levels are listed)."""
    out: list[tuple[str, str]] = []
    dims = [d.name for d in spec.dimensions]
    context = {c.name: c for c in spec.context}
    for i, d in enumerate(spec.dimensions):
        if not any(f.dimension == d.name for f in spec.factors):
            out.append((f"dimensions[{i}] ({d.name})", "a dimension needs at least one factor"))
        if dims.index(d.name) != i:
            out.append((f"dimensions[{i}].name", f"dimension {d.name!r} is listed twice"))
        if d.name == CONTEXT or set(d.name) & set("[]<"):
            out.append((f"dimensions[{i}].name", "not 'context', and no [, ] or < in it"))
    derived = {WEAKEST, *(DIMENSION_MEAN.format(d) for d in dims)}
    names: dict[str, str] = {}
    columns: dict[str, str] = {}

    def claim(name: str, column: str | None, path: str) -> None:
        if not NAME.match(name):
            out.append((f"{path}.name", "lower-case letters, digits and _ (a Python name)"))
        if name in names:
            out.append((f"{path}.name", f"name {name!r} is used twice (also {names[name]})"))
        if name in derived:
            out.append((f"{path}.name", f"{name!r} is the name of a derived model feature"))
        names.setdefault(name, path)
        col = column or name
        if col in columns:
            out.append((f"{path}.column", f"column {col!r} is mapped twice (also {columns[col]})"))
        columns.setdefault(col, path)

    for i, f in enumerate(spec.factors):
        path = f"factors[{i}] ({f.name})"
        claim(f.name, f.column, path)
        if f.dimension not in dims:
            out.append((f"{path}.dimension", f"unknown dimension {f.dimension!r}; one of {dims}"))
        scale = _levels(spec, f)
        if scale is None:
            out.append((f"{path}.scale", "no scale: give one here or at the top of the file"))
            continue
        if scale.max <= scale.min:
            out.append((f"{path}.scale", "max must be above min"))
            continue
        if scale.max - scale.min + 1 > max_levels:
            out.append((f"{path}.scale", f"at most {max_levels} levels"))
            continue
        levels = set(range(scale.min, scale.max + 1))
        if set(scale.labels) - levels:
            out.append((f"{path}.scale.labels", f"labels only for levels {scale.min}..{scale.max}"))
        spelt = [(k, t) for k, ts in scale.labels.items() for t in label_list(ts)]
        texts = [t.strip().casefold() for _, t in spelt]
        if len(texts) != len(set(texts)):
            out.append((f"{path}.scale.labels", "a level label is used twice"))
        if any(not label_list(ts) for ts in scale.labels.values()):
            out.append((f"{path}.scale.labels", "a level's list of labels cannot be empty"))
        # a file may hold the labels or the numbers: label "2" on level 1 makes a 2 ambiguous
        if any(t.strip().isdigit() and int(t) != k for k, t in spelt):
            out.append((f"{path}.scale.labels", "a label that is a number must be its level"))
        if f.rubric and set(f.rubric) != levels:
            out.append((f"{path}.rubric", f"describe every level {scale.min}..{scale.max} or none"))
        for k, m in enumerate(f.mitigations):
            if m.theme is not None and m.theme not in spec.themes:
                out.append((f"{path}.mitigations[{k}].theme", f"unknown theme {m.theme!r}"))
            if m.effort not in spec.efforts:
                out.append((f"{path}.mitigations[{k}].effort", f"unknown effort {m.effort!r}"))
        if f.mitigations and f.direction == 0:
            out.append((f"{path}.mitigations", "a factor without direction cannot be improved"))
        elif f.mitigations and not f.actionable:
            out.append((f"{path}.mitigations", "a factor no team can act on has no actions"))
    for i, c in enumerate(spec.context):
        path = f"context[{i}] ({c.name})"
        claim(c.name, c.column, path)
        if c.direction is not None and c.type not in ("integer", "number", "boolean"):
            out.append((f"{path}.direction", f"a monotone direction needs a number, not {c.type}"))
        if c.categories is not None and c.type != "category":
            out.append((f"{path}.categories", "only a category has categories"))
        if c.categories is not None and len(set(c.categories)) != len(c.categories):
            out.append((f"{path}.categories", "a category is listed twice"))
        if c.feature and c.type == "category" and not c.categories:
            out.append((f"{path}.categories", "a category the model uses needs a closed list"))
        if c.feature and c.type == "string":
            out.append((f"{path}.feature", "free text cannot be a model feature"))
        if c.log and c.type not in ("integer", "number"):
            out.append((f"{path}.log", "only numbers can be taken on a log scale"))
    o = spec.outcome
    claim(o.name, o.column, "outcome")
    mapped = [str(v) for v in (*o.success, *o.failure, *o.not_rated)]
    if len(mapped) != len(set(mapped)):
        out.append(("outcome", "a value is mapped to more than one of success/failure/not_rated"))
    if not o.success or not o.failure:
        out.append(("outcome", "success and failure each need at least one value"))
    if o.values is not None:
        for v in o.values:
            if str(v) not in mapped:
                out.append(("outcome.values", f"value {v!r} is not mapped to success or failure"))
    if spec.truth is not None:
        claim(spec.truth.name, spec.truth.column, "truth")
    ids = identifier_fields(spec)
    if isinstance(spec.identifier, list) and not ids:
        out.append(("identifier", "a composite identifier needs at least one field"))
    if len(set(ids)) != len(ids):
        out.append(("identifier", "a field is listed twice in the identifier"))
    for name in ids:
        if name == FILE_ROW and name not in context and isinstance(spec.identifier, list):
            out.append(("identifier", f"{FILE_ROW} (the row in the file) is an identifier alone"))
        elif name not in context and not by_file_row(spec):
            out.append(("identifier", f"{name!r} is not a context field"))
    if by_file_row(spec) and FILE_ROW in names:
        out.append(("identifier", f"{FILE_ROW} names the file row: {names[FILE_ROW]} takes it"))
    for key, need in (
        ("group", None),
        ("stage", "category"),
        ("date", "date"),
    ):
        ref = getattr(spec, key)
        if ref is None:
            continue
        if ref not in context:
            out.append((key, f"{ref!r} is not a context field"))
        elif need == "date" and context[ref].type not in ("date", "integer"):
            out.append((key, f"{ref!r} must be a date (or a year: integer) field"))
        elif need == "category" and context[ref].type != need:
            out.append((key, f"{ref!r} must be a {need} field"))
        elif key == "stage" and not context[ref].categories:
            out.append((key, f"{ref!r} needs its closed list of categories"))
        elif key == "stage" and not context[ref].feature:
            out.append((key, f"{ref!r} must be a model feature (feature: true) to route rows"))
        elif key == "stage" and context[ref].nullable:
            out.append((key, f"{ref!r} routes every row to its model: it cannot be nullable"))
    if spec.identifier is None and not any(c.unique for c in spec.context):
        out.append(("identifier", "name the identifier field (or mark one context field unique)"))
    if spec.default_effort not in spec.efforts:
        out.append(("default_effort", f"unknown effort {spec.default_effort!r}"))
    for i, g in enumerate(spec.subgroups):
        if g.field not in context:
            out.append((f"subgroups[{i}].field", f"{g.field!r} is not a context field"))
    return out
