"""The promotion gate, which knows noise. The candidate families already compete inside a
training run (the simple ones are candidates, so a first model is simply the best family);
the gate decides between the new model (challenger) and the current champion on rows the
champion never learned from (its training rows' hashes are in its bundle), both scored there:

- the 95% interval (bootstrap over groups) of the paired log-loss difference, challenger minus
  champion, lies below zero: the challenger is better, promote;
- or it lies below the non-inferiority margin and the challenger learned from a superset of the
  champion's rows (a retrain on more outcomes): not worse, and it knows more, promote;
- otherwise the champion stays, and the gate says which case applied ("too few outcomes to
  tell: difference -0.020 [-0.090, +0.050]").
With fewer than `gate.min_rows` such rows it does not decide: the champion stays."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalepredict.data.row_hashes import row_hashes, unpack
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.config import GateConfig, TrainConfig
from scalepredict.model.evaluation import Evaluation, row_log_loss
from scalepredict.model.intervals import interval
from scalepredict.model.metrics import probability_metrics

# Bundle meta key: the packed hashes of the rows a model learned from.
TRAINING_ROWS = "training_row_hashes"


@dataclass
class GateDecision:
    promote: bool
    reasons: list[str]  # what decided, in words
    case: str = ""  # first_model | better | non_inferior | worse | cannot_tell | too_few_rows
    difference: dict[str, float] = field(default_factory=dict)  # mean, low, high, rows

    @property
    def metric(self) -> str:
        """The metric that decided: the paired log loss, or none (no comparison made)."""
        return "log_loss" if self.case not in ("first_model", "too_few_rows") else "none"


def first_model(family: str) -> GateDecision:
    return GateDecision(
        True, [f"no usable champion: the best family ({family}) becomes champion"], "first_model"
    )


def gate(
    y: np.ndarray,
    p_challenger: np.ndarray,
    p_champion: np.ndarray,
    groups: np.ndarray,
    superset: bool,
    cfg: GateConfig,
    seed: int = 0,
) -> GateDecision:
    """Challenger against champion on the same rows, none of which the champion learned from
    (the challenger's figures there are held out too: test split or out-of-fold)."""
    n = len(y)
    if n < cfg.min_rows:
        return GateDecision(
            False,
            [
                f"too few outcomes to tell: {n} rows the champion never learned from, the gate "
                f"needs {cfg.min_rows}; the champion stays"
            ],
            "too_few_rows",
            {"rows": n},
        )
    d = row_log_loss(y, p_challenger) - row_log_loss(y, p_champion)
    mean = float(d.mean())
    low, high = interval(lambda r: float(d[r].mean()), groups, seed=seed)
    diff = {"mean": mean, "low": low, "high": high, "rows": n}
    text = (
        f"log-loss difference (challenger - champion) {mean:+.3f} [{low:+.3f}, {high:+.3f}] "
        f"on {n} rows"
    )
    if high < 0:
        return GateDecision(True, [f"better than the champion: {text}"], "better", diff)
    margin = cfg.non_inferiority
    if high < margin and superset:
        return GateDecision(
            True,
            [
                f"not worse than the champion (within {margin}) and learned from a superset of "
                f"its rows: {text}"
            ],
            "non_inferior",
            diff,
        )
    if low > 0:
        return GateDecision(False, [f"worse than the champion: {text}"], "worse", diff)
    return GateDecision(
        False, [f"too few outcomes to tell: {text}; the champion stays"], "cannot_tell", diff
    )


def against_champion(
    ev: Evaluation, champion: ModelBundle, learned_from: pd.DataFrame, cfg: TrainConfig
) -> tuple[dict[str, float] | None, GateDecision]:
    """The champion's metrics on the new run's held-out rows it never learned from, and the
    gate's decision there (`learned_from`: the rows the new model learned from)."""
    cat = champion.catalogue
    packed: str | None = champion.meta.get(TRAINING_ROWS)
    hashes = row_hashes(ev.frame, cat)
    known = unpack(packed) if packed else np.zeros(0, hashes.dtype)
    unseen = ~np.isin(hashes, known)
    rows = ev.frame[unseen]
    p_champion = champion.probability(rows) if len(rows) else np.zeros(0)
    superset = bool(known.size) and bool(np.isin(known, row_hashes(learned_from, cat)).all())
    decision = gate(
        ev.y[unseen], ev.p[unseen], p_champion, ev.groups[unseen], superset, cfg.gate, cfg.seed
    )
    metrics = probability_metrics(ev.y[unseen], p_champion) if len(rows) else None
    return metrics, decision
