"""The certified optimum of a plan: the cheapest steps within the budget whose expected chance
(the one a plan shows, `plan_figures.expected_chance`) reaches the target, or a proof that
none does, for any model family.

The expected chance is the calibrated sigmoid of m0 + discount x (m - m0): monotone in the
plan's log-odds m, so reaching the target is m >= the search's goal (`plans.search_goal`).
Under a level policy for blanks m is the least of the model's log-odds over every way of
reading the blanks (`model.unknowns`): the plan must reach the goal in each way. There may be
thousands of ways (6,195 for 20 blanks); the solver adds them lazily: it starts with the way
that scores lowest as assessed, solves (`plan_milp.py`), scores the solution with the whole
policy, and where some way leaves it short adds that way and solves again. A subset of the
ways only drops constraints, so an infeasible subset proves that no plan exists, and a
solution that meets every way is optimal for all of them. Should the encoding and the model
disagree on a solution (float rounding at a threshold), that exact plan is cut off and the
solve repeated, so every plan returned is checked on the model itself.

A proposal's solve stops after `SOLVER_SECONDS` (all its solves together): a timeout, which
the benchmark counts as a miss."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from scalepredict.inference.plan_milp import (
    INF,
    Milp,
    StepVars,
    TreeEncoder,
    additive_margin,
    step_vars,
)
from scalepredict.inference.plan_problem import SearchProblem
from scalepredict.model.features import with_scores
from scalepredict.model.trees import TreeModel
from scalepredict.model.unknowns import answer_masks, policy_levels

SOLVER_SECONDS = 10.0  # per proposal, every solve together; past it: a timeout (a miss)
MAX_SOLVES = 200  # per proposal: ways added and plans cut off, at most


@dataclass(frozen=True)
class Optimum:
    """One proposal's answer: `status` optimal (`counts`: steps per factor, `cost`, `margin`:
    its log-odds under the whole policy), infeasible (proven: no plan within the budget
    reaches the target), no_plan_needed, or timeout / unsupported (no certificate)."""

    status: str
    counts: np.ndarray
    cost: float
    margin: float
    seconds: float
    solves: int


def _ways(problem: SearchProblem, r: int) -> np.ndarray:
    """ways x factors: the scores as each way of the policy reads the blanks (NaN: left
    blank, read as the model learned them)."""
    start = problem.start[r]
    levels = policy_levels(problem.score.bundle.catalogue)
    blank = np.isnan(start)
    if levels is None or not blank.any():
        return start[None, :]
    masks, learned = answer_masks(blank)
    filled = np.where(masks, levels[None, :], start[None, :])
    return np.concatenate([start[None, :], filled]) if learned else filled


def optimum(problem: SearchProblem, r: int, seconds: float = SOLVER_SECONDS) -> Optimum:
    """The certified cheapest plan of row `r` of `problem` (see the module's docstring)."""
    t0 = time.perf_counter()
    nf = len(problem.step)
    zero = np.zeros(nf, int)
    bundle, goal = problem.score.bundle, float(problem.goal[r])
    if goal == -np.inf:
        return Optimum("no_plan_needed", zero, 0.0, -np.inf, 0.0, 0)
    if goal == np.inf:  # no log-odds reach the target through the calibrator
        return Optimum("infeasible", zero, 0.0, np.inf, time.perf_counter() - t0, 0)
    if not bundle.family.additive and bundle.forest is None:
        return Optimum("unsupported", zero, 0.0, np.nan, 0.0, 0)
    row = problem.score.rows[r]
    ways = _ways(problem, r)
    way_rows = with_scores(np.repeat(row[None, :], len(ways), axis=0), ways, bundle.catalogue)
    used = [int(np.argmin(bundle.learned_margin_of(way_rows)))]
    cuts: list[np.ndarray] = []
    for solves in range(1, MAX_SOLVES + 1):
        left = seconds - (time.perf_counter() - t0)
        if left <= 0:
            break
        milp = Milp()
        xs = step_vars(milp, problem.cum, problem.room[r], problem.budget, bundle.catalogue)
        _encode(milp, xs, problem, r, way_rows[used])
        for cut in cuts:
            _cut(milp, xs, cut)
        status, sol = milp.solve(left)
        spent = time.perf_counter() - t0
        if status != "optimal":
            return Optimum(status, zero, 0.0, np.nan, spent, solves)
        counts = _counts(xs, sol, nf)
        state = problem.start[r] + counts * problem.step
        m = float(
            bundle.margin_of(with_scores(row[None, :].copy(), state[None, :], bundle.catalogue))[0]
        )
        if m >= goal - 1e-9:
            cost = float(problem.cost(counts[None, :])[0])
            return Optimum("optimal", counts, cost, m, time.perf_counter() - t0, solves)
        after = with_scores(way_rows.copy(), ways + counts * problem.step, bundle.catalogue)
        worst = int(np.argmin(bundle.learned_margin_of(after)))
        if worst in used:  # the encoding and the model disagree on this plan: cut it off
            cuts.append(counts)
        else:
            used.append(worst)
    return Optimum("timeout", zero, 0.0, np.nan, time.perf_counter() - t0, MAX_SOLVES)


def optima(problem: SearchProblem, seconds: float = SOLVER_SECONDS) -> list[Optimum]:
    """`optimum` for every row of the problem."""
    return [optimum(problem, r, seconds) for r in range(problem.n)]


def _encode(milp: Milp, xs: StepVars, problem: SearchProblem, r: int, rows: np.ndarray) -> None:
    """The log-odds of each way (feature rows `rows`, no step taken) reach the goal."""
    bundle = problem.score.bundle
    cat = bundle.catalogue
    goal = float(problem.goal[r])
    if bundle.family.additive:  # log-odds that add up factor by factor
        for x0 in rows:
            moves = [(j, k) for j, cs in xs.cols.items() for k in range(1, len(cs) + 1)]
            states = np.repeat(x0[None, -len(problem.step) :], len(moves) + 1, axis=0)
            for i, (j, k) in enumerate(moves):
                states[i + 1, j] += k * problem.step[j]
            x = with_scores(np.repeat(x0[None, :], len(states), axis=0), states, cat)
            m = bundle.learned_margin_of(x)
            gains: dict[int, np.ndarray] = {j: np.zeros(len(cs)) for j, cs in xs.cols.items()}
            for i, (j, k) in enumerate(moves):
                gains[j][k - 1] = m[i + 1] - m[0]
            milp.row(additive_margin(gains, float(m[0]), xs), goal, INF)
        return
    assert isinstance(bundle.model, TreeModel) and bundle.forest is not None
    booster = int(bundle.booster_of_rows(rows[:1])[0])
    encoder = TreeEncoder(milp, xs, bundle.forest, cat, problem.start[r], problem.step)
    for x0 in rows:
        milp.row(encoder.margin(booster, x0), goal, INF)


def _cut(milp: Milp, xs: StepVars, counts: np.ndarray) -> None:
    """No plan with exactly these step counts."""
    ones = [cs[counts[j] - 1] for j, cs in xs.cols.items() if counts[j] > 0]
    zeros = [c for cs in xs.cols.values() for c in cs if c not in ones]
    milp.row((0.0, {**dict.fromkeys(ones, 1.0), **dict.fromkeys(zeros, -1.0)}), -INF, len(ones) - 1)


def _counts(xs: StepVars, sol: np.ndarray, nf: int) -> np.ndarray:
    counts = np.zeros(nf, int)
    for j, cs in xs.cols.items():
        for k, c in enumerate(cs):
            if sol[c] > 0.5:
                counts[j] = k + 1
    return counts
