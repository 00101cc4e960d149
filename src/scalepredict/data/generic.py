"""Synthetic labelled data for ANY catalogue, drawn from a documented causal model with a known
truth, so a new framework can be dry-run before it has outcomes and tests can exercise arbitrary
catalogues against the probability that really generated each outcome.

The causal model (parameters drawn from the seed, in factor order; see `describe_for`):
- each group (the catalogue's group field, else each row) has a latent capacity c ~ N(0, 1);
- factor f's latent z = loading_f * c + initiative + dimension effect + noise, standardised,
  rounded onto f's own scale (clipped), and mirrored when direction_f = -1, so that "better"
  always means more capacity;
- goodness g_f = the level on a 0-1 scale, flipped for direction -1;
  eta = b0[stage] + sum_f beta_f * m[stage, dim f] * (g_f - 0.5)
        - w * max(0, t - min over dimensions of the mean goodness),
  beta_f > 0 (0 for direction 0), m > 0: the truth is monotone in every factor by its direction;
- b0[stage] is solved so each stage's base rate hits a target drawn in 0.3-0.6;
- outcome ~ Bernoulli(sigmoid(eta)); ~6% of factor answers are then hidden (after the truth).
Context fields other than the stage and group have no effect: they are valid filler.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from scalepredict.catalogue import Catalogue, Field

INITIATIVE_SD, DIMENSION_SD, NOISE_SD = 0.5, 0.4, 0.6  # latent terms besides capacity
STRENGTH = 6.0  # sum of betas: moving every factor from worst to best adds ~6 log-odds
WEAKEST_WEIGHT, WEAKEST_THRESHOLD = 2.0, 0.35  # penalty when a whole dimension is weak
TARGET_BASE = (0.3, 0.6)
ROWS_PER_GROUP = 6
MISSING_RATE, NULL_RATE = 0.06, 0.05
DEFAULT_RANGE = (0.0, 100.0)
DEFAULT_DATES = ("2015-01-01", "2024-12-31")
CALIBRATION_ROWS = 4000


@dataclass(frozen=True)
class _Model:
    loadings: np.ndarray  # per factor
    betas: np.ndarray  # per factor, >= 0
    multipliers: dict[str, np.ndarray]  # booster key -> per dimension, > 0
    targets: dict[str, float]  # booster key -> base rate the intercept is solved for
    intercepts: dict[str, float]  # booster key -> b0, solved last


class _Shape:
    """Per-factor arrays of a catalogue, built once per call."""

    def __init__(self, cat: Catalogue) -> None:
        dims = cat.dimension_names
        self.lo = np.array([f.scale_min for f in cat.factors], dtype=float)
        self.hi = np.array([f.scale_max for f in cat.factors], dtype=float)
        self.direction = np.array([f.direction for f in cat.factors])
        self.dim = np.array([dims.index(f.dimension) for f in cat.factors])
        self.n_dims = len(dims)
        # dimensions scored for the weakest-link term: only factors with a known direction
        self.scored = [
            np.flatnonzero((self.dim == d) & (self.direction != 0)) for d in range(len(dims))
        ]
        self.scored = [ix for ix in self.scored if ix.size]


def _draw_levels(
    shape: _Shape, loadings: np.ndarray, capacity: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Complete integer levels (rows x factors) from the latent capacity of each row's group."""
    rows, n = len(capacity), len(loadings)
    u = rng.normal(0.0, INITIATIVE_SD, rows)[:, None]
    d = rng.normal(0.0, DIMENSION_SD, (rows, shape.n_dims))[:, shape.dim]
    e = rng.normal(0.0, NOISE_SD, (rows, n))
    z = loadings * capacity[:, None] + u + d + e
    z /= np.sqrt(loadings**2 + INITIATIVE_SD**2 + DIMENSION_SD**2 + NOISE_SD**2)
    level = np.clip(
        np.rint((shape.lo + shape.hi) / 2 + z * (shape.hi - shape.lo) / 4), shape.lo, shape.hi
    )
    return np.where(shape.direction < 0, shape.lo + shape.hi - level, level).astype(int)


