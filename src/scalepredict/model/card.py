"""The model card: how much the model knows, in the words every surface shows it with (`/model`,
`scalepredict evaluate` and `train`, the training report, the page, the council PDF): how many
labelled projects it learned from, its held-out AUC with the interval, which family serves and
whether it beats the simple families on the same held-out rows, a plain warning below
`SMALL_DATA_ROWS`, one on plans below `PLAN_PROMISE_ROWS`, and a leakage warning where a model
or one factor alone separates the outcome almost perfectly on held-out rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from scalepredict.catalogue import Catalogue
from scalepredict.data.validation import groups_of
from scalepredict.model.candidates import Tuned, outcome_of
from scalepredict.model.config import TrainConfig
from scalepredict.model.evaluation import Evaluation, row_log_loss
from scalepredict.model.families import FAMILY_WORDS
from scalepredict.model.intervals import interval
from scalepredict.model.split import group_label

# Below this many labelled projects the figures are rough: the AUC interval is about +-0.07 at
# 150 projects in 30 groups (benchmarks/small_data.py), so say so plainly.
SMALL_DATA_ROWS = 400
# Below this many a plan's promise is rough: against the generator's truth, five models at 400
# rows promised gains whose true size was 140% of the promise on average (113-165%), and the
# 80% interval held the true gain for 49% of plans; at 1,000 rows 98% and 72%
# (benchmarks/plan_honesty.py). The cross-fitted pricer is a half-size model, whose gains are
# damped more than the served model's.
PLAN_PROMISE_ROWS = 1000
LEAKAGE_AUC = 0.98  # held-out AUC from which a model or one field "separates" the outcome


def compare(evaluation: Evaluation, theirs: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """The served model against another's held-out chances on the same rows: the paired
    log-loss difference (served - other) with its 95% interval over groups, and what it says."""
    d = row_log_loss(evaluation.y, evaluation.p) - row_log_loss(evaluation.y, theirs)
    low, high = interval(lambda r: float(d[r].mean()), evaluation.groups, seed=seed)
    verdict = "better" if high < 0 else "worse" if low > 0 else "cannot tell apart"
    return {"difference": float(d.mean()), "low": low, "high": high, "verdict": verdict}


def _leaks(frame: pd.DataFrame, y: np.ndarray, cat: Catalogue) -> list[str]:
    out = []
    for f in cat.factor_names:
        v = pd.to_numeric(frame[f], errors="coerce").to_numpy(float)
        known = ~np.isnan(v)
        if known.sum() >= 20 and len(np.unique(y[known])) == 2:
            auc = roc_auc_score(y[known], v[known])
            if max(auc, 1 - auc) >= LEAKAGE_AUC:
                out.append(f)
    return out


def model_card(
    evaluation: Evaluation,
    metrics: dict[str, float],
    tuned: Tuned,
    frame: pd.DataFrame,
    cat: Catalogue,
    cfg: TrainConfig,
) -> dict[str, Any]:
    """The card's facts and warnings (JSON-ready)."""
    n = len(frame)
    groups = int(groups_of(frame, cat).nunique())
    others = {
        **evaluation.baseline_p,
        **{f"family_{k}": p for k, p in evaluation.family_p.items() if k != evaluation.chosen},
    }
    versus = {k: compare(evaluation, p, cfg.seed) for k, p in others.items()}
    warnings = []
    if n < SMALL_DATA_ROWS:
        warnings.append(
            f"Learned from only {n} labelled projects in {groups} {group_label(cat)}: "
            "every figure is rough; read the intervals, not the point values."
        )
    if n < PLAN_PROMISE_ROWS:
        warnings.append(
            f"Plans learned from fewer than {PLAN_PROMISE_ROWS:,} labelled projects are rough: "
            "on synthetic data with a known truth, at 400 projects a plan's true gain was on "
            "average 1.4 times the gain it promised, and its 80% interval held the true gain "
            "for only half of the plans."
        )
    if metrics.get("roc_auc", 0) >= LEAKAGE_AUC:
        warnings.append(
            f"The model separates the outcome almost perfectly on held-out rows (AUC "
            f"{metrics['roc_auc']:.3f}): check that no field is recorded after the outcome."
        )
    leaked = _leaks(frame, outcome_of(frame, cat), cat)
    if leaked:
        warnings.append(
            "One field alone separates the outcome almost perfectly: "
            + ", ".join(leaked)
            + ". Check that it is known before the decision it informs."
        )
    worse = [k for k, v in versus.items() if v["verdict"] == "worse"]
    if worse:
        warnings.append("The served model is worse than " + ", ".join(worse) + " held out.")
    auc, low, high = metrics.get("roc_auc"), metrics.get("roc_auc_low"), metrics.get("roc_auc_high")
    return {
        "family": evaluation.chosen,
        "family_words": FAMILY_WORDS[evaluation.chosen],
        "labelled_projects": n,
        "groups": groups,
        "group_field": cat.group,
        "evaluation": evaluation.method,
        "folds": evaluation.folds,
        "repeats": evaluation.repeats,
        "held_out_rows": len(evaluation.y),
        "roc_auc": auc,
        "roc_auc_interval": [low, high],
        "log_loss": metrics.get("log_loss"),
        "log_loss_interval": [metrics.get("log_loss_low"), metrics.get("log_loss_high")],
        "ece": metrics.get("ece"),
        "conformal_coverage": metrics.get("conformal_coverage"),
        "choice_log_loss": evaluation.choice_scores,
        "excluded_families": tuned.excluded,
        "versus": versus,
        "warnings": warnings,
        "summary": summary_line(evaluation.chosen, n, groups, auc, low, high, cat),
    }


def summary_line(
    family: str,
    n: int,
    groups: int,
    auc: float | None,
    low: float | None,
    high: float | None,
    cat: Catalogue,
) -> str:
    """One sentence: what serves, from how much, how well."""
    text = f"{FAMILY_WORDS[family]}, learned from {n} labelled projects in {groups} "
    text += group_label(cat)
    if auc is not None and low is not None and np.isfinite(low):
        text += f"; held-out AUC {auc:.2f} (95% interval {low:.2f}-{high:.2f})"
    return text
