"""Do blank answers pay? The same trained model under each unknown-answer policy.

Trains once on the default data (`training/default.yaml`'s file and split), then for each
policy refits the calibrator (`fit.calibrate`) and measures on the test split:
- the blank cells of the test proposals: the share whose score (left blank) is at least the
  score with that answer at 3, and at least the score with a 5 (the other answers as given);
- test AUC and log loss.

Usage: python benchmarks/blank_policy.py [--trials 4] [--cells 300]"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from scalepredict.catalogue import load_catalogue
from scalepredict.data.tables import FileLimits
from scalepredict.data.validation import validate_file
from scalepredict.model.config import TrainConfig
from scalepredict.model.features import feature_matrix
from scalepredict.model.fit import calibrate, fit, outcome_of
from scalepredict.model.metrics import probability_metrics
from scalepredict.model.unknowns import POLICIES
from scalepredict.settings import get_settings


def blank_cells(bundle, test: pd.DataFrame, cells: int, seed: int) -> dict[str, float]:
    """Of up to `cells` blank cells (row, factor) of the test rows: the share scoring at least
    as well blank as answered 3, and as answered 5 (the better end of the scale), and the share
    scoring strictly better (ties are common: the trees and the isotonic calibrator are flat
    in places, and a capped blank scores exactly as the level)."""
    cat = bundle.catalogue
    pairs = [(i, f) for f in cat.factor_names for i in np.flatnonzero(test[f].isna().to_numpy())]
    rng = np.random.default_rng(seed)
    pairs = [pairs[k] for k in rng.permutation(len(pairs))[:cells]]
    rows = test.iloc[[i for i, _ in pairs]].reset_index(drop=True)
    p_blank = bundle.probability(rows)
    out = {"cells": len(pairs)}
    for level in (3, 5):
        answered = rows.copy()
        for k, (_, f) in enumerate(pairs):
            answered.loc[k, f] = level
        p_level = bundle.probability(answered)
        out[f"at_least_{level}"] = float(np.mean(p_blank >= p_level - 1e-12))
        out[f"above_{level}"] = float(np.mean(p_blank > p_level + 1e-12))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=4)
    ap.add_argument("--cells", type=int, default=300)
    args = ap.parse_args()
    settings = get_settings()
    cat = load_catalogue(settings)
    cfg = TrainConfig.from_yaml("training/default.yaml")
    cfg.search.trials = args.trials
    frame = validate_file(cfg.data, True, cat, limits=FileLimits.of(settings)).good()
    t = time.perf_counter()
    result = fit(frame, cfg, cat=cat)
    test = result.split.test.reset_index(drop=True)
    y = outcome_of(test, cat)
    print(
        f"trained on {cfg.data} ({len(frame)} rows, {args.trials} trials per stage) in "
        f"{time.perf_counter() - t:.0f} s; test split {len(test)} rows, "
        f"{int(test[cat.factor_names].isna().sum().sum())} blank cells"
    )
    print("policy   | blank >= 3 (> 3) | blank >= 5 (> 5) | test AUC | log loss | capped test rows")
    for policy in POLICIES:
        bundle, _ = calibrate(result.bundle.with_policy(policy), result.split.calibration, cfg)
        cells = blank_cells(bundle, test, args.cells, cfg.seed)
        capped = bundle.scored(feature_matrix(test, cat)).capped.mean()
        m = probability_metrics(y, bundle.probability(test))
        print(
            f"{policy:<8} | {cells['at_least_3']:>6.1%} ({cells['above_3']:>5.1%}) | "
            f"{cells['at_least_5']:>6.1%} ({cells['above_5']:>5.1%}) | "
            f"{m['roc_auc']:.4f}   | {m['log_loss']:.4f}   | {capped:.1%}"
            f"   (of {cells['cells']} blank cells)"
        )


if __name__ == "__main__":
    main()
