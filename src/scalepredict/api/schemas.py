"""Response models of the scoring API (and the error body every error path answers)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Driver(BaseModel):
    field: str
    dimension: str
    value: float | str | None
    contribution: float = Field(description="log-odds contribution (exact tree SHAP)")
    direction: Literal["raises", "lowers"]
    strength: Literal["strong", "moderate", "weak"] = Field(
        description="of `points`: |points| >= 5 strong, >= 2 moderate, else weak; weak also "
        "where the points are no larger than a field with no effect shows (`distinguishable`)"
    )
    distinguishable: bool = Field(
        True,
        description="the points exceed what the model shows for this field when no field has "
        "an effect (refits on shuffled outcomes): false means not distinguishable from noise",
    )
    probability_points: float = Field(
        description="leave-one-out effect in percentage points (does not add up; see points)"
    )
    points: float = Field(
        description="share of the change from the typical chance to this one, in percentage "
        "points (Owen value on the probability scale; all fields add up exactly)"
    )
    actionable: bool = Field(
        description="a factor a plan may move: not the context, and not a factor the "
        "catalogue marks `actionable: false` (such as an after-the-fact rating)"
    )


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
    context_drivers: list[Driver] = Field(
        description="what a plan cannot change: the context and any non-actionable factor"
    )
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
    with_next: bool = Field(
        False, description="gains nothing visible by itself: it counts with the steps after it"
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


class Keep(BaseModel):
    factor: str
    level: int
    if_one_lower: int
    expected_probability: float = Field(description="the chance to expect one level lower")


class Blanks(BaseModel):
    count: int = Field(description="unanswered factors")
    of: int = Field(description="factors in all")
    probability_low: float = Field(description="the chance with every blank answered worst")
    probability_high: float = Field(description="the chance with every blank answered best")


class Plan(BaseModel):
    probability: float
    target_probability: float
    status: Literal["no_plan_needed", "answer_first", "reached", "not_reached", "nothing_to_do"]
    summary: str = Field(description="the plan in one or two sentences, in the figures shown")
    reached: bool = Field(description="the expected chance (the figure shown) reaches the target")
    expected_probability: float = Field(description="after the plan, gains discounted")
    expected_gain: float
    model_probability: float | None = Field(None, description="the model's own figure")
    interval: list[float] = Field(
        description="80% interval of the chance after the plan: [low, high]", max_length=2
    )
    confidence: Literal["high", "medium", "low"] | None = Field(
        None, description="by the discounted gain: >= 10 points high, >= 5 medium, else low"
    )
    total_effort: float
    max_effort: float
    actions: list[Action]
    answer_first: list[Question]
    keep: list[Keep] = Field(
        description="no plan needed: the factors whose one-level fall would leave the target"
    )
    blanks: Blanks | None = Field(None, description="null without unanswered factors")


# An identifier field may be a number (`type: integer`); the API always answers it as text.
IDENTIFIER = ConfigDict(coerce_numbers_to_str=True)


class Assessment(BaseModel):
    model_config = IDENTIFIER
    initiative_id: str
    probability: float = Field(description="calibrated probability of scaling to the next stage")
    risk_band: Literal["high", "elevated", "moderate", "low"]
    prediction_set: list[int] = Field(description="90% conformal prediction set of outcomes")
    uncertainty: str
    explanation: Explanation | None = Field(None, description="null with `explain=false`")
    plan: Plan | None = Field(None, description="null with `plan=false` (and on /portfolio)")
    cost: float | None = Field(None, description="/portfolio with a budget: the `cost` field")
    decision: Literal["fund", "do not fund"] | None = Field(
        None, description="/portfolio with a budget: in the chosen set or not"
    )


class ModelRef(BaseModel):
    name: str
    version: str
    source: Literal["registry", "cache"]


class BudgetChoice(BaseModel):
    budget: float
    cost_field: str = Field(description="the numeric context field each proposal costs")
    objective: str = Field(description="what the choice maximizes, in words")
    chosen: int = Field(description="proposals to fund")
    spent: float = Field(description="their costs added up (at most the budget)")
    expected_successes: float = Field(description="their probabilities added up")
    proven_best: bool = Field(
        description="the solver proved no set within the budget does better (false only past "
        "its 60 s time limit: the best set found by then)"
    )
    expected_successes_all: float = Field(description="every proposal's, added up")
    cost_all: float = Field(description="what funding every proposal would cost")


class ScoreResponse(BaseModel):
    request_id: str
    model: ModelRef
    results: list[Assessment]
    budget: BudgetChoice | None = Field(None, description="/portfolio with a `budget` only")


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
    path: str = Field(description="where: `proposals.0.security` (JSON), `row 2.security` (CSV)")
    rule: str
    value: Any = None
    proposal: int | None = Field(None, description="the proposal's number, from 1")
    initiative_id: str | None = None
    column: str | None = None
    row: int | None = Field(None, description="CSV only: the file row (the header is row 1)")


class ErrorBody(BaseModel):
    error: str
    problems: list[Problem] = []
