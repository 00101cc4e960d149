"""The unknown answers worth giving first: those whose answer would move the chance most (its
range over the factor's levels), each with what a blank counts as under the catalogue's
policy. A plan never changes an unknown answer; this says which to find out. A factor the
catalogue marks `actionable: false` is asked about too: answering finds out the rating, it
does not change it.

With many blanks one answer alone may hardly move the chance (under a level policy the other
blanks still cap it), so a proposal left all blank would get no question at all. Where fewer
than `top` questions pass that way, the rest are ranked with the other blanks answered at the
policy's level: what each answer is worth once the others are given."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from scalepredict.catalogue import Catalogue
from scalepredict.inference.plan_search import margins_at
from scalepredict.inference.search_score import SearchScore
from scalepredict.model.unknowns import POLICY_WORDS, policy_levels

MIN_RANGE = 0.01  # an unknown worth asking about first moves the chance by a point or more


def answer_first(score: SearchScore, now: np.ndarray, top: int = 3) -> list[list[dict[str, Any]]]:
    """Per row, the unknown answers whose answer would move the prediction most (the range
    over the levels); only those whose range is at least one percentage point wide. `now`:
    each row's chance as assessed. Every unknown at every level is ranked by the search's
    bound (`SearchScore`: exact up to four blanks; the whole policy costs thousands of model
    rows per level with twenty), then the 2 x `top` widest per row are scored by the whole
    policy, which gives the figures shown and the final order: two model calls in all."""
    bundle, feats = score.bundle, score.rows
    cat = bundle.catalogue
    nf = len(cat.factor_names)
    out: list[list[dict[str, Any]]] = [[] for _ in range(len(feats))]
    r, j = np.nonzero(np.isnan(feats[:, -nf:]))
    if not len(r):
        return out
    rows, states, at = _each_level(cat, feats, r, j)
    bound = bundle.calibrator(expit(score.margins(rows, states)))
    width = np.maximum.reduceat(bound, at[:-1]) - np.minimum.reduceat(bound, at[:-1])
    keep = np.zeros(len(r), bool)
    for row in np.unique(r).tolist():
        mine = np.flatnonzero(r == row)
        keep[mine[np.argsort(-width[mine], kind="stable")[: 2 * top]]] = True
    r, j = r[keep], j[keep]
    rows, states, at = _each_level(cat, feats, r, j)
    p = bundle.calibrator(expit(margins_at(bundle, feats, rows, states)))
    for row in np.unique(r).tolist():
        mine = np.flatnonzero(r == row)
        parts = {int(j[u]): p[at[u] : at[u + 1]] for u in mine}
        out[row] = _questions(cat, parts, float(now[row]), top)
    _with_others_answered(score, now, top, out)
    return out


def _with_others_answered(
    score: SearchScore, now: np.ndarray, top: int, out: list[list[dict[str, Any]]]
) -> None:
    """Fill up the rows with fewer than `top` questions (and more blanks than questions): each
    remaining blank at each level with the row's other blanks at the policy's level (no blank
    left, so one exact model call). Only under a level policy: read as learned, the other
    blanks do not cap an answer."""
    bundle, feats = score.bundle, score.rows
    cat = bundle.catalogue
    nf = len(cat.factor_names)
    levels_at = policy_levels(cat)
    blank = np.isnan(feats[:, -nf:])
    asked = [{q["factor"] for q in qs} for qs in out]
    names = cat.factor_names
    pairs = [
        (row, f)
        for row in np.flatnonzero(blank.sum(axis=1) > np.array([len(q) for q in out])).tolist()
        if len(out[row]) < top
        for f in np.flatnonzero(blank[row]).tolist()
        if names[f] not in asked[row]
    ]
    if levels_at is None or not pairs:
        return
    filled = feats.copy()
    filled[:, -nf:] = np.where(blank, np.asarray(levels_at, float), feats[:, -nf:])
    r, j = np.array([a for a, _ in pairs]), np.array([b for _, b in pairs])
    rows, states, at = _each_level(cat, filled, r, j)
    p = bundle.calibrator(expit(margins_at(bundle, filled, rows, states)))
    for row in np.unique(r).tolist():
        mine = np.flatnonzero(r == row)
        parts = {int(j[u]): p[at[u] : at[u + 1]] for u in mine}
        more = _questions(cat, parts, float(now[row]), top - len(out[row]), others=True)
        out[row].extend(more)


def _each_level(
    cat: Catalogue, feats: np.ndarray, r: np.ndarray, j: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row r[u]'s factor scores with unknown j[u] answered at each of its levels, in one
    matrix: (the row of each, the scores, where each unknown's levels start and end)."""
    nf = len(cat.factor_names)
    levels = [np.array(f.levels, float) for f in cat.factors]
    sizes = np.array([len(levels[q]) for q in j], int)
    at = np.concatenate([[0], np.cumsum(sizes)])
    rows = np.repeat(r, sizes)
    states = feats[rows, -nf:].copy()
    for u, q in enumerate(j):
        states[at[u] : at[u + 1], q] = levels[q]
    return rows, states, at


def _questions(
    cat: Catalogue, parts: dict[int, np.ndarray], now: float, top: int, others: bool = False
) -> list[dict[str, Any]]:
    """One row's unknowns worth asking first; `parts`: factor -> chance at each level;
    `others`: the chances are with the row's other blanks answered at the policy's level."""
    names = cat.factor_names
    unknown = list(parts)
    width = np.array([parts[j].max() - parts[j].min() for j in unknown])
    rank = [u for u in np.argsort(-width, kind="stable")[:top] if width[u] >= MIN_RANGE]
    levels_at = policy_levels(cat)
    out = []
    for u in rank:
        j = unknown[u]
        lo, hi = float(parts[j].min()), float(parts[j].max())
        level = None if levels_at is None else int(levels_at[j])
        blank = (
            "left blank it is scored as the model learned blanks"
            if level is None
            else f"left blank it counts as {level} at most ({POLICY_WORDS[cat.unknown_policy]})"
        )
        out.append(
            {
                "factor": names[j],
                "question": cat.factor(names[j]).question,
                "probability_if_lowest": round(float(parts[j][0]), 4),
                "probability_if_highest": round(float(parts[j][-1]), 4),
                "probability_if_blank": round(now, 4),
                "blank_scored_as": level,
                "could": (
                    "With the other blank questions answered at that level, a" if others else "A"
                )
                + f"nswering could put the chance anywhere from {lo:.1%} to {hi:.1%}; {blank}.",
            }
        )
    return out
