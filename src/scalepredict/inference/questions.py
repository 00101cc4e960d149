"""The unknown answers worth giving first: those whose answer would move the chance most (its
range over the factor's levels), each with what a blank counts as under the catalogue's
policy. A plan never changes an unknown answer; this says which to find out."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from scalepredict.catalogue import Catalogue
from scalepredict.inference.plan_search import margins_at
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.unknowns import POLICY_WORDS, policy_levels

MIN_RANGE = 0.01  # an unknown worth asking about first moves the chance by a point or more


def answer_first(
    bundle: ModelBundle, feats: np.ndarray, now: np.ndarray, top: int = 3
) -> list[list[dict[str, Any]]]:
    """Per row, the unknown answers whose answer would move the prediction most (the range
    over the levels); only those whose range is at least one percentage point wide. `now`:
    each row's chance as assessed. One model call for every row's unknowns."""
    cat = bundle.catalogue
    nf = len(cat.factor_names)
    levels = [np.array(f.levels, float) for f in cat.factors]
    r, j = np.nonzero(np.isnan(feats[:, -nf:]))
    sizes = np.array([len(levels[q]) for q in j], int)
    at = np.concatenate([[0], np.cumsum(sizes)])
    rows = np.repeat(r, sizes)
    states = feats[rows, -nf:].copy()
    for u, q in enumerate(j):
        states[at[u] : at[u + 1], q] = levels[q]
    out: list[list[dict[str, Any]]] = [[] for _ in range(len(feats))]
    if not len(rows):
        return out
    p = bundle.calibrator(expit(margins_at(bundle, feats, rows, states)))
    for row in np.unique(r).tolist():
        mine = np.flatnonzero(r == row)
        parts = {int(j[u]): p[at[u] : at[u + 1]] for u in mine}
        out[row] = _questions(cat, parts, float(now[row]), top)
    return out


def _questions(
    cat: Catalogue, parts: dict[int, np.ndarray], now: float, top: int
) -> list[dict[str, Any]]:
    """One row's unknowns worth asking first; `parts`: factor -> chance at each level."""
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
                "could": f"Answering could put the chance anywhere from {lo:.1%} to {hi:.1%}; "
                f"{blank}.",
            }
        )
    return out
