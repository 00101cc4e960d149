"""The served plans against the certified optimum, over every initiative, for each model family;
and the speed of explain + plan, to run side by side with another checkout.

Optimum: for each family a small model is fitted (config `families` set to that one family),
then every initiative is planned as served (`Predictor.plan`) and solved exactly
(`inference/plan_optimum.py`: the cheapest plan within the budget whose expected chance shown
reaches the target, or a proof that none does). Counted per family:
- within 5%: the served plan reaches the target for at most 1.05 x the optimum's effort, or
  both agree that no plan is needed, or the optimum is proven infeasible and the served plan
  says it does not reach (target: >= 95% of all initiatives; a solver timeout is a miss);
- missed: the optimum exists but the served plan does not reach the target;
- beaten: the served plan reaches for less than the "optimum" (must be 0: a wrong solver);
- the solver's time per initiative (median, p95, max; proposals needing no plan excluded).

Speed (`--speed BUNDLE_DIR`): explain + plan for one proposal (median of repeated calls) and a
batch of 100 (median of repeats) on a saved bundle. It uses only what every version has
(`Predictor`, `ModelBundle.load`), so run this file with PYTHONPATH set to each checkout's
src, alternately, on the same bundle (`--save-bundle DIR` writes one).

Usage: python benchmarks/plan_optimum.py [--train-rows 2000] [--initiatives 60]
       [--families checklist logistic ebm xgboost] [--complete] [--seconds 10]
       python benchmarks/plan_optimum.py --speed DIR [--repeats 40]"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before XGBoost starts OpenMP

import numpy as np

from scalepredict.data.synthetic import generate
from scalepredict.inference.predictor import Predictor
from scalepredict.model.bundle import ModelBundle


def speed(directory: str, repeats: int) -> None:
    """Explain + plan for one proposal and for a batch of 100, on a saved bundle."""
    predictor = Predictor(ModelBundle.load(directory))
    batch = generate(100, 3002).drop(columns=["scaled_up"])
    predictor.assess(batch.head(20))  # warm up (compiled trees, caches)
    one = []
    for i in range(repeats):
        row = batch.iloc[[i % len(batch)]]
        t = time.perf_counter()
        predictor.assess(row, explain=True, plan=True)
        one.append((time.perf_counter() - t) * 1000)
    hundred = []
    for _ in range(max(3, repeats // 8)):
        t = time.perf_counter()
        predictor.assess(batch, explain=True, plan=True)
        hundred.append(time.perf_counter() - t)
    print(
        f"explain + plan, 1 proposal: median {statistics.median(one):.1f} ms over {repeats}; "
        f"100 proposals: median {statistics.median(hundred):.2f} s "
        f"({100 / statistics.median(hundred):.0f} proposals/s)"
    )


def compare(bundle: ModelBundle, rows, seconds: float) -> dict:
    """The served plans of `rows` against the certified optimum (see the module docstring)."""
    from scipy.special import expit

    from scalepredict.inference.plan_optimum import optimum
    from scalepredict.inference.plan_problem import SearchProblem
    from scalepredict.inference.plans import DEFAULT_MAX_EFFORT, default_target, search_goal
    from scalepredict.inference.search_score import SearchScore
    from scalepredict.model.features import feature_matrix

    plans = Predictor(bundle).plan(rows)
    feats = feature_matrix(rows, bundle.catalogue)
    m0 = bundle.margin_of(feats)
    p0 = bundle.calibrator(expit(m0))
    targets = np.array([default_target(p) for p in p0])
    goal = search_goal(bundle, m0, targets, p0 >= targets - 1e-12)
    problem = SearchProblem.of(SearchScore.of(bundle, feats), goal, DEFAULT_MAX_EFFORT)
    out = {k: 0 for k in ("within", "missed", "beaten", "timeout", "infeasible", "optimal")}
    times, gaps = [], []
    for r, plan in enumerate(plans):
        o = optimum(problem, r, seconds)
        reached, cost = plan["reached"], plan["total_effort"]
        if o.status != "no_plan_needed":
            times.append(o.seconds)
        if o.status in ("timeout", "unsupported"):
            out["timeout"] += 1
        elif o.status == "no_plan_needed":
            out["within"] += reached and not plan["actions"]
        elif o.status == "infeasible":
            out["infeasible"] += 1
            out["within"] += not reached
            out["beaten"] += reached  # the solver proved no plan, yet one reaches
        else:
            out["optimal"] += 1
            out["missed"] += not reached
            out["beaten"] += reached and cost < o.cost - 1e-9
            if reached:
                gaps.append((cost - o.cost) / o.cost if o.cost else float(cost > 0))
                out["within"] += cost <= 1.05 * o.cost + 1e-9
    out["n"] = len(plans)
    out["times"] = times
    out["mean_excess"] = float(np.mean(gaps)) if gaps else 0.0
    return out


def report(family: str, out: dict, seconds: float) -> None:
    t = np.array(out["times"]) if out["times"] else np.zeros(1)
    share = out["within"] / max(out["n"], 1)
    print(
        f"{family:<10} {out['n']} initiatives: optimum {out['optimal']}, proven infeasible "
        f"{out['infeasible']}, timeouts ({seconds:g} s) {out['timeout']}; served within 5% "
        f"{out['within']} ({share:.1%} {'MET ' if share >= 0.95 else 'MISS'}); search found "
        f"none where one exists {out['missed']}; served cheaper than the optimum "
        f"{out['beaten']}; mean excess effort {out['mean_excess']:.1%}"
    )
    print(
        f"{'':<10} solver time per initiative: median {np.median(t) * 1000:.0f} ms, "
        f"p95 {np.percentile(t, 95) * 1000:.0f} ms, max {t.max() * 1000:.0f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-rows", type=int, default=2_000)
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--initiatives", type=int, default=60)
    ap.add_argument("--families", nargs="+", default=["checklist", "logistic", "ebm", "xgboost"])
    ap.add_argument("--train-seed", type=int, default=3001)
    ap.add_argument("--plan-seed", type=int, default=3003)
    ap.add_argument("--complete", action="store_true", help="initiatives without blanks")
    ap.add_argument("--seconds", type=float, default=None, help="solver limit per initiative")
    ap.add_argument("--save-bundle", help="save the last family's bundle here (for --speed)")
    ap.add_argument("--speed", metavar="BUNDLE_DIR", help="time explain + plan only")
    ap.add_argument("--repeats", type=int, default=40)
    args = ap.parse_args()
    if args.speed:
        speed(args.speed, args.repeats)
        return
    from scalepredict.inference.plan_optimum import SOLVER_SECONDS
    from scalepredict.model.config import TrainConfig
    from scalepredict.model.fit import fit

    seconds = args.seconds or SOLVER_SECONDS
    frame = generate(args.train_rows, args.train_seed, truth=True)
    rows = generate(args.initiatives, args.plan_seed, complete=args.complete)
    rows = rows.drop(columns=["scaled_up"])
    for family in args.families:
        cfg = TrainConfig.from_yaml("training/default.yaml")
        cfg.search.trials = args.trials
        cfg.families = [family]
        t = time.perf_counter()
        bundle = fit(frame, cfg).bundle
        print(f"{family}: fitted on {args.train_rows} rows in {time.perf_counter() - t:.0f} s")
        report(family, compare(bundle, rows, seconds), seconds)
        if args.save_bundle:
            bundle.save(args.save_bundle)


if __name__ == "__main__":
    main()
