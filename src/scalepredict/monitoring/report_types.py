"""The monitor's report as typed models: what `monitor()` returns, what `monitor.json` holds
and what `/admin/monitor` answers (its OpenAPI schema comes from these). A verdict is never
stored beside its reasons: it is derived from the worst of them, so the two cannot disagree."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, computed_field

Verdict = Literal["ok", "watch", "act"]
LEVELS: tuple[Verdict, ...] = ("ok", "watch", "act")
TOO_FEW = "too few proposals"
NO_PROFILE = "no reference profile"


def worst(levels: list[Verdict]) -> Verdict:
    """The most serious level among `levels` (ok when there are none)."""
    return max(levels, key=LEVELS.index, default="ok")


class Reason(BaseModel):
    level: Verdict
    reason: str


class _Judged(BaseModel):
    """A part of the report with reasons; its verdict is the worst of them."""

    reasons: list[Reason] = Field(default_factory=list)

    @computed_field(  # type: ignore[prop-decorator]  # pydantic's documented form
        description="ok / watch / act: the worst level among the reasons"
    )
    @property
    def verdict(self) -> Verdict:
        return worst([r.level for r in self.reasons])


class _DriftTestBase(BaseModel):
    field: str
    effect: float
    n: int
    p: float
    p_adjusted: float = Field(description="Benjamini-Hochberg over the fields of the window")
    flagged: bool = Field(description="significant and at least the minimum effect size")


class PlacementTest(_DriftTestBase):
    """An ordinal or numeric field: mean placement in the reference distribution - 1/2."""

    test: Literal["placement"] = "placement"
    direction: Literal["higher", "lower"]
    window_mean: float
    reference_mean: float


class CategoryTest(_DriftTestBase):
    """A category field: chi-squared on the counts; effect the total variation distance."""

    test: Literal["chi-squared"] = "chi-squared"
    window_share: dict[str, float]
    reference_share: dict[str, float]


DriftTest = Annotated[PlacementTest | CategoryTest, Field(discriminator="test")]


class WindowDrift(BaseModel):
    status: Literal["ok", "drift", "too few proposals", "no reference profile"]
    flagged: list[str] = Field(default_factory=list)
    tests: list[DriftTest] = Field(default_factory=list)


class Band(BaseModel):
    """A simulated figure: its mean, 90% interval and 99% interval."""

    estimate: float
    low: float
    high: float
    wide_low: float
    wide_high: float


class Estimated(BaseModel):
    """What a window's outcomes will show if the probabilities are calibrated."""

    n: int
    simulations: int
    level: float
    roc_auc: Band | None = None
    log_loss: Band | None = None
    coverage: Band | None = None


class CalibrationBin(BaseModel):
    bin: int
    predicted: float
    observed: float
    n: int


class Realized(BaseModel):
    """The figures of the rows whose outcome is known."""

    roc_auc: float | None
    log_loss: float | None
    ece: float | None
    brier: float | None
    n: int
    positive_rate: float
    calibration_curve: list[CalibrationBin]
    coverage: float | None = None
    coverage_target: float | None = None
    estimated_on_these: Estimated | None = Field(
        None, description="the estimate on the same rows: does it still hold?"
    )
    diverged: list[str] = Field(
        default_factory=list, description="metrics worse than the estimate's 99% interval"
    )


class Window(_Judged):
    period: str
    model_version: str
    proposals: int
    labelled: int
    pending: int
    drift: WindowDrift
    estimated: Estimated | None = None
    realized: Realized | None = None


class GroupFigures(BaseModel):
    proposals: int | None = None
    labelled: int | None = None
    roc_auc: float | None = None
    calibration: float | None = Field(None, description="mean prediction - observed rate")
    mean_plan_effort: float | None = None


class FairnessTest(BaseModel):
    field: str
    metric: Literal["roc_auc", "calibration", "mean_plan_effort"]
    groups: dict[str, float | None]
    gap: float = Field(description="largest - smallest group figure")
    p: float
    p_adjusted: float = Field(description="Holm over every gap tested")
    flagged: bool


class FieldFairness(BaseModel):
    groups: dict[str, GroupFigures] = Field(default_factory=dict)
    tests: list[FairnessTest] = Field(default_factory=list)


class VersionSummary(BaseModel):
    profile: bool = Field(description="its bundle carries a training profile")
    test_metrics: dict[str, float]
    realized: Realized | None = Field(None, description="every outcome of the version pooled")


class RulesUsed(BaseModel):
    min_window: int
    fdr: float
    min_group: int


class Range(BaseModel):
    since: str | None = None
    until: str | None = None


class MonitorReport(_Judged):
    generated_at: str
    catalogue: str
    window: Literal["month", "quarter"]
    rules: RulesUsed
    proposals: int
    windows: list[Window] = Field(default_factory=list)
    fairness: dict[str, dict[str, FieldFairness]] = Field(
        default_factory=dict, description="by model version, then by subgroup field"
    )
    versions: dict[str, VersionSummary] = Field(default_factory=dict)
    range: Range | None = None
    mlflow_run_id: str | None = None


class WindowLine(BaseModel):
    """One window in the short form."""

    period: str
    model_version: str
    proposals: int
    labelled: int
    drift: str
    drifted_fields: list[str]
    estimated_roc_auc: Band | None
    realized_roc_auc: float | None
    verdict: Verdict


class MonitorSummary(_Judged):
    """The short form (`/admin/monitor`): verdict, reasons, one line per window."""

    proposals: int
    window: Literal["month", "quarter"]
    windows: list[WindowLine]
