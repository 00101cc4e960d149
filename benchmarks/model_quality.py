"""Model quality against the best possible: train on freshly generated data, evaluate on 50k
other rows, compare XGBoost with the Bayes limit (the true probability) and the two baselines,
and print the learning curve of the AUC gap to Bayes.

Usage: python benchmarks/model_quality.py [--train-rows 20000] [--eval-rows 50000]
       [--curve 1000 5000 20000 100000] [--trials 12]
Targets: AUC within 0.01 of Bayes at 20k rows, ECE <= 0.02, above both baselines."""

from __future__ import annotations

import argparse
import time

from scalepredict.catalogue import builtin_catalogue
from scalepredict.data.synthetic import generate
from scalepredict.model.baselines import checklist_baseline, logistic_baseline
from scalepredict.model.config import TrainConfig
from scalepredict.model.fit import fit
from scalepredict.model.metrics import probability_metrics

TRAIN_SEED, EVAL_SEED = 1001, 2002


def run(rows: int, evaluation, trials: int) -> dict[str, dict[str, float]]:
    cat = builtin_catalogue()
    frame = generate(rows, TRAIN_SEED, truth=True)
    cfg = TrainConfig.from_yaml("training/default.yaml")
    cfg.search.trials = trials
    t = time.perf_counter()
    result = fit(frame, cfg)
    seconds = time.perf_counter() - t
    y = evaluation["scaled_up"].astype(int).to_numpy()
    out = {
        "XGBoost (calibrated)": probability_metrics(y, result.bundle.probability(evaluation)),
        "logistic regression": probability_metrics(
            y, logistic_baseline(result.split.dev, cat)(evaluation)
        ),
        "checklist": probability_metrics(y, checklist_baseline(result.split.dev, cat)(evaluation)),
        "true probability (Bayes)": probability_metrics(
            y, evaluation["true_probability"].to_numpy()
        ),
    }
    out["XGBoost (calibrated)"]["seconds"] = seconds
    out["XGBoost (calibrated)"]["calibration"] = result.bundle.calibrator.method  # type: ignore[assignment]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-rows", type=int, default=20_000)
    ap.add_argument("--eval-rows", type=int, default=50_000)
    ap.add_argument("--curve", type=int, nargs="*", default=[1_000, 5_000, 20_000, 100_000])
    ap.add_argument("--trials", type=int, default=12)
    args = ap.parse_args()
    evaluation = generate(args.eval_rows, EVAL_SEED, truth=True)
    print(
        f"train: {args.train_rows} rows (seed {TRAIN_SEED}); evaluate: {args.eval_rows} other rows "
        f"(seed {EVAL_SEED}); {args.trials} search trials"
    )
    res = run(args.train_rows, evaluation, args.trials)
    bayes = res["true probability (Bayes)"]
    print(f"{'model':<26} {'ROC AUC':>8} {'log loss':>9} {'ECE':>7} {'AUC gap':>8}")
    for name, m in res.items():
        print(
            f"{name:<26} {m['roc_auc']:8.4f} {m['log_loss']:9.4f} {m['ece']:7.4f} "
            f"{bayes['roc_auc'] - m['roc_auc']:8.4f}"
        )
    xgb = res["XGBoost (calibrated)"]
    print(
        f"training seconds (search + fit + calibration): {xgb['seconds']:.1f}; "
        f"calibration chosen: {xgb['calibration']}"
    )
    checks = {
        "AUC within 0.01 of Bayes": bayes["roc_auc"] - xgb["roc_auc"] <= 0.01,
        "ECE <= 0.02": xgb["ece"] <= 0.02,
        "above logistic regression (AUC)": xgb["roc_auc"] > res["logistic regression"]["roc_auc"],
        "above checklist (AUC)": xgb["roc_auc"] > res["checklist"]["roc_auc"],
    }
    for name, ok in checks.items():
        print(f"  {'MET ' if ok else 'MISS'} {name}")
    if args.curve:
        print("\nlearning curve (same evaluation rows)")
        print(
            f"{'train rows':>10} {'XGB AUC':>8} {'LR AUC':>8} {'Bayes':>8} {'XGB gap':>8} "
            f"{'LR gap':>8} {'XGB ECE':>8} {'seconds':>8}"
        )
        for rows in args.curve:
            r = run(rows, evaluation, args.trials)
            x, lr, b = (
                r["XGBoost (calibrated)"],
                r["logistic regression"],
                r["true probability (Bayes)"],
            )
            print(
                f"{rows:>10} {x['roc_auc']:8.4f} {lr['roc_auc']:8.4f} {b['roc_auc']:8.4f} "
                f"{b['roc_auc'] - x['roc_auc']:8.4f} {b['roc_auc'] - lr['roc_auc']:8.4f} "
                f"{x['ece']:8.4f} {x['seconds']:8.1f}"
            )


if __name__ == "__main__":
    main()
