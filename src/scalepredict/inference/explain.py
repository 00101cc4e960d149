"""Explanations: exact contributions on the model's log-odds, from whichever family serves
(`model/families.py`): tree SHAP from XGBoost (`pred_contribs`) for the trees, weight x centred
value for the linear families (their exact SHAP values).

Categoricals are native, not one-hot, so each context field and each factor is one column.
The model also sees six derived columns (each dimension's mean score and the weakest of them,
`features.py`); their SHAP values are credited back to the factors that make them
(`_credit_derived`), so every contribution belongs to one catalogue field: a dimension's is the
sum of its four factors, the context's the sum of the context fields. Each row is explained by
the booster of its stage (see `bundle.py`): contributions + that stage's base value = the
row's margin (additivity, exact per row). The
stage's effect is mostly in the base value, which differs by stage; what is left in the stage's
own contribution is small (0 for boosters trained on their stage's rows only).

For people, every contribution is also given in percentage points of the chance (`points.py`):
an order-independent split of the change from the typical initiative's chance (the stage's
base value) to this one's that adds up exactly. Strength words describe those points, the
numbers people see: |points| >= 5 strong, >= 2 moderate, else weak. (`strength` keeps the
log-odds reading for callers of the log-odds figures: |c| >= 0.5 strong, >= 0.2 moderate.)

`probability_points` on a driver is the older leave-one-out reading,
p(margin) - p(margin - contribution); it does not add up and is kept for API clients."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from scalepredict.catalogue import Catalogue
from scalepredict.data.validation import stage_of
from scalepredict.inference.assessed import Assessed
from scalepredict.inference.points import owen_points
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.features import (
    DIMENSION_MEAN,
    WEAKEST,
    derived_names,
    feature_names,
)
from scalepredict.model.unknowns import POLICY_WORDS, Scored, policy_levels

STRONG, MODERATE = 0.5, 0.2  # log-odds
NOISE_META = "noise_points"  # bundle meta key: {field: points a no-effect field shows}
STRONG_POINTS, MODERATE_POINTS = 5.0, 2.0  # percentage points


def strength(c: float) -> str:
    a = abs(c)
    return "strong" if a >= STRONG else "moderate" if a >= MODERATE else "weak"


def points_strength(points: float) -> str:
    a = abs(points)
    return "strong" if a >= STRONG_POINTS else "moderate" if a >= MODERATE_POINTS else "weak"


@dataclass
class Contributions:
    """SHAP values for a batch: `values` is rows x features (log-odds), `base` the bias."""

    values: pd.DataFrame
    base: np.ndarray
    catalogue: Catalogue
    scored: Scored | None = None  # the rows as the unknown-answer policy scored them

    @property
    def margin(self) -> np.ndarray:
        return self.values.sum(axis=1).to_numpy() + self.base

    def by_dimension(self) -> pd.DataFrame:
        """Rows x (the dimensions, then "context"): sums of their fields' contributions."""
        cat = self.catalogue
        columns = list(self.values.columns)
        groups = [cat.factors_of(d) for d in cat.dimension_names] + [cat.feature_context]
        membership = np.zeros((len(columns), len(groups)))  # one matrix product for the batch
        for k, fields in enumerate(groups):
            membership[[columns.index(f) for f in fields], k] = 1.0
        return pd.DataFrame(
            self.values.to_numpy() @ membership,
            columns=[*cat.dimension_names, "context"],
            index=self.values.index,
        )


def _credit_derived(raw: np.ndarray, x: np.ndarray, cat: Catalogue) -> np.ndarray:
    """Per-feature SHAP -> per-field SHAP (context fields, then factors). A dimension's mean
    feature is credited to its known answers in equal shares (to all four if none is known);
    the weakest-dimension feature to the weakest dimension (shared on a tie; all five if
    nothing is known), then to its answers alike. Sums are kept, so additivity stays exact."""
    names = feature_names(cat)
    fields = [*cat.feature_context, *cat.factor_names]
    out = raw[:, [names.index(f) for f in fields]].copy()
    means = x[:, [names.index(n) for n in derived_names(cat)[:-1]]]
    weakest = x[:, names.index(WEAKEST)]
    is_min = means == weakest[:, None]  # False against NaN
    none = ~is_min.any(axis=1)
    is_min[none] = True
    to_dimension = raw[:, names.index(WEAKEST), None] * is_min / is_min.sum(axis=1, keepdims=True)
    for k, d in enumerate(cat.dimension_names):
        cols = [fields.index(f) for f in cat.factors_of(d)]
        known = ~np.isnan(x[:, [names.index(f) for f in cat.factors_of(d)]])
        known[~known.any(axis=1)] = True
        share = known / known.sum(axis=1, keepdims=True)
        credit = raw[:, names.index(DIMENSION_MEAN.format(d))] + to_dimension[:, k]
        out[:, cols] += credit[:, None] * share
    return out


