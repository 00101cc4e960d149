"""Contributions in percentage points of the chance, adding up exactly.

The log-odds SHAP values (`explain.contributions`) add up on the log-odds scale, which people
do not read; the probability scale is what they read, and there effects do not add up (the
same log-odds step moves a 2% chance by a fraction of what it moves a 50% one). We split the
probability change from the typical initiative's chance, p(base), to this one's, p(margin),
among the fields by the Owen value of the game

    v(S) = p(base + sum of the log-odds contributions of the fields in S)

with the catalogue's groups (each dimension's factors, and the context) as unions: a group's
points are its exact Shapley value among the groups (all orders of the groups averaged), and
a field's points its share within its group (all orders of the group's fields averaged). It is
order-independent and efficient: the points add up exactly to p(margin) - p(base), and a
field whose log-odds contribution is 0 gets exactly 0. Unlike mapping log-odds to points in
proportion, it never blows up when a group's contributions nearly cancel. `p` is the bundle's
calibrated probability (the calibrator after the logistic), so the end points are the chances
the page shows.

Cost: per row, for each field, 2^(groups - 1) x 2^(group size - 1) evaluations of `p`: about
40,000 for the built-in catalogue (five dimensions of four factors, seven context fields),
well under a millisecond per row in a batch. A group of more than `MAX_EXACT` fields (none in
the catalogues shipped) has its points split among its fields in proportion to their log-odds
contributions instead, which keeps the sum exact."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

MAX_EXACT = 10  # fields in one group (and groups) up to which the split is exact


def _subset_sums(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """rows x 2^k sums of every subset of the k columns, and each subset's size."""
    k = values.shape[1]
    masks = np.arange(2**k)
    member = (masks[:, None] >> np.arange(k)[None, :]) & 1  # 2^k x k
    return values @ member.T, member.sum(axis=1)


def _shapley_weights(sizes: np.ndarray, n: int) -> np.ndarray:
    """Weight of a coalition of `sizes` others among n players: s! (n - 1 - s)! / n!."""
    f = math.factorial
    return np.array([f(int(s)) * f(n - 1 - int(s)) / f(n) for s in sizes])


def owen_points(
    p: Callable[[np.ndarray], np.ndarray],
    base: np.ndarray,
    values: np.ndarray,
    groups: Sequence[Sequence[int]],
) -> np.ndarray:
    """rows x fields: each field's share of p(base + values.sum(1)) - p(base), in probability
    (not yet points). `p` maps log-odds to the probability, elementwise on any shape; `groups`
    partition the columns of `values`."""
    n, width = values.shape
    out = np.zeros((n, width))
    totals = np.stack([values[:, list(g)].sum(axis=1) for g in groups], axis=1)
    k = len(groups)
    if k > MAX_EXACT:  # too many groups for every order: one group, split within it
        return owen_points(p, base, values, [list(range(width))])
    for gi, group in enumerate(groups):
        group = list(group)
        others = [j for j in range(k) if j != gi]
        t_sums, t_sizes = _subset_sums(totals[:, others])
        t_w = _shapley_weights(t_sizes, k)
        if len(group) > MAX_EXACT:
            lo = p(base[:, None] + t_sums)
            hi = p(base[:, None] + t_sums + totals[:, [gi]])
            share = (hi - lo) @ t_w
            part = values[:, group]
            tot = part.sum(axis=1, keepdims=True)
            safe = np.where(np.abs(tot) > 1e-12, tot, 1.0)
            even = np.full_like(part, 1 / len(group))
            out[:, group] = share[:, None] * np.where(np.abs(tot) > 1e-12, part / safe, even)
            continue
        for i in group:
            rest = [j for j in group if j != i]
            s_sums, s_sizes = _subset_sums(values[:, rest])
            s_w = _shapley_weights(s_sizes, len(group))
            z = base[:, None, None] + t_sums[:, :, None] + s_sums[:, None, :]
            delta = p(z + values[:, i, None, None]) - p(z)
            out[:, i] = np.einsum("rts,t,s->r", delta, t_w, s_w)
    return out
