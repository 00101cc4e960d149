"""The whole fit on a validated labelled frame: the candidate families tuned, evaluated as the
data's size allows (`evaluation.py`: a grouped holdout, or repeated grouped cross-validation),
the best one served with its calibrator and split-conformal threshold, and the model card that
says how much it knows (`card.py`). Pure ML: MLflow tracking is in `scalepredict.tracking.run`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue, builtin_catalogue
from scalepredict.data.validation import groups_of
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.calibration import Conformal, choose_calibration
from scalepredict.model.candidates import Tuned, fit_family, outcome_of, tune, uncalibrated
from scalepredict.model.card import model_card
from scalepredict.model.config import TrainConfig
from scalepredict.model.evaluation import Evaluation, cross_validated, holdout, with_intervals
from scalepredict.model.metrics import breakdown, probability_metrics, with_truth
from scalepredict.model.profile import reference_profile
from scalepredict.model.search import SearchResult
from scalepredict.model.split import (
    SPLIT_FOLDS,
    InsufficientDataError,
    Split,
    group_label,
    split_around,
    split_by_city,
)
from scalepredict.model.trees import TreeModel

__all__ = ["FitResult", "InsufficientDataError", "evaluate", "fit", "outcome_of", "truth_of"]


@dataclass
class FitResult:
    bundle: ModelBundle
    split: Split  # holdout: dev / calibration / test; cross-validation: every row in dev and test
    search: dict[str, SearchResult]  # the trees' search per stage (empty if they were not fit)
    calibration_scores: dict[str, float]
    test_metrics: dict[str, float]  # the served procedure's held-out figures, with intervals
    baselines: dict[str, dict[str, float]]  # the other families on the same held-out rows
    seconds: float
    evaluation: Evaluation | None = None
    tuned: Tuned | None = None


def truth_of(frame: pd.DataFrame, cat: Catalogue) -> np.ndarray | None:
    """The generator's true probabilities, when the frame carries them for every row."""
    if cat.truth is None:
        return None
    name = cat.truth.name
    if name in frame and frame[name].notna().all():
        return frame[name].astype(float).to_numpy()
    return None


def check_size(frame: pd.DataFrame, cfg: TrainConfig, cat: Catalogue) -> None:
    """Refuse, with the reason and the number needed, below what can be learned."""
    ev = cfg.evaluation
    y = outcome_of(frame, cat)
    groups = int(groups_of(frame, cat).nunique())
    fewest = int(min((y == 1).sum(), (y == 0).sum())) if len(y) else 0
    problems = []
    if len(frame) < ev.min_rows:
        problems.append(f"{len(frame)} labelled rows; it needs at least {ev.min_rows}")
    if groups < ev.min_groups:
        problems.append(f"{groups} {group_label(cat)}; it needs at least {ev.min_groups}")
    if fewest < ev.min_per_outcome:
        problems.append(
            f"{fewest} rows of the rarer outcome; it needs at least {ev.min_per_outcome} of each"
        )
    if problems:
        raise InsufficientDataError(
            "too little data to learn from and to say how well: " + "; ".join(problems)
        )


def uses_holdout(frame: pd.DataFrame, cfg: TrainConfig, cat: Catalogue) -> bool:
    """A single holdout from `evaluation.holdout_from_rows` rows in 2 x 20 groups (or a time
    split, which is a holdout by nature); repeated grouped cross-validation below."""
    if cfg.split.by == "time":
        return True
    enough_groups = groups_of(frame, cat).nunique() >= 2 * SPLIT_FOLDS
    return len(frame) >= cfg.evaluation.holdout_from_rows and bool(enough_groups)


