"""The compiled trees against XGBoost's `inplace_predict`, side by side on the same model and
rows: time per call by rows per call (best of three runs), and the ratio; the compiled trees
in one thread and split over threads (`compiled_trees.PARALLEL_ROWS` is set by where the two
cross).

Usage: python benchmarks/tree_eval.py [--train-rows 5000] [--trials 1]"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before XGBoost starts OpenMP

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.json_validation import per_call_ms
from scalepredict.data.synthetic import generate
from scalepredict.model import compiled_trees
from scalepredict.model.config import TrainConfig
from scalepredict.model.features import feature_matrix
from scalepredict.model.fit import fit


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-rows", type=int, default=5_000)
    ap.add_argument("--trials", type=int, default=1)
    args = ap.parse_args()
    cfg = TrainConfig.from_yaml("training/default.yaml")
    cfg.search.trials = args.trials
    bundle = fit(generate(args.train_rows, 3001, truth=True), cfg).bundle
    forest = bundle.forest
    assert forest is not None, "this model did not compile"
    trees = forest.tree_start[-1]
    print(f"{len(bundle.boosters)} boosters, {trees} trees, {len(forest.left)} nodes")
    x = feature_matrix(generate(100_000, 5).drop(columns=["scaled_up"]), bundle.catalogue)
    which = bundle.booster_of_rows(x)

    def xgboost(rows: np.ndarray) -> None:
        for _, booster, part in bundle.model.routes(rows, bundle.catalogue):
            booster.inplace_predict(rows[part], predict_type="margin")

    def compiled(rows: np.ndarray, part: np.ndarray, threads: int) -> None:
        compiled_trees.THREADS, compiled_trees.PARALLEL_ROWS = threads, 1
        forest.margin(rows, part)

    threads = compiled_trees.THREADS
    print(f"{'rows':>6} {'XGBoost ms':>11} {'compiled, 1 thread':>19} {threads} threads")
    for n in (1, 10, 100, 1_000, 2_048, 4_096, 20_000, 100_000):
        rows, part = x[:n], which[:n]
        reps = max(3, 2_000 // max(n // 10, 1))
        a = per_call_ms(lambda rows=rows: xgboost(rows), reps, runs=3)
        one = per_call_ms(lambda rows=rows, part=part: compiled(rows, part, 1), reps, runs=3)
        many = per_call_ms(lambda rows=rows, part=part: compiled(rows, part, threads), reps, runs=3)
        print(f"{n:>6} {a:>11.3f} {one:>10.3f} ({a / one:>5.1f}x) {many:>8.3f} ({a / many:>5.1f}x)")


if __name__ == "__main__":
    main()
