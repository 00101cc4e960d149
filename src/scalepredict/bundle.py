"""The model bundle: an XGBoost booster, its probability calibrator and its conformal threshold,
saved as plain JSON files (no pickles: a bundle loads in any process, and a corrupt one fails
loudly at load time rather than at the first request)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.special import expit

from scalepredict.features import catalogue_fingerprint, feature_matrix, feature_names

BOOSTER_FILE = "booster.json"
META_FILE = "bundle.json"


class BundleError(ValueError):
    """A bundle that cannot be used: missing files, corrupt, or built for another catalogue."""


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


@dataclass
class ModelBundle:
    booster: xgb.Booster
    calibrator: Calibrator
    conformal: Conformal
    meta: dict[str, Any] = field(default_factory=dict)

    # --- prediction ---------------------------------------------------------------------
    def dmatrix(self, x: np.ndarray) -> xgb.DMatrix:
        """A DMatrix from a feature matrix (categorical codes), typed as the booster was trained."""
        return xgb.DMatrix(
            x,
            feature_names=self.booster.feature_names,
            feature_types=self.booster.feature_types,
            enable_categorical=True,
        )

    def margin_of(self, x: np.ndarray) -> np.ndarray:
        """Booster log-odds from a feature matrix (`features.feature_matrix`)."""
        return np.asarray(self.booster.inplace_predict(x, predict_type="margin"), float)

    def probability_of(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probability from a feature matrix (hot loops: plans, what-ifs)."""
        return self.calibrator(expit(self.margin_of(x)))

    def margin(self, frame: pd.DataFrame) -> np.ndarray:
        return self.margin_of(feature_matrix(frame))

    def raw_probability(self, frame: pd.DataFrame) -> np.ndarray:
        return expit(self.margin(frame))

    def probability(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of scaling up, one per row of a typed assessment frame."""
        return self.probability_of(feature_matrix(frame))

    # --- persistence --------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(d / BOOSTER_FILE)
        meta = {
            "catalogue_fingerprint": catalogue_fingerprint(),
            "features": feature_names(),
            "calibrator": asdict(self.calibrator),
            "conformal": asdict(self.conformal),
            **self.meta,
        }
        (d / META_FILE).write_text(json.dumps(meta, indent=2, default=str))
        return d

    @classmethod
    def load(cls, directory: str | Path) -> ModelBundle:
        d = Path(directory)
        try:
            meta = json.loads((d / META_FILE).read_text())
            booster = xgb.Booster()
            booster.load_model(d / BOOSTER_FILE)
        except (OSError, ValueError, xgb.core.XGBoostError) as e:
            raise BundleError(f"{d}: not a loadable model bundle ({type(e).__name__}: {e})") from e
        if meta.get("catalogue_fingerprint") != catalogue_fingerprint():
            raise BundleError(
                f"{d}: built for another assessment catalogue (features "
                f"{meta.get('catalogue_fingerprint')} != {catalogue_fingerprint()}); retrain it"
            )
        if booster.feature_names != feature_names():
            raise BundleError(f"{d}: booster features do not match the catalogue")
        try:
            calibrator = Calibrator(**meta.pop("calibrator"))
            conformal = Conformal(**meta.pop("conformal"))
        except (KeyError, TypeError) as e:
            raise BundleError(f"{d}: {META_FILE} is incomplete or malformed ({e})") from e
        return cls(booster, calibrator, conformal, meta)
