"""Estimated performance against the realized one, with the generator's truth: it follows a
covariate shift, and under concept drift the realized figure leaves it (its stated limit)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from scalepredict.model.calibration import Conformal
from scalepredict.monitoring.monitor import MonitorRules, Reference, monitor
from scalepredict.monitoring.performance import estimated, realized
from scalepredict.monitoring.report_types import MonitorReport
from tests.unit.monitoring.conftest import scorings, window

WINDOWS = 12


def test_the_interval_covers_outcomes_drawn_from_calibrated_probabilities():
    rng = np.random.default_rng(4)
    p = rng.beta(2, 3, 400)
    conformal = Conformal(alpha=0.1, q=0.7)
    est = estimated(p, conformal)
    hits = 0
    for _ in range(60):
        y = (rng.random(400) < p).astype(int)
        real = realized(y, p, conformal)
        hits += est.roc_auc.low <= real.roc_auc <= est.roc_auc.high
    assert hits >= 0.8 * 60
    assert est.roc_auc.estimate == pytest.approx(
        np.mean([roc_auc_score(rng.random(400) < p, p) for _ in range(200)]), abs=0.01
    )


@pytest.fixture(scope="module")
def reference(small_fit) -> dict[str, Reference | None]:
    bundle = small_fit[1].bundle
    return {"1": Reference(bundle.meta["profile"], bundle.conformal, small_fit[1].test_metrics)}


def _gaps(report: MonitorReport) -> tuple[list[float], list[bool]]:
    gaps, covered = [], []
    for w in report.windows:
        band, real = w.realized.estimated_on_these.roc_auc, w.realized.roc_auc
        gaps.append(band.estimate - real)
        covered.append(band.low <= real <= band.high)
    return gaps, covered


def test_estimated_auc_follows_a_covariate_shift(small_fit, reference, cat):
    frames = [window("covariate", 0.75, 4000 + s) for s in range(WINDOWS)]
    report = monitor(scorings(small_fit[1].bundle, frames), cat, reference)
    gaps, covered = _gaps(report)
    assert np.median(np.abs(gaps)) <= 0.03
    assert np.mean(covered) >= 0.85
    # a 1,500-row reference is less sure of itself than the 5,000 rows of test_drift
    assert sum(w.drift.status == "drift" for w in report.windows) >= 0.75 * WINDOWS
    assert report.verdict in ("watch", "act")


def test_under_concept_drift_estimate_and_realized_diverge(small_fit, reference, cat):
    frames = [window("concept", 1.0, 5000 + s) for s in range(WINDOWS)]
    report = monitor(scorings(small_fit[1].bundle, frames), cat, reference)
    gaps, _ = _gaps(report)
    assert np.median(gaps) > 0  # the estimate is too optimistic window after window
    pooled = report.versions["1"].realized
    assert pooled.diverged, pooled
    assert report.verdict in ("watch", "act")
    assert any("no longer match the outcomes" in r.reason for r in report.reasons)
    assert all(w.drift.status == "ok" for w in report.windows)  # inputs unchanged


def test_pending_windows_are_estimated_only(small_fit, reference, cat):
    frames = [window(None, 0, 6000), window(None, 0, 6001, rows=40)]
    report = monitor(
        scorings(small_fit[1].bundle, frames, status="pending"), cat, reference, MonitorRules()
    )
    first, small = report.windows
    assert first.estimated is not None and first.realized is None and first.pending == 500
    assert small.drift.status == "too few proposals" and small.verdict == "ok"


def test_a_model_without_profile_is_monitored_without_drift(small_fit, cat):
    bundle = small_fit[1].bundle
    old = {"1": Reference(None, bundle.conformal, {})}
    report = monitor(scorings(bundle, [window(None, 0, 6100)]), cat, old)
    assert report.windows[0].drift.status == "no reference profile"
    assert report.windows[0].realized is not None
    assert any("no reference profile" in r.reason for r in report.reasons)