def _linear(shape: _Shape, model: _Model, levels: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """eta without the intercept: the factor terms and the weakest-dimension penalty."""
    x = (levels - shape.lo) / (shape.hi - shape.lo)
    g = np.where(shape.direction < 0, 1.0 - x, x)
    order = list(model.multipliers)
    m = np.stack([model.multipliers[k] for k in order])[[order.index(k) for k in keys]]
    eta = (model.betas * m[:, shape.dim] * (g - 0.5)).sum(axis=1)
    if shape.scored:
        weakest = np.min(np.stack([g[:, ix].mean(axis=1) for ix in shape.scored]), axis=0)
        eta -= WEAKEST_WEIGHT * np.maximum(0.0, WEAKEST_THRESHOLD - weakest)
    return np.asarray(eta, dtype=float)


def _model(cat: Catalogue, seed: int) -> _Model:
    """Every parameter from the seed alone (drawn in factor order), intercepts solved on a
    fixed calibration sample so the base rates land where they were aimed."""
    rng = np.random.default_rng([seed, 1])
    shape = _Shape(cat)
    n, keys = len(cat.factors), cat.booster_keys
    loadings = rng.uniform(0.5, 1.0, n)
    raw = np.where(shape.direction != 0, rng.uniform(0.5, 1.5, n), 0.0)
    betas = STRENGTH * raw / raw.sum() if raw.sum() > 0 else raw
    shifts = {k: np.clip(np.exp(rng.normal(0.0, 0.3, shape.n_dims)), 0.5, 2.0) for k in keys}
    multipliers = shifts if cat.stage else {k: np.ones(shape.n_dims) for k in keys}
    targets = {k: float(rng.uniform(*TARGET_BASE)) for k in keys}
    model = _Model(loadings, betas, multipliers, targets, {})
    calibration = np.random.default_rng([seed, 2])
    capacity = calibration.normal(0.0, 1.0, CALIBRATION_ROWS)
    levels = _draw_levels(shape, loadings, capacity, calibration)
    intercepts = {}
    for k in keys:
        lin = _linear(shape, model, levels, np.full(CALIBRATION_ROWS, k, dtype=object))
        root = brentq(lambda b, lin=lin, t=targets[k]: expit(b + lin).mean() - t, -40.0, 40.0)
        intercepts[k] = float(root)
    return replace(model, intercepts=intercepts)


def _truth(shape: _Shape, model: _Model, levels: np.ndarray, keys: np.ndarray) -> np.ndarray:
    intercept = np.array([model.intercepts[k] for k in keys], dtype=float)
    return np.asarray(expit(intercept + _linear(shape, model, levels, keys)), dtype=float)


def _n_groups(cat: Catalogue, rows: int) -> int:
    if not cat.group:
        return rows
    f = cat.context_field(cat.group)
    if f.type == "category" and f.categories:
        return len(f.categories)
    return max(1, round(rows / ROWS_PER_GROUP))


def _bounds(f: Field) -> tuple[float, float]:
    lo = DEFAULT_RANGE[0] if f.min is None else float(f.min)
    hi = DEFAULT_RANGE[1] if f.max is None else float(f.max)
    return lo, max(lo, hi)


def _numbers(f: Field, rows: int, rng: np.random.Generator) -> pd.Series:
    """Uniform within the rule, log-uniform across wide positive ranges (populations, budgets)."""
    lo, hi = _bounds(f)
    if f.type == "integer":
        lo, hi = float(np.ceil(lo)), float(np.floor(hi))
    if lo > 0 and hi / lo > 100:
        x = np.exp(rng.uniform(np.log(lo), np.log(hi), rows))
    else:
        x = rng.uniform(lo, hi, rows)
    if f.type == "integer":
        return pd.Series(np.clip(np.rint(x), lo, hi).astype(np.int64), dtype="Int64")
    return pd.Series(np.clip(np.round(x, 2), lo, hi))


def _dates(f: Field, rows: int, rng: np.random.Generator) -> pd.Series:
    lo = pd.Timestamp(str(f.min if f.min is not None else DEFAULT_DATES[0])).normalize()
    hi = pd.Timestamp(str(f.max if f.max is not None else DEFAULT_DATES[1])).normalize()
    days = rng.integers(0, max(0, (hi - lo).days) + 1, rows)
    return pd.Series((lo + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"), dtype=object)


def _context(
    cat: Catalogue,
    f: Field,
    rows: int,
    group: np.ndarray,
    stage: np.ndarray,
    rng: np.random.Generator,
) -> pd.Series:
    """Valid values of one context field by its rule."""
    if f.name == cat.stage:
        return pd.Series(stage, dtype=object)
    if f.name == cat.group and f.type in ("string", "category", "integer", "number"):
        if f.type == "category" and f.categories:
            return pd.Series(np.array(f.categories, dtype=object)[group], dtype=object)
        if f.type in ("integer", "number"):
            return pd.Series(int(_bounds(f)[0]) + group, dtype="Int64")
        return pd.Series([f"G-{g + 1:04d}" for g in group], dtype=object)
    if f.unique or f.name in cat.key:
        if f.type in ("integer", "number"):
            return pd.Series(int(_bounds(f)[0]) + np.arange(rows), dtype="Int64")
        prefix = "ID" if f.name == cat.identifier else f.name.upper()
        return pd.Series([f"{prefix}-{i + 1:06d}" for i in range(rows)], dtype=object)
    if f.type == "category" and f.categories:
        values = pd.Series(rng.choice(np.array(f.categories, dtype=object), rows), dtype=object)
    elif f.type in ("integer", "number"):
        values = _numbers(f, rows, rng)
    elif f.type == "date":
        values = _dates(f, rows, rng)
    elif f.type == "boolean":
        values = pd.Series(rng.random(rows) < 0.5, dtype="boolean")
    else:  # free text, or a category without a closed list
        values = pd.Series([f"text-{k}" for k in rng.integers(1, 10, rows)], dtype=object)
    if f.nullable:
        values = values.mask(rng.random(rows) < NULL_RATE)
    return values


def _factor_column(labels: dict[int, str], level: np.ndarray, hidden: np.ndarray) -> pd.Series:
    """The level as the user's file holds it: its label text when it has one, else the number."""
    if labels:
        cells = [labels.get(int(v), str(int(v))) for v in level]
        return pd.Series(cells, dtype=object).mask(hidden)
    return pd.Series(level, dtype="Int64").mask(hidden)


def generate_for(
    cat: Catalogue, rows: int, seed: int, truth: bool = False, complete: bool = False
) -> pd.DataFrame:
    """`rows` labelled assessments in the user's column names, reading like a raw export.

    Same seed, same frame. `truth=True` adds the catalogue's truth column (if it defines one);
    `complete=True` hides no factor answer."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    shape, model = _Shape(cat), _model(cat, seed)
    rng = np.random.default_rng([seed, 3])
    n_groups = _n_groups(cat, rows)
    group = rng.permutation(np.arange(rows) % n_groups)
    capacity = rng.normal(0.0, 1.0, n_groups)[group]
    levels = _draw_levels(shape, model.loadings, capacity, rng)
    keys = cat.booster_keys
    if cat.stage:  # a mix: earlier stages more common, every stage present
        weights = np.linspace(1.0, 0.5, len(keys))
        stage = rng.choice(np.array(keys, dtype=object), rows, p=weights / weights.sum())
    else:
        stage = np.full(rows, keys[0], dtype=object)
    p = _truth(shape, model, levels, stage)
    outcome = rng.random(rows) < p
    columns: dict[str, pd.Series] = {}
    for f in cat.context:
        if not cat.filled_in(f.name):  # an export named by its rows has no column for them
            columns[f.column or f.name] = _context(cat, f, rows, group, stage, rng)
    hidden = np.zeros(levels.shape, dtype=bool)
    if not complete:
        hidden = rng.random(levels.shape) < MISSING_RATE
    for i, factor in enumerate(cat.factors):
        column = factor.column or factor.name
        columns[column] = _factor_column(factor.labels, levels[:, i], hidden[:, i])
    m = cat.outcome_map
    columns[cat.outcome.column or cat.outcome.name] = pd.Series(
        np.where(outcome, m.success[0], m.failure[0]), dtype=object
    )
    if truth and cat.truth is not None:
        columns[cat.truth.column or cat.truth.name] = pd.Series(p)
    return pd.DataFrame(columns)


def true_probability_for(cat: Catalogue, levels: pd.DataFrame, seed: int) -> np.ndarray:
    """The true probability of success for complete factor levels (field names; plus the stage
    field if the catalogue has one): set a level and read the effect, a do-intervention."""
    names = cat.factor_names
    missing = [n for n in [*names, *([cat.stage] if cat.stage else [])] if n not in levels]
    if missing:
        raise ValueError(f"levels lacks column(s): {', '.join(missing)}")
    values = levels[names].to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError("the truth needs every factor level (no unknown answers)")
    if cat.stage:
        keys = levels[cat.stage].astype(object).to_numpy()
        unknown = sorted(set(keys) - set(cat.stages), key=str)
        if unknown:
            raise ValueError(f"unknown stage(s): {unknown}")
    else:
        keys = np.full(len(levels), cat.booster_keys[0], dtype=object)
    shape = _Shape(cat)
    values = np.clip(values, shape.lo, shape.hi)
    return _truth(shape, _model(cat, seed), values, keys)


def describe_for(cat: Catalogue, seed: int) -> dict[str, Any]:
    """The drawn parameters as JSON-ready data (for a dry-run report and the docs)."""
    model = _model(cat, seed)
    names, dims = cat.factor_names, cat.dimension_names
    return {
        "seed": seed,
        "loadings": {n: round(float(v), 6) for n, v in zip(names, model.loadings, strict=True)},
        "betas": {n: round(float(v), 6) for n, v in zip(names, model.betas, strict=True)},
        "directions": {f.name: f.direction for f in cat.factors},
        "stage_multipliers": {
            k: {d: round(float(v), 6) for d, v in zip(dims, m, strict=True)}
            for k, m in model.multipliers.items()
        },
        "intercepts": {k: round(v, 6) for k, v in model.intercepts.items()},
        "target_base_rates": {k: round(v, 6) for k, v in model.targets.items()},
        "weakest_dimension": {"weight": WEAKEST_WEIGHT, "threshold": WEAKEST_THRESHOLD},
        "latent_sd": {"initiative": INITIATIVE_SD, "dimension": DIMENSION_SD, "noise": NOISE_SD},
        "rows_per_group": ROWS_PER_GROUP if cat.group else 1,
        "missing_rate": MISSING_RATE,
        "null_rate": NULL_RATE,
    }
