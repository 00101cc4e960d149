"""From the boosters' raw probability to what a user reads: a calibrated probability and a
split-conformal prediction set with a coverage guarantee."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import expit

from scalepredict.model.metrics import probability_metrics


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class Calibrator:
    """Maps the booster's raw probability to a calibrated one.

    isotonic: a monotone step function (np.interp over fitted thresholds);
    sigmoid: Platt scaling on the log-odds, p = 1 / (1 + exp(-(a * logit + b)));
    none: identity. All three are non-decreasing, so monotone constraints survive calibration."""

    method: Literal["isotonic", "sigmoid", "none"] = "none"
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    a: float = 1.0
    b: float = 0.0

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, float)
        if self.method == "isotonic":
            return np.interp(raw, self.x, self.y)
        if self.method == "sigmoid":
            return expit(self.a * _logit(raw) + self.b)
        return raw

    @classmethod
    def fit(cls, method: str, raw: np.ndarray, y: np.ndarray) -> Calibrator:
        if method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=1e-4, y_max=1 - 1e-4, out_of_bounds="clip").fit(raw, y)
            return cls("isotonic", x=iso.X_thresholds_.tolist(), y=iso.y_thresholds_.tolist())
        if method == "sigmoid":
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(C=1e6).fit(_logit(raw).reshape(-1, 1), y)
            a = float(lr.coef_[0, 0])
            if a <= 0:  # a flat or inverted fit would break monotonicity: keep raw scores
                return cls("none")
            return cls("sigmoid", a=a, b=float(lr.intercept_[0]))
        return cls("none")


@dataclass
class Conformal:
    """Split-conformal 90% prediction sets (LAC score: 1 - probability of the true class).

    With the threshold q from held-out data, the set {y : 1 - p(y) <= q} contains the true
    outcome for at least 1 - alpha of exchangeable new initiatives (marginal guarantee)."""

    alpha: float = 0.10
    q: float = 1.0
    n: int = 0

    @classmethod
    def fit(cls, p: np.ndarray, y: np.ndarray, alpha: float) -> Conformal:
        scores = np.where(np.asarray(y) == 1, 1 - p, p)
        n = len(scores)
        level = min(1.0, np.ceil((n + 1) * (1 - alpha)) / n)
        return cls(alpha=alpha, q=float(np.quantile(scores, level, method="higher")), n=n)

    def sets(self, p: np.ndarray) -> list[list[int]]:
        p = np.asarray(p, float)
        has1, has0 = (1 - p) <= self.q, p <= self.q
        return [
            [c for c, ok in ((0, a0), (1, a1)) if ok] for a0, a1 in zip(has0, has1, strict=True)
        ]


def choose_calibration(
    raw: np.ndarray, y: np.ndarray, methods: Sequence[str], seed: int
) -> tuple[Calibrator, dict[str, float]]:
    """Pick the calibration method by 2-fold cross-fitting on the held-out calibration split
    (fit on one half, score log loss on the other, both ways), then fit it on the whole split."""
    halves = np.random.default_rng(seed).permutation(len(y)) % 2 == 0
    scores = {}
    for method in methods:
        losses = [
            probability_metrics(y[~h], Calibrator.fit(method, raw[h], y[h])(raw[~h]))["log_loss"]
            for h in (halves, ~halves)
        ]
        scores[method] = float(np.mean(losses))
    best = min(scores, key=lambda m: scores[m])
    return Calibrator.fit(best, raw, y), scores
