"""The search behind a plan: which factor steps, within the effort budget, reach the target for
the least effort (or, where the target is out of reach, raise the chance most).

1. Greedy by gain per effort on the log-odds scale. The probability scale is flat far from
   50% (at a 2% chance every step gains a fraction of a point) and the isotonic calibrator is
   flat in places, so ranking steps by probability gained hides the step that matters; the
   log-odds are where the model's effects add up, and they keep their order through the
   (monotone) calibrator.
2. Exchange: from the greedy plan, repeatedly take the best of every plan one move away (drop
   a step; drop one or two steps, two off one factor included, and add another; add one),
   judged by the objective: the target reached at the least effort (ties: the higher
   chance), else the highest chance within the budget. It stops when no move improves the
   plan, so no single step left out could replace one taken (or two) and do better, the
   greedy plan's blind spot.

Every function here takes the whole batch and calls the model once per search step: the
model's fixed cost per call (about 0.4 ms) is paid per step, not per proposal and step.
`benchmarks/plan_optimum.py` compares the result with the certified optimum
(`plan_optimum.py`) on every initiative of the benchmark (see the benchmarks page)."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from scipy.special import expit

from scalepredict.inference.plan_problem import SearchProblem, plan_cost
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.features import with_scores

EXCHANGE_ROUNDS = 12  # moves per plan at most; each one strictly improves the objective
TINY = 1e-9
VISIBLE = 5e-5  # a chance gain the API shows (it rounds to 4 decimals)


def greedy(
    problem: SearchProblem,
    whole_plan: np.ndarray | None = None,
    m_start: np.ndarray | None = None,
) -> np.ndarray:
    """rows x factors: moves chosen greedily by log-odds gain per effort, for the whole batch
    at once, until each row reaches its target (on the log-odds scale) or nothing fits. A move
    raises one factor by one or more steps at once: a tree's threshold may lie two levels up,
    where the first step alone gains nothing (a factor at 1 of 5 that only counts from 3).
    `whole_plan` (per row): rank a move by the gain per effort of the plan it makes (from the
    start) rather than by its own; that prefers a strong costly move over a cheap weak one,
    which wins where several factors must rise together (the weakest dimension). `m_start`:
    the rows' log-odds as assessed, where the caller has them."""
    score, movable, room, step, cum = (
        problem.score,
        problem.movable,
        problem.room,
        problem.step,
        problem.cum,
    )
    target_margin, budget = problem.goal, problem.budget
    n, nf = movable.shape
    whole_plan = np.zeros(n, bool) if whole_plan is None else whole_plan
    span = cum.shape[1] - 1
    scores = score.rows[:, -nf:].copy()
    counts = np.zeros((n, nf), int)
    spent = np.zeros(n)
    m_now = score.margins(np.arange(n), scores) if m_start is None else m_start.copy()
    m_start = m_now.copy()
    seen = counts.copy()
    seen_key = objective(m_now, spent, target_margin)
    active = m_now < target_margin
    ks = np.arange(1, span + 1)
    fac = np.arange(nf)
    while active.any():
        rows = np.flatnonzero(active)
        # every (row, factor, k) move that fits the room and the budget
        after = counts[rows][:, :, None] + ks[None, None, :]
        cost = cum[fac[None, :, None], np.minimum(after, span)] - cum[fac, counts[rows]][:, :, None]
        ok = (
            movable[rows][:, :, None]
            & (after <= room[rows][:, :, None])
            & (spent[rows, None, None] + cost <= budget + TINY)
        )
        i, j, k = np.nonzero(ok)
        if not len(i):
            break
        cand = scores[rows[i]].copy()
        cand[np.arange(len(i)), j] += step[j] * ks[k]
        gain = score.margins(rows[i], cand) - m_now[rows[i]]
        whole = m_now[rows[i]] + gain - m_start[rows[i]]
        per_effort = np.where(
            whole_plan[rows[i]], whole / (spent[rows[i]] + cost[i, j, k]), gain / cost[i, j, k]
        )
        ratio = np.where(gain > TINY, per_effort, -np.inf)
        # any plan seen on the way that beats the best so far (a strong move passed over for
        # a more efficient one that then left no room for it)
        key = objective(
            m_now[rows[i]] + gain, spent[rows[i]] + cost[i, j, k], target_margin[rows[i]]
        )
        top = np.full(len(rows), -np.inf)
        np.maximum.at(top, i, key)
        for q in np.flatnonzero(top > seen_key[rows] + TINY):
            c = int(np.flatnonzero((i == q) & (key == top[q]))[0])
            seen[rows[q]] = counts[rows[q]]
            seen[rows[q], j[c]] += ks[k[c]]
            seen_key[rows[q]] = top[q]
        best = np.full(len(rows), -np.inf)
        np.maximum.at(best, i, ratio)
        active[rows[~np.isfinite(best)]] = False
        # the best move of each row (the first on a tie: the fewest steps)
        pick = np.flatnonzero(np.isfinite(ratio) & (ratio == best[i]))
        pick = pick[np.unique(i[pick], return_index=True)[1]]
        r, jj, kk = rows[i[pick]], j[pick], ks[k[pick]]
        scores[r, jj] += step[jj] * kk
        counts[r, jj] += kk
        spent[r] += cost[i[pick], jj, k[pick]]
        m_now[r] += gain[pick]
        active[r] = m_now[r] < target_margin[r]
    final = objective(m_now, plan_cost(counts, cum), target_margin)
    return np.where((seen_key > final + TINY)[:, None], seen, counts)


