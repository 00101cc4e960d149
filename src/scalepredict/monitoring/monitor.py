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
from scalepredict.monitoring.report_types import (
    NO_PROFILE,
    TOO_FEW,
    MonitorReport,
    Realized,
    Reason,
    RulesUsed,
    VersionSummary,
    Window,
    WindowDrift,
)


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


def _auc_drop(
    kind: str, auc: float, upper: float, test_auc: float | None, rules: MonitorRules
) -> list[Reason]:
    """A drop from the test AUC counts when even the upper end of the window's 90% interval
    is that far below: a window of a few hundred proposals moves its AUC by chance."""
    if not test_auc:
        return []
    drop = test_auc - upper
    if drop < rules.auc_drop_watch:
        return []
    return [
        Reason(
            level="act" if drop >= rules.auc_drop_act else "watch",
            reason=f"{kind} AUC {auc:.3f} (90% interval up to {upper:.3f}) is below the test "
            f"AUC {test_auc:.3f}",
        )
    ]


def _realized(
    y: np.ndarray, p: np.ndarray, ref: Reference | None, rules: MonitorRules, seed: int
) -> tuple[Realized | None, list[Reason]]:
    """Realized figures of the rows with an outcome, beside the estimate on the same rows;
    None when too few outcomes (or only one class) are known."""
    labelled = ~np.isnan(y)
    if labelled.sum() < rules.min_window or len(np.unique(y[labelled])) < 2:
        return None, []
    conformal = ref.conformal if ref else None
    yl, pl = y[labelled].astype(int), p[labelled]
    real = realized(yl, pl, conformal)
    same = estimated(pl, conformal, seed)  # does the estimate still hold on these rows?
    real.estimated_on_these = same
    reasons: list[Reason] = []
    test_auc = (ref.metrics.get("roc_auc") if ref else None) or None
    if real.roc_auc is not None and same.roc_auc:
        upper = real.roc_auc + same.roc_auc.high - same.roc_auc.estimate
        reasons += _auc_drop("realized", real.roc_auc, upper, test_auc, rules)
    for metric, band, value in (
        ("roc_auc", same.roc_auc, real.roc_auc),
        ("log_loss", same.log_loss, real.log_loss),
    ):
        if band is None or value is None:
            continue
        # worse than the estimate only: better outcomes than expected need no action
        outside = value < band.wide_low if metric == "roc_auc" else value > band.wide_high
        if outside and abs(value - band.estimate) >= rules.min_divergence:
            real.diverged.append(metric)
    if real.diverged:
        what = " and ".join(real.diverged)
        # watch, not act: a large window also shows a model's own small miscalibration this
        # way; whether performance fell is the realized AUC's to say (above)
        reasons.append(
            Reason(
                level="watch",
                reason=f"realized {what} worse than the estimate's 99% interval: the "
                "probabilities no longer match the outcomes (concept drift or "
                "miscalibration); trust the realized figures",
            )
        )
    target, coverage = real.coverage_target, real.coverage
    if target is not None and coverage is not None and coverage < target - rules.coverage_shortfall:
        reasons.append(Reason(level="act", reason=f"90% sets covered {coverage:.1%} of outcomes"))
    return real, reasons


def _window(
    period: str,
    version: str,
    rows: pd.DataFrame,
    y: np.ndarray,
    ref: Reference | None,
    cat: Catalogue,
    rules: MonitorRules,
    seed: int,
) -> Window:
    n = len(rows)
    p = rows["probability"].to_numpy(float)
    labelled = int((~np.isnan(y)).sum())
    reasons: list[Reason] = []
    if ref is None or ref.profile is None:
        drift = WindowDrift(status=NO_PROFILE)
    elif n < rules.min_window:
        drift = WindowDrift(status=TOO_FEW)
    else:
        groups = rows[cat.group].astype(str).to_numpy() if cat.group in rows else None
        drift = window_drift(profile_values(rows, cat), groups, ref.profile, rules.drift)
        if drift.flagged:
            fields = ", ".join(drift.flagged[:6])
            reasons.append(Reason(level="watch", reason=f"input drift in {fields}"))
    test_auc = (ref.metrics.get("roc_auc") if ref else None) or None
    est = None
    if n >= rules.min_window:
        est = estimated(p, ref.conformal if ref else None, seed)
        if est.roc_auc:
            band = est.roc_auc
            reasons += _auc_drop("estimated", band.estimate, band.high, test_auc, rules)
    real, found = _realized(y, p, ref, rules, seed)
    return Window(
        period=period,
        model_version=version,
        proposals=n,
        labelled=labelled,
        pending=n - labelled,
        drift=drift,
        estimated=est,
        realized=real,
        reasons=reasons + found,
    )


