"""Decisions on a batch, in process: /portfolio with a budget picks the best set within it (as
brute force over every subset finds it), says so in JSON and in the CSV answer, and refuses a
budget it cannot choose with by naming the field and the rule."""

from __future__ import annotations

import io
import itertools

import pandas as pd

from tests.e2e.live_server import proposals_json

CSV = {"content-type": "text/csv"}


def _post(client, h, frame: pd.DataFrame, **params):
    body = frame.to_csv(index=False).encode()
    return client.post("/portfolio", content=body, headers={**h, **CSV}, params=params)


def _best(p: list[float], c: list[float], budget: float) -> set[int]:
    sets = (
        {i for i, m in enumerate(mask) if m} for mask in itertools.product((0, 1), repeat=len(p))
    )
    feasible = [s for s in sets if sum(c[i] for i in s) <= budget]
    return max(feasible, key=lambda s: sum(p[i] for i in s))


def test_the_budget_choice_is_the_best_set_and_is_in_the_csv(service):
    client, keys, _ = service
    frame = pd.DataFrame(proposals_json(9, seed=31))
    frame["budget_eur"] = [400_000, 900_000, 250_000, 1_200_000, 700_000, 300_000, 50_000,
                           2_000_000, 650_000]  # fmt: skip
    budget = 2_500_000
    r = _post(client, keys["scorer"], frame, budget=budget, cost="budget_eur", explain="false")
    assert r.status_code == 200, r.text
    body = r.json()
    p = [x["probability"] for x in body["results"]]
    c = frame["budget_eur"].tolist()
    chosen = {i for i, x in enumerate(body["results"]) if x["decision"] == "fund"}
    assert chosen == _best(p, c, budget)
    assert {x["decision"] for x in body["results"]} <= {"fund", "do not fund"}
    summary = body["budget"]
    assert summary["chosen"] == len(chosen) and summary["cost_field"] == "budget_eur"
    assert summary["spent"] == sum(c[i] for i in chosen) <= budget
    assert abs(summary["expected_successes"] - sum(p[i] for i in chosen)) < 1e-3
    assert "expected successes as assessed" in summary["objective"]

    answer = _post(client, keys["scorer"], frame, budget=budget, cost="budget_eur", format="csv")
    table = pd.read_csv(io.StringIO(answer.text))
    assert list(table.columns[:3]) == ["initiative_id", "decision", "cost"]
    assert set(table.index[table["decision"] == "fund"]) == chosen


def test_a_budget_without_its_cost_is_refused_by_name(service):
    client, keys, _ = service
    frame = pd.DataFrame(proposals_json(3, seed=32))
    h = keys["scorer"]
    no_cost = _post(client, h, frame, budget=1e6)
    assert no_cost.status_code == 422 and "budget_eur" in no_cost.json()["problems"][0]["rule"]
    wrong = _post(client, h, frame, budget=1e6, cost="city")
    assert wrong.status_code == 422 and "numeric field" in wrong.json()["error"]
    negative = _post(client, h, frame, budget=-5, cost="budget_eur")
    assert negative.status_code == 422 and "budget" in negative.json()["error"]
    frame.loc[1, "budget_eur"] = None
    blank = _post(client, h, frame, budget=1e6, cost="budget_eur")
    assert blank.status_code == 422
    problem = blank.json()["problems"][0]
    assert (problem["row"], problem["column"]) == (3, "budget_eur")
    assert problem["rule"] == "a cost is needed to choose within a budget"