def objective(m: np.ndarray, cost: np.ndarray, target_margin: np.ndarray) -> np.ndarray:
    """The search's objective as one number (higher is better): reaching the target first,
    then the least effort, then the higher log-odds; short of it, the higher log-odds."""
    return np.where(m >= target_margin, 1e6 - cost * 1e3 + m, m)


def better_plans(
    problem: SearchProblem, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the better of two plans (rows x factors step counts) by the search's
    objective (the target reached at the least effort, ties: the higher chance; else the
    higher chance), and its log-odds."""
    n = len(first)
    both = np.concatenate([first, second])
    m = problem.margins(np.tile(np.arange(n), 2), both).reshape(2, -1)
    key = objective(m, problem.cost(both).reshape(2, -1), problem.goal[None, :])
    pick = key[1] > key[0] + TINY
    return np.where(pick[:, None], second, first), np.where(pick, m[1], m[0])


def target_margins(bundle: ModelBundle, targets: np.ndarray) -> np.ndarray:
    """The least log-odds whose calibrated chance reaches each target (inf where none does):
    bisection, since the calibrator is monotone but may be flat (isotonic) and has no inverse."""
    lo, hi = np.full(len(targets), -30.0), np.full(len(targets), 30.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        up = bundle.calibrator(expit(mid)) >= targets
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return np.where(bundle.calibrator(expit(hi)) >= targets, hi, np.inf)


def margins_at(
    bundle: ModelBundle, feats: np.ndarray, rows: np.ndarray, states: np.ndarray
) -> np.ndarray:
    """Log-odds of feature rows `rows` (context as they are) with factor scores `states`: the
    one model call of every batched step below."""
    return bundle.margin_of(with_scores(feats[rows].copy(), states, bundle.catalogue))


def _moves(counts: np.ndarray, can_add: np.ndarray) -> np.ndarray:
    """Every plan one move away: drop a step, drop one or two and add one, add one (`can_add`:
    the factors with room for one more step)."""
    taken = np.flatnonzero(counts > 0).tolist()
    twice = [(j, j) for j in taken if counts[j] > 1]  # two steps off one factor
    drops = [(), *((j,) for j in taken), *itertools.combinations(taken, 2), *twice]
    out = []
    for drop in drops:
        base = counts.copy()
        for j in drop:
            base[j] -= 1
        if drop:
            out.append(base[None, :])
        addable = can_add.copy()
        addable[list(drop)] = False  # never add back a step just dropped
        adds = np.flatnonzero(addable)
        moved = np.repeat(base[None, :], len(adds), axis=0)
        moved[np.arange(len(adds)), adds] += 1
        out.append(moved)
    return np.concatenate(out).reshape(-1, len(counts))


def exchange(problem: SearchProblem, counts: np.ndarray, m_counts: np.ndarray) -> np.ndarray:
    """Improve every row's plan by single moves until none helps (see the module's
    docstring); all rows' candidate plans of a round go through one model call. `m_counts`:
    the log-odds of the plans `counts`."""
    movable, room, cum = problem.movable, problem.room, problem.cum
    target_margin, budget = problem.goal, problem.budget
    n = len(counts)
    current = counts.copy()
    m_cur = m_counts.copy()
    cost_cur = plan_cost(current, cum)
    active = np.ones(n, bool)
    for _ in range(EXCHANGE_ROUNDS):
        rows = np.flatnonzero(active)
        parts = [_moves(current[r], movable[r] & (current[r] < room[r])) for r in rows]
        owner = np.repeat(np.arange(len(rows)), [len(c) for c in parts])
        if not len(owner):
            break
        cand = np.concatenate(parts)
        cost = plan_cost(cand, cum)
        # a plan that reaches its target can only improve by costing no more
        reached = m_cur[rows[owner]] >= target_margin[rows[owner]]
        fits = cost <= np.where(reached, cost_cur[rows[owner]], budget) + TINY
        cand, cost, owner = cand[fits], cost[fits], owner[fits]
        if not len(owner):
            break
        r = rows[owner]
        m = problem.margins(r, cand)
        reached = m_cur[r] >= target_margin[r]
        cheaper, same = cost < cost_cur[r] - TINY, np.abs(cost - cost_cur[r]) <= TINY
        stronger = m > m_cur[r] + TINY
        # reached: the least effort that still reaches, then the chance; not reached: the
        # highest chance (reaching counts first), then less effort
        better = np.where(
            reached,
            (m >= target_margin[r]) & (cheaper | (same & stronger)),
            stronger | ((m >= m_cur[r] - TINY) & cheaper),
        )
        key = np.where(better, np.where(reached, -cost * 1e6 + m, m - cost * 1e-6), -np.inf)
        best = np.full(len(rows), -np.inf)
        np.maximum.at(best, owner, key)
        active[:] = False
        for q in np.flatnonzero(np.isfinite(best)):  # the first candidate with the best key
            c = int(np.flatnonzero((owner == q) & (key == best[q]))[0])
            row = rows[q]
            current[row], m_cur[row], cost_cur[row] = cand[c], m[c], cost[c]
            active[row] = True
        if not active.any():
            break
    return current


def ordered_steps(
    problem: SearchProblem,
    counts: np.ndarray,
    m_start: np.ndarray,
    chance: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> list[list[int]]:
    """Each row's chosen steps as a sequence, from the most worthwhile down: at each point the
    remaining step that raises the chance shown (`chance(m, m_start)`: the expected chance at
    log-odds m) most per effort. Where no single step visibly does (a tree's threshold two
    levels up, or two factors that count only together), the best pair of steps goes next,
    one after the other, so a step that gains nothing by itself comes right before the step
    it needs, never before steps that gain. One model call per position for every row at
    once (and one more where a row needs a pair). `m_start`: the log-odds as assessed."""
    score, step, costs, start = problem.score, problem.step, problem.costs, problem.start
    n, nf = counts.shape
    done = np.zeros((n, nf), int)
    orders: list[list[int]] = [[] for _ in range(n)]
    m_now = m_start.copy()

    def cost_of(r: np.ndarray, j: np.ndarray, extra: int | np.ndarray = 0) -> np.ndarray:
        return costs[j, np.minimum(done[r, j] + extra, costs.shape[1] - 1)]

    while True:
        r, j = np.nonzero(done < counts)
        if not len(r):
            break
        cand = done[r].copy()
        cand[np.arange(len(r)), j] += 1
        m = score.margins(r, start[r] + cand * step)
        shown = chance(m, m_start[r]) - chance(m_now[r], m_start[r])
        ratio = np.where(shown > VISIBLE, shown / cost_of(r, j), -np.inf)
        best = np.full(n, -np.inf)
        np.maximum.at(best, r, ratio)
        rows = np.unique(r)
        stuck = rows[~np.isfinite(best[rows])]
        pick = np.flatnonzero(np.isfinite(ratio) & (ratio == best[r]))
        pick = pick[np.unique(r[pick], return_index=True)[1]]  # the first factor on a tie
        for c in pick:
            orders[r[c]].append(int(j[c]))
        done[r[pick], j[pick]] += 1
        m_now[r[pick]] = m[pick]
        if len(stuck):
            _take_pairs(
                score, stuck, counts, done, start, step, cost_of, m_now, m_start, chance, orders
            )
    return orders


def _take_pairs(score, stuck, counts, done, start, step, cost_of, m_now, m_start, chance, orders):
    """For each stuck row (no single step visibly raises the chance): the two remaining steps
    (two on one factor included) that raise it most per effort together, else the best
    single step by log-odds gain per effort; appended in place."""
    rows, a, b = [], [], []
    for q in stuck.tolist():
        left = np.flatnonzero(done[q] < counts[q])
        for x, y in itertools.combinations_with_replacement(left.tolist(), 2):
            if x != y or counts[q, x] - done[q, x] >= 2:
                rows.append(q)
                a.append(x)
                b.append(y)
    r, ja, jb = np.array(rows, int), np.array(a, int), np.array(b, int)
    cand = done[r].copy() if len(r) else np.zeros((0, done.shape[1]), int)
    np.add.at(cand, (np.arange(len(r)), ja), 1)
    np.add.at(cand, (np.arange(len(r)), jb), 1)
    m = score.margins(r, start[r] + cand * step) if len(r) else np.zeros(0)
    shown = chance(m, m_start[r]) - chance(m_now[r], m_start[r]) if len(r) else m
    cost = cost_of(r, ja) + cost_of(r, jb, (ja == jb).astype(int)) if len(r) else m
    gain = np.where(shown > VISIBLE, 1.0 + shown / cost, expit((m - m_now[r]) / cost))
    for q in stuck.tolist():
        mine = np.flatnonzero(r == q)
        if len(mine):
            c = mine[int(np.argmax(gain[mine]))]
            first, second = int(ja[c]), int(jb[c])
            if gain[c] <= 0.5 + TINY:  # nothing moves even in pairs: the first step left
                first, second = first, -1
        else:  # one step left, gaining nothing visible
            first, second = int(np.flatnonzero(done[q] < counts[q])[0]), -1
        for jj in (first, second):
            if jj >= 0:
                orders[q].append(jj)
                done[q, jj] += 1
        m_now[q] = score.margins(np.array([q]), (start[q] + done[q] * step)[None, :])[0]
