"""Plans (and explanations) for a batch of proposals: time per proposal.

Fits a small model on generated rows, then times `Predictor.assess` on a batch of generated
proposals (with blank answers, as they come). To compare two versions on a shared machine, run
this for each back to back (PYTHONPATH=<checkout>/src) and compare the ratio.

Usage: python benchmarks/plan_speed.py [--train-rows 10000] [--trials 2] [--batch 1000]"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before XGBoost starts OpenMP

from scalepredict.data.synthetic import generate
from scalepredict.inference.predictor import Predictor
from scalepredict.model.config import TrainConfig
from scalepredict.model.fit import fit


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-rows", type=int, default=10_000)
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1_000)
    args = ap.parse_args()
    cfg = TrainConfig.from_yaml("training/default.yaml")
    cfg.search.trials = args.trials
    predictor = Predictor(fit(generate(args.train_rows, 3001, truth=True), cfg).bundle)
    batch = generate(args.batch, 3002).drop(columns=["scaled_up"])
    predictor.assess(batch.head(20))  # warm up
    for label, explain in (("plans", False), ("explanations and plans", True)):
        t = time.perf_counter()
        predictor.assess(batch, explain=explain, plan=True)
        ms = (time.perf_counter() - t) * 1000 / len(batch)
        print(f"{label}: {ms:.1f} ms per proposal (batch of {len(batch)})")


if __name__ == "__main__":
    main()
