"""Noise shown as a reason: how often a field with no effect in the generator's truth
(`budget_eur`, `duration_months`, `partners`; data/README.md) is among a proposal's top 5
drivers worded moderate or strong, with and without the null reference (`inference/noise.py`),
by training size, on seeds no test uses; and how many true drivers keep their words.

Usage: python benchmarks/noise_drivers.py [--sizes 400 1000 5000 20000] [--proposals 2000]
Target: <= 1% of top drivers are no-effect fields worded moderate or strong."""

from __future__ import annotations

import argparse
import time

from scalepredict.data.synthetic import generate
from scalepredict.inference.explain import NOISE_META, explain_rows
from scalepredict.inference.noise import noise_points
from scalepredict.model.config import TrainConfig
from scalepredict.model.fit import fit

NO_EFFECT = {"budget_eur", "duration_months", "partners"}


def shares(bundle, proposals) -> tuple[float, float, float]:
    """(no-effect fields worded moderate/strong, any context field first, moderate/strong
    drivers that are real) as shares of the top 5 drivers shown."""
    rows = explain_rows(bundle, proposals, top=5)
    tops = [d for r in rows for d in r["top_drivers"]]
    loud = [d for d in tops if d["strength"] != "weak"]
    noisy = sum(d["field"] in NO_EFFECT for d in loud)
    first_context = sum(r["top_drivers"][0]["dimension"] == "context" for r in rows)
    return noisy / len(tops), first_context / len(rows), (len(loud) - noisy) / len(tops)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[400, 1000, 5000, 20000])
    ap.add_argument("--proposals", type=int, default=2000)
    args = ap.parse_args()
    cfg = TrainConfig.from_yaml("training/default.yaml")
    proposals = generate(args.proposals, 8181).drop(columns=["scaled_up"])
    print(
        "| training rows | family | no-effect worded moderate/strong (before / after) | "
        "real drivers worded moderate/strong (before / after) | null refits s |"
    )
    print("|---|---|---|---|---|")
    for n in args.sizes:
        frame = generate(n, 8000 + n, truth=True)
        result = fit(frame, cfg)
        bundle = result.bundle
        before = shares(bundle, proposals)
        t = time.perf_counter()
        assert result.tuned is not None
        bundle.meta[NOISE_META] = noise_points(bundle, frame, result.tuned, cfg)
        seconds = time.perf_counter() - t
        after = shares(bundle, proposals)
        print(
            f"| {n:,} | {bundle.kind} | {before[0]:.1%} / {after[0]:.1%} | "
            f"{before[2]:.1%} / {after[2]:.1%} | {seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
