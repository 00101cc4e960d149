"""The compiled trees give XGBoost's own log-odds, bit for bit, for any ensemble XGBoost can
grow on our kind of features (numeric splits, categorical sets, blanks, monotone constraints),
and step aside (XGBoost predicts) for anything they do not cover."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalepredict.data.synthetic import generate
from scalepredict.model import compiled_trees
from scalepredict.model.compiled_trees import compile_forest, edge_rows
from scalepredict.model.features import feature_matrix


def _booster(seed: int, depth: int, one_hot: int, rows: int = 300) -> tuple[xgb.Booster, Any]:
    """A small booster on random data: two categorical columns (one with many categories, so
    both one-hot and partition splits occur), numeric columns with blanks."""
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.integers(0, 3, rows),
            rng.integers(0, 12, rows),
            rng.normal(size=rows),
            rng.integers(1, 6, rows).astype(float),
            rng.uniform(size=rows),
        ]
    ).astype(float)
    x[rng.uniform(size=x.shape) < 0.15] = np.nan
    signal = np.nan_to_num(x[:, 2]) + (np.nan_to_num(x[:, 1]) % 3 == 0) - np.nan_to_num(x[:, 3]) / 3
    y = (signal + rng.normal(size=rows) > 0).astype(float)
    d = xgb.DMatrix(x, label=y, feature_types=["c", "c", "q", "q", "q"], enable_categorical=True)
    params = {
        "objective": "binary:logistic",
        "max_depth": depth,
        "max_cat_to_onehot": one_hot,
        "tree_method": "hist",
        "monotone_constraints": "(0,0,1,-1,0)",
        "seed": seed,
        "nthread": 1,
    }
    return xgb.train(params, d, num_boost_round=20), x


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    depth=st.integers(1, 6),
    one_hot=st.sampled_from([1, 4, 16]),
    boosters=st.integers(1, 3),
)
def test_compiled_trees_equal_xgboost_exactly(seed, depth, one_hot, boosters):
    grown = [_booster(seed + k, depth, one_hot) for k in range(boosters)]
    forest = compile_forest([b for b, _ in grown])
    assert forest is not None
    rng = np.random.default_rng(seed)
    x = np.vstack([grown[0][1], edge_rows(forest, 5, 200, seed)])
    x[rng.uniform(size=x.shape) < 0.05] = np.nan
    which = rng.integers(0, boosters, len(x))
    ours = forest.margin(x, which)
    for k, (booster, _) in enumerate(grown):
        theirs = booster.inplace_predict(x[which == k], predict_type="margin")
        np.testing.assert_array_equal(ours[which == k], theirs.astype(np.float64))


def test_another_kind_of_model_is_left_to_xgboost():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 3)), rng.integers(0, 2, 200)
    linear_params = {"booster": "gblinear", "objective": "binary:logistic"}
    linear = xgb.train(linear_params, xgb.DMatrix(x, y), 5)
    regression = xgb.train({"objective": "reg:squarederror"}, xgb.DMatrix(x, y), 5)
    assert compile_forest([linear]) is None
    assert compile_forest([regression]) is None


@pytest.mark.parametrize("parallel_rows", [1, 10**9])
def test_the_bundle_scores_as_xgboost_in_one_thread_or_several(
    small_fit, cat, monkeypatch, parallel_rows
):
    bundle = small_fit[1].bundle
    assert bundle.forest is not None  # a model we trained compiles
    x = feature_matrix(generate(400, seed=5).drop(columns=["scaled_up"]), cat)
    expected = np.empty(len(x))
    for _, booster, rows in bundle.model.routes(x, bundle.catalogue):
        expected[rows] = booster.inplace_predict(x[rows], predict_type="margin")
    monkeypatch.setattr(compiled_trees, "PARALLEL_ROWS", parallel_rows)
    monkeypatch.setattr(compiled_trees, "THREADS", 3)  # uneven parts
    np.testing.assert_array_equal(bundle.learned_margin_of(x), expected)
    uncompiled = copy.copy(bundle)
    uncompiled._forest, uncompiled._forest_tried = None, True
    np.testing.assert_array_equal(uncompiled.learned_margin_of(x), expected)


def test_a_row_without_a_stage_is_refused_either_way(small_fit, cat):
    bundle = small_fit[1].bundle
    x = feature_matrix(generate(3, seed=5).drop(columns=["scaled_up"]), cat)
    x[1, 0] = np.nan  # the stage column
    with pytest.raises(ValueError, match="stage"):
        bundle.learned_margin_of(x)
