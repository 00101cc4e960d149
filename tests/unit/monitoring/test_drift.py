"""Input drift against the generator's truth: no shift stays quiet, a moderate covariate
shift and a stage-mix shift are found, small windows say so instead of alarming."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import mannwhitneyu

from scalepredict.model.profile import _ordinal_entry, cdf_placement, profile_values
from scalepredict.monitoring.drift import DriftRules, window_drift
from scalepredict.monitoring.report_types import CategoryTest, WindowDrift
from tests.unit.monitoring.conftest import window

SEEDS = range(40)


def _drift(frame, profile, cat) -> WindowDrift:
    return window_drift(
        profile_values(frame, cat), frame["city"].astype(str).to_numpy(), profile, DriftRules()
    )


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=5, max_size=60),
    st.lists(st.integers(1, 5), min_size=5, max_size=60),
)
def test_mean_placement_is_the_mann_whitney_statistic(ref, new):
    import pandas as pd

    entry = _ordinal_entry(pd.Series(ref, dtype=float), None)
    u = mannwhitneyu(new, ref).statistic
    assert np.isclose(cdf_placement(entry, np.array(new, float)).mean(), u / len(new) / len(ref))


def test_no_shift_alarms_in_at_most_5_percent_of_windows(profile, cat):
    alarms = [_drift(window(None, 0, 1000 + s), profile, cat).flagged for s in SEEDS]
    assert sum(bool(a) for a in alarms) <= 0.05 * len(SEEDS), alarms


def test_moderate_covariate_shift_is_found_in_90_percent_of_windows(profile, cat):
    found = [_drift(window("covariate", 0.75, 2000 + s), profile, cat) for s in SEEDS]
    assert sum(f.status == "drift" for f in found) >= 0.9 * len(SEEDS)
    # poorer, weaker cities: their resources and scores are lower, not just different
    tests = {t.field: t for t in found[0].tests}
    assert tests["city_resources"].effect < 0 and tests["score:overall"].effect < 0


def test_stage_mix_shift_is_found_in_the_stage_field(profile, cat):
    found = _drift(window("stage-mix", 0.4, 7), profile, cat)
    stage = next(t for t in found.tests if t.field == "stage")
    assert isinstance(stage, CategoryTest) and stage.flagged
    assert stage.window_share["rollout"] > stage.reference_share["rollout"] + 0.2


def test_concept_drift_leaves_the_inputs_alone(profile, cat):
    alarms = [_drift(window("concept", 1.0, 3000 + s), profile, cat).flagged for s in range(5)]
    assert sum(bool(a) for a in alarms) <= 1


def test_unknown_answer_rates_are_tested_per_dimension(profile, cat):
    frame = window(None, 0, 5)
    factors = cat.factors_of("data")
    frame.loc[frame.index[:250], factors] = None  # half the window answers nothing on data
    found = _drift(frame, profile, cat)
    assert "unknown:data" in found.flagged
