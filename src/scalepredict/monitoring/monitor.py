"""The monitor: scorings (one row per proposal's latest scoring, with its outcome when known)
-> per time window and model version, input drift, realized and estimated performance; per
model version, fairness by groups of cities; and a verdict with reasons.

A pure computation over a DataFrame (`scorings`), so it runs the same on the audit store, on
a file and in the tests. The columns: initiative_id, scored_at, model_version, the
catalogue's input fields, probability, outcome (the catalogue's value or None), status
(`recorded`, `pending` or `expired`: past the outcome horizon without a recorded outcome, which
counts as the catalogue's failure), and optionally plan_effort."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.calibration import Conformal
from scalepredict.model.profile import profile_values
from scalepredict.monitoring.drift import DriftRules, window_drift
from scalepredict.monitoring.fairness import FairnessRules, fairness
from scalepredict.monitoring.performance import estimated, realized

Verdict = Literal["ok", "watch", "act"]
LEVELS: tuple[Verdict, ...] = ("ok", "watch", "act")
TOO_FEW = "too few proposals"
NO_PROFILE = "no reference profile"


@dataclass(frozen=True)
class MonitorRules:
    window: Literal["month", "quarter"] = "month"
    min_window: int = 100  # fewer proposals in a window: "too few proposals", no alarm
    auc_drop_watch: float = 0.02  # estimated or realized AUC below the model's test AUC by this
    auc_drop_act: float = 0.05
    coverage_shortfall: float = 0.05  # realized 90%-set coverage below target by this: act
    min_divergence: float = 0.01  # realized AUC / log loss this far off the estimate, and
    # outside its 99% interval: the estimate no longer holds
    drift: DriftRules = field(default_factory=DriftRules)
    fairness: FairnessRules = field(default_factory=FairnessRules)


@dataclass(frozen=True)
class Reference:
    """What the monitor needs from a model version: its training profile (None for bundles
    trained before profiles existed), its conformal threshold and its test metrics."""

    profile: dict[str, Any] | None
    conformal: Conformal | None
    metrics: dict[str, float]

    @classmethod
    def of(cls, bundle: ModelBundle) -> Reference:
        return cls(bundle.meta.get("profile"), bundle.conformal, bundle.meta.get("metrics", {}))


def outcomes(scorings: pd.DataFrame, cat: Catalogue) -> np.ndarray:
    """1 / 0 per row, NaN while pending (or not rated): expired rows count as failures."""
    status = scorings.get("status", pd.Series("pending", index=scorings.index)).astype(str)
    given = scorings.get("outcome", pd.Series(None, index=scorings.index))
    y = np.full(len(scorings), np.nan)
    for i, (s, v) in enumerate(zip(status, given, strict=True)):
        if s == "recorded" and v is not None and not (isinstance(v, float) and np.isnan(v)):
            code = cat.outcome_map.code(v)
            y[i] = np.nan if code is None else code
        elif s == "expired":
            y[i] = 0.0
    return y


def periods(scored_at: pd.Series, window: str) -> pd.Series:
    when = pd.to_datetime(scored_at, utc=True).dt.tz_convert(None)
    return when.dt.to_period("M" if window == "month" else "Q").astype(str)


def _worse(a: Verdict, b: Verdict) -> Verdict:
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def _auc_drop(
    kind: str, auc: float, upper: float, test_auc: float | None, rules: MonitorRules
) -> list[tuple[Verdict, str]]:
    """A drop from the test AUC counts when even the upper end of the window's 90% interval
    is that far below: a window of a few hundred proposals moves its AUC by chance."""
    if not test_auc:
        return []
    drop = test_auc - upper
    level: Verdict = (
        "act" if drop >= rules.auc_drop_act else "watch" if drop >= rules.auc_drop_watch else "ok"
    )
    if level == "ok":
        return []
    return [
        (
            level,
            f"{kind} AUC {auc:.3f} (90% interval up to {upper:.3f}) is below the test AUC "
            f"{test_auc:.3f}",
        )
    ]


def _realized(
    y: np.ndarray, p: np.ndarray, ref: Reference | None, rules: MonitorRules, seed: int
) -> tuple[dict[str, Any] | None, list[tuple[Verdict, str]]]:
    """Realized figures of the rows with an outcome, beside the estimate on the same rows;
    None when too few outcomes (or only one class) are known."""
    labelled = ~np.isnan(y)
    if labelled.sum() < rules.min_window or len(np.unique(y[labelled])) < 2:
        return None, []
    conformal = ref.conformal if ref else None
    yl, pl = y[labelled].astype(int), p[labelled]
    real = realized(yl, pl, conformal)
    same = estimated(pl, conformal, seed)  # does the estimate still hold on these rows?
    real["estimated_on_these"] = same
    reasons: list[tuple[Verdict, str]] = []
    band = same.get("roc_auc")
    test_auc = (ref.metrics.get("roc_auc") if ref else None) or None
    if real["roc_auc"] is not None and band:
        upper = real["roc_auc"] + band["high"] - band["estimate"]
        reasons += _auc_drop("realized", real["roc_auc"], upper, test_auc, rules)
    real["diverged"] = []
    for metric in ("roc_auc", "log_loss"):
        band, value = same.get(metric), real.get(metric)
        if band is None or value is None:
            continue
        # worse than the estimate only: better outcomes than expected need no action
        outside = value < band["wide_low"] if metric == "roc_auc" else value > band["wide_high"]
        if outside and abs(value - band["estimate"]) >= rules.min_divergence:
            real["diverged"].append(metric)
    if real["diverged"]:
        what = " and ".join(real["diverged"])
        # watch, not act: a large window also shows a model's own small miscalibration this
        # way; whether performance fell is the realized AUC's to say (above)
        reasons.append(
            (
                "watch",
                f"realized {what} worse than the estimate's 99% interval: the probabilities "
                "no longer match the outcomes (concept drift or miscalibration); trust the "
                "realized figures",
            )
        )
    target = real.get("coverage_target")
    if target is not None and real["coverage"] < target - rules.coverage_shortfall:
        reasons.append(("act", f"90% sets covered {real['coverage']:.1%} of outcomes"))
    return real, reasons


def _window(
    rows: pd.DataFrame,
    y: np.ndarray,
    ref: Reference | None,
    cat: Catalogue,
    rules: MonitorRules,
    seed: int,
) -> dict[str, Any]:
    n = len(rows)
    p = rows["probability"].to_numpy(float)
    labelled = ~np.isnan(y)
    out: dict[str, Any] = {
        "proposals": n,
        "labelled": int(labelled.sum()),
        "pending": int((~labelled).sum()),
    }
    reasons: list[tuple[Verdict, str]] = []
    if ref is None or ref.profile is None:
        out["drift"] = {"status": NO_PROFILE, "flagged": [], "tests": []}
    elif n < rules.min_window:
        out["drift"] = {"status": TOO_FEW, "flagged": [], "tests": []}
    else:
        groups = rows[cat.group].astype(str).to_numpy() if cat.group in rows else None
        out["drift"] = window_drift(profile_values(rows, cat), groups, ref.profile, rules.drift)
        if out["drift"]["flagged"]:
            reasons.append(("watch", f"input drift in {', '.join(out['drift']['flagged'][:6])}"))
    test_auc = (ref.metrics.get("roc_auc") if ref else None) or None
    if n >= rules.min_window:
        out["estimated"] = estimated(p, ref.conformal if ref else None, seed)
        est = out["estimated"].get("roc_auc")
        if est:
            reasons += _auc_drop("estimated", est["estimate"], est["high"], test_auc, rules)
    real, found = _realized(y, p, ref, rules, seed)
    if real is not None:
        out["realized"] = real
        reasons += found
    verdict: Verdict = "ok"
    for level, _ in reasons:
        verdict = _worse(verdict, level)
    out["verdict"] = verdict
    out["reasons"] = [{"level": lv, "reason": r} for lv, r in reasons]
    return out


def monitor(
    scorings: pd.DataFrame,
    cat: Catalogue,
    references: dict[str, Reference | None],
    rules: MonitorRules | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """The whole report as JSON-ready data; `references` by model version (None: the version's
    bundle could not be loaded)."""
    rules = rules or MonitorRules()
    y_all = outcomes(scorings, cat)
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "catalogue": cat.name,
        "window": rules.window,
        "rules": {
            "min_window": rules.min_window,
            "fdr": rules.drift.fdr,
            "min_group": rules.fairness.min_group,
        },
        "proposals": len(scorings),
        "windows": [],
        "fairness": {},
        "versions": {},
    }
    reasons: list[dict[str, str]] = []
    if scorings.empty:
        report.update(
            verdict="ok", reasons=[{"level": "ok", "reason": "no scored proposals in the range"}]
        )
        return report
    frame = scorings.reset_index(drop=True)
    frame["_period"] = periods(frame["scored_at"], rules.window)
    versions = frame["model_version"].astype(str)
    for version in sorted(versions.unique(), key=_version_key):
        ref = references.get(version)
        report["versions"][version] = {
            "profile": bool(ref and ref.profile),
            "test_metrics": {
                k: ref.metrics[k]
                for k in ("roc_auc", "log_loss", "ece")
                if ref and k in ref.metrics
            },
        }
        if ref is None or ref.profile is None:
            reasons.append(
                {
                    "level": "watch" if ref is None else "ok",
                    "reason": f"v{version}: "
                    + (
                        "its bundle cannot be loaded; drift not checked"
                        if ref is None
                        else f"{NO_PROFILE} (trained before profiles); drift not checked"
                    ),
                }
            )
        mine = (versions == version).to_numpy()
        for period in sorted(frame.loc[mine, "_period"].unique()):
            m = mine & (frame["_period"] == period).to_numpy()
            w = _window(frame.loc[m], y_all[m], ref, cat, rules, seed)
            report["windows"].append({"period": period, "model_version": version, **w})
            reasons += [
                {"level": r["level"], "reason": f"{period} v{version}: {r['reason']}"}
                for r in w["reasons"]
            ]
        pooled, found = _realized(
            y_all[mine], frame.loc[mine, "probability"].to_numpy(float), ref, rules, seed
        )
        if pooled is not None:  # every outcome of the version: small divergences show here
            report["versions"][version]["realized"] = pooled
            reasons += [{"level": lv, "reason": f"v{version}, all windows: {r}"} for lv, r in found]
        effort = frame.loc[mine, "plan_effort"].to_numpy(float) if "plan_effort" in frame else None
        fair = fairness(
            frame.loc[mine],
            y_all[mine],
            frame.loc[mine, "probability"].to_numpy(float),
            effort,
            cat,
            rules.fairness,
            seed,
        )
        report["fairness"][version] = fair
        for fld, res in fair.items():
            for t in res.get("tests", []):
                if t["flagged"]:
                    reasons.append(
                        {
                            "level": "watch",
                            "reason": f"v{version}: {t['metric']} differs across {fld} groups "
                            f"by {t['gap']:.3f} (p={t['p_adjusted']:.3f})",
                        }
                    )
    verdict: Verdict = "ok"
    for r in reasons:
        verdict = _worse(verdict, r["level"])  # type: ignore[arg-type]
    report["verdict"] = verdict
    report["reasons"] = reasons or [
        {"level": "ok", "reason": "no drift, performance as tested, no unfair gap"}
    ]
    return report


def _version_key(v: str) -> tuple[int, str]:
    return (int(v), v) if v.isdigit() else (10**9, v)
