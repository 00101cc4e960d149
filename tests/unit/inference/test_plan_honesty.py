"""What a plan may promise, learned by cross-fitting: pooled over several splits where the
data are few, with the estimate's own uncertainty carried into the plan's interval."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from scalepredict.inference.plan_figures import HONESTY_META, expected_chance, plan_interval
from scalepredict.inference.plan_honesty import LARGE_ROWS, MAX_REPEATS, plan_honesty, repeats_for
from scalepredict.model.config import TrainConfig

from ...conftest import SMALL_CONFIG


@pytest.fixture(scope="module")
def honesty(small_fit):
    frame, result = small_fit
    rows = frame.drop(columns=["true_probability"]).iloc[:360].reset_index(drop=True)
    cfg = TrainConfig(**SMALL_CONFIG)
    return [plan_honesty(result.bundle, rows, result.tuned, cfg) for _ in range(2)]


def test_small_data_pools_several_splits_and_states_the_uncertainty(honesty):
    first, again = honesty
    assert first == again  # the same data and seed: the same figures
    assert first["repeats"] == MAX_REPEATS == repeats_for(360) and repeats_for(LARGE_ROWS) == 1
    assert first["rows"] == 360 and first["plans"] >= 10
    assert 0 < first["half_shrinkage"] <= first["shrinkage"] <= 1
    assert first["shrinkage_sd"] > 0 and first["error"] > 0


def test_the_interval_widens_with_the_shrinkage_uncertainty_and_the_gain(small_fit):
    bundle = copy.copy(small_fit[1].bundle)
    widths = {}
    for sd in (0.0, 0.2):
        bundle.meta = {
            **bundle.meta,
            HONESTY_META: {"shrinkage": 0.7, "error": 0.3, "shrinkage_sd": sd},
        }
        for gain in (0.5, 2.0):
            m = np.array([-1.0, -1.0 + gain])
            low, high = plan_interval(bundle, m)
            expected = float(expected_chance(bundle, m)[-1])
            assert low <= expected <= high
            widths[sd, gain] = high - low
    assert widths[0.2, 0.5] > widths[0.0, 0.5]
    # the uncertain share costs more on a large gain than on a small one
    assert widths[0.2, 2.0] - widths[0.0, 2.0] > widths[0.2, 0.5] - widths[0.0, 0.5]
