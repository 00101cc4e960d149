"""Percentage points of the chance: they add up exactly from the typical initiative's chance to
this one's, whatever the order of the fields or groups, and a field that does nothing gets 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import expit

from scalepredict.data.synthetic import generate
from scalepredict.inference.explain import points_strength
from scalepredict.inference.points import owen_points
from scalepredict.inference.predictor import Predictor

finite = st.floats(-4, 4, allow_nan=False, allow_infinity=False)


@st.composite
def games(draw):
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=5))
    width = sum(sizes)
    rows = draw(st.integers(1, 4))
    values = draw(arrays(float, (rows, width), elements=finite))
    base = draw(arrays(float, (rows,), elements=finite))
    groups, at = [], 0
    for s in sizes:
        groups.append(list(range(at, at + s)))
        at += s
    return base, values, groups


@settings(max_examples=60, deadline=None)
@given(games())
def test_points_add_up_exactly_on_the_probability_scale(game):
    base, values, groups = game
    pts = owen_points(expit, base, values, groups)
    np.testing.assert_allclose(
        pts.sum(axis=1), expit(base + values.sum(axis=1)) - expit(base), atol=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(games(), st.randoms(use_true_random=False))
def test_points_do_not_depend_on_the_order_of_groups_or_fields(game, rnd):
    base, values, groups = game
    pts = owen_points(expit, base, values, groups)
    order = list(range(len(groups)))
    rnd.shuffle(order)
    shuffled = [list(reversed(groups[k])) for k in order]
    np.testing.assert_allclose(owen_points(expit, base, values, shuffled), pts, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(games())
def test_a_field_that_does_nothing_gets_nothing_and_signs_follow(game):
    base, values, groups = game
    values[:, 0] = 0.0
    pts = owen_points(expit, base, values, groups)
    assert np.all(pts[:, 0] == 0)
    # p is increasing: a field that only raises the log-odds only raises the chance
    assert np.all(pts[values > 1e-9] > 0) and np.all(pts[values < -1e-9] < 0)


def test_on_a_linear_scale_the_points_are_the_contributions():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(5, 7))
    pts = owen_points(lambda m: m, np.zeros(5), values, [[0, 1, 2], [3], [4, 5, 6]])
    np.testing.assert_allclose(pts, values, atol=1e-12)


def test_a_big_group_is_split_in_proportion_and_still_adds_up():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(3, 13))
    base = rng.normal(size=3)
    pts = owen_points(expit, base, values, [list(range(12)), [12]])
    np.testing.assert_allclose(
        pts.sum(axis=1), expit(base + values.sum(axis=1)) - expit(base), atol=1e-12
    )


def test_strength_words_follow_the_points():
    assert [points_strength(x) for x in (-6, 3, 1.9, 0)] == ["strong", "moderate", "weak", "weak"]


@pytest.fixture(scope="module")
def predictor(small_fit) -> Predictor:
    return Predictor(small_fit[1].bundle)


def test_explanations_in_points_go_from_the_typical_chance_to_the_score(predictor, cat):
    rows = generate(50, seed=77).drop(columns=["scaled_up"])
    scored = predictor.score(rows)
    for e, p in zip(predictor.explain(rows), scored["probability"], strict=True):
        assert abs(e["probability"] - p) < 1e-4
        total = sum(e["dimension_points"].values())
        assert abs(e["typical_probability"] * 100 + total - p * 100) < 1e-2
        fields = {**e["factor_points"], **e["context_points"]}
        assert abs(sum(fields.values()) - total) < 1e-2
        for d in cat.dimension_names:
            part = sum(e["factor_points"][f] for f in cat.factors_of(d))
            assert abs(part - e["dimension_points"][d]) < 1e-2
        shown = [d["points"] for d in e["top_drivers"]]
        assert [abs(x) for x in shown] == sorted((abs(x) for x in shown), reverse=True)
        for d in e["top_drivers"]:
            assert d["strength"] == points_strength(d["points"])
            assert d["actionable"] == (d["field"] in cat.factor_names)
        assert all(d["actionable"] for d in e["actionable_drivers"])
        assert not any(d["actionable"] for d in e["context_drivers"])


def test_points_are_fast_enough_for_a_portfolio(predictor):
    import time

    rows = generate(1000, seed=78).drop(columns=["scaled_up"])
    t = time.perf_counter()
    predictor.explain(rows)
    assert time.perf_counter() - t < 10  # measured about 1 s on 2 cores
    assert isinstance(rows, pd.DataFrame)
