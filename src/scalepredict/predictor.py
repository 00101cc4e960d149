"""The predictor: a loaded model bundle that scores assessments. The CLI, the MLflow pyfunc and
the service all call this one object, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from scalepredict.bundle import ModelBundle
from scalepredict.catalogue import load_catalogue

# Risk that the initiative does NOT scale, read from the probability that it does.
# Bands are fixed cut-offs on the calibrated probability so a band means the same thing across
# model versions: < 0.25 high risk, < 0.45 elevated, < 0.65 moderate, else low.
RISK_BANDS: list[tuple[float, str]] = [
    (0.25, "high"),
    (0.45, "elevated"),
    (0.65, "moderate"),
    (1.01, "low"),
]


def risk_band(p: float) -> str:
    return next(name for upper, name in RISK_BANDS if p < upper)


def next_band_target(p: float) -> float:
    """The probability that lifts an initiative into the next-better risk band."""
    for upper, _ in RISK_BANDS:
        if p < upper:
            return min(upper, 0.99)
    return min(p + 0.15, 0.99)


def uncertainty_statement(prediction_set: list[int], alpha: float) -> str:
    level = f"{1 - alpha:.0%}"
    if prediction_set == [1]:
        return f"{level} confident it scales up"
    if prediction_set == [0]:
        return f"{level} confident it does not scale up"
    return f"uncertain at {level}: either outcome is plausible"


@dataclass
class Predictor:
    bundle: ModelBundle
    info: dict[str, Any] = field(default_factory=dict)  # name, version, source ...

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        return self.bundle.probability(frame)

    def score(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One row per assessment: probability, risk band and the 90% conformal statement."""
        p = self.probability(frame)
        sets = self.bundle.conformal.sets(p)
        alpha = self.bundle.conformal.alpha
        return pd.DataFrame(
            {
                load_catalogue().id_column: frame[load_catalogue().id_column].to_numpy(),
                "probability": np.round(p, 6),
                "risk_band": [risk_band(x) for x in p],
                "prediction_set": sets,
                "uncertainty": [uncertainty_statement(s, alpha) for s in sets],
            }
        )
