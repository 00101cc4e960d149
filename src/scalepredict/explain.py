"""Explanations: exact tree SHAP from XGBoost (`pred_contribs`) on the model's log-odds.

Every feature is one catalogue field (categoricals are native, not one-hot), so a factor's
contribution is its column; a dimension's is the sum of its four factors; the context's is the
sum of the context fields. Contributions + base value = the booster's margin (additivity).

Strength labels, on the log-odds scale: |c| >= 0.5 strong, >= 0.2 moderate, else weak
(near p = 0.5, 0.5 log-odds moves the probability by about 12 points, 0.2 by about 5).

Probability reading for people: a driver's effect in probability points is
    p(margin) - p(margin - contribution),
i.e. how much the calibrated probability would change if that factor were at its average
effect (contribution 0). These leave-one-out effects do not add up to the total exactly."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalepredict.bundle import ModelBundle
from scalepredict.catalogue import load_catalogue
from scalepredict.features import feature_matrix, feature_names

STRONG, MODERATE = 0.5, 0.2


def strength(c: float) -> str:
    a = abs(c)
    return "strong" if a >= STRONG else "moderate" if a >= MODERATE else "weak"


@dataclass
class Contributions:
    """SHAP values for a batch: `values` is rows x features (log-odds), `base` the bias."""

    values: pd.DataFrame
    base: np.ndarray

    @property
    def margin(self) -> np.ndarray:
        return self.values.sum(axis=1).to_numpy() + self.base

    def by_dimension(self) -> pd.DataFrame:
        cat = load_catalogue()
        out = {d: self.values[cat.factors_of(d)].sum(axis=1) for d in cat.dimension_names}
        out["context"] = self.values[cat.feature_context].sum(axis=1)
        return pd.DataFrame(out, index=self.values.index)


def contributions(bundle: ModelBundle, frame: pd.DataFrame) -> Contributions:
    raw = bundle.booster.predict(bundle.dmatrix(feature_matrix(frame)), pred_contribs=True)
    return Contributions(
        values=pd.DataFrame(raw[:, :-1], columns=feature_names(), index=frame.index),
        base=raw[:, -1],
    )


def _sigmoid(m: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(m, float)))


def explain_rows(bundle: ModelBundle, frame: pd.DataFrame, top: int = 5) -> list[dict]:
    """One explanation per row: base value, per-dimension and per-factor contributions, and the
    top drivers with direction, strength and a probability-scale reading."""
    cat = load_catalogue()
    contrib = contributions(bundle, frame)
    dims = contrib.by_dimension()
    margin = contrib.margin
    calibrated = bundle.calibrator(_sigmoid(margin))
    out = []
    for i in range(len(frame)):
        row = contrib.values.iloc[i]
        # leave-one-out probability effect of each field, through the calibrator
        without = bundle.calibrator(_sigmoid(margin[i] - row.to_numpy()))
        effect = calibrated[i] - without
        order = np.argsort(-np.abs(row.to_numpy()))[:top]
        drivers = []
        for j in order:
            name = row.index[j]
            value = frame.iloc[i][name]
            drivers.append(
                {
                    "field": name,
                    "dimension": cat.factor(name).dimension
                    if name in cat.factor_names
                    else "context",
                    "value": None
                    if pd.isna(value)
                    else (value if isinstance(value, str) else float(value)),
                    "contribution": round(float(row.iloc[j]), 4),
                    "direction": "raises" if row.iloc[j] > 0 else "lowers",
                    "strength": strength(float(row.iloc[j])),
                    "probability_points": round(float(effect[j]) * 100, 1),
                }
            )
        out.append(
            {
                "base_value": round(float(contrib.base[i]), 4),
                "margin": round(float(margin[i]), 4),
                "dimensions": {d: round(float(v), 4) for d, v in dims.iloc[i].items()},
                "factors": {f: round(float(row[f]), 4) for f in cat.factor_names},
                "context": {c: round(float(row[c]), 4) for c in cat.feature_context},
                "top_drivers": drivers,
            }
        )
    return out


def global_importance(bundle: ModelBundle, frame: pd.DataFrame) -> dict[str, dict]:
    """Mean |SHAP| per dimension and per factor, by stage."""
    cat = load_catalogue()
    contrib = contributions(bundle, frame)
    dims = contrib.by_dimension().abs()
    facs = contrib.values[cat.factor_names].abs()
    out: dict[str, dict] = {}
    for stage in cat.stages:
        m = (frame["stage"] == stage).to_numpy()
        if m.any():
            out[stage] = {
                "n": int(m.sum()),
                "dimensions": {d: round(float(v), 5) for d, v in dims[m].mean().items()},
                "factors": {f: round(float(v), 5) for f, v in facs[m].mean().items()},
            }
    return out
