"""Choosing proposals within a budget: the set that maximizes the expected number of successes.

Each proposal succeeds with its assessed probability and costs what its cost field says; a set
is expected to bring the sum of its probabilities in successes (linearity of expectation, no
independence needed). The best set within the budget is a 0/1 knapsack, solved exactly as a
mixed-integer programme by HiGHS (`scipy.optimize.milp`, branch and bound to a relative gap of
0; HiGHS's absolute gap leaves at most 1e-6 of an expected success to the best set), then
checked: the chosen costs never add up to more than the budget."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

OBJECTIVE = "expected successes as assessed: the sum of the chosen proposals' probabilities"


class BudgetError(ValueError):
    """A budget or cost that no choice can be made with (negative, not finite)."""


@dataclass(frozen=True)
class Choice:
    """The chosen proposals (a mask in input order) and what they add up to."""

    chosen: np.ndarray
    spent: float
    expected_successes: float
    proven_best: bool = True  # false only when the solver's time limit stopped the search

    @property
    def count(self) -> int:
        return int(self.chosen.sum())


def choose_within_budget(
    probabilities: np.ndarray, costs: np.ndarray, budget: float, time_limit: float = 60.0
) -> Choice:
    """The set of proposals of largest expected successes whose costs add up to at most
    `budget`; `probabilities` and `costs` are per proposal, costs >= 0. Past `time_limit`
    seconds the best set found so far is returned, with `proven_best` false."""
    p = np.asarray(probabilities, float)
    c = np.asarray(costs, float)
    if p.shape != c.shape or p.ndim != 1:
        raise BudgetError("one probability and one cost per proposal")
    if not np.isfinite(budget) or budget < 0:
        raise BudgetError(f"the budget must be a finite number of at least 0 (got {budget})")
    if not np.isfinite(c).all() or (c < 0).any():
        raise BudgetError("every cost must be a finite number of at least 0")
    chosen = np.zeros(len(p), bool)
    free = c == 0  # costs nothing: always worth taking
    chosen[free] = True
    fits = ~free & (c <= budget)  # a proposal dearer than the whole budget can never be chosen
    idx = np.flatnonzero(fits)
    proven = True
    if len(idx):
        chosen[idx], proven = _solve(p[idx], c[idx], budget, time_limit)
    spent = float(c[chosen].sum())
    return Choice(chosen, spent, float(p[chosen].sum()), proven)


def _solve(p: np.ndarray, c: np.ndarray, budget: float, limit: float) -> tuple[np.ndarray, bool]:
    if c.sum() <= budget:
        return np.ones(len(p), bool), True
    scale = c.max()  # costs and budget in units of the largest cost: a well-scaled constraint
    cs, bs = c / scale, budget / scale
    result = milp(
        -p,
        constraints=LinearConstraint(cs[None, :], -np.inf, bs),
        integrality=np.ones(len(p)),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0.0, "presolve": True, "time_limit": limit},
    )
    if result.x is None:  # pragma: no cover - an all-zero choice is always feasible
        raise BudgetError(f"the solver found no choice: {result.message}")
    x = result.x > 0.5
    proven = result.status == 0  # 0: optimal; 1: stopped by the time limit
    while c[x].sum() > budget:  # pragma: no cover - over only by the solver's tolerance
        x[np.flatnonzero(x)[np.argmin(p[x] / c[x])]] = False  # drop the least worth its cost
    return x, proven
