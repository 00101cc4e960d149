"""The measured results in this example's README, reproducible:

    .venv/bin/python examples/world-bank-ieg/report.py [--trials N]

Fits the model twice on the IEG ratings (no registry): a split grouped by country and a time
split (earlier approval years train, the latest test), each against logistic regression and
the checklist score on the same test set; then SHAP importance by dimension and two real
projects' explanations and plans. Prints Markdown."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from scalepredict.catalogue import read_catalogue
from scalepredict.data.validation import validate_file
from scalepredict.inference.predictor import Predictor
from scalepredict.model.config import TrainConfig
from scalepredict.model.fit import fit

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "ieg_world_bank_project_performance_ratings_01-17-2026.csv"


def _row(name: str, m: dict[str, float]) -> str:
    return f"| {name} | {m['roc_auc']:.3f} | {m['log_loss']:.3f} | {m['ece']:.3f} |"


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--trials", type=int, default=None, help="search trials (default: config)")
    trials = args.parse_args().trials
    cat = read_catalogue(HERE / "catalogue.yaml")
    result = validate_file(DATA, True, cat)
    frame = result.good()
    print(f"{len(frame)} rated projects ({int(result.not_rated.sum())} not rated, left out), ")
    print(f"{frame[cat.group].nunique()} countries, success rate {frame['outcome'].mean():.1%}.\n")
    fitted = {}
    for split, config in (("country", "train.yaml"), ("time", "train-time.yaml")):
        cfg = TrainConfig.from_yaml(HERE / config)
        if trials is not None:
            cfg.search.trials = trials
        t0 = time.perf_counter()
        fitted[split] = fit(frame, cfg, cat=cat)
        r = fitted[split]
        test = r.split.test
        years = f"approval FY {test['approval_fy'].min()}-{test['approval_fy'].max()}"
        print(
            f"### Split by {split}: {len(test)} test projects ({years}), "
            f"{time.perf_counter() - t0:.0f} s\n"
        )
        print("| model | ROC AUC | log loss | ECE |\n|---|---|---|---|")
        print(_row(f"XGBoost (calibration: {r.bundle.calibrator.method})", r.test_metrics))
        print(_row("logistic regression, same features", r.baselines["logistic_regression"]))
        print(_row("checklist (mean rating)", r.baselines["checklist"]))
        m = r.test_metrics
        print(
            f"\n90% conformal sets cover {m['conformal_coverage']:.1%} of the test projects "
            f"(mean set size {m['conformal_mean_set_size']:.2f}).\n"
        )
    r = fitted["country"]
    predictor = Predictor(r.bundle, {"name": "ieg", "version": "report", "source": "registry"})
    test = r.split.test.drop(columns=[cat.outcome.name])
    importance = predictor.importance(test)["all"]
    print("### Mean |SHAP| by dimension (log-odds, country split's test set)\n")
    print("| dimension | mean abs SHAP |\n|---|---|")
    for d, v in sorted(importance["dimensions"].items(), key=lambda kv: -kv[1]):
        print(f"| {d} | {v:.3f} |")
    p = predictor.probability(test)
    picks = [int(pd.Series(p).idxmin()), int((pd.Series(p) - 0.5).abs().idxmin())]
    for i in picks:
        row = test.iloc[[i]]
        rec = predictor.assess(row)[0]
        truth = r.split.test.iloc[i][cat.outcome.name]
        print(
            f"\n### {row.iloc[0]['project_id']}: {row.iloc[0]['project_name']} "
            f"({row.iloc[0]['country']}, approved FY{row.iloc[0]['approval_fy']})\n"
        )
        ratings = ", ".join(
            f"{f}: {row.iloc[0][f] if pd.notna(row.iloc[0][f]) else 'not rated'}"
            for f in cat.factor_names
        )
        print(
            f"Ratings {ratings}. Predicted chance of a satisfactory outcome "
            f"{rec['probability']:.1%} ({rec['risk_band']} risk; {rec['uncertainty']}); "
            f"IEG's rating: {'satisfactory' if truth == 1 else 'unsatisfactory'}.\n"
        )
        print(
            "Top drivers: "
            + "; ".join(
                f"{d['field']} = {d['value']} {d['direction']} the chance ({d['points']:+.1f} pts)"
                for d in rec["explanation"]["top_drivers"][:4]
            )
            + ".\n"
        )
        plan = rec["plan"]
        steps = (
            "; ".join(
                f"{a['factor']} {a['from']}->{a['to']} ({a['effort']}: {a['action'][:70]}...)"
                for a in plan["actions"]
            )
            or "no step"
        )
        print(
            f"Plan to {plan['target_probability']:.0%}: {steps}; expected "
            f"{plan['expected_probability']:.1%} (reached: {plan['reached']})."
        )
        if plan["answer_first"]:
            q = plan["answer_first"][0]
            print(
                f"Answer first: {q['factor']} (chance {q['probability_if_lowest']:.0%} if lowest, "
                f"{q['probability_if_highest']:.0%} if highest)."
            )


if __name__ == "__main__":
    main()
