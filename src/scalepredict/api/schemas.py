"""Request and response models of the scoring API. Requests are generated from the served
catalogue: every factor appears in the OpenAPI page with its question and the meaning of each
level."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, create_model

from scalepredict.catalogue import Catalogue, Factor
from scalepredict.catalogue import Field as CatalogueField
from scalepredict.data.schema import TEXT_MAX


def _context_field(f: CatalogueField) -> tuple[Any, Any]:
    bounds: dict[str, Any] = {}
    if f.type == "category" and f.categories:
        typ: Any = Literal[tuple(f.categories)]
    elif f.type in ("string", "category"):
        typ, bounds = str, {"min_length": 1, "max_length": TEXT_MAX}
    elif f.type == "boolean":
        typ = bool
    elif f.type == "date":
        typ = dt.date
        if f.min is not None:
            bounds["ge"] = dt.date.fromisoformat(str(f.min))
        if f.max is not None:
            bounds["le"] = dt.date.fromisoformat(str(f.max))
    else:
        typ = int if f.type == "integer" else float
        bounds = {"ge": f.min, "le": f.max, "strict": True}  # 3.0 for an integer, or true: refused
    doc: dict[str, Any] = {"title": f.label or None, "description": f.description}
    if f.nullable:
        return typ | None, Field(None, **doc, **bounds)
    return typ, Field(..., **doc, **bounds)


def _factor_field(factor: Factor) -> tuple[Any, Any]:
    """A whole level in the factor's range, or (where the catalogue has them) its label."""
    rubric = " ".join(f"{k}: {v}" for k, v in (factor.rubric or factor.labels).items())
    doc: dict[str, Any] = {
        "title": factor.label,
        "description": f"[{factor.dimension}] {factor.question} "
        f"Levels {factor.scale_min}..{factor.scale_max}. {rubric} null = unknown answer.",
    }
    bounds: dict[str, Any] = {"ge": factor.scale_min, "le": factor.scale_max, "strict": True}
    if not factor.labels:
        return int | None, Field(None, **doc, **bounds)
    by_text = {t.strip().casefold(): k for k, t in factor.labels.items()}
    words = ", ".join(f'"{t}"' for t in factor.labels.values())

    def to_level(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value.strip().casefold() in by_text:
            return by_text[value.strip().casefold()]
        raise ValueError(f"one of {words} or a whole level {factor.scale_min}..{factor.scale_max}")

    return Annotated[int | None, BeforeValidator(to_level)], Field(None, **doc, **bounds)


@dataclass(frozen=True)
class RequestModels:
    """The request bodies of one catalogue (the proposal's fields are the catalogue's)."""

    Proposal: Any
    ScoreRequest: Any
    WhatIfRequest: Any
    PlanRequest: Any
    OutcomesRequest: Any


def request_models(cat: Catalogue, max_proposals: int) -> RequestModels:
    fields: dict[str, Any] = {f.name: _context_field(f) for f in cat.context}
    fields.update({factor.name: _factor_field(factor) for factor in cat.factors})
    proposal: Any = create_model(
        "Proposal",
        # stripped before any check: " a" and "a" are one id, "   " is empty
        __config__=ConfigDict(extra="forbid", title="Proposal", str_strip_whitespace=True),
        __doc__=f"One assessment: context and the {len(cat.factors)} factor scores "
        "(null = unknown).",
        **fields,
    )
    strict = ConfigDict(extra="forbid")
    score: Any = create_model(
        "ScoreRequest",
        __config__=strict,
        proposals=(
            list[proposal],
            Field(
                ...,
                min_length=1,
                description=f"1 to {max_proposals} proposals, unique {cat.id_column}.",
            ),
        ),
    )
    whatif: Any = create_model(
        "WhatIfRequest",
        __config__=strict,
        proposal=(proposal, ...),
        changes=(
            dict[str, StrictInt | None],
            Field(
                ...,
                min_length=1,
                description="factor -> new level (or null for unknown); only factors may change.",
            ),
        ),
    )
    plan: Any = create_model(
        "PlanRequest",
        __config__=strict,
        proposal=(proposal, ...),
        # inclusive bounds: BentoML publishes OpenAPI 3.0, where exclusive bounds are booleans
        target_probability=(
            float | None,
            Field(
                None,
                ge=0.01,
                le=0.99,
                strict=True,
                description="Default: the next risk band up (or +0.15).",
            ),
        ),
        max_effort=(
            float | None,
            Field(
                None,
                ge=1,
                le=100,
                strict=True,
                description="Effort budget (catalogue costs per step).",
            ),
        ),
    )
    o = cat.outcome_map
    outcomes: Any = create_model(
        "OutcomesRequest",
        __config__=strict,
        __doc__="What happened to scored initiatives; all or nothing: one bad row stores none.",
        outcomes=(
            list[dict[str, Any]],
            Field(
                ...,
                min_length=1,
                description=f"1 to {max_proposals} outcomes, one per initiative: "
                f"`initiative_id` (scored before), `{cat.outcome.name}` (one of "
                f"{', '.join(o.values)}; {', '.join(o.success)} = {o.success_text}), "
                "`observed_on` (YYYY-MM-DD, not before the scoring) and optionally `funded` "
                "(true/false).",
            ),
        ),
        replace=(
            bool,
            Field(
                False,
                strict=True,
                description="Replace a different outcome already recorded (kept in history).",
            ),
        ),
    )
    return RequestModels(proposal, score, whatif, plan, outcomes)


class Driver(BaseModel):
    field: str
    dimension: str
    value: float | str | None
    contribution: float = Field(description="log-odds contribution (exact tree SHAP)")
    direction: Literal["raises", "lowers"]
    strength: Literal["strong", "moderate", "weak"] = Field(
        description="of `points`: |points| >= 5 strong, >= 2 moderate, else weak"
    )
    probability_points: float = Field(
        description="leave-one-out effect in percentage points (does not add up; see points)"
    )
    points: float = Field(
        description="share of the change from the typical chance to this one, in percentage "
        "points (Owen value on the probability scale; all fields add up exactly)"
    )
    actionable: bool = Field(description="a factor the team can act on, not the context")


class UnknownPolicy(BaseModel):
    policy: Literal["middle", "lowest", "learned"] = Field(
        description="the catalogue's `unknown_policy`: how a blank answer is scored"
    )
    rule: str
    capped: bool = Field(description="the policy lowered this score below the model's reading")
    scored_as: dict[str, int] = Field(description="blank factors scored at the policy's level")
    learned_probability: float = Field(description="the chance with blanks read as learned")
    note: str


class Explanation(BaseModel):
    base_value: float = Field(
        description="average log-odds of the model of the initiative's stage (one model per "
        "stage): the stage's effect is mostly here, not in the stage field's contribution"
    )
    margin: float
    dimensions: dict[str, float]
    factors: dict[str, float]
    context: dict[str, float]
    top_drivers: list[Driver] = Field(description="the fields moving the chance most (points)")
    typical_probability: float = Field(
        description="the chance of a typical initiative (the base value), where points start"
    )
    probability: float = Field(description="this initiative's chance, where the points end")
    dimension_points: dict[str, float] = Field(
        description="percentage points per dimension and for the context; they add up to "
        "100 x (probability - typical_probability)"
    )
    factor_points: dict[str, float]
    context_points: dict[str, float]
    actionable_drivers: list[Driver] = Field(description="the factors moving the chance most")
    context_drivers: list[Driver] = Field(description="the context, which a plan cannot change")
    unknown_policy: UnknownPolicy | None = None


class Action(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    factor: str
    dimension: str
    from_: int = Field(alias="from")
    to: int
    action: str
    theme: str
    effort: str
    months: int
    expected_probability: float = Field(
        description="the chance after this step, the model's gain discounted for estimation error"
    )
    model_probability: float | None = Field(
        None, description="the model's own figure after this step (what a what-if shows)"
    )


class Question(BaseModel):
    factor: str
    question: str
    probability_if_lowest: float
    probability_if_highest: float
    probability_if_blank: float | None = Field(
        None, description="the chance with the question left blank, as now"
    )
    blank_scored_as: int | None = Field(
        None, description="the level a blank scores at most under the catalogue's policy"
    )
    could: str | None = Field(None, description="what answering could do, in words")


class Plan(BaseModel):
    probability: float
    target_probability: float
    reached: bool
    expected_probability: float = Field(description="after the plan, gains discounted")
    expected_gain: float
    model_probability: float | None = Field(None, description="the model's own figure")
    confidence: Literal["high", "medium", "low"] | None = Field(
        None, description="by the discounted gain: >= 5 points high, >= 2 medium, else low"
    )
    total_effort: float
    max_effort: float
    actions: list[Action]
    answer_first: list[Question]


# An identifier field may be a number (`type: integer`); the API always answers it as text.
IDENTIFIER = ConfigDict(coerce_numbers_to_str=True)


class Assessment(BaseModel):
    model_config = IDENTIFIER
    initiative_id: str
    probability: float = Field(description="calibrated probability of scaling to the next stage")
    risk_band: Literal["high", "elevated", "moderate", "low"]
    prediction_set: list[int] = Field(description="90% conformal prediction set of outcomes")
    uncertainty: str
    explanation: Explanation | None = None
    plan: Plan | None = None


class ModelRef(BaseModel):
    name: str
    version: str
    source: Literal["registry", "cache"]


class ScoreResponse(BaseModel):
    request_id: str
    model: ModelRef
    results: list[Assessment]


class WhatIfResponse(BaseModel):
    request_id: str
    model: ModelRef
    changes: dict[str, int | None]
    before: Assessment
    after: Assessment
    delta: float


class PlanResponse(BaseModel):
    model_config = IDENTIFIER
    request_id: str
    model: ModelRef
    initiative_id: str
    plan: Plan


class OutcomesResponse(BaseModel):
    recorded: int = Field(description="outcomes new to the store")
    replaced: int = Field(description="outcomes that replaced another (kept in history)")
    unchanged: int = Field(description="outcomes sent again as recorded: nothing to do")


class Problem(BaseModel):
    path: str
    rule: str
    value: Any = None
    # CSV uploads only: the row as people count lines (header = 1), its id and column
    row: int | None = None
    initiative_id: str | None = None
    column: str | None = None


class ErrorBody(BaseModel):
    error: str
    problems: list[Problem] = []
