"""The whole fit on a validated labelled frame: split by city, per-stage boosters, calibration
chosen on held-out data, split-conformal sets, test metrics and baselines. Pure ML: MLflow
tracking is in `scalepredict.tracking.run`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue, load_catalogue
from scalepredict.model.baselines import checklist_baseline, logistic_baseline
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.calibration import Calibrator, Conformal, choose_calibration
from scalepredict.model.config import TrainConfig
from scalepredict.model.metrics import breakdown, probability_metrics, with_truth
from scalepredict.model.profile import reference_profile
from scalepredict.model.search import SearchResult, train_per_stage
from scalepredict.model.split import Split, split_by_city


@dataclass
class FitResult:
    bundle: ModelBundle
    split: Split
    search: dict[str, SearchResult]  # per stage
    calibration_scores: dict[str, float]
    test_metrics: dict[str, float]
    baselines: dict[str, dict[str, float]]
    seconds: float


def truth_of(frame: pd.DataFrame, cat: Catalogue) -> np.ndarray | None:
    """The generator's true probabilities, when the frame carries them for every row."""
    if cat.truth is None:
        return None
    name = cat.truth.name
    if name in frame and frame[name].notna().all():
        return frame[name].astype(float).to_numpy()
    return None


def outcome_of(frame: pd.DataFrame, cat: Catalogue) -> np.ndarray:
    return frame[cat.outcome.name].astype(int).to_numpy()


def calibrate(
    bundle: ModelBundle, calibration: pd.DataFrame, cfg: TrainConfig
) -> tuple[ModelBundle, dict[str, Any]]:
    """The bundle's boosters with a calibrator and conformal threshold fitted on the
    calibration rows, as scored under its catalogue's unknown-answer policy."""
    y_cal = outcome_of(calibration, bundle.catalogue)
    raw_cal = bundle.raw_probability(calibration)
    calibrator, cal_scores = choose_calibration(raw_cal, y_cal, cfg.calibration_methods, cfg.seed)
    conformal = Conformal.fit(calibrator(raw_cal), y_cal, cfg.conformal_alpha)
    meta = dict(bundle.meta)
    return ModelBundle(bundle.catalogue, bundle.family, calibrator, conformal, meta), cal_scores


def fit(
    frame: pd.DataFrame,
    cfg: TrainConfig,
    progress: Callable[[str, int, int], None] | None = None,
    cat: Catalogue | None = None,
) -> FitResult:
    """Train, calibrate and test a bundle on a validated labelled frame of catalogue `cat`
    (default: the configured catalogue)."""
    cat = cat or load_catalogue()
    t0 = time.perf_counter()
    split = split_by_city(frame, cfg.split, cfg.seed, cat)
    boosters, found = train_per_stage(
        split.dev, cfg, cat, (lambda i, n: progress("search", i, n)) if progress else None
    )
    y_test = outcome_of(split.test, cat)
    bundle, cal_scores = calibrate(
        ModelBundle(cat, boosters, Calibrator(), Conformal()), split.calibration, cfg
    )
    conformal = bundle.conformal
    # the training data's profile (summaries, not rows): what the monitor compares with
    bundle.meta["profile"] = reference_profile(frame, cat)
    p_test = bundle.probability(split.test)
    test_metrics = with_truth(y_test, p_test, truth_of(split.test, cat))
    covered = [yt in s for yt, s in zip(y_test, conformal.sets(p_test), strict=True)]
    test_metrics["conformal_coverage"] = float(np.mean(covered))
    test_metrics["conformal_mean_set_size"] = float(
        np.mean([len(s) for s in conformal.sets(p_test)])
    )
    baselines = {
        "logistic_regression": probability_metrics(
            y_test, logistic_baseline(split.dev, cat)(split.test)
        ),
        "checklist": probability_metrics(y_test, checklist_baseline(split.dev, cat)(split.test)),
    }
    if progress:
        progress("fit", 1, 1)
    return FitResult(
        bundle, split, found, cal_scores, test_metrics, baselines, time.perf_counter() - t0
    )


def evaluate(bundle: ModelBundle, frame: pd.DataFrame) -> dict[str, Any]:
    """Metrics of a model on labelled data: overall, per stage and per subgroup."""
    cat = bundle.catalogue
    y = outcome_of(frame, cat)
    p = bundle.probability(frame)
    truth = truth_of(frame, cat)
    out: dict[str, Any] = with_truth(y, p, truth)
    out["by_group"] = breakdown(frame, y, p, truth, cat)
    return json.loads(json.dumps(out, default=float))
