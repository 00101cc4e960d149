"""What a plan search is given: per proposal, which factors it may step and how far, what each
step costs, the log-odds it must reach, and the effort budget. The greedy and exchange passes
(`plan_search.py`) and the exact solver (`plan_optimum.py`) all take one `SearchProblem`.

A plan only moves factor scores (never the context), and only factors with a direction that a
team can act on (`actionable`), by whole steps up to the best level of their scale; a blank
answer stays blank. The k-th step on a factor uses that factor's k-th cheapest catalogue
mitigation (the last one again once they run out), so its cost is that mitigation's effort
and later steps on the same factor cost more, as they do in practice."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from scalepredict.catalogue import Catalogue, Mitigation
from scalepredict.inference.search_score import SearchScore

NO_ACTION = (
    "The catalogue has no action for this factor: agree with the team how to move it one level."
)


def step_mitigation(cat: Catalogue, factor: str, k: int) -> Mitigation:
    """The mitigation used for the k-th step (0-based) on `factor`; without catalogue actions,
    one step at the catalogue's default effort that says so."""
    ordered = sorted(cat.factor(factor).mitigations, key=lambda m: cat.effort_cost[m.effort])
    if not ordered:
        return Mitigation(NO_ACTION, "", cat.default_effort, 0)
    return ordered[min(k, len(ordered) - 1)]


def step_costs(cat: Catalogue) -> np.ndarray:
    """factors x max steps: the cost of the k-th step on each factor."""
    span = max(f.scale_max - f.scale_min for f in cat.factors)
    return np.array(
        [
            [cat.effort_cost[step_mitigation(cat, f, k).effort] for k in range(span)]
            for f in cat.factor_names
        ],
        dtype=float,
    )


def directions(cat: Catalogue) -> tuple[np.ndarray, np.ndarray]:
    """Each factor's step (+1 up, -1 down, 0 never moved by a plan) and its best level."""
    return (
        np.array([f.direction for f in cat.factors], float),
        np.array([f.best for f in cat.factors], float),
    )


def movable_factors(cat: Catalogue) -> np.ndarray:
    """Per factor: whether a plan may step it (a direction, and `actionable`)."""
    return np.array([f.movable for f in cat.factors], bool)


def plan_cost(counts: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Effort of each row of `counts`; `cum[j, k]`: the effort of the first k steps on j."""
    return cum[np.arange(cum.shape[0])[None, :], counts].sum(axis=1)


@dataclass(frozen=True)
class SearchProblem:
    """A batch of plan searches: row r may take up to `room[r, j]` steps on each factor j
    with `movable[r, j]`, each step moving the score by `step[j]`; `cum[j, k]` is the effort
    of the first k steps on j; a plan reaches row r's target when its search log-odds reach
    `goal[r]` (-inf: no plan needed, inf: no log-odds reach it), within `budget`."""

    score: SearchScore
    movable: np.ndarray  # rows x factors
    room: np.ndarray  # rows x factors: whole steps up to the best level (0 where blank)
    step: np.ndarray  # per factor
    cum: np.ndarray  # factors x (max steps + 1)
    goal: np.ndarray  # per row
    budget: float

    @classmethod
    def of(
        cls, score: SearchScore, goal: np.ndarray, budget: float, costs: np.ndarray | None = None
    ) -> SearchProblem:
        """The problem of the rows of `score` (their feature rows as assessed)."""
        cat = score.bundle.catalogue
        nf = len(cat.factor_names)
        step, best = directions(cat)
        start = score.rows[:, -nf:]
        movable = ~np.isnan(start) & movable_factors(cat)[None, :]
        room = np.where(movable, np.abs(best[None, :] - np.nan_to_num(start)), 0).astype(int)
        costs = step_costs(cat) if costs is None else costs
        cum = np.concatenate([np.zeros((nf, 1)), np.cumsum(costs, axis=1)], axis=1)
        return cls(score, movable, room, step, cum, np.asarray(goal, float), float(budget))

    @property
    def n(self) -> int:
        return len(self.goal)

    @cached_property
    def start(self) -> np.ndarray:
        """rows x factors: the scores as assessed."""
        return self.score.rows[:, -len(self.step) :]

    @cached_property
    def costs(self) -> np.ndarray:
        """factors x max steps: the cost of the k-th step on each factor."""
        return np.diff(self.cum, axis=1)

    def take(self, rows: np.ndarray) -> SearchProblem:
        """The same problem for rows named anew: row k is this one's `rows[k]`."""
        return replace(
            self,
            score=self.score.take(rows),
            movable=self.movable[rows],
            room=self.room[rows],
            goal=self.goal[rows],
        )

    def cost(self, counts: np.ndarray) -> np.ndarray:
        """Effort of plans given as rows x factors step counts."""
        return plan_cost(counts, self.cum)

    def margins(self, rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The search's log-odds of rows `rows` after `counts` steps per factor."""
        return self.score.margins(rows, self.start[rows] + counts * self.step)
