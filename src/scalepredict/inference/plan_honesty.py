"""Plans without the optimizer's curse: how much of a plan's log-odds gain to promise, learned
from the data by cross-fitting, at the data's own size.

A plan is the set of steps whose estimated effect is largest, so it also picks the steps whose
estimate errs upward: the promised gain overstates the true one, the more so the smaller the
data (Smith & Winkler's optimizer's curse). At training, the served family is fitted on each
half of the rows (whole groups per half); the model of one half plans the other half's
proposals, and the model of the other half, whose errors are independent of the first's,
prices the same steps. The slope of the pricing gains on the planning gains (through zero)
is the share of a chosen gain that holds at half the data; under noise that falls with the
rows as 1/n it becomes, for the model trained on all rows, 1 / (1 + (1/slope - 1) / 2). The
residual spread of the pricing gains gives the interval a plan shows (`plans.plan_interval`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalepredict.inference.plan_figures import HONESTY_META as HONESTY_META
from scalepredict.inference.plans import apply_changes, plan_batch
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.candidates import Tuned, fit_family
from scalepredict.model.config import TrainConfig
from scalepredict.model.split import city_folds

PLANNED_ROWS = 400  # proposals planned per half, shared by the splits (fewer where few rows)
MAX_REPEATS = 3  # cross-fitting splits below LARGE_ROWS
LARGE_ROWS = 2000


def _gains(planner: ModelBundle, pricer: ModelBundle, rows: pd.DataFrame) -> np.ndarray:
    """(planner's log-odds gain, pricer's log-odds gain) of each of the planner's plans."""
    cat = planner.catalogue
    plans = plan_batch(planner, rows)
    taken = [i for i, plan in enumerate(plans) if plan["actions"]]
    if not taken:
        return np.zeros((0, 2))
    before = rows.iloc[taken].reset_index(drop=True)
    after = pd.concat(
        [
            apply_changes(rows.iloc[[i]], {a["factor"]: a["to"] for a in plans[i]["actions"]}, cat)
            for i in taken
        ],
        ignore_index=True,
    )
    return np.column_stack(
        [
            planner.margin(after) - planner.margin(before),
            pricer.margin(after) - pricer.margin(before),
        ]
    )


def _share(g: np.ndarray) -> float:
    """The slope through zero of the pricing gains on the planning gains, within 0.01..1."""
    return float(np.clip((g[:, 0] * g[:, 1]).sum() / (g[:, 0] ** 2).sum(), 0.01, 1.0))


def _full(half: float) -> float:
    """The share at the full size from the share at half of it (noise falling as 1/rows)."""
    return 1 / (1 + (1 / half - 1) / 2)


def repeats_for(rows: int) -> int:
    """Cross-fitting repeats: one split of a small data set into halves is one draw of a noisy
    estimate (the share at 400 rows ranged 0.46-0.98 over training seeds), so small data sets
    repeat it on other splits; large ones are stable with one."""
    return 1 if rows >= LARGE_ROWS else MAX_REPEATS


def plan_honesty(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    tuned: Tuned,
    cfg: TrainConfig,
    repeats: int | None = None,
) -> dict[str, float]:
    """The share of a plan's log-odds gain to promise for the served model, its uncertainty,
    and the spread (log-odds) of a true gain around it, cross-fitted on grouped halves of
    `frame` (`repeats` splits, pooled; by default `repeats_for` the rows)."""
    cat = bundle.catalogue
    parts: list[np.ndarray] = []
    repeats = repeats or repeats_for(len(frame))
    planned = PLANNED_ROWS // repeats  # the splits share the planning work of one
    for r in range(repeats):
        halves = city_folds(frame, 2, cfg.seed + r, cat)
        models = [
            ModelBundle(
                cat,
                fit_family(bundle.kind, frame.iloc[train].reset_index(drop=True), tuned, cfg, cat),
                bundle.calibrator,
                bundle.conformal,
            )
            for train, _ in halves
        ]
        split = []
        for k, (_, held) in enumerate(halves):
            rows = frame.iloc[held[:planned]].drop(columns=[cat.outcome.name])
            split.append(_gains(models[k], models[1 - k], rows.reset_index(drop=True)))
        parts.append(np.concatenate(split))
    g = np.concatenate(parts)
    if len(g) < 10 or float((g[:, 0] ** 2).sum()) <= 0:
        return {"shrinkage": 0.0, "error": 0.0, "plans": len(g), "rows": len(frame)}
    half = _share(g)
    each = [_full(_share(p)) for p in parts if len(p) >= 10 and float((p[:, 0] ** 2).sum()) > 0]
    spread = float(np.std(g[:, 1] - half * g[:, 0]))
    return {
        "shrinkage": round(_full(half), 4),
        "half_shrinkage": round(half, 4),
        # the pooled estimate's standard error, from the splits' disagreement
        "shrinkage_sd": round(float(np.std(each, ddof=1) / np.sqrt(len(each))), 4)
        if len(each) > 1
        else 0.0,
        "error": round(spread, 4),
        "plans": len(g),
        "rows": len(frame),
        "repeats": len(parts),
    }
