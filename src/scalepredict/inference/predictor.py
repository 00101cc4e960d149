"""The predictor: a loaded model bundle that scores assessments. The CLI, the MLflow pyfunc and
the service all call this one object, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalepredict.inference.assessed import Assessed
from scalepredict.inference.bands import risk_band
from scalepredict.inference.explain import explain_rows, global_importance
from scalepredict.inference.plans import apply_changes, plan_batch
from scalepredict.model.bundle import ModelBundle


def uncertainty_statement(
    prediction_set: list[int],
    alpha: float,
    said: tuple[str, str] = ("succeeds", "does not succeed"),
) -> str:
    """The conformal set in words; `said`: how the catalogue says success and failure.

    An empty set is no "either outcome": neither outcome is as likely as the true one was for
    all but `alpha` of the calibration projects, so the proposal is unlike them and no
    statement at this level can be made."""
    level = f"{1 - alpha:.0%}"
    if prediction_set == [1]:
        return f"{level} confident it {said[0]}"
    if prediction_set == [0]:
        return f"{level} confident it {said[1]}"
    if not prediction_set:
        return (
            f"no {level} statement: neither outcome fits as well as for the projects the model "
            "was calibrated on (this proposal is unlike them)"
        )
    return f"uncertain at {level}: either outcome is plausible"


@dataclass
class Predictor:
    bundle: ModelBundle
    info: dict[str, Any] = field(default_factory=dict)  # name, version, source ...

    def __post_init__(self) -> None:
        _ = self.bundle.forest  # compiled and checked now, not in the first request

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        return self.bundle.probability(frame)

    # `assessed`, where accepted, is the frame's one pass through the model (`Assessed`):
    # `assess` computes it once for the score, the explanation and the plan.
    def score(self, frame: pd.DataFrame, assessed: Assessed | None = None) -> pd.DataFrame:
        """One row per assessment: probability, risk band and the 90% conformal statement."""
        p = Assessed.given(self.bundle, frame, assessed).probability(self.bundle)
        sets = self.bundle.conformal.sets(p)
        alpha = self.bundle.conformal.alpha
        m = self.bundle.catalogue.outcome_map
        said = (m.success_text, m.failure_text)
        return pd.DataFrame(
            {
                # the identifier, whatever the catalogue calls it
                "initiative_id": frame[self.bundle.catalogue.id_column].to_numpy(),
                "probability": np.round(p, 6),
                "risk_band": [risk_band(x) for x in p],
                "prediction_set": sets,
                "uncertainty": [uncertainty_statement(s, alpha, said) for s in sets],
            }
        )

    def explain(
        self, frame: pd.DataFrame, top: int = 5, assessed: Assessed | None = None
    ) -> list[dict[str, Any]]:
        return explain_rows(self.bundle, frame, top, assessed)

    def importance(self, frame: pd.DataFrame) -> dict[str, dict]:
        return global_importance(self.bundle, frame)

    def plan(
        self,
        frame: pd.DataFrame,
        target: float | None = None,
        max_effort: float | None = None,
        assessed: Assessed | None = None,
    ) -> list[dict[str, Any]]:
        return plan_batch(self.bundle, frame, target, max_effort, assessed)

    def whatif(self, frame: pd.DataFrame, changes: dict[str, int | None]) -> list[dict[str, Any]]:
        """Probability and explanation before and after setting factors to given scores."""
        after_frame = apply_changes(frame, changes, self.bundle.catalogue)
        before, after = self.assess(frame, plan=False), self.assess(after_frame, plan=False)
        return [
            {
                "changes": changes,
                "before": b,
                "after": a,
                "delta": round(a["probability"] - b["probability"], 4),
            }
            for b, a in zip(before, after, strict=True)
        ]

    def assess(
        self,
        frame: pd.DataFrame,
        explain: bool = True,
        plan: bool = True,
        target: float | None = None,
        max_effort: float | None = None,
    ) -> list[dict[str, Any]]:
        """Everything for a batch, as JSON-ready records: score, explanation, plan."""
        once = Assessed.of(self.bundle, frame)
        scored = self.score(frame, once).to_dict("records")
        if explain:
            for rec, ex in zip(scored, self.explain(frame, assessed=once), strict=True):
                rec["explanation"] = ex
        if plan:
            for rec, pl in zip(scored, self.plan(frame, target, max_effort, once), strict=True):
                rec["plan"] = pl
        for rec in scored:
            rec["probability"] = float(rec["probability"])
        return scored


def flat_record(rec: dict[str, Any]) -> dict[str, Any]:
    """One assessment record as one flat row (CSV exports and the API's CSV answer): lists
    joined, drivers as text and as columns (field, points), what a plan can act on apart from
    what it cannot (the context, non-actionable factors), points per dimension, and the plan:
    its status, target, expected chance, interval, confidence and steps as text."""
    flat: dict[str, Any] = {
        k: rec[k] for k in ("initiative_id", "probability", "risk_band", "uncertainty")
    }
    flat["prediction_set"] = "|".join(map(str, rec["prediction_set"]))
    if rec.get("explanation"):
        dims = rec["explanation"]["dimensions"]
        flat["weakest_dimension"] = min((d for d in dims if d != "context"), key=dims.get)
        ex = rec["explanation"]
        for key in ("top_drivers", "actionable_drivers", "context_drivers"):
            flat[key] = "; ".join(
                f"{d['field']} {d['direction']} ({d['strength']})" for d in ex[key]
            )
        policy = rec["explanation"].get("unknown_policy") or {}
        flat["blank_policy_capped"] = bool(policy.get("capped", False))
        for k, d in enumerate(rec["explanation"]["top_drivers"], start=1):
            flat[f"driver_{k}"] = d["field"]
            flat[f"driver_{k}_points"] = d["points"]
        for dim, points in rec["explanation"]["dimension_points"].items():
            flat[f"points_{dim}"] = points
    if rec.get("plan"):
        plan = rec["plan"]
        flat["plan_actions"] = "; ".join(
            f"{a['factor']} {a['from']}->{a['to']}" for a in plan["actions"]
        )
        flat["plan_status"] = plan["status"]
        flat["plan_target_probability"] = plan["target_probability"]
        flat["plan_expected_probability"] = plan["expected_probability"]
        flat["plan_interval_low"], flat["plan_interval_high"] = plan["interval"]
        flat["plan_confidence"] = plan["confidence"]
        flat["plan_reached_target"] = plan["reached"]
        flat["plan_total_effort"] = plan["total_effort"]
        flat["plan_summary"] = plan["summary"]
    return flat
