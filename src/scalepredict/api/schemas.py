"""Request and response models of the scoring API, generated from the catalogue: every factor
appears in the OpenAPI page with its question and the meaning of each score 1..5."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from scalepredict.catalogue import Field as CatalogueField
from scalepredict.catalogue import load_catalogue
from scalepredict.settings import get_settings


def _context_field(f: CatalogueField) -> tuple[Any, Any]:
    bounds: dict[str, Any] = {}
    if f.type == "category":
        typ: Any = Literal[tuple(f.categories)]
    elif f.type == "string":
        typ, bounds = str, {"min_length": 1, "max_length": 128}
    elif f.type == "date":
        typ = dt.date
        bounds = {"ge": dt.date.fromisoformat(str(f.min)), "le": dt.date.fromisoformat(str(f.max))}
    else:
        typ = int if f.type == "integer" else float
        bounds = {"ge": f.min, "le": f.max, "strict": f.type == "integer"}
    doc: dict[str, Any] = {"title": f.label or None, "description": f.description}
    if f.nullable:
        return typ | None, Field(None, **doc, **bounds)
    return typ, Field(..., **doc, **bounds)


def _proposal_model() -> type[BaseModel]:
    cat = load_catalogue()
    fields: dict[str, Any] = {f.name: _context_field(f) for f in cat.context}
    for factor in cat.factors:
        rubric = " ".join(f"{k}: {v}" for k, v in factor.rubric.items())
        fields[factor.name] = (
            int | None,
            Field(
                None,
                ge=cat.scale_min,
                le=cat.scale_max,
                strict=True,
                title=factor.label,
                description=f"[{factor.dimension}] {factor.question} {rubric} "
                "null = unknown answer.",
            ),
        )
    return create_model(
        "Proposal",
        __config__=ConfigDict(extra="forbid", title="Proposal"),
        __doc__="One initiative assessment: context and the 20 factor scores (null = unknown).",
        **fields,
    )


# The type checker cannot see fields made at run time; for it a proposal is Any.
Proposal: Any = _proposal_model()


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proposals: list[Proposal] = Field(
        ...,
        min_length=1,
        description=f"1 to {get_settings().max_proposals} proposals, unique initiative_id.",
    )


class WhatIfRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proposal: Proposal
    changes: dict[str, int | None] = Field(
        ...,
        min_length=1,
        description="factor -> new score 1..5 (or null for unknown); only factors may change.",
    )


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proposal: Proposal
    # inclusive bounds: BentoML publishes OpenAPI 3.0, where exclusive bounds are booleans
    target_probability: float | None = Field(
        None, ge=0.01, le=0.99, description="Default: the next risk band up (or +0.15)."
    )
    max_effort: float | None = Field(
        None, ge=1, le=100, description="Effort budget (low=1, medium=2, high=4 per step)."
    )


class Driver(BaseModel):
    field: str
    dimension: str
    value: float | str | None
    contribution: float = Field(description="log-odds contribution (exact tree SHAP)")
    direction: Literal["raises", "lowers"]
    strength: Literal["strong", "moderate", "weak"]
    probability_points: float = Field(description="leave-one-out effect in percentage points")


class Explanation(BaseModel):
    base_value: float = Field(
        description="average log-odds of the model of the initiative's stage (one model per "
        "stage): the stage's effect is mostly here, not in the stage field's contribution"
    )
    margin: float
    dimensions: dict[str, float]
    factors: dict[str, float]
    context: dict[str, float]
    top_drivers: list[Driver]


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
    expected_probability: float


class Question(BaseModel):
    factor: str
    question: str
    probability_if_lowest: float
    probability_if_highest: float


class Plan(BaseModel):
    probability: float
    target_probability: float
    reached: bool
    expected_probability: float
    expected_gain: float
    total_effort: float
    max_effort: float
    actions: list[Action]
    answer_first: list[Question]


class Assessment(BaseModel):
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
    request_id: str
    model: ModelRef
    initiative_id: str
    plan: Plan


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
