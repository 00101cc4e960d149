"""Fairness by the catalogue's groups of cities: a real gap is flagged, chance is not, and
groups below the minimum size are not tested."""

from __future__ import annotations

import numpy as np

from scalepredict.monitoring.fairness import FairnessRules, fairness, groupings
from tests.unit.monitoring.conftest import window


def _inputs(seed: int):
    frame = window(None, 0, seed, rows=1500)
    p = frame["true_probability"].to_numpy(float)
    y = frame["scaled_up"].to_numpy(float)
    return frame, y, p


def test_groups_come_from_the_catalogue_subgroups(cat):
    frame, _, _ = _inputs(1)
    groups = groupings(frame, cat)
    assert set(groups) == {"city_population", "city_resources"}
    assert set(groups["city_resources"].dropna()) == {"resources_low", "resources_high"}


def test_a_real_calibration_gap_is_flagged_and_chance_is_not(cat):
    frame, y, p = _inputs(2)
    fair = fairness(frame, y, p, None, cat, FairnessRules())
    assert not any(t.flagged for f in fair.values() for t in f.tests)
    low = (frame["city_resources"] < 3).to_numpy()
    biased = np.where(low, np.clip(p + 0.15, 0, 1), p)  # over-promises to poor cities
    fair = fairness(frame, y, biased, None, cat, FairnessRules())
    flagged = [t for t in fair["city_resources"].tests if t.flagged]
    assert [t.metric for t in flagged] == ["calibration"]
    assert fair["city_resources"].groups["resources_low"].calibration > 0.1


def test_small_groups_are_reported_but_not_tested(cat):
    frame, y, p = _inputs(3)
    effort = np.random.default_rng(0).uniform(0, 5, len(frame))
    fair = fairness(frame, y, p, effort, cat, FairnessRules(min_group=10_000))
    assert fair["city_population"].tests == []
    assert fair["city_population"].groups["population_medium"].mean_plan_effort > 0


def test_the_gap_test_agrees_with_the_group_table_when_scores_tie(cat):
    """Isotonic calibration gives many rows one probability: the tested AUC per group must
    count ties as the table's AUC does (one half), not by row order."""
    frame, y, p = _inputs(4)
    tied = np.round(p * 5) / 5  # a handful of levels, as an isotonic step function gives
    fair = fairness(frame, y, tied, None, cat, FairnessRules(min_group=100))
    for field in ("city_population", "city_resources"):
        test = next(t for t in fair[field].tests if t.metric == "roc_auc")
        for group, auc in test.groups.items():
            assert auc == fair[field].groups[group].roc_auc, (field, group)
