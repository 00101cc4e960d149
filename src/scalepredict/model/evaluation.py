"""Evaluation that fits the data's size, and the choice of family it feeds.

From `evaluation.holdout_from_rows` labelled rows (and 40 groups) the single grouped holdout
stays: the families fit on the development split, each is calibrated and scored on the
calibration split by 2-fold cross-fitting (the score it is chosen by), the chosen one is
calibrated on that split and tested once on the test split.

Below it a test split of a few hundred rows is too noisy to choose or to report by, so every
row is held out in turn: repeated grouped cross-validation (groups = the catalogue's group
field). Out-of-fold predictions feed the family choice, the calibrator and the conformal
threshold. The figures reported come from folds that did not choose: the rows of fold k are
predicted by the family with the best out-of-fold log loss on the *other* folds, calibrated
and given a conformal threshold by those other folds too, so neither the choice nor the
calibration has seen the outcomes they are scored on. Every metric carries a 95% interval
from the bootstrap over groups (`intervals.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from scalepredict.catalogue import Catalogue
from scalepredict.data.validation import groups_of
from scalepredict.model.baselines import checklist_baseline, logistic_baseline
from scalepredict.model.calibration import Calibrator, Conformal, choose_calibration
from scalepredict.model.candidates import Tuned, fit_family, outcome_of, uncalibrated
from scalepredict.model.config import TrainConfig
from scalepredict.model.families import FAMILIES, Family
from scalepredict.model.intervals import interval
from scalepredict.model.metrics import expected_calibration_error, probability_metrics
from scalepredict.model.split import city_folds
from scalepredict.model.trees import TreeModel

BASELINES = {"logistic_regression": logistic_baseline, "checklist": checklist_baseline}


@dataclass
class Evaluation:
    """Held-out figures of the served procedure, on the rows they were measured on."""

    method: str  # "holdout" | "cross-validation"
    frame: pd.DataFrame  # the rows the figures are on (the test split, or every row)
    y: np.ndarray
    p: np.ndarray  # each row's held-out calibrated chance
    covered: np.ndarray  # the share of times each row's 90% set held its outcome
    set_size: np.ndarray
    groups: np.ndarray  # each row's group (city), what intervals resample
    chosen: str
    choice_scores: dict[str, float]  # calibrated log loss each family was chosen by
    family_p: dict[str, np.ndarray] = field(default_factory=dict)  # each family, held out
    # the reference baselines on the same rows, held out alike: unconstrained logistic
    # regression and the checklist mean (`baselines.py`)
    baseline_p: dict[str, np.ndarray] = field(default_factory=dict)
    folds: int = 0
    repeats: int = 0


def choose(scores: dict[str, float], tie: float) -> str:
    """The family with the lowest log loss; a more complex one must win by more than `tie`."""
    best = None
    for kind in FAMILIES:  # simplest first
        if kind in scores and (best is None or scores[kind] < scores[best] - tie):
            best = kind
    assert best is not None
    return best


def with_intervals(
    y: np.ndarray,
    p: np.ndarray,
    groups: np.ndarray,
    covered: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Metrics of `p` with 95% intervals over group resamples (`<name>_low`, `<name>_high`)."""
    y, p = np.asarray(y, int), np.asarray(p, float)
    out = probability_metrics(y, p)
    stats = {
        "roc_auc": lambda r: probability_metrics(y[r], p[r])["roc_auc"],
        "log_loss": lambda r: probability_metrics(y[r], p[r])["log_loss"],
        "ece": lambda r: expected_calibration_error(y[r], p[r]),
    }
    if covered is not None:
        out["conformal_coverage"] = float(np.mean(covered))
        stats["conformal_coverage"] = lambda r: float(np.mean(covered[r]))
    for name, stat in stats.items():
        out[f"{name}_low"], out[f"{name}_high"] = interval(stat, groups, seed=seed)
    out["groups"] = len(np.unique(np.asarray(groups).astype(str)))
    return out


def _calibrate_pick(raw: np.ndarray, y: np.ndarray, cfg: TrainConfig) -> tuple[Calibrator, float]:
    calibrator, scores = choose_calibration(raw, y, cfg.calibration_methods, cfg.seed)
    return calibrator, min(scores.values())


