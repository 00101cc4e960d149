"""Plans' promises against the generator's truth, by training size, over several training
seeds no test uses: the mean true gain as a share of the promised (expected) gain, how often
the plan's 80% interval, read as an interval on its gain, holds the true gain,
Pearson(promised, true gain) and the share of plans that truly raise the chance; with the
shrinkage cross-fitted on one split into halves (before) and pooled over `repeats_for`
splits with its uncertainty in the interval (now, `inference/plan_honesty.py`).

One model's promise errs as that model does: what a size can promise is judged over several
models (training seeds), each figure given as the mean over seeds with a 95% t-interval and
the range of single models.

Usage: python benchmarks/plan_honesty.py [--sizes 400 1000 5000] [--seeds 5] [--plans 300]
Targets: mean true gain 90-110% of the promised from 400 rows; the 80% interval covers the true
gain for 75-85% of plans; >= 99% of plans truly raise the chance."""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats

from scalepredict.data.synthetic import generate, true_probability
from scalepredict.inference.plan_figures import HONESTY_META
from scalepredict.inference.plan_honesty import plan_honesty, repeats_for
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
    true_gain = true_probability(after) - true_probability(before)
    promised = np.array([plans[i]["expected_gain"] for i in taken])
    p0 = np.array([plans[i]["probability"] for i in taken])
    low = np.array([plans[i]["interval"][0] for i in taken]) - p0  # the gain's interval
    high = np.array([plans[i]["interval"][1] for i in taken]) - p0
    return {
        "plans": len(taken),
        "kept": float(true_gain.mean() / promised.mean()),
        "covered": float(np.mean((true_gain >= low) & (true_gain <= high))),
        "pearson": float(stats.pearsonr(promised, true_gain).statistic) if len(taken) > 2 else 0,
        "rises": float(np.mean(true_gain > 0)),
    }


def summary(values: list[float], pct: bool = True) -> str:
    """Mean over seeds, its 95% t-interval and the range of single models."""
    v = np.asarray(values)
    f = (lambda x: f"{x:.0%}") if pct else (lambda x: f"{x:.2f}")
    if len(v) < 2:
        return f(v.mean())
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return f"{f(v.mean())} [{f(v.mean() - half)}, {f(v.mean() + half)}] ({f(v.min())}-{f(v.max())})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[400, 1000, 5000])
    ap.add_argument("--seeds", type=int, default=5, help="training seeds per size")
    ap.add_argument("--plans", type=int, default=300)
    args = ap.parse_args()
    cfg = TrainConfig.from_yaml("training/default.yaml")
    initiatives = generate(args.plans, 5151, truth=True, complete=True)
    print(
        "| training rows | rule | models (families) | plans per model | true / promised | "
        "80% interval covers | Pearson | truly raise | cross-fitting s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        rules = {"one split": 1, f"{repeats_for(n)} splits pooled": repeats_for(n)}
        found: dict[str, list[dict[str, float]]] = {rule: [] for rule in rules}
        kinds: list[str] = []
        for s in range(args.seeds):
            frame = generate(n, 9000 + 7 * s + n, truth=True)
            result = fit(frame, cfg)
            assert result.tuned is not None
            kinds.append(result.bundle.kind)
            for rule, repeats in rules.items():
                t = time.perf_counter()
                meta = plan_honesty(result.bundle, frame, result.tuned, cfg, repeats=repeats)
                seconds = time.perf_counter() - t
                result.bundle.meta[HONESTY_META] = meta
                m = against_truth(result.bundle, initiatives)
                m["seconds"] = seconds
                found[rule].append(m)
        for rule, ms in found.items():
            if rule != "one split" and rules[rule] == 1:
                continue  # the same rule at this size
            fams = ", ".join(f"{k} {kinds.count(k)}" for k in sorted(set(kinds)))
            print(
                f"| {n:,} | {rule} | {len(ms)} ({fams}) | "
                f"{np.mean([m['plans'] for m in ms]):.0f} | {summary([m['kept'] for m in ms])} | "
                f"{summary([m['covered'] for m in ms])} | "
                f"{summary([m['pearson'] for m in ms], pct=False)} | "
                f"{min(m['rises'] for m in ms):.1%} (lowest) | "
                f"{np.mean([m['seconds'] for m in ms]):.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
