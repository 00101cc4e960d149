"""Hyperparameter search and the per-stage boosters: XGBoost with monotone constraints and
early stopping, each candidate scored by grouped k-fold CV within a trial and time budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from scalepredict.catalogue import Catalogue
from scalepredict.data.validation import groups_of, stage_of
from scalepredict.model.config import TrainConfig
from scalepredict.model.features import make_features, monotone_constraints
from scalepredict.model.split import InsufficientDataError, city_folds, group_label


def _dmatrix(frame: pd.DataFrame, cat: Catalogue, weight: np.ndarray | None = None) -> xgb.DMatrix:
    outcome = cat.outcome.name
    label = frame[outcome].astype(float).to_numpy() if outcome in frame else None
    x = make_features(frame, cat)
    return xgb.DMatrix(x, label=label, weight=weight, enable_categorical=True)


def sample_params(
    rng: np.random.Generator, space: dict[str, tuple[int | float, int | float]]
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, (lo, hi) in space.items():
        if key.endswith("_log"):
            params[key[:-4]] = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        elif isinstance(lo, int) and isinstance(hi, int):
            params[key] = int(rng.integers(lo, hi + 1))
        else:
            params[key] = float(rng.uniform(lo, hi))
    return params


BASE_PARAMS = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "tree_method": "hist",
    "max_cat_to_onehot": 16,
    "nthread": 2,
}
DEFAULT_TRIAL = {
    "max_depth": 2,
    "learning_rate": 0.05,
    "min_child_weight": 5.0,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "reg_lambda": 2.0,
}


def xgb_params(params: dict[str, Any], seed: int, cat: Catalogue) -> dict[str, Any]:
    return {
        **BASE_PARAMS,
        "monotone_constraints": str(monotone_constraints(cat)),
        "seed": seed,
        **params,
    }


@dataclass
class SearchResult:
    params: dict[str, Any]
    rounds: int
    cv_log_loss: float
    trials: list[dict[str, Any]]


def search(
    dev: pd.DataFrame,
    cfg: TrainConfig,
    cat: Catalogue,
    progress: Callable[[int, int], None] | None = None,
    max_seconds: float | None = None,
    weight: np.ndarray | None = None,
) -> SearchResult:
    """Random search within the trial and time budget (`max_seconds` overrides the config's),
    each trial scored by grouped k-fold CV with early stopping (one small validation split is
    too noisy to choose by); `weight`: one per row of `dev`."""
    rng = np.random.default_rng(cfg.seed)
    space = cfg.search.space
    trials_budget = cfg.search.trials
    if max_seconds is None:
        max_seconds = cfg.search.max_seconds
    max_rounds = cfg.search.max_rounds
    early = cfg.search.early_stopping_rounds
    folds = city_folds(dev, cfg.search.cv_folds, cfg.seed, cat)
    ddev = _dmatrix(dev, cat, weight)
    start, best, trials = time.perf_counter(), None, []
    for t in range(trials_budget):
        params = dict(DEFAULT_TRIAL) if t == 0 else sample_params(rng, space)
        history: pd.DataFrame = xgb.cv(  # a frame: as_pandas defaults to True
            xgb_params(params, cfg.seed, cat),
            ddev,
            num_boost_round=max_rounds,
            folds=folds,
            early_stopping_rounds=early,
            verbose_eval=False,
            seed=cfg.seed,
        )
        ll, rounds = float(history["test-logloss-mean"].iloc[-1]), len(history)
        trials.append({**params, "rounds": rounds, "cv_log_loss": ll})
        if best is None or ll < best.cv_log_loss:
            best = SearchResult(params, rounds, ll, trials)
        if progress:
            progress(t + 1, trials_budget)
        if time.perf_counter() - start > max_seconds:
            break
    assert best is not None
    best.trials = trials
    return best


def train_booster(
    dev: pd.DataFrame,
    found: SearchResult,
    seed: int,
    cat: Catalogue,
    weight: np.ndarray | None = None,
) -> xgb.Booster:
    """The final booster: the chosen parameters and rounds, on all development data."""
    return xgb.train(
        xgb_params(found.params, seed, cat),
        _dmatrix(dev, cat, weight),
        num_boost_round=found.rounds,
    )


def train_per_stage(
    dev: pd.DataFrame,
    cfg: TrainConfig,
    cat: Catalogue,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, xgb.Booster], dict[str, SearchResult]]:
    """One booster per stage, each searched and trained on that stage's development rows, so
    that each stage's model (and its explanations) follows that stage's drivers rather than an
    average over stages. With `search.other_stage_weight` w > 0 a stage's booster also learns
    from the other stages' rows at weight w (borrowing strength where a stage has few rows).
    The time budget is shared equally between the stages. A catalogue without a stage has
    one booster for all rows."""
    stages = cat.booster_keys
    folds = cfg.search.cv_folds
    stage = stage_of(dev, cat)
    parts = {s: dev[(stage == s).to_numpy()].reset_index(drop=True) for s in stages}
    for key, part in parts.items():
        n = groups_of(part, cat).nunique()
        if n < folds:
            raise InsufficientDataError(
                f"stage {key}: the development split has initiatives from {n} "
                f"{group_label(cat)}; its model needs at least {folds} (cv_folds)"
            )
    per_stage = cfg.search.trials
    seconds = cfg.search.max_seconds / len(stages)
    found = {}
    for k, key in enumerate(parts):
        rows, weight = _rows_of_stage(dev, stage, key, cfg, cat)
        report = (
            (lambda i, n, k=k: progress(k * per_stage + i, len(stages) * per_stage))
            if progress
            else None
        )
        found[key] = search(rows, cfg, cat, report, seconds, weight)
    return refit_per_stage(dev, found, cfg, cat), found


def _rows_of_stage(
    dev: pd.DataFrame, stage: pd.Series, key: str, cfg: TrainConfig, cat: Catalogue
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """A stage booster's rows and weights: its own stage's rows, or every row with the other
    stages' at `search.other_stage_weight`."""
    borrow = cfg.search.other_stage_weight
    if borrow > 0 and len(cat.booster_keys) > 1:
        return dev, np.where(stage == key, 1.0, borrow)
    if len(cat.booster_keys) == 1:
        return dev, None
    return dev[(stage == key).to_numpy()].reset_index(drop=True), None


def refit_per_stage(
    dev: pd.DataFrame, found: dict[str, SearchResult], cfg: TrainConfig, cat: Catalogue
) -> dict[str, xgb.Booster]:
    """The per-stage boosters with the parameters and rounds already found, on `dev` (the
    whole development data, or a cross-validation fold's training part)."""
    stage = stage_of(dev, cat)
    boosters = {}
    for key in cat.booster_keys:
        rows, weight = _rows_of_stage(dev, stage, key, cfg, cat)
        boosters[key] = train_booster(rows, found[key], cfg.seed, cat, weight)
    return boosters