def holdout(
    split_dev: pd.DataFrame,
    split_cal: pd.DataFrame,
    split_test: pd.DataFrame,
    tuned: Tuned,
    cfg: TrainConfig,
    cat: Catalogue,
) -> tuple[Evaluation, dict[str, Family]]:
    """The large-data path; also returns each family's fitted model (dev rows)."""
    y_cal, y_test = outcome_of(split_cal, cat), outcome_of(split_test, cat)
    models: dict[str, Family] = {}
    scores, family_p, calibrators = {}, {}, {}
    for kind in tuned.families(cfg.families):
        family = (  # the trees the search fitted on these rows already
            TreeModel(dict(tuned.first_trees))
            if kind == "xgboost" and tuned.first_trees
            else fit_family(kind, split_dev, tuned, cfg, cat)
        )
        models[kind] = family
        bundle = uncalibrated(family, cat)
        calibrators[kind], scores[kind] = _calibrate_pick(
            bundle.raw_probability(split_cal), y_cal, cfg
        )
        family_p[kind] = calibrators[kind](bundle.raw_probability(split_test))
    chosen = choose(scores, cfg.evaluation.family_tie)
    conformal = Conformal.fit(
        calibrators[chosen](uncalibrated(models[chosen], cat).raw_probability(split_cal)),
        y_cal,
        cfg.conformal_alpha,
    )
    p = family_p[chosen]
    sets = conformal.sets(p)
    evaluation = Evaluation(
        "holdout",
        split_test,
        y_test,
        p,
        np.array([yt in s for yt, s in zip(y_test, sets, strict=True)]),
        np.array([len(s) for s in sets]),
        groups_of(split_test, cat).astype(str).to_numpy(),
        chosen,
        scores,
        family_p,
        baseline_p={k: b(split_dev, cat)(split_test) for k, b in BASELINES.items()},
    )
    return evaluation, models


def cross_validated(
    frame: pd.DataFrame, tuned: Tuned, cfg: TrainConfig, cat: Catalogue
) -> tuple[Evaluation, dict[str, np.ndarray]]:
    """The small-data path: repeated grouped CV. Returns the evaluation and, per family, each
    row's out-of-fold raw probability averaged over the repeats (what the served model's
    calibrator and conformal threshold are fitted on)."""
    y = outcome_of(frame, cat)
    groups = groups_of(frame, cat).astype(str).to_numpy()
    kinds = tuned.families(cfg.families)
    ev = cfg.evaluation
    n = len(frame)
    raw = {k: np.empty((ev.repeats, n)) for k in kinds}
    fold_of = np.empty((ev.repeats, n), int)
    base = {k: np.empty((ev.repeats, n)) for k in BASELINES}
    for r in range(ev.repeats):
        for k, (train, held) in enumerate(city_folds(frame, ev.folds, cfg.seed + r, cat)):
            fold_of[r, held] = k
            part = frame.iloc[train].reset_index(drop=True)
            rows = frame.iloc[held].reset_index(drop=True)
            for kind in kinds:
                model = fit_family(kind, part, tuned, cfg, cat)
                raw[kind][r, held] = uncalibrated(model, cat).raw_probability(rows)
            for name, baseline in BASELINES.items():
                base[name][r, held] = baseline(part, cat)(rows)
    # each family calibrated out of fold: fold k by a calibrator fitted on the other folds
    cal = {k: np.empty((ev.repeats, n)) for k in kinds}
    for kind in kinds:
        for r in range(ev.repeats):
            for k in range(ev.folds):
                held = fold_of[r] == k
                c, _ = _calibrate_pick(raw[kind][r, ~held], y[~held], cfg)
                cal[kind][r, held] = c(raw[kind][r, held])
    loss = {k: row_log_loss(y, cal[k]) for k in kinds}  # repeats x rows
    scores = {k: float(loss[k].mean()) for k in kinds}
    chosen = choose(scores, ev.family_tie)
    # the reported figures: fold k's rows by the family the other folds chose, its calibrated
    # out-of-fold chance, and a conformal threshold from the other folds' rows
    p = np.empty((ev.repeats, n))
    covered = np.empty((ev.repeats, n), bool)
    size = np.empty((ev.repeats, n), int)
    for r in range(ev.repeats):
        for k in range(ev.folds):
            held = fold_of[r] == k
            pick = choose({kd: float(loss[kd][:, ~held].mean()) for kd in kinds}, ev.family_tie)
            p[r, held] = cal[pick][r, held]
            conformal = Conformal.fit(cal[pick][r, ~held], y[~held], cfg.conformal_alpha)
            sets = conformal.sets(p[r, held])
            covered[r, held] = [yt in s for yt, s in zip(y[held], sets, strict=True)]
            size[r, held] = [len(s) for s in sets]
    evaluation = Evaluation(
        "cross-validation",
        frame,
        y,
        p.mean(axis=0),
        covered.mean(axis=0),
        np.rint(size.mean(axis=0)).astype(int),
        groups,
        chosen,
        scores,
        {k: cal[k].mean(axis=0) for k in kinds},
        baseline_p={k: v.mean(axis=0) for k, v in base.items()},
        folds=ev.folds,
        repeats=ev.repeats,
    )
    averaged = {k: expit(logit(np.clip(raw[k], 1e-6, 1 - 1e-6)).mean(axis=0)) for k in kinds}
    return evaluation, averaged


def row_log_loss(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))