def _prefixed(where: str, reasons: list[Reason]) -> list[Reason]:
    return [Reason(level=r.level, reason=f"{where}: {r.reason}") for r in reasons]


def _version_reasons(version: str, ref: Reference | None) -> list[Reason]:
    """What the monitor cannot check for a version without a usable reference."""
    if ref is None:
        return [
            Reason(
                level="watch",
                reason=f"v{version}: its bundle cannot be loaded; drift not checked",
            )
        ]
    if ref.profile is None:
        return [
            Reason(
                level="ok",
                reason=f"v{version}: {NO_PROFILE} (trained before profiles); drift not checked",
            )
        ]
    return []


def monitor(
    scorings: pd.DataFrame,
    cat: Catalogue,
    references: dict[str, Reference | None],
    rules: MonitorRules | None = None,
    seed: int = 0,
) -> MonitorReport:
    """The whole report; `references` by model version (None: the version's bundle could not
    be loaded)."""
    rules = rules or MonitorRules()
    y_all = outcomes(scorings, cat)
    report = MonitorReport(
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        catalogue=cat.name,
        window=rules.window,
        rules=RulesUsed(
            min_window=rules.min_window, fdr=rules.drift.fdr, min_group=rules.fairness.min_group
        ),
        proposals=len(scorings),
    )
    if scorings.empty:
        report.reasons = [Reason(level="ok", reason="no scored proposals in the range")]
        return report
    frame = scorings.reset_index(drop=True)
    frame["_period"] = periods(frame["scored_at"], rules.window)
    versions = frame["model_version"].astype(str)
    reasons: list[Reason] = []
    for version in sorted(versions.unique(), key=_version_key):
        ref = references.get(version)
        summary = VersionSummary(
            profile=bool(ref and ref.profile),
            test_metrics={
                k: ref.metrics[k]
                for k in ("roc_auc", "log_loss", "ece")
                if ref and k in ref.metrics
            },
        )
        report.versions[version] = summary
        reasons += _version_reasons(version, ref)
        mine = (versions == version).to_numpy()
        for period in sorted(frame.loc[mine, "_period"].unique()):
            m = mine & (frame["_period"] == period).to_numpy()
            w = _window(period, version, frame.loc[m], y_all[m], ref, cat, rules, seed)
            report.windows.append(w)
            reasons += _prefixed(f"{period} v{version}", w.reasons)
        p_mine = frame.loc[mine, "probability"].to_numpy(float)
        summary.realized, found = _realized(y_all[mine], p_mine, ref, rules, seed)
        # every outcome of the version: small divergences show here
        reasons += _prefixed(f"v{version}, all windows", found)
        effort = frame.loc[mine, "plan_effort"].to_numpy(float) if "plan_effort" in frame else None
        fair = fairness(frame.loc[mine], y_all[mine], p_mine, effort, cat, rules.fairness, seed)
        report.fairness[version] = fair
        reasons += [
            Reason(
                level="watch",
                reason=f"v{version}: {t.metric} differs across {fld} groups by {t.gap:.3f} "
                f"(p={t.p_adjusted:.3f})",
            )
            for fld, res in fair.items()
            for t in res.tests
            if t.flagged
        ]
    report.reasons = reasons or [
        Reason(level="ok", reason="no drift, performance as tested, no unfair gap")
    ]
    return report


def _version_key(v: str) -> tuple[int, str]:
    return (int(v), v) if v.isdigit() else (10**9, v)
