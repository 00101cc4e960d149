"""Mitigation plans and what-if analysis.

A plan only moves factor scores (never the context: stage, domain, population, resources,
budget, duration or partners in the built-in catalogue), and only factors with a direction
that a team can act on (`actionable`), by whole steps up to the best level of their scale.
The k-th step on a factor uses that factor's k-th cheapest catalogue mitigation (the last one
again once they run out), so its cost is that mitigation's effort (low 1, medium 2, high 4)
and later steps on the same factor cost more, as they do in practice.

Search (`plan_search.py`): greedy by log-odds gain per unit of effort within the effort
budget, then an exchange pass that swaps steps while that makes the plan cheaper (or, short of
the target, stronger), on one `SearchProblem` (`plan_problem.py`);
`benchmarks/plan_optimum.py` compares the plans with the certified optimum
(`plan_optimum.py`), `benchmarks/explanation_fidelity.py` with the generator's truth.
Unknown answers stay unknown: the plan suggests answering the questions whose answer would
move the prediction most.

One set of figures: the search aims at the expected chance a plan shows (the model's gain
discounted, `plan_figures.py`), and `reached` is judged on it. A proposal already at its target, or
in the best risk band under the default target, gets no plan (`plan_status.py`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from scalepredict.catalogue import Catalogue
from scalepredict.inference.assessed import Assessed
from scalepredict.inference.bands import RISK_BANDS, next_band_target
from scalepredict.inference.plan_figures import (
    confidence,
    discount_of,
    expected_chance,
    plan_interval,
)
from scalepredict.inference.plan_problem import NO_ACTION as NO_ACTION
from scalepredict.inference.plan_problem import (
    SearchProblem,
    movable_factors,
    step_mitigation,
)
from scalepredict.inference.plan_problem import directions as _directions
from scalepredict.inference.plan_problem import step_costs as _step_costs
from scalepredict.inference.plan_search import (
    better_plans,
    exchange,
    greedy,
    margins_at,
    ordered_steps,
    target_margins,
)
from scalepredict.inference.plan_status import blank_range, slips, status_of
from scalepredict.inference.questions import answer_first
from scalepredict.inference.search_score import SearchScore
from scalepredict.model.bundle import ModelBundle

DEFAULT_MAX_EFFORT = 12  # effort units: e.g. three high-effort actions or six medium ones
MIN_GAIN = 5e-5  # a step must move the chance visibly (the API rounds it to 4 decimals)


class WhatIfError(ValueError):
    """A what-if change names a non-factor or an impossible score."""


BEST_BAND = RISK_BANDS[-2][0]  # the lowest chance of the best risk band (0.65)


def default_target(p: float) -> float:
    """The next risk band's lower edge; in the best band already, that band's own edge: such
    a proposal needs no plan (the old +0.15 gave an 82% proposal an 8-step plan to 97%)."""
    return BEST_BAND if p >= BEST_BAND else next_band_target(p)


def plan_batch(
    bundle: ModelBundle,
    frame: pd.DataFrame,
    target: float | None = None,
    max_effort: float | None = None,
    assessed: Assessed | None = None,
) -> list[dict[str, Any]]:
    """A mitigation plan per row of a typed assessment frame (`assessed`: its pass through the
    model, if the caller has it already). Every stage runs for all rows at once: the model is
    called per search step, never per row."""
    cat = bundle.catalogue
    nf = len(cat.factor_names)
    once = Assessed.given(bundle, frame, assessed)
    feats = once.x
    start_scores = feats[:, -nf:].copy()
    m0, p0 = once.margin, once.probability(bundle)
    targets = np.array([target if target is not None else default_target(p) for p in p0])
    budget = float(max_effort if max_effort is not None else DEFAULT_MAX_EFFORT)
    costs = _step_costs(cat)
    settled = p0 >= targets - 1e-12  # already there: no plan needed
    problem = SearchProblem.of(
        SearchScore.of(bundle, feats), search_goal(bundle, m0, targets, settled), budget, costs
    )
    counts = search_plans(problem, m0)  # the search's log-odds as assessed are the policy's
    discount = discount_of(bundle)

    def chance(m: np.ndarray, m_from: np.ndarray) -> np.ndarray:  # the expected chance at m
        return np.asarray(bundle.calibrator(expit(m_from + discount * (m - m_from))))

    orders = ordered_steps(problem, counts, m0, chance)
    orders, margins = _drop_flat(bundle, feats, orders, targets)
    asked = answer_first(problem.score, p0)
    step = problem.step
    kept = slips(bundle, feats, problem.movable, step, targets, settled, discount)
    blanks = blank_range(bundle, feats)
    can_move = bool(movable_factors(cat).any())
    labels = {f.name: f.label for f in cat.factors}
    plans = []
    for r, m in enumerate(margins):
        probs = bundle.calibrator(expit(m))
        likely = expected_chance(bundle, m)
        interval = plan_interval(bundle, m)
        plan = _describe(
            cat, start_scores[r], orders[r], probs, likely, targets[r], budget, costs, interval
        )
        plan |= {"answer_first": asked[r], "keep": kept[r], "blanks": blanks[r]}
        plans.append(
            plan
            | status_of(plan, bool(settled[r]), target is None, can_move, labels, cat.effort_unit)
        )
    return plans


def search_goal(
    bundle: ModelBundle, m0: np.ndarray, targets: np.ndarray, settled: np.ndarray
) -> np.ndarray:
    """The log-odds a plan must reach for the expected chance it shows (m0 + discount x
    (m - m0), calibrated) to reach each target; -inf where no plan is needed."""
    goal = target_margins(bundle, targets)
    goal = m0 + np.maximum(goal - m0, 0) / max(discount_of(bundle), 1e-3)
    return np.where(settled, -np.inf, goal)


def search_plans(problem: SearchProblem, m0: np.ndarray) -> np.ndarray:
    """rows x factors step counts: two greedy starts (see `greedy`) in one batch, the better
    of each row's two, then the exchange pass. `m0`: the rows' log-odds as assessed."""
    n = problem.n
    twice = greedy(
        problem.take(np.tile(np.arange(n), 2)),
        whole_plan=np.repeat([False, True], n),
        m_start=np.tile(m0, 2),
    )
    counts, m_counts = better_plans(problem, twice[:n], twice[n:])
    return exchange(problem, counts, m_counts)


def _prefix_margins(
    bundle: ModelBundle, feats: np.ndarray, orders: list[list[int]]
) -> list[np.ndarray]:
    """Per row, the log-odds after each prefix of its steps (index 0 = no step): one model
    call for every row."""
    nf = len(bundle.catalogue.factor_names)
    step, _ = _directions(bundle.catalogue)
    sizes = np.array([len(o) + 1 for o in orders])
    rows = np.repeat(np.arange(len(orders)), sizes)
    states = feats[rows, -nf:].copy()
    at = np.concatenate([[0], np.cumsum(sizes)])
    for r, order in enumerate(orders):
        for k, j in enumerate(order):
            states[at[r] + k + 1 : at[r + 1], j] += step[j]
    m = margins_at(bundle, feats, rows, states)
    return [m[at[r] : at[r + 1]] for r in range(len(orders))]


def _drop_flat(
    bundle: ModelBundle, feats: np.ndarray, orders: list[list[int]], targets: np.ndarray
) -> tuple[list[list[int]], list[np.ndarray]]:
    """No step that does not visibly move the expected chance (a flat stretch of the
    calibrator, or a step that counts only with another): drop
    it where the plan still reaches its target (or, short of it, ends as high) without it, else
    take it after the next step (it counts together with that one). One batched check finds
    the rows with a flat step; only those are reworked. Returns the orders and each one's
    log-odds after each prefix (`_prefix_margins`)."""
    margins = _prefix_margins(bundle, feats, orders)
    probs = [expected_chance(bundle, m) for m in margins]
    out = list(orders)
    for r in [r for r, p in enumerate(probs) if (np.diff(p) <= MIN_GAIN).any()]:
        out[r] = _drop_flat_row(bundle, feats, r, orders[r], probs[r], targets[r])
    changed = [r for r in range(len(out)) if out[r] != orders[r]]
    if changed:
        again = _prefix_margins(bundle, feats[changed], [out[r] for r in changed])
        for r, m in zip(changed, again, strict=True):
            margins[r] = m
    return out, margins


def _drop_flat_row(bundle, feats, r, order: list[int], probs, target: float) -> list[int]:
    def cumulative(o: list[int]) -> np.ndarray:
        return expected_chance(bundle, _prefix_margins(bundle, feats[[r]], [o])[0])

    order = list(order)
    floor = min(target, probs[-1]) - 1e-12
    swapped: set[tuple[int, int]] = set()
    for _ in range(len(order) ** 2 + 1):
        flat = [k for k in range(len(order)) if probs[k + 1] - probs[k] <= MIN_GAIN]
        if not flat:
            break
        k = flat[0]
        trial = order[:k] + order[k + 1 :]
        after = cumulative(trial)
        if after[-1] >= floor or k == len(order) - 1:
            order, probs = trial, after
        elif (order[k + 1], order[k]) in swapped:  # the two move the chance only together
            break
        else:
            swapped.add((order[k], order[k + 1]))
            order[k], order[k + 1] = order[k + 1], order[k]
            probs = cumulative(order)
    return order


def _describe(
    cat: Catalogue,
    start: np.ndarray,
    order: list[int],
    probs: np.ndarray,
    likely: np.ndarray,
    target: float,
    budget: float,
    costs: np.ndarray,
    interval: tuple[float, float],
) -> dict[str, Any]:
    """One plan as the API answers it; `probs`: the model's chance after each prefix of
    `order` (index 0: as assessed), `likely`: the same with the gains discounted; `interval`:
    the 80% interval of the chance after it (`plan_interval`)."""
    names = cat.factor_names
    step, _ = _directions(cat)
    taken = np.zeros(len(names), int)
    actions, total = [], 0.0
    for k, j in enumerate(order):
        frm = int(start[j] + step[j] * taken[j])
        m = step_mitigation(cat, names[j], taken[j])
        total += costs[j, min(taken[j], costs.shape[1] - 1)]
        taken[j] += 1
        actions.append(
            {
                "factor": names[j],
                "dimension": cat.factor(names[j]).dimension,
                "from": frm,
                "to": int(frm + step[j]),
                "action": m.action,
                "theme": m.theme,
                "effort": m.effort,
                "months": m.months,
                "expected_probability": round(float(likely[k + 1]), 4),
                # gains nothing visible by itself: it counts together with the steps after it
                "with_next": bool(likely[k + 1] - likely[k] <= MIN_GAIN),
                "model_probability": round(float(probs[k + 1]), 4),
            }
        )
    p0, final, expected = float(probs[0]), float(probs[-1]), float(likely[-1])
    gain = expected - p0
    low, high = interval
    return {
        "probability": round(p0, 4),
        "target_probability": round(float(target), 4),
        "reached": bool(expected >= target - 1e-12),  # judged on the figure shown
        "expected_probability": round(expected, 4),
        "expected_gain": round(gain, 4),
        "model_probability": round(final, 4),
        "interval": [round(low, 4), round(high, 4)],
        "confidence": confidence(gain, low - p0),
        "total_effort": float(total),
        "max_effort": budget,
        "actions": actions,
    }


def apply_changes(
    frame: pd.DataFrame, changes: dict[str, int | None], cat: Catalogue
) -> pd.DataFrame:
    """A copy of `frame` with factor scores set (None = unknown); only factors may change."""
    problems = []
    for name, value in changes.items():
        if name not in cat.factor_names:
            kind = "a context field" if name in [c.name for c in cat.context] else "not a factor"
            problems.append(
                f"{name}: {kind}; only the {len(cat.factors)} factor scores can be changed"
            )
            continue
        f = cat.factor(name)
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not f.scale_min <= value <= f.scale_max
        ):
            problems.append(
                f"{name}: must be a whole score {f.scale_min}..{f.scale_max} or null, got {value!r}"
            )
    if problems:
        raise WhatIfError("; ".join(problems))
    out = frame.copy()
    for name, value in changes.items():
        out[name] = pd.array([value] * len(out), dtype="Int64")
    return out
