"""The honest split: cities dealt into folds stratified by stage, so no city's initiatives sit
on two sides of any split (development, calibration, test) or of any CV fold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from scalepredict.model.config import SplitConfig

SPLIT_FOLDS = 20  # cities are dealt into 20 folds; each split takes a whole number of folds


class InsufficientDataError(ValueError):
    """Too little data (or too few cities) to train and test honestly."""


@dataclass
class Split:
    dev: pd.DataFrame  # hyperparameter search (grouped CV) and the final booster
    calibration: pd.DataFrame  # calibrator choice and fit, conformal threshold
    test: pd.DataFrame  # touched once, for the reported metrics and the promotion gate

    def sizes(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in ("dev", "calibration", "test")}


def city_folds(frame: pd.DataFrame, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped, stage-stratified CV folds: a city's initiatives stay in one fold."""
    sgkf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(sgkf.split(frame, frame["stage"], groups=frame["city"]))


def split_by_city(frame: pd.DataFrame, fractions: SplitConfig, seed: int) -> Split:
    """Deal cities into folds stratified by stage; no city is on two sides of any split."""
    n_test = max(1, round(fractions.test * SPLIT_FOLDS))
    n_cal = max(1, round(fractions.calibration * SPLIT_FOLDS))
    if n_test + n_cal >= SPLIT_FOLDS:
        raise InsufficientDataError("split fractions leave no data for training")
    n_cities = frame["city"].nunique()
    if n_cities < 2 * SPLIT_FOLDS:
        raise InsufficientDataError(
            f"training needs initiatives from at least {2 * SPLIT_FOLDS} cities to split by city; "
            f"the data has {n_cities}"
        )
    fold = np.empty(len(frame), int)
    for k, (_, idx) in enumerate(city_folds(frame, SPLIT_FOLDS, seed)):
        fold[idx] = k

    def part(lo: int, hi: int) -> pd.DataFrame:
        return frame[(fold >= lo) & (fold < hi)].reset_index(drop=True)

    return Split(
        test=part(0, n_test),
        calibration=part(n_test, n_test + n_cal),
        dev=part(n_test + n_cal, SPLIT_FOLDS),
    )
