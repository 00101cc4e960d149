"""Small portfolios: the served model (family chosen by the data, calibrated, with its 90% sets)
beside logistic regression, plain XGBoost and the mean score, at the sizes funding bodies have,
on seeds no test uses; and the promotion gate's false-promotion rate and power.

1. Synthetic (known truth): train on N generated rows (seed 7001 + N), evaluate on 5,000 fresh
   rows (seed 9009) with intervals from the bootstrap over cities; the card's own held-out
   estimate (what a user is shown) beside the fresh figure it claims.
2. The World Bank IEG ratings (examples/world-bank-ieg): countries dealt 70/30 into a training
   pool and a test pool (grouped by country), N random rated projects drawn from the pool.
3. The gate: R pairs of models, each trained on its own 300 fresh rows of the same world (the
   challenger on fresh rows, as a retrain on new outcomes is); in half of the pairs the
   challenger is handicapped (the checklist family only). "Truly worse / better" is the
   expected log loss against the generator's true probability on 5,000 fresh rows. Reported:
   how often a truly worse challenger is promoted (target <= 5%) and how often a truly better
   one is (power).

Usage: python benchmarks/small_data.py [--sizes 150 400 1000 5000] [--ieg 150 400 1000]
       [--retrains 40] [--skip-gate]
Targets: the served model's log loss never worse than the best baseline's beyond its interval;
ECE <= 0.04 and coverage 87-93% at every size from 400 rows."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

from scalepredict.catalogue import Catalogue, builtin_catalogue, load_catalogue
from scalepredict.data.synthetic import generate
from scalepredict.data.tables import FileLimits
from scalepredict.data.validation import groups_of, validate_file
from scalepredict.model.baselines import checklist_baseline, logistic_baseline
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.calibration import Calibrator, Conformal
from scalepredict.model.config import TrainConfig
from scalepredict.model.ebm import EbmModel
from scalepredict.model.evaluation import row_log_loss, with_intervals
from scalepredict.model.features import feature_matrix, make_features, monotone_constraints
from scalepredict.model.fit import fit, outcome_of
from scalepredict.model.intervals import interval
from scalepredict.settings import get_settings
from scalepredict.tracking.gate import against_champion

EVAL_SEED = 9009
IEG = Path("examples/world-bank-ieg")


def plain_xgboost(train: pd.DataFrame, cat: Catalogue):
    """XGBoost as a data scientist would first try it: no constraints, no stages, 300 rounds."""
    model = xgb.XGBClassifier(
        n_estimators=300, max_depth=3, learning_rate=0.05, enable_categorical=True, nthread=2
    )
    model.fit(make_features(train, cat), outcome_of(train, cat))
    return lambda frame: model.predict_proba(make_features(frame, cat))[:, 1]


def _monotone(cat: Catalogue) -> list[int]:
    return list(monotone_constraints(cat))


def ebm(train: pd.DataFrame, cat: Catalogue):
    """The explainable boosting family alone (`model/ebm.py`: monotone shape functions of the
    context fields and factors, no pairs), uncalibrated: what it adds beside the served one."""
    x = feature_matrix(train, cat)
    bundle = ModelBundle(
        cat, EbmModel.fit(x, outcome_of(train, cat), cat), Calibrator(), Conformal()
    )
    return bundle.probability


def catboost(train: pd.DataFrame, cat: Catalogue):
    """CatBoost with the same monotone constraints (oblivious trees; categories as such)."""
    from catboost import CatBoostClassifier

    names = [c for c in cat.feature_context if cat.context_field(c).type == "category"]

    def features(frame: pd.DataFrame) -> pd.DataFrame:
        x = make_features(frame, cat)
        for name in names:
            x[name] = x[name].astype(object).fillna("(blank)").astype(str)
        return x

    model = CatBoostClassifier(
        iterations=500,
        learning_rate=0.05,
        depth=4,
        monotone_constraints=_monotone(cat),
        cat_features=names,
        thread_count=2,
        random_seed=0,
        verbose=False,
        allow_writing_files=False,  # no catboost_info/ in the checkout
    )
    model.fit(features(train), outcome_of(train, cat))
    return lambda frame: model.predict_proba(features(frame))[:, 1]


def monotone_violations(scorer, frame: pd.DataFrame, cat: Catalogue) -> float:
    """Share of (row, factor) pairs where one level better on the factor lowers the chance."""
    base = scorer(frame)
    drops = []
    for f in cat.factors:
        if f.direction == 0:
            continue
        up = frame.copy()
        values = pd.to_numeric(up[f.name], errors="coerce")
        step = values + f.direction
        ok = values.notna() & step.between(f.scale_min, f.scale_max)
        up.loc[ok, f.name] = step[ok]
        drops.append((scorer(up)[ok.to_numpy()] < base[ok.to_numpy()] - 1e-9).mean())
    return float(np.mean(drops)) if drops else 0.0


def row(name: str, m: dict[str, float]) -> str:
    def cell(k: str) -> str:
        if k not in m:
            return "-"
        return f"{m[k]:.3f} [{m[k + '_low']:.3f}, {m[k + '_high']:.3f}]"

    return (
        f"| {name} | "
        + " | ".join(cell(k) for k in ("roc_auc", "log_loss", "ece"))
        + (f" | {cell('conformal_coverage')} |")
    )


def compare(train: pd.DataFrame, test: pd.DataFrame, cat: Catalogue, cfg: TrainConfig, label: str):
    t = time.perf_counter()
    result = fit(train, cfg, cat=cat)
    seconds = time.perf_counter() - t
    bundle = result.bundle
    y = outcome_of(test, cat)
    groups = groups_of(test, cat).astype(str).to_numpy()
    p = bundle.probability(test)
    covered = np.array([yt in s for yt, s in zip(y, bundle.conformal.sets(p), strict=True)])
    scorers = {
        "logistic regression": logistic_baseline(train, cat),
        "plain XGBoost": plain_xgboost(train, cat),
        "mean score (checklist)": checklist_baseline(train, cat),
        "EBM family alone (uncalibrated)": ebm(train, cat),
        "CatBoost (monotone)": catboost(train, cat),
    }
    served = with_intervals(y, p, groups, covered)
    card = result.test_metrics
    print(f"\n### {label}: {len(train)} training rows, {len(test)} test rows")
    print(
        f"served family: {bundle.kind} (evaluation: {result.evaluation.method}; choice log loss "
        f"{ {k: round(v, 4) for k, v in result.evaluation.choice_scores.items()} }); "
        f"fit {seconds:.1f} s"
    )
    print("| model | AUC | log loss | ECE | 90% coverage |\n|---|---|---|---|---|")
    print(row(f"served ({bundle.kind})", served))
    best_ll = None
    for name, scorer in scorers.items():
        m = with_intervals(y, scorer(test), groups)
        best_ll = m["log_loss"] if best_ll is None else min(best_ll, m["log_loss"])
        print(row(name, m))
        d = row_log_loss(y, p) - row_log_loss(y, scorer(test))
        low, high = interval(lambda r, d=d: float(d[r].mean()), groups)
        print(f"|   served - {name}, log loss | {d.mean():+.4f} [{low:+.4f}, {high:+.4f}] | | | |")
        if name.startswith(("EBM", "CatBoost")):
            share = monotone_violations(scorer, test.head(500), cat)
            print(f"|   {name}: one level better lowers the chance | {share:.2%} of pairs | | | |")
    if "true_probability" in test:
        truth = test["true_probability"].to_numpy(float)
        print(row("true probability (Bayes)", with_intervals(y, truth, groups)))
    print(
        f"card (shown to users): AUC {card['roc_auc']:.3f} [{card['roc_auc_low']:.3f}, "
        f"{card['roc_auc_high']:.3f}], log loss {card['log_loss']:.3f}, ECE {card['ece']:.3f}, "
        f"coverage {card['conformal_coverage']:.3f}; warnings: {bundle.meta['card']['warnings']}"
    )
    return result


def synthetic(sizes: list[int]) -> None:
    cat = builtin_catalogue()
    test = generate(5000, EVAL_SEED, truth=True)
    cfg = TrainConfig.from_yaml("training/default.yaml")
    for n in sizes:
        compare(generate(n, 7001 + n, truth=True), test, cat, cfg, "synthetic")


def ieg(sizes: list[int]) -> None:
    settings = get_settings()
    cat = load_catalogue(settings, IEG / "catalogue.yaml")
    cfg = TrainConfig.from_yaml(IEG / "train.yaml")
    cfg.search.trials = 4
    data = next((IEG / "data").glob("ieg_*.csv"))
    frame = validate_file(data, True, cat, limits=FileLimits.of(settings)).good()
    countries = groups_of(frame, cat).astype(str)
    names = np.unique(countries)
    rng = np.random.default_rng(4242)
    pool = set(rng.choice(names, int(0.7 * len(names)), replace=False))
    in_pool = countries.isin(pool).to_numpy()
    train_pool, test = frame[in_pool].reset_index(drop=True), frame[~in_pool].reset_index(drop=True)
    for n in sizes:
        if n > len(train_pool):
            continue
        take = rng.choice(len(train_pool), n, replace=False)
        compare(train_pool.iloc[np.sort(take)].reset_index(drop=True), test, cat, cfg, "IEG")


def gate_rates(retrains: int) -> None:
    cfg = TrainConfig.from_yaml("training/default.yaml")
    cfg.search.trials, cfg.search.max_rounds = 2, 500  # the gate is measured, not the search
    handicapped = cfg.model_copy(update={"families": ("checklist",)})
    fresh = generate(5000, EVAL_SEED + 1, truth=True)
    truth = fresh["true_probability"].to_numpy(float)

    def true_loss(bundle) -> float:
        p = np.clip(bundle.probability(fresh), 1e-6, 1 - 1e-6)
        return float(-(truth * np.log(p) + (1 - truth) * np.log(1 - p)).mean())

    worse = better = worse_promoted = better_promoted = 0
    cases: dict[str, int] = {}
    for k in range(retrains):
        champion = fit(generate(300, 50_000 + k, truth=True), cfg).bundle
        challenger_rows = generate(300, 60_000 + k, truth=True)
        result = fit(challenger_rows, handicapped if k % 2 else cfg)
        assert result.evaluation is not None
        _, decision = against_champion(result.evaluation, champion, challenger_rows, cfg)
        cases[decision.case] = cases.get(decision.case, 0) + 1
        truly_better = true_loss(result.bundle) < true_loss(champion)
        if truly_better:
            better += 1
            better_promoted += decision.promote
        else:
            worse += 1
            worse_promoted += decision.promote
    print(f"\n### The gate: {retrains} retrains at 300 rows")
    print(
        f"truly worse challengers: {worse}, promoted {worse_promoted} "
        f"({worse_promoted / max(1, worse):.1%}; target <= 5%)"
    )
    print(
        f"truly better challengers: {better}, promoted {better_promoted} "
        f"(power {better_promoted / max(1, better):.1%})"
    )
    print(f"decisions: {cases}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[150, 400, 1000, 5000])
    ap.add_argument("--ieg", type=int, nargs="*", default=[150, 400, 1000])
    ap.add_argument("--retrains", type=int, default=40)
    ap.add_argument("--skip-gate", action="store_true")
    args = ap.parse_args()
    synthetic(args.sizes)
    ieg(args.ieg)
    if not args.skip_gate:
        gate_rates(args.retrains)


if __name__ == "__main__":
    main()
