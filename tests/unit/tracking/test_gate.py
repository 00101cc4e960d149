"""The promotion gate knows noise: it refuses to decide on a handful of rows, keeps the champion
when the paired difference cannot tell, and promotes a clearly better or a not-worse retrain on
more outcomes."""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from scalepredict.model.config import GateConfig
from scalepredict.tracking.gate import gate


def _world(n: int, seed: int, champion_noise: float, challenger_noise: float):
    rng = np.random.default_rng(seed)
    logit = rng.normal(0, 1.5, n)
    y = (rng.random(n) < expit(logit)).astype(int)
    groups = np.repeat(np.arange(n // 5 + 1), 5)[:n].astype(str)
    champion = expit(logit + rng.normal(0, champion_noise, n))
    challenger = expit(logit + rng.normal(0, challenger_noise, n))
    return y, challenger, champion, groups


def test_a_gate_refuses_to_decide_on_25_rows():
    y, new, old, groups = _world(25, 1, 2.0, 0.0)  # the challenger is truly far better
    decision = gate(y, new, old, groups, superset=True, cfg=GateConfig())
    assert not decision.promote and decision.case == "too_few_rows"
    assert "too few outcomes to tell" in decision.reasons[0] and "25 rows" in decision.reasons[0]


def test_a_small_true_difference_on_few_rows_keeps_the_champion_and_says_why():
    y, new, old, groups = _world(80, 2, 0.6, 0.5)
    decision = gate(y, new, old, groups, superset=False, cfg=GateConfig())
    assert not decision.promote and decision.case == "cannot_tell"
    low, high = decision.difference["low"], decision.difference["high"]
    assert low < 0 < high
    assert f"[{low:+.3f}, {high:+.3f}]" in decision.reasons[0]


def test_clearly_better_is_promoted_and_clearly_worse_is_not():
    y, new, old, groups = _world(2000, 3, 1.5, 0.2)
    assert gate(y, new, old, groups, superset=False, cfg=GateConfig()).case == "better"
    worse = gate(y, old, new, groups, superset=True, cfg=GateConfig())
    assert not worse.promote and worse.case == "worse"


def test_a_retrain_on_more_outcomes_that_is_not_worse_is_promoted():
    y, new, old, groups = _world(3000, 4, 0.3, 0.3)
    same = gate(y, new, old, groups, superset=True, cfg=GateConfig(non_inferiority=0.02))
    assert same.promote and same.case == "non_inferior"
    other_rows = gate(y, new, old, groups, superset=False, cfg=GateConfig(non_inferiority=0.02))
    assert not other_rows.promote
