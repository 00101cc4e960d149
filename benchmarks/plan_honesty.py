"""Plans' promises against the generator's truth, by training size, on seeds no test uses:
the mean true gain as a share of the promised (expected) gain, how often the plan's 80%
interval, read as an interval on its gain, holds the true gain, Pearson(promised, true gain),
and the share of plans that truly raise the chance; with the fixed discount of before (no
cross-fitted shrinkage) and with the shrinkage and spread learned by cross-fitting at
training (`plan_honesty.py`).

Usage: python benchmarks/plan_honesty.py [--sizes 400 1000 5000] [--plans 300]
Targets: mean true gain 90-110% of the promised from 400 rows; the 80% interval covers the true
gain for 75-85% of plans; >= 99% of plans truly raise the chance."""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy.stats import pearsonr

from scalepredict.data.synthetic import generate, true_probability
from scalepredict.inference.plan_figures import HONESTY_META
from scalepredict.inference.plan_honesty import plan_honesty
from scalepredict.inference.plans import apply_changes, plan_batch
from scalepredict.model.config import TrainConfig
from scalepredict.model.fit import fit


def against_truth(bundle, initiatives: pd.DataFrame) -> dict[str, float]:
    plans = plan_batch(bundle, initiatives.drop(columns=["scaled_up", "true_probability"]))
    taken = [i for i, p in enumerate(plans) if p["actions"]]
    before = initiatives.iloc[taken].reset_index(drop=True)
    after = pd.concat(
        [
            apply_changes(
                initiatives.iloc[[i]],
                {a["factor"]: a["to"] for a in plans[i]["actions"]},
                bundle.catalogue,
            )
            for i in taken
        ],
        ignore_index=True,
    )
    t0, t1 = true_probability(before), true_probability(after)
    promised = np.array([plans[i]["expected_gain"] for i in taken])
    p0 = np.array([plans[i]["probability"] for i in taken])
    low = np.array([plans[i]["interval"][0] for i in taken]) - p0  # the gain's interval
    high = np.array([plans[i]["interval"][1] for i in taken]) - p0
    true_gain = t1 - t0
    return {
        "plans": len(taken),
        "kept": float(true_gain.mean() / promised.mean()),
        "covered": float(np.mean((true_gain >= low) & (true_gain <= high))),
        "pearson": float(pearsonr(promised, true_gain).statistic) if len(taken) > 2 else np.nan,
        "rises": float(np.mean(true_gain > 0)),
        "promised": float(promised.mean()),
        "low_confidence": float(np.mean([plans[i]["confidence"] == "low" for i in taken])),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[400, 1000, 5000])
    ap.add_argument("--plans", type=int, default=300)
    args = ap.parse_args()
    cfg = TrainConfig.from_yaml("training/default.yaml")
    initiatives = generate(args.plans, 5151, truth=True, complete=True)
    print(
        "| training rows | family | rule | plans | true / promised | 80% interval covers | "
        "Pearson | truly raise | mean promised | confidence low |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        result = fit(generate(n, 5000 + n, truth=True), cfg)
        bundle = result.bundle
        rows = {"fixed discount": against_truth(bundle, initiatives)}
        t = time.perf_counter()
        assert result.tuned is not None
        frame = generate(n, 5000 + n, truth=True)
        bundle.meta[HONESTY_META] = plan_honesty(bundle, frame, result.tuned, cfg)
        seconds = time.perf_counter() - t
        rows[f"cross-fitted ({seconds:.0f} s): {bundle.meta[HONESTY_META]}"] = against_truth(
            bundle, initiatives
        )
        for rule, m in rows.items():
            print(
                f"| {n:,} | {bundle.kind} | {rule} | {m['plans']} | {m['kept']:.0%} | "
                f"{m['covered']:.0%} | {m['pearson']:.2f} | {m['rises']:.1%} | "
                f"{m['promised']:.3f} | {m['low_confidence']:.0%} |"
            )


if __name__ == "__main__":
    main()