def fit(
    frame: pd.DataFrame,
    cfg: TrainConfig,
    progress: Callable[[str, int, int], None] | None = None,
    cat: Catalogue | None = None,
    test: pd.DataFrame | None = None,
) -> FitResult:
    """Train, choose, calibrate and evaluate a bundle on a validated labelled frame of
    catalogue `cat` (default: the built-in catalogue). `test`: a fixed test set (the
    evaluation set, kept out of `frame`), for a holdout whatever `frame`'s size."""
    cat = cat or builtin_catalogue()
    t0 = time.perf_counter()
    check_size(frame, cfg, cat)
    if test is not None or uses_holdout(frame, cfg, cat):
        split = (
            split_by_city(frame, cfg.split, cfg.seed, cat)
            if test is None
            else split_around(frame, test, cfg.split, cfg.seed, cat)
        )
        tuned = tune(split.dev, cfg, cat, progress)
        evaluation, models = holdout(split.dev, split.calibration, split.test, tuned, cfg, cat)
        chosen = models[evaluation.chosen]
        cal_rows, cal_raw = split.calibration, None
    else:
        split = Split(dev=frame, calibration=frame.iloc[:0], test=frame)
        tuned = tune(frame, cfg, cat, progress)
        if progress:
            progress("cross-validation", 0, 0)
        evaluation, averaged = cross_validated(frame, tuned, cfg, cat)
        chosen = (
            TreeModel(dict(tuned.first_trees))
            if evaluation.chosen == "xgboost"
            else fit_family(evaluation.chosen, frame, tuned, cfg, cat)
        )
        cal_rows, cal_raw = frame, averaged[evaluation.chosen]
    y_cal = outcome_of(cal_rows, cat)
    raw = uncalibrated(chosen, cat).raw_probability(cal_rows) if cal_raw is None else cal_raw
    calibrator, cal_scores = choose_calibration(raw, y_cal, cfg.calibration_methods, cfg.seed)
    conformal = Conformal.fit(calibrator(raw), y_cal, cfg.conformal_alpha)
    bundle = ModelBundle(cat, chosen, calibrator, conformal)
    # the training data's profile (summaries, not rows): what the monitor compares with
    bundle.meta["profile"] = reference_profile(frame, cat)
    test_metrics = held_out_metrics(evaluation, cat, cfg.seed)
    baselines = {
        **{k: probability_metrics(evaluation.y, p) for k, p in evaluation.baseline_p.items()},
        **{
            f"family_{kind}": probability_metrics(evaluation.y, p)
            for kind, p in evaluation.family_p.items()
            if kind != evaluation.chosen
        },
    }
    bundle.meta["card"] = model_card(evaluation, test_metrics, tuned, frame, cat, cfg)
    if progress:
        progress("fit", 1, 1)
    return FitResult(
        bundle,
        split,
        tuned.search,
        cal_scores,
        test_metrics,
        baselines,
        time.perf_counter() - t0,
        evaluation,
        tuned,
    )


def held_out_metrics(evaluation: Evaluation, cat: Catalogue, seed: int) -> dict[str, float]:
    """The served procedure's held-out figures with intervals, the Bayes limits where the
    data carries the truth, and the conformal sets' size."""
    out = with_intervals(evaluation.y, evaluation.p, evaluation.groups, evaluation.covered, seed)
    truth = truth_of(evaluation.frame, cat)
    out.update(
        {k: v for k, v in with_truth(evaluation.y, evaluation.p, truth).items() if k not in out}
    )
    out["conformal_mean_set_size"] = float(np.mean(evaluation.set_size))
    return out


def calibrate(
    bundle: ModelBundle, calibration: pd.DataFrame, cfg: TrainConfig
) -> tuple[ModelBundle, dict[str, Any]]:
    """The bundle's model with a calibrator and conformal threshold fitted on the calibration
    rows, as scored under its catalogue's unknown-answer policy."""
    y_cal = outcome_of(calibration, bundle.catalogue)
    raw_cal = bundle.raw_probability(calibration)
    calibrator, cal_scores = choose_calibration(raw_cal, y_cal, cfg.calibration_methods, cfg.seed)
    conformal = Conformal.fit(calibrator(raw_cal), y_cal, cfg.conformal_alpha)
    meta = dict(bundle.meta)
    return ModelBundle(bundle.catalogue, bundle.family, calibrator, conformal, meta), cal_scores


def evaluate(bundle: ModelBundle, frame: pd.DataFrame) -> dict[str, Any]:
    """Metrics of a model on labelled data: overall (with intervals over groups), per stage and
    per subgroup."""
    cat = bundle.catalogue
    y = outcome_of(frame, cat)
    p = bundle.probability(frame)
    truth = truth_of(frame, cat)
    out: dict[str, Any] = with_truth(y, p, truth)
    groups = groups_of(frame, cat).astype(str).to_numpy()
    covered = np.array([yt in s for yt, s in zip(y, bundle.conformal.sets(p), strict=True)])
    for k, v in with_intervals(y, p, groups, covered).items():
        out.setdefault(k, v)
    out["family"] = bundle.kind
    out["by_group"] = breakdown(frame, y, p, truth, cat)
    return json.loads(json.dumps(out, default=float))
