"""What a plan says about itself, in one set of figures: its status, the sentence the page, the
CLI and the CSV show, what would keep a proposal already at its target there, and how far its
blank answers could move the chance.

Statuses, in the order they are decided:
- `no_plan_needed`: the chance is at or above the target (under the default target: in the
  best risk band already). `keep` lists the answered factors whose fall by one level would
  take the expected chance under the target: what to hold on to.
- `answer_first`: the blanks, answered all at their least or all at their most favourable
  level, could move the chance more than the plan's expected gain: the answers matter more
  than the plan, so the questions lead (an all-blank proposal always lands here).
- `reached` / `not_reached`: the expected chance shown reaches the target or not.
- `nothing_to_do`: no step within the budget raises the chance, or the catalogue has no
  factor a plan may move (every one `actionable: false` or without a direction)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from scalepredict.inference.plan_search import margins_at
from scalepredict.model.bundle import ModelBundle

KEEP_TOP = 3  # factors listed as what keeps a proposal at its target


def slips(
    bundle: ModelBundle,
    feats: np.ndarray,
    movable: np.ndarray,
    step: np.ndarray,
    targets: np.ndarray,
    settled: np.ndarray,
    discount: float,
) -> list[list[dict[str, Any]]]:
    """For each row at its target (`settled`): the answered factors a plan could move whose
    one-level fall would take the expected chance under the target, the worst fall first
    (the fall discounted as a plan's gain is); [] for every other row. One model call."""
    cat = bundle.catalogue
    nf = len(cat.factor_names)
    scores = feats[:, -nf:]
    worst = np.array([f.scale_max if f.direction < 0 else f.scale_min for f in cat.factors])
    can = settled[:, None] & movable & (np.where(np.isnan(scores), worst, scores) != worst)
    r, j = np.nonzero(can)
    out: list[list[dict[str, Any]]] = [[] for _ in range(len(feats))]
    if not len(r):
        return out
    states = scores[r].copy()
    states[np.arange(len(r)), j] -= step[j]
    m = margins_at(bundle, feats, r, states)
    m0 = bundle.margin_of(feats[np.unique(r)])
    start = dict(zip(np.unique(r).tolist(), m0, strict=True))
    m_start = np.array([start[q] for q in r.tolist()])
    p = np.asarray(bundle.calibrator(expit(m_start + discount * (m - m_start))))
    for u in np.argsort(p, kind="stable"):
        row, f = int(r[u]), int(j[u])
        if p[u] < targets[row] - 1e-12 and len(out[row]) < KEEP_TOP:
            level = int(scores[row, f])
            out[row].append(
                {
                    "factor": cat.factor_names[f],
                    "level": level,
                    "if_one_lower": int(level - step[f]),
                    "expected_probability": round(float(p[u]), 4),
                }
            )
    return out


def blank_range(bundle: ModelBundle, feats: np.ndarray) -> list[dict[str, Any] | None]:
    """Per row with blanks: how many, and the chance with all of them answered at their least
    and at their most favourable level (the model's figures, as a what-if shows); None for a
    row without blanks. One model call."""
    cat = bundle.catalogue
    nf = len(cat.factor_names)
    scores = feats[:, -nf:]
    blank = np.isnan(scores)
    rows = np.flatnonzero(blank.any(axis=1))
    out: list[dict[str, Any] | None] = [None] * len(feats)
    if not len(rows):
        return out
    low = np.array([f.scale_max if f.direction < 0 else f.scale_min for f in cat.factors])
    high = np.array([f.scale_min if f.direction < 0 else f.scale_max for f in cat.factors])
    states = np.concatenate(
        [np.where(blank[rows], low, scores[rows]), np.where(blank[rows], high, scores[rows])]
    )
    m = margins_at(bundle, feats, np.concatenate([rows, rows]), states).reshape(2, -1)
    p = np.asarray(bundle.calibrator(expit(m)))
    for k, r in enumerate(rows.tolist()):
        lo, hi = sorted((float(p[0, k]), float(p[1, k])))
        out[r] = {
            "count": int(blank[r].sum()),
            "of": nf,
            "probability_low": round(lo, 4),
            "probability_high": round(hi, 4),
        }
    return out


def status_of(
    plan: dict[str, Any],
    settled: bool,
    default_target: bool,
    can_move: bool,
    labels: dict[str, str],
    unit: tuple[str, str] = ("person-month", "person-months"),
) -> dict[str, Any]:
    """The plan's `status` and `summary` (see the module's docstring); `labels`: each
    factor's label, as people read it; `unit`: the catalogue's effort unit (one, many)."""

    def _units(effort: float) -> str:
        """An effort in the catalogue's unit, the noun agreeing with the number."""
        return f"{_num(effort)} {unit[0] if _num(effort) == '1' else unit[1]}"

    target, p0, expected = (
        plan["target_probability"],
        plan["probability"],
        plan["expected_probability"],
    )
    blanks = plan.get("blanks")
    spread = 0.0 if blanks is None else blanks["probability_high"] - blanks["probability_low"]
    n = len(plan["actions"])
    if settled:
        where = (
            f"Already in the best risk band ({_pct(target)} or more)"
            if default_target
            else f"Already at or above the target of {_pct(target)}"
        )
        keep = plan.get("keep") or []
        hold = (
            " To stay there, keep "
            + "; ".join(
                f"{labels[k['factor']]} at {k['level']} (one level lower: an expected "
                f"{_pct(k['expected_probability'])})"
                for k in keep
            )
            + "."
            if keep
            else " No single answer one level lower would take it under the target."
        )
        return {"status": "no_plan_needed", "summary": f"{where}: no plan needed.{hold}"}
    if not can_move:
        plain = "No factor in this catalogue can be acted on: no plan can raise the chance."
    elif not n:
        budget = _units(plan["max_effort"])
        plain = f"No step within the effort budget ({budget}) raises the chance."
    else:
        low, high = plan["interval"]
        rise = (
            f"{n} {'step raises' if n == 1 else 'steps raise'} the expected chance from "
            f"{_pct(p0)} to {_pct(expected)} "
            f"(80% interval {_pct(low)} to {_pct(high)}; confidence {plan['confidence']})"
        )
        plain = (
            f"{rise}, reaching the target of {_pct(target)}, for {_units(plan['total_effort'])}."
            if plan["reached"]
            else f"The target of {_pct(target)} is out of reach within the effort budget "
            f"({_units(plan['max_effort'])}): {rise}."
        )
        if plan["confidence"] == "low":  # said in words, not left to a label
            plain += (
                " The model is too uncertain to tell whether these steps help: the low end of"
                " the interval is no gain."
            )
    if blanks is not None and spread > plan["expected_gain"]:
        first = (
            f"Answer the {blanks['count']} unanswered question(s) first: together they could "
            f"put the chance anywhere from {_pct(blanks['probability_low'])} to "
            f"{_pct(blanks['probability_high'])}, more than the plan changes it. "
        )
        return {"status": "answer_first", "summary": first + plain}
    if not can_move or not n:
        return {"status": "nothing_to_do", "summary": plain}
    return {"status": "reached" if plan["reached"] else "not_reached", "summary": plain}


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _num(x: float) -> str:
    return f"{x:g}"
