"""Realized performance once outcomes arrive, and estimated performance while they are
pending.

The estimate is confidence-based (NannyML's CBPE idea): if the model's calibrated
probabilities are right, a window's outcomes are draws y ~ Bernoulli(p), so simulating them
gives the distribution of the AUC, log loss and 90%-set coverage the window will show: its
mean is the estimate, its percentiles the interval. Its stated limit: it assumes the
probabilities stay calibrated, so it follows covariate shift but cannot see concept drift
(the same inputs now leading to other outcomes); there the realized figure leaves the
interval once outcomes arrive, and the monitor says so."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from scalepredict.model.calibration import Conformal
from scalepredict.model.metrics import probability_metrics
from scalepredict.monitoring.report_types import Band, CalibrationBin, Estimated, Realized

SIMULATIONS = 400
LEVEL = 0.90  # the interval shown
DIVERGE_LEVEL = 0.99  # realized outside this interval: the estimate no longer holds
CURVE_BINS = 10
EPS = 1e-6


def _covered(p: np.ndarray, conformal: Conformal | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Whether each row's 90% set holds 0 and 1."""
    if conformal is None:
        return None
    return p <= conformal.q, (1 - p) <= conformal.q


def estimated(
    p: np.ndarray, conformal: Conformal | None, seed: int = 0, sims: int = SIMULATIONS
) -> Estimated:
    """Expected AUC, log loss and set coverage with their simulated intervals."""
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    n = len(p)
    rng = np.random.default_rng(seed)
    ranks = rankdata(p)
    sets = _covered(p, conformal)
    auc, ll, cov = [], [], []
    log1, log0 = np.log(p), np.log1p(-p)
    for start in range(0, sims, 50):  # blocks keep memory flat for large windows
        y = rng.random((min(50, sims - start), n)) < p
        n1 = y.sum(axis=1)
        both = (n1 > 0) & (n1 < n)
        s = y.astype(float) @ ranks
        auc.extend(((s - n1 * (n1 + 1) / 2) / np.maximum(n1 * (n - n1), 1))[both])
        ll.extend(-(np.where(y, log1, log0)).mean(axis=1))
        if sets is not None:
            cov.extend(np.where(y, sets[1], sets[0]).mean(axis=1))
    bands: dict[str, Band] = {}
    for name, draws in (("roc_auc", auc), ("log_loss", ll), ("coverage", cov)):
        if len(draws):
            d = np.asarray(draws)
            tail = (1 - LEVEL) / 2, (1 - DIVERGE_LEVEL) / 2
            bands[name] = Band(
                estimate=round(float(d.mean()), 4),
                low=round(float(np.quantile(d, tail[0])), 4),
                high=round(float(np.quantile(d, 1 - tail[0])), 4),
                wide_low=round(float(np.quantile(d, tail[1])), 4),
                wide_high=round(float(np.quantile(d, 1 - tail[1])), 4),
            )
    return Estimated(n=n, simulations=sims, level=LEVEL, **bands)


def calibration_curve(y: np.ndarray, p: np.ndarray, bins: int = CURVE_BINS) -> list[CalibrationBin]:
    """Mean prediction and observed rate per equal-width bin (bins without rows left out)."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return [
        CalibrationBin(
            bin=b,
            predicted=round(float(p[idx == b].mean()), 4),
            observed=round(float(y[idx == b].mean()), 4),
            n=int((idx == b).sum()),
        )
        for b in range(bins)
        if (idx == b).any()
    ]


def realized(y: np.ndarray, p: np.ndarray, conformal: Conformal | None) -> Realized:
    """AUC, log loss, ECE, Brier, the calibration curve and the 90% sets' coverage."""
    y, p = np.asarray(y, int), np.asarray(p, float)
    m = probability_metrics(y, p)
    figures = {
        k: (round(float(m[k]), 4) if k in m and np.isfinite(m[k]) else None)
        for k in ("roc_auc", "log_loss", "ece", "brier")
    }
    out = Realized(
        **figures,
        n=len(y),
        positive_rate=round(float(y.mean()), 4),
        calibration_curve=calibration_curve(y, p),
    )
    sets = _covered(p, conformal)
    if sets is not None and conformal is not None:
        out.coverage = round(float(np.where(y == 1, sets[1], sets[0]).mean()), 4)
        out.coverage_target = round(1 - conformal.alpha, 4)
    return out
