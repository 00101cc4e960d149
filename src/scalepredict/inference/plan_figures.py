"""The figures a plan shows: the chance to expect after it, its 80% interval and how sure it
is. The model's log-odds gain is discounted twice: for the level's uncertainty (`DISCOUNT`)
and for the optimizer's curse, by the shrinkage the bundle learned by cross-fitting at
training (`plan_honesty.py`)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from scalepredict.model.bundle import ModelBundle

# Expected gains. A calibrated chance p0 = sigmoid(m0) is right on average over initiatives
# whose true log-odds scatter around the model's by LEVEL_SD, and averaged over that scatter a
# log-odds gain d moves the chance as sigmoid(m0 + DISCOUNT x d) does (the probit
# approximation: E sigmoid(t + d) ~ sigmoid((mu + d) / sqrt(1 + pi s^2 / 8)), with mu the level
# that keeps the mean at p0). On fresh synthetic seeds the model's log-odds gains were right on
# average (true / model 1.00-1.03) while its log-odds level erred by 0.72-0.85 (RMSE): the
# chance's gain is overstated by the level's uncertainty, not by the gains (benchmarks page).
LEVEL_SD = 0.8
DISCOUNT = 1 / math.sqrt(1 + math.pi * LEVEL_SD**2 / 8)  # 0.894
# How sure a plan is: its expected gain against the typical error of an expected gain, about
# 5 points on fresh synthetic seeds whatever the gain's size, so a small gain is the least
# sure. Measured (20k training rows, two seed pairs): of plans expecting >= 10 points 95-96%
# truly gained at least half of it, 5-10 points 81-87%, under 5 points 67% (benchmarks page).
GAIN_ERROR = 0.05
INTERVAL_Z = 1.2816  # the normal's 90th percentile: an 80% interval
HONESTY_META = "plan_honesty"  # bundle meta key: {"shrinkage", "error", "plans", "rows"}


def discount_of(bundle: ModelBundle) -> float:
    """The share of a plan's log-odds gain to expect: the level's uncertainty (`DISCOUNT`)
    times the optimizer's-curse shrinkage the bundle learned by cross-fitting at training
    (`plan_honesty.py`; 1 for a bundle trained without it)."""
    honesty = bundle.meta.get(HONESTY_META) or {}
    return DISCOUNT * float(honesty.get("shrinkage", 1.0))


def expected_chance(bundle: ModelBundle, m: np.ndarray) -> np.ndarray:
    """The chance to expect after each prefix of a plan (`m`: the log-odds after each prefix,
    m[0] as assessed): the model's log-odds gain discounted (`discount_of`), then calibrated."""
    return np.asarray(bundle.calibrator(expit(m[0] + discount_of(bundle) * (m - m[0]))))


def plan_interval(bundle: ModelBundle, m: np.ndarray) -> tuple[float, float]:
    """80% interval of the chance after a plan (`m`: log-odds as assessed and after it). With
    the cross-fitted spread of a true gain (`plan_honesty.py`): the expected log-odds give or
    take 1.28 spreads, through the calibrator; without it the former rule (`GAIN_ERROR`)."""
    honesty = bundle.meta.get(HONESTY_META) or {}
    p0, expected = expected_chance(bundle, m[[0, -1]])
    if "error" not in honesty:
        return gain_interval(float(p0), float(expected - p0))
    if len(m) < 2 or m[-1] == m[0]:
        return float(p0), float(p0)
    gain = m[-1] - m[0]
    centre = m[0] + discount_of(bundle) * gain
    # a true gain's spread around the expected one, and the shrinkage's own uncertainty,
    # which scales with the gain (independent errors: added in quadrature)
    spread = math.hypot(float(honesty["error"]), float(honesty.get("shrinkage_sd", 0.0)) * gain)
    half = INTERVAL_Z * DISCOUNT * spread
    low, high = bundle.calibrator(expit(np.array([centre - half, centre + half])))
    return float(low), float(high)


def gain_interval(p0: float, gain: float) -> tuple[float, float]:
    """80% interval of the chance after the plan: the expected gain give or take 1.28 typical
    errors of an expected gain (`GAIN_ERROR`, read as a normal error), within 0..1."""
    half = INTERVAL_Z * GAIN_ERROR if gain > 0 else 0.0
    return max(0.0, p0 + gain - half), min(1.0, p0 + gain + half)


def confidence(gain: float, low_gain: float | None = None) -> str:
    """How sure a plan's expected gain is, from its 80% interval: high when even its low end
    keeps half the expected gain, medium when the low end is still a gain, else low (the
    model cannot tell whether the plan helps). Without an interval, by the gain's size against
    the typical error of an expected gain (`GAIN_ERROR`)."""
    if low_gain is None:
        return "high" if gain >= 2 * GAIN_ERROR else "medium" if gain >= GAIN_ERROR else "low"
    if gain <= 0:
        return "low"
    return "high" if low_gain >= gain / 2 else "medium" if low_gain > 0 else "low"
