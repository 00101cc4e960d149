"""The conformal set in words: a set with both outcomes is uncertainty, an empty set is not."""

from __future__ import annotations

import re

import numpy as np
import pytest

from scalepredict.inference.predictor import uncertainty_statement
from scalepredict.model.calibration import Conformal

SAID = ("is rated satisfactory", "is rated unsatisfactory")


def test_an_empty_set_is_never_worded_as_either_outcome():
    # calibrated on projects the model got right with near certainty, the threshold is tiny:
    # a proposal at 50%, or even at 0.007%, fits neither outcome as well as those did
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.where(y == 1, 1 - 1e-6, 1e-6)
    conformal = Conformal.fit(p, y, alpha=0.10)
    sets = conformal.sets(np.array([0.5, 0.00007]))
    assert sets == [[], []]
    for s in sets:
        said = uncertainty_statement(s, conformal.alpha, SAID)
        assert not re.search(r"\beither outcome", said) and "plausible" not in said
        assert said.startswith("no 90% statement") and "unlike" in said


@pytest.mark.parametrize(
    ("prediction_set", "start"),
    [
        ([1], "90% confident it is rated satisfactory"),
        ([0], "90% confident it is rated unsatisfactory"),
        ([0, 1], "uncertain at 90%: either outcome is plausible"),
        ([], "no 90% statement: neither outcome fits"),
    ],
)
def test_each_set_has_its_own_words(prediction_set, start):
    assert uncertainty_statement(prediction_set, 0.10, SAID).startswith(start)