def contributions(
    bundle: ModelBundle, frame: pd.DataFrame, assessed: Assessed | None = None
) -> Contributions:
    """Exact tree SHAP per catalogue field: context fields and factors (derived dimension
    features credited back to the factors that make them). `assessed`: the frame's pass
    through the model, if the caller has it already."""
    cat = bundle.catalogue
    scored = Assessed.given(bundle, frame, assessed).scored
    # blanks the policy answered at its level are explained as that answer: the contributions
    # add up to the score given
    raw = bundle.feature_contributions(scored.x)
    return Contributions(
        values=pd.DataFrame(
            _credit_derived(raw[:, :-1], scored.x, cat),
            columns=[*cat.feature_context, *cat.factor_names],
            index=frame.index,
        ),
        base=raw[:, -1],
        catalogue=cat,
        scored=scored,
    )


def field_points(bundle: ModelBundle, contrib: Contributions) -> np.ndarray:
    """rows x fields (as `contrib.values`): percentage points of the chance, adding up exactly
    to 100 x (p(margin) - p(base)) per row (`points.owen_points`)."""
    cat = bundle.catalogue
    names = list(contrib.values.columns)
    groups = [[names.index(f) for f in cat.factors_of(d)] for d in cat.dimension_names]
    groups.append([names.index(f) for f in cat.feature_context])
    groups = [g for g in groups if g]

    def chance(m: np.ndarray) -> np.ndarray:
        return np.asarray(bundle.calibrator(expit(m)))

    return 100 * owen_points(chance, contrib.base, contrib.values.to_numpy(), groups)


def _driver(name, value, c, pts, loo, dimension, can_act: bool = True, noise: float = 0.0) -> dict:
    """One driver; `can_act`: False for a factor the catalogue marks `actionable: false`;
    `noise`: the points its field shows when no field has an effect (`noise.py`)."""
    pts = round(pts, 2)  # words and sign describe the number shown
    # a contribution no larger than what a field with no effect shows is not a reason
    distinguishable = abs(pts) > noise
    if pd.isna(value):
        value = None
    elif isinstance(value, pd.Timestamp):  # a date feature: shown as the date it is
        value = value.strftime("%Y-%m-%d")
    elif not isinstance(value, str):
        value = float(value)
    return {
        "field": name,
        "dimension": dimension,
        "value": value,
        "contribution": round(c, 4),
        "direction": "raises" if pts > 0 or (pts == 0 and c > 0) else "lowers",
        "strength": points_strength(pts) if distinguishable else "weak",
        "distinguishable": distinguishable,
        "probability_points": round(loo * 100, 1),
        "points": pts,
        "actionable": can_act and dimension != "context",
    }


def explain_rows(
    bundle: ModelBundle, frame: pd.DataFrame, top: int = 5, assessed: Assessed | None = None
) -> list[dict]:
    """One explanation per row: base value, per-dimension and per-factor contributions (log-odds
    and percentage points), the typical and this initiative's chance, and the top drivers with
    direction, strength and their points: all fields, the factors people can act on, and the
    context they cannot change."""
    cat = bundle.catalogue
    contrib = contributions(bundle, frame, assessed)
    names = list(contrib.values.columns)
    values = contrib.values.to_numpy()
    dims = contrib.by_dimension()
    dim_names, dim_values = list(dims.columns), np.round(dims.to_numpy(), 4).tolist()
    pts = field_points(bundle, contrib)
    margin = contrib.margin
    calibrated = bundle.calibrator(expit(margin))
    typical = bundle.calibrator(expit(contrib.base))
    # leave-one-out probability effect of every field, through the calibrator, all rows at once
    without = bundle.calibrator(expit(margin[:, None] - values).ravel()).reshape(values.shape)
    effect = calibrated[:, None] - without
    order = np.argsort(-np.abs(pts), axis=1, kind="stable")
    dimension_of = {f: cat.factor(f).dimension for f in cat.factor_names}
    fixed = {f.name for f in cat.factors if not f.actionable}  # no team can change them
    shown = frame[names].to_numpy(dtype=object)  # as given; unknown answers are NA
    n_factors = len(cat.factor_names)
    n_context = len(names) - n_factors
    policy = _policy_notes(bundle, contrib)
    null = bundle.meta.get(NOISE_META, {})  # `noise.py`: what a no-effect field shows
    noise = [float(null.get(n, 0.0)) for n in names]
    out = []
    for i in range(len(frame)):
        drivers = [
            _driver(
                names[j],
                shown[i, j],
                float(values[i, j]),
                float(pts[i, j]),
                float(effect[i, j]),
                dimension_of.get(names[j], "context"),
                names[j] not in fixed,
                noise[j],
            )
            for j in order[i]
        ]
        row = np.round(values[i], 4).tolist()
        prow = np.round(pts[i], 3).tolist()
        dim_points = {
            d: round(float(pts[i, [names.index(f) for f in cat.factors_of(d)]].sum()), 3)
            for d in cat.dimension_names
        }
        dim_points["context"] = round(float(pts[i, :n_context].sum()), 3)
        out.append(
            {
                "base_value": round(float(contrib.base[i]), 4),
                "margin": round(float(margin[i]), 4),
                "dimensions": dict(zip(dim_names, dim_values[i], strict=True)),
                "factors": dict(zip(names[-n_factors:], row[-n_factors:], strict=True)),
                "context": dict(zip(names[:-n_factors], row[:-n_factors], strict=True)),
                "top_drivers": drivers[:top],
                "typical_probability": round(float(typical[i]), 6),
                "probability": round(float(calibrated[i]), 6),
                "dimension_points": dim_points,
                "factor_points": dict(zip(names[-n_factors:], prow[-n_factors:], strict=True)),
                "context_points": dict(zip(names[:-n_factors], prow[:-n_factors], strict=True)),
                "actionable_drivers": [d for d in drivers if d["actionable"]][:top],
                "context_drivers": [d for d in drivers if not d["actionable"]][:top],
                "unknown_policy": policy[i],
            }
        )
    return out


