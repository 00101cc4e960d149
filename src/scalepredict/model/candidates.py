"""The candidate families on one training frame: each tuned by grouped cross-validation on it
(the trees by their search, the logistic regression's penalty from a short grid; the checklist
and the explainable boosting machine, with interpret's defaults and early stopping, have
nothing to tune), then refit on any rows with what was tuned (a cross-validation fold's
training part, or all of them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from scalepredict.catalogue import Catalogue
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.calibration import Calibrator, Conformal
from scalepredict.model.config import TrainConfig
from scalepredict.model.ebm import EbmModel
from scalepredict.model.families import FAMILIES, Family
from scalepredict.model.features import feature_matrix
from scalepredict.model.linear import PENALTIES, ChecklistModel, LogisticModel
from scalepredict.model.metrics import probability_metrics
from scalepredict.model.search import SearchResult, refit_per_stage, train_per_stage
from scalepredict.model.split import InsufficientDataError, city_folds
from scalepredict.model.trees import TreeModel

Progress = Callable[[str, int, int], None]


@dataclass
class Tuned:
    """What each family took from tuning: the trees' search per stage, the penalty, and the
    families that could not be fitted with why."""

    search: dict[str, SearchResult] = field(default_factory=dict)
    penalty: float = PENALTIES[0]
    penalty_scores: dict[str, float] = field(default_factory=dict)
    excluded: dict[str, str] = field(default_factory=dict)
    first_trees: dict[str, Any] = field(default_factory=dict)  # boosters fitted while tuning

    def families(self, wanted: tuple[str, ...]) -> list[str]:
        return [f for f in FAMILIES if f in wanted and f not in self.excluded]


def outcome_of(frame: pd.DataFrame, cat: Catalogue) -> np.ndarray:
    return frame[cat.outcome.name].astype(int).to_numpy()


def tune(
    frame: pd.DataFrame,
    cfg: TrainConfig,
    cat: Catalogue,
    progress: Progress | None = None,
) -> Tuned:
    """Tune every configured family on `frame` by grouped CV."""
    tuned = Tuned()
    wanted = cfg.families
    if "xgboost" in wanted:
        try:
            boosters, tuned.search = train_per_stage(
                frame, cfg, cat, (lambda i, n: progress("search", i, n)) if progress else None
            )
            tuned.first_trees = boosters
        except InsufficientDataError as e:
            tuned.excluded["xgboost"] = str(e)
    if "logistic" in wanted:
        x, y = feature_matrix(frame, cat), outcome_of(frame, cat)
        folds = city_folds(frame, cfg.search.cv_folds, cfg.seed, cat)
        for penalty in PENALTIES:
            oof = np.empty(len(y))
            for train, held in folds:
                model = LogisticModel.fit(x[train], y[train], cat, penalty)
                oof[held] = expit(model.learned_margin_of(x[held], cat))
            tuned.penalty_scores[str(penalty)] = probability_metrics(y, oof)["log_loss"]
        tuned.penalty = float(min(tuned.penalty_scores, key=lambda k: tuned.penalty_scores[k]))
    if not tuned.families(wanted):
        raise InsufficientDataError("; ".join(tuned.excluded.values()))
    return tuned


def fit_family(
    kind: str, train: pd.DataFrame, tuned: Tuned, cfg: TrainConfig, cat: Catalogue
) -> Family:
    """Family `kind` fitted on `train` with what tuning chose."""
    if kind == "xgboost":
        return TreeModel(refit_per_stage(train, tuned.search, cfg, cat))
    x, y = feature_matrix(train, cat), outcome_of(train, cat)
    if kind == "logistic":
        return LogisticModel.fit(x, y, cat, tuned.penalty)
    if kind == "ebm":
        return EbmModel.fit(x, y, cat, cfg.seed)
    return ChecklistModel.fit(x, y, cat)


def uncalibrated(family: Family, cat: Catalogue) -> ModelBundle:
    """A bundle of `family` with no calibration yet (its raw probability under the policy)."""
    return ModelBundle(cat, family, Calibrator(), Conformal())
