"""Decisions on a batch: which proposals of a portfolio to fund within a budget.

The cost of a proposal is a numeric context field of the catalogue that the request names
(`cost=budget_eur` in the built-in catalogue: the initiative's budget, read as the funding it
asks for); the choice maximizes the expected successes as assessed (`inference.budget`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scalepredict.api.errors import InvalidProposals, echo
from scalepredict.catalogue import Catalogue
from scalepredict.inference.budget import OBJECTIVE, BudgetError, choose_within_budget

FUND, DO_NOT_FUND = "fund", "do not fund"


def cost_fields(cat: Catalogue) -> list[str]:
    """The context fields a cost may come from: the numeric ones."""
    return [f.name for f in cat.context if f.type in ("integer", "number")]


def _cost_field(cat: Catalogue, cost: str | None) -> str:
    names = cost_fields(cat)
    by_column = {f.column: f.name for f in cat.context if f.column and f.name in names}
    field = by_column.get(cost or "", cost)
    if field not in names:
        rule = (
            "a budget needs `cost`: the numeric field holding each proposal's cost"
            if cost is None
            else f"`cost` must name a numeric field of the catalogue, not {cost!r}"
        )
        problem = {"path": "cost", "column": "cost", "rule": f"{rule}; one of {names}"}
        raise InvalidProposals(f"cannot choose within the budget: {rule}", [problem])
    return str(field)


def decide(
    results: list[dict[str, Any]],
    frame: pd.DataFrame,
    cat: Catalogue,
    budget: float,
    cost: str | None,
    first_row: int = 2,
) -> dict[str, Any]:
    """Each result gets its `cost` and `decision`; returns the choice's summary (the answer's
    `budget`). A proposal without a cost is a problem naming its file row: nothing is chosen."""
    field = _cost_field(cat, cost)
    costs = pd.to_numeric(frame[field], errors="coerce").to_numpy(float)
    blank = np.flatnonzero(np.isnan(costs))
    if len(blank):
        problems = [
            {
                "path": f"row {first_row + k}.{field}",
                "proposal": int(k) + 1,
                "row": first_row + int(k),
                "initiative_id": echo(results[k]["initiative_id"]),
                "column": field,
                "rule": "a cost is needed to choose within a budget",
                "value": None,
            }
            for k in blank[:200]
        ]
        n = len(blank)
        raise InvalidProposals(f"{n} proposal(s) without a cost; nothing was chosen", problems)
    try:
        choice = choose_within_budget(np.array([r["probability"] for r in results]), costs, budget)
    except BudgetError as e:
        raise InvalidProposals(str(e), [{"path": "budget", "rule": str(e)}]) from e
    for r, c, chosen in zip(results, costs, choice.chosen, strict=True):
        r["cost"] = float(c)
        r["decision"] = FUND if chosen else DO_NOT_FUND
    return {
        "budget": float(budget),
        "cost_field": field,
        "objective": OBJECTIVE,
        "chosen": choice.count,
        "spent": choice.spent,
        "expected_successes": round(choice.expected_successes, 4),
        "proven_best": choice.proven_best,
        "expected_successes_all": round(float(sum(r["probability"] for r in results)), 4),
        "cost_all": float(costs.sum()),
    }