def _policy_notes(bundle: ModelBundle, contrib: Contributions) -> list[dict]:
    """Per row: the unknown-answer policy, whether it capped the score, the level each blank
    was scored at, and the chance with the blanks read as the model learned them."""
    cat = bundle.catalogue
    scored = contrib.scored
    assert scored is not None
    nf = len(cat.factor_names)
    levels = policy_levels(cat)
    learned = bundle.calibrator(expit(scored.learned))
    given = bundle.calibrator(expit(scored.margin))
    out = []
    for i in range(len(scored.margin)):
        row: dict = {
            "policy": cat.unknown_policy,
            "rule": POLICY_WORDS[cat.unknown_policy],
            "capped": bool(scored.capped[i]),
            "scored_as": {},
            "learned_probability": round(float(learned[i]), 6),
            "note": "",
        }
        if scored.capped[i] and levels is not None:
            row["scored_as"] = {
                cat.factor_names[j]: int(scored.x[i, -nf + j])
                for j in range(nf)
                if scored.blank[i, j] and not np.isnan(scored.x[i, -nf + j])
            }
            row["note"] = (
                f"The policy capped this score ({POLICY_WORDS[cat.unknown_policy]}): "
                + ", ".join(
                    f"{cat.factor(f).label} is scored as {v}" for f, v in row["scored_as"].items()
                )
                + f"; left blank as the model learned them, the chance would be "
                f"{learned[i]:.1%} instead of {given[i]:.1%}. Answering these questions "
                "gives the score the answers earn."
            )
        out.append(row)
    return out


def importance_sums(bundle: ModelBundle, frame: pd.DataFrame) -> dict[str, dict]:
    """Per stage: rows and the sums of |SHAP| per dimension and per factor. Sums of parts of a
    batch add up to the sums of the batch, so a partitioned run combines them
    (`add_importance_sums`) before taking the means."""
    cat = bundle.catalogue
    contrib = contributions(bundle, frame)
    dims = contrib.by_dimension().abs()
    facs = contrib.values[cat.factor_names].abs()
    stages = stage_of(frame, cat)
    out: dict[str, dict] = {}
    for stage in cat.booster_keys:
        m = (stages == stage).to_numpy()
        if m.any():
            out[stage] = {
                "n": int(m.sum()),
                "dimensions": dims[m].sum().to_dict(),
                "factors": facs[m].sum().to_dict(),
            }
    return out


def add_importance_sums(a: dict[str, dict], b: dict[str, dict]) -> dict[str, dict]:
    out = {stage: {**v} for stage, v in a.items()}
    for stage, v in b.items():
        if stage not in out:
            out[stage] = v
            continue
        mine = out[stage]
        mine["n"] += v["n"]
        for level in ("dimensions", "factors"):
            mine[level] = {k: mine[level][k] + v[level][k] for k in mine[level]}
    return out


def importance_means(sums: dict[str, dict], stages: tuple[str, ...]) -> dict[str, dict]:
    """Mean |SHAP| per dimension and per factor, by stage in catalogue order."""
    return {
        stage: {
            "n": sums[stage]["n"],
            **{
                level: {k: round(v / sums[stage]["n"], 5) for k, v in sums[stage][level].items()}
                for level in ("dimensions", "factors")
            },
        }
        for stage in stages
        if stage in sums
    }


def global_importance(bundle: ModelBundle, frame: pd.DataFrame) -> dict[str, dict]:
    """Mean |SHAP| per dimension and per factor, by stage (one entry, `all`, without stages)."""
    return importance_means(importance_sums(bundle, frame), bundle.catalogue.booster_keys)
