"""The honest split: cities dealt into folds stratified by stage, so no city's initiatives sit
on two sides of any split (development, calibration, test) or of any CV fold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from scalepredict.catalogue import Catalogue
from scalepredict.data.validation import groups_of, stage_of
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


def _strata(frame: pd.DataFrame, cat: Catalogue) -> np.ndarray:
    """What folds keep balanced: the stage, else the outcome (when known)."""
    if cat.stage or cat.outcome.name not in frame:
        return stage_of(frame, cat).astype(str).to_numpy()
    return frame[cat.outcome.name].astype(str).to_numpy()


def group_label(cat: Catalogue) -> str:
    return "cities" if cat.group == "city" else f"distinct {cat.group or 'row'} values"


def city_folds(
    frame: pd.DataFrame, k: int, seed: int, cat: Catalogue
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped, stage-stratified CV folds: a group's (a city's) rows stay in one fold."""
    sgkf = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return list(sgkf.split(frame, _strata(frame, cat), groups=groups_of(frame, cat)))


def split_by_city(frame: pd.DataFrame, fractions: SplitConfig, seed: int, cat: Catalogue) -> Split:
    """Deal groups (cities) into folds stratified by stage; no group is on two sides of any
    split. With `fractions.by == "time"`: the latest rows by the catalogue's date are the test
    set, the ones before them the calibration set."""
    n_test = max(1, round(fractions.test * SPLIT_FOLDS))
    n_cal = max(1, round(fractions.calibration * SPLIT_FOLDS))
    if n_test + n_cal >= SPLIT_FOLDS:
        raise InsufficientDataError("split fractions leave no data for training")
    if fractions.by == "time":
        return _split_by_time(frame, fractions, cat)
    n_groups = groups_of(frame, cat).nunique()
    if n_groups < 2 * SPLIT_FOLDS:
        raise InsufficientDataError(
            f"training needs initiatives from at least {2 * SPLIT_FOLDS} {group_label(cat)} to "
            f"split by {cat.group or 'row'}; the data has {n_groups}"
        )
    fold = np.empty(len(frame), int)
    for k, (_, idx) in enumerate(city_folds(frame, SPLIT_FOLDS, seed, cat)):
        fold[idx] = k

    def part(lo: int, hi: int) -> pd.DataFrame:
        return frame[(fold >= lo) & (fold < hi)].reset_index(drop=True)

    return Split(
        test=part(0, n_test),
        calibration=part(n_test, n_test + n_cal),
        dev=part(n_test + n_cal, SPLIT_FOLDS),
    )


def _split_by_time(frame: pd.DataFrame, fractions: SplitConfig, cat: Catalogue) -> Split:
    """Train on the earlier rows, calibrate on the next, test on the latest (a later period
    never informs an earlier one). Rows without a date cannot be placed and are refused."""
    if cat.date is None:
        raise InsufficientDataError("a time split needs the catalogue's date field")
    when = frame[cat.date]
    if when.isna().any():
        raise InsufficientDataError(
            f"a time split needs every row's {cat.date}; {int(when.isna().sum())} are empty"
        )
    key = when.astype("int64") if when.dtype.kind == "M" else pd.to_numeric(when)
    order = np.argsort(key.to_numpy(), kind="stable")
    n = len(frame)
    n_test, n_cal = round(fractions.test * n), round(fractions.calibration * n)
    if min(n_test, n_cal, n - n_test - n_cal) < 20:
        raise InsufficientDataError(f"a time split of {n} rows leaves a part under 20 rows")

    def part(rows: np.ndarray) -> pd.DataFrame:
        return frame.iloc[np.sort(rows)].reset_index(drop=True)

    return Split(
        dev=part(order[: n - n_test - n_cal]),
        calibration=part(order[n - n_test - n_cal : n - n_test]),
        test=part(order[n - n_test :]),
    )


def split_around(
    frame: pd.DataFrame, test: pd.DataFrame, fractions: SplitConfig, seed: int, cat: Catalogue
) -> Split:
    """A fixed test set (the evaluation set, its groups already out of `frame`): `frame`'s
    groups dealt into development and calibration in the proportion `split_by_city` uses."""
    n_test = max(1, round(fractions.test * SPLIT_FOLDS))
    n_cal = max(1, round(fractions.calibration * SPLIT_FOLDS))
    k = SPLIT_FOLDS - n_test
    if groups_of(frame, cat).nunique() < k:
        raise InsufficientDataError(
            f"beside the evaluation set, training needs initiatives from at least {k} "
            f"{group_label(cat)}; the data has {groups_of(frame, cat).nunique()}"
        )
    fold = np.empty(len(frame), int)
    for i, (_, idx) in enumerate(city_folds(frame, k, seed, cat)):
        fold[idx] = i
    return Split(
        dev=frame[fold >= n_cal].reset_index(drop=True),
        calibration=frame[fold < n_cal].reset_index(drop=True),
        test=test.reset_index(drop=True),
    )
