"""The choice within a budget is the best set: equal to brute force over every subset."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalepredict.inference.budget import BudgetError, choose_within_budget


def brute_force(p: list[float], c: list[float], budget: float) -> float:
    best = 0.0
    for mask in itertools.product((0, 1), repeat=len(p)):
        if sum(ci for ci, m in zip(c, mask, strict=True) if m) <= budget:
            best = max(best, sum(pi for pi, m in zip(p, mask, strict=True) if m))
    return best


proposals = st.lists(
    st.tuples(
        st.floats(0.0, 1.0),
        st.one_of(st.integers(0, 50).map(float), st.floats(0.0, 5e6)),  # whole units or money
    ),
    min_size=0,
    max_size=10,
)


@settings(max_examples=300, deadline=None)
@given(proposals, st.floats(0.0, 1.0))
def test_the_choice_is_the_best_set_within_the_budget(rows, share):
    p = [r[0] for r in rows]
    c = [r[1] for r in rows]
    budget = share * sum(c)
    choice = choose_within_budget(np.array(p), np.array(c), budget)
    assert choice.spent <= budget  # never over, not even by the solver's tolerance
    assert choice.proven_best
    assert choice.spent == pytest.approx(float(np.array(c)[choice.chosen].sum()))
    assert choice.expected_successes == pytest.approx(brute_force(p, c, budget), abs=1e-6)


def test_a_small_case_by_hand():
    # 0.9 costs 6; 0.5 + 0.5 cost 3 + 3: within 6 the pair (1.0) beats the single (0.9)
    choice = choose_within_budget(np.array([0.9, 0.5, 0.5, 0.2]), np.array([6, 3, 3, 7]), 6)
    assert choice.chosen.tolist() == [False, True, True, False]
    assert (choice.spent, choice.expected_successes) == (6.0, 1.0)


@pytest.mark.parametrize(("costs", "budget"), [([1, -1], 5), ([1, float("nan")], 5), ([1, 2], -1)])
def test_impossible_costs_or_budgets_are_refused(costs, budget):
    with pytest.raises(BudgetError):
        choose_within_budget(np.array([0.5, 0.5]), np.array(costs, float), budget)
