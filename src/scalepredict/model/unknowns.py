"""How an unknown (blank) answer is scored: the catalogue's `unknown_policy`.

XGBoost sends a missing value down a branch learned from the training data, outside the
monotone constraints, so a blank can score better than any answer: a proposer would gain by
skipping the questions they would score badly on. Under a level policy (`middle`, the default,
or `lowest`) a blank never scores better than the policy's level:

    for any factor j left blank:  score(x) <= score(x with j answered at the level)

(the other answers as they are, blanks included). It is applied at prediction time, on the
trained boosters: the model stays one model (training, its search and its metrics' inputs are
untouched), the policy can be changed without retraining, and every score, explanation, plan
and what-if goes through the one `score` below.

The rule that guarantees it for several blanks jointly: a row with blanks B scores the least
margin over the ways of answering all but at most `MAX_LEFT_BLANK` of them at the level (the
rest left blank, read as the model learned them). Answering blank j at the level leaves a
subset of those same ways, so the minimum can only rise: the inequality holds for every factor
and any other answers. Capping each blank alone (min of blank and level per factor) does not:
with two blanks, answering one can remove the other's cap. With at most `MAX_LEFT_BLANK`
blanks the learned reading is one of the ways, so a blank that the model already scores below
the level keeps its (lower) learned score; with more blanks, all but that many are at the
level. Cost: 2^b - 1 extra evaluations for b blanks (at most 6,195 for 20 blanks).

`learned` keeps the model's own reading of a blank (for data scientists)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from scalepredict.catalogue import Catalogue
from scalepredict.model.features import with_scores

POLICIES = ("middle", "lowest", "learned")
POLICY_WORDS = {  # how explanations and the planner page state the policy
    "middle": "a blank answer never scores better than the middle of the scale",
    "lowest": "a blank answer never scores better than the least favourable answer",
    "learned": "a blank answer is scored as the model learned from past initiatives",
}
MAX_LEFT_BLANK = 4  # blanks read as learned at once, at most (cost: sum of C(b, k), k <= 4)


def policy_levels(cat: Catalogue) -> np.ndarray | None:
    """Per factor, the level a blank scores at most (None: the learned reading). `middle`: the
    middle of the scale (of two middle levels, the less favourable); `lowest`: the least
    favourable level (the middle for a factor without a direction)."""
    policy = cat.unknown_policy
    if policy == "learned":
        return None
    out = []
    for f in cat.factors:
        low, high = (f.scale_max, f.scale_min) if f.direction < 0 else (f.scale_min, f.scale_max)
        if policy == "lowest" and f.direction != 0:
            out.append(float(low))
        else:  # the middle, rounded toward the less favourable end
            mid = (low + high) / 2
            out.append(float(math.floor(mid) if low < high else math.ceil(mid)))
    return np.array(out)


@cache
def _left_blank(b: int) -> np.ndarray:
    """ways x b booleans: which of b blanks stay blank, every way with at most MAX_LEFT_BLANK
    left blank, except leaving all b (the learned reading, scored separately)."""
    ways = [
        [i in kept for i in range(b)]
        for k in range(min(b, MAX_LEFT_BLANK) + 1)
        for kept in itertools.combinations(range(b), k)
        if k < b
    ]
    return np.array(ways, bool).reshape(-1, b)


def answer_masks(blank: np.ndarray) -> tuple[np.ndarray, bool]:
    """For one row's blanks (a boolean per factor): ways x factors, the blanks each way answers
    at the policy's level (every way `score` takes the least over), and whether the learned
    reading (all blanks left) is one of the ways."""
    where = np.flatnonzero(blank)
    ways = _left_blank(len(where))
    masks = np.zeros((len(ways), len(blank)), bool)
    masks[:, where] = ~ways
    return masks, len(where) <= MAX_LEFT_BLANK


@dataclass
class Scored:
    """Margins under the policy: `x` the feature matrix each row was scored as (blanks the
    policy answered at its level filled in), `capped` rows whose score the policy lowered."""

    margin: np.ndarray
    x: np.ndarray
    capped: np.ndarray
    learned: np.ndarray  # the margins with blanks read as the model learned them
    blank: np.ndarray  # rows x factors: the answers left blank


def score(x: np.ndarray, cat: Catalogue, margin: Callable[[np.ndarray], np.ndarray]) -> Scored:
    """Margins of feature matrix `x` under the catalogue's policy; `margin` is the model's
    learned log-odds of a feature matrix (called once: the rows and every way of answering
    their blanks go through it together, as the plan search calls this in its inner loop)."""
    levels = policy_levels(cat)
    nf = len(cat.factors)
    blank = np.isnan(x[:, -nf:])
    counts = blank.sum(axis=1)
    if levels is None or not counts.any():
        learned = margin(x)
        return Scored(learned, x, np.zeros(len(x), bool), learned, blank)
    groups = []  # (rows, ways, candidate matrix) per number of blanks
    for b in np.unique(counts[counts > 0]).tolist():
        rows = np.flatnonzero(counts == b)
        where = np.argsort(~blank[rows], axis=1, kind="stable")[:, :b]  # each row's blanks
        ways = _left_blank(b)
        n, w = len(rows), len(ways)
        scores = np.repeat(x[rows, -nf:], w, axis=0).reshape(n, w, nf)
        answer = np.broadcast_to(~ways[None, :, :], (n, w, b))
        r, k, i = np.nonzero(answer)
        col = where[r, i]
        scores[r, k, col] = levels[col]
        cand = with_scores(np.repeat(x[rows], w, axis=0), scores.reshape(n * w, nf), cat)
        groups.append((b, rows, w, cand))
    everything = margin(np.concatenate([x, *(g[3] for g in groups)]))
    learned = everything[: len(x)]
    best, scored = learned.copy(), x
    capped = np.zeros(len(x), bool)
    at = len(x)
    for b, rows, w, cand in groups:
        n = len(rows)
        m = everything[at : at + n * w].reshape(n, w)
        at += n * w
        pick = m.argmin(axis=1)
        low = m[np.arange(n), pick]
        # with more blanks than MAX_LEFT_BLANK the learned reading is not one of the ways
        lower = low < learned[rows] if b <= MAX_LEFT_BLANK else np.ones(n, bool)
        if lower.any():
            if scored is x:
                scored = x.copy()
            take = rows[lower]
            best[take] = low[lower]
            scored[take] = cand.reshape(n, w, -1)[np.flatnonzero(lower), pick[lower]]
            capped[take] = low[lower] < learned[take]
    return Scored(best, scored, capped, learned, blank)
