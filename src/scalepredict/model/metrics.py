"""Probability metrics used by training, evaluation and the benchmarks (one definition each)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from scalepredict.catalogue import Catalogue

ECE_BINS = 15  # equal-width bins over [0, 1]


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Weighted mean |observed rate - mean prediction| over equal-width probability bins."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() * abs(y[m].mean() - p[m].mean())
    return float(total / len(y))


def probability_metrics(y: np.ndarray, p: np.ndarray, prefix: str = "") -> dict[str, float]:
    """ROC AUC, PR AUC, log loss, Brier and ECE; AUCs are NaN when only one class is present."""
    y = np.asarray(y, int)
    p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
    both = len(np.unique(y)) == 2
    out = {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "n": len(y),
    }
    return {f"{prefix}{k}": v for k, v in out.items()}


def with_truth(
    y: np.ndarray, p: np.ndarray, truth: np.ndarray | None, prefix: str = ""
) -> dict[str, float]:
    """Metrics of `p`, plus the Bayes limits (the true probability's own metrics) and the gaps."""
    out = probability_metrics(y, p, prefix)
    if truth is not None and not np.isnan(np.asarray(truth, float)).any():
        bayes = probability_metrics(y, truth)
        out[f"{prefix}bayes_roc_auc"] = bayes["roc_auc"]
        out[f"{prefix}bayes_log_loss"] = bayes["log_loss"]
        out[f"{prefix}auc_gap"] = bayes["roc_auc"] - out[f"{prefix}roc_auc"]
        out[f"{prefix}log_loss_gap"] = out[f"{prefix}log_loss"] - bayes["log_loss"]
    return out


def subgroup_masks(frame: pd.DataFrame, cat: Catalogue) -> dict[str, pd.Series]:
    """Masks for the groups a funding body asks about (the catalogue's subgroups: small or
    poor cities, ...): values in a list, or in [min, max)."""
    out = {}
    for g in cat.subgroups:
        if g.values:
            out[g.name] = frame[g.field].astype("object").isin(g.values)
            continue
        v = pd.to_numeric(frame[g.field], errors="coerce")
        mask = v.notna()
        if g.min is not None:
            mask &= v >= g.min
        if g.max is not None:
            mask &= v < g.max
        out[g.name] = mask
    return out


def breakdown(
    frame: pd.DataFrame, y: np.ndarray, p: np.ndarray, truth: np.ndarray | None, cat: Catalogue
) -> dict[str, dict[str, float]]:
    """Metrics per stage and per subgroup."""
    groups = {}
    if cat.stage:
        stage = frame[cat.stage]
        groups = {f"stage_{s}": stage == s for s in stage.dropna().unique()}
    groups.update(subgroup_masks(frame, cat))
    out = {}
    for name, mask in sorted(groups.items()):
        m = np.asarray(mask.fillna(False), bool)
        if m.sum() >= 10:
            out[name] = with_truth(y[m], p[m], None if truth is None else np.asarray(truth)[m])
    return out
