"""One set of figures in a plan: `reached` agrees with the expected chance shown, no plan for a
proposal already at its target, steps from the most worthwhile down, questions first where
the blanks matter more than the plan, and a factor no team can act on never in a plan."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from scalepredict.catalogue import parse_catalogue
from scalepredict.data.synthetic import generate
from scalepredict.inference.plan_figures import DISCOUNT
from scalepredict.inference.plans import _step_costs
from scalepredict.inference.predictor import Predictor
from scalepredict.model.bundle import ModelBundle


@pytest.fixture(scope="module")
def predictor(small_fit) -> Predictor:
    return Predictor(small_fit[1].bundle)


@pytest.fixture(scope="module")
def proposals() -> pd.DataFrame:
    return generate(120, seed=2024).drop(columns=["scaled_up"])


def _expected(bundle: ModelBundle, row: pd.DataFrame, after: pd.DataFrame) -> float:
    m0, m1 = bundle.margin(row)[0], bundle.margin(after)[0]
    return float(bundle.calibrator(expit(m0 + DISCOUNT * (m1 - m0))))


def test_reached_is_judged_on_the_expected_chance_shown(predictor, proposals):
    for target in (None, 0.5, 0.9):
        plans = predictor.plan(proposals, target=target)
        assert any(p["reached"] and p["actions"] for p in plans)
        for p in plans:
            assert p["reached"] == (p["expected_probability"] >= p["target_probability"] - 1e-4)
            if p["actions"]:
                assert p["actions"][-1]["expected_probability"] == p["expected_probability"]
            low, high = p["interval"]
            assert low <= p["expected_probability"] <= high
            assert p["status"] in {"reached", "not_reached", "no_plan_needed", "answer_first"} | {
                "nothing_to_do"
            }
            if p["status"] == "reached":
                assert p["reached"] and "reaching the target" in p["summary"]


def test_no_plan_for_a_proposal_at_or_above_its_target(predictor, proposals):
    bundle = predictor.bundle
    plans = predictor.plan(proposals)
    best_band = [(i, p) for i, p in enumerate(plans) if p["probability"] >= 0.65]
    assert best_band
    for i, p in best_band:
        assert p["status"] == "no_plan_needed" and not p["actions"], p
        assert p["target_probability"] == 0.65 and p["reached"]
        assert "best risk band" in p["summary"] and "no plan needed" in p["summary"]
        row = proposals.iloc[[i]]
        for k in p["keep"]:  # one level lower on a kept factor leaves the band
            slipped = row.assign(**{k["factor"]: k["if_one_lower"]})
            assert k["if_one_lower"] == k["level"] - 1
            assert abs(_expected(bundle, row, slipped) - k["expected_probability"]) < 1e-4
            assert k["expected_probability"] < 0.65
            label = bundle.catalogue.factor(k["factor"]).label
            assert f"{label} at {k['level']} (one level lower" in p["summary"]
    # an explicit target under the chance: no plan either
    low = [p for p in predictor.plan(proposals.head(30), target=0.05) if p["probability"] >= 0.05]
    assert low and all(p["status"] == "no_plan_needed" and not p["actions"] for p in low)
    assert all("target of 5.0%" in p["summary"] for p in low)


def test_steps_run_from_the_most_worthwhile_down(predictor, cat):
    """Complete proposals: the first step is the one of the plan that raises the expected
    chance most per effort on its own; a step gaining nothing by itself is marked and never
    last; the chance never falls along the plan."""
    bundle = predictor.bundle
    rows = generate(40, seed=606, complete=True).drop(columns=["scaled_up"])
    costs = _step_costs(cat)
    planned = 0
    for i, p in enumerate(predictor.plan(rows)):
        if not p["actions"]:
            continue
        planned += 1
        row = rows.iloc[[i]]
        prev = p["probability"]
        for a in p["actions"]:
            assert a["with_next"] == (a["expected_probability"] - prev <= 5e-5), p
            assert a["expected_probability"] >= prev
            prev = a["expected_probability"]
        assert not p["actions"][-1]["with_next"]
        first = p["actions"][0]
        if first["with_next"]:
            continue
        j = cat.factor_names.index(first["factor"])
        worth = (
            _expected(bundle, row, row.assign(**{first["factor"]: first["to"]})) - p["probability"]
        ) / costs[j, 0]
        for a in {a["factor"]: a for a in p["actions"]}.values():
            if int(row[a["factor"]].iloc[0]) != a["from"]:
                continue  # its first step on that factor is what counts alone
            k = cat.factor_names.index(a["factor"])
            alone = _expected(bundle, row, row.assign(**{a["factor"]: a["to"]}))
            assert (alone - p["probability"]) / costs[k, 0] <= worth + 1e-6, (a, p)
    assert planned >= 10


def test_an_all_blank_proposal_leads_with_the_questions(predictor, cat):
    row = generate(1, seed=31).drop(columns=["scaled_up"])
    for f in cat.factor_names:
        row[f] = pd.array([pd.NA], dtype="Int64")
    plan = predictor.plan(row)[0]
    assert plan["status"] == "answer_first"
    assert plan["summary"].startswith("Answer the 20 unanswered question(s) first")
    assert len(plan["answer_first"]) == 3
    assert plan["blanks"]["count"] == 20 and plan["blanks"]["of"] == 20
    assert plan["blanks"]["probability_high"] - plan["blanks"]["probability_low"] > 0.2
    # answered, the same proposal has no blanks and no such lead
    full = generate(1, seed=31, complete=True).drop(columns=["scaled_up"])
    assert predictor.plan(full)[0]["blanks"] is None


def _frozen(bundle: ModelBundle, names: list[str]) -> ModelBundle:
    """The same model with `names` marked `actionable: false` in its catalogue."""
    raw = dict(bundle.catalogue.source)
    raw["factors"] = [
        {**f, "actionable": False, "mitigations": []} if f["name"] in names else f
        for f in raw["factors"]
    ]
    cat = parse_catalogue(raw, "frozen")
    return ModelBundle(cat, bundle.boosters, bundle.calibrator, bundle.conformal, bundle.meta)


def test_a_factor_no_team_can_act_on_stays_in_the_explanation_not_in_plans(predictor, proposals):
    bundle = predictor.bundle
    before = predictor.assess(proposals.head(40))
    used = pd.Series([a["factor"] for r in before for a in r["plan"]["actions"]]).value_counts()
    frozen = list(used.index[:2])  # the two factors plans use most
    after = Predictor(_frozen(bundle, frozen)).assess(proposals.head(40))
    assert [r["probability"] for r in after] == [r["probability"] for r in before]
    for b, a in zip(before, after, strict=True):
        assert not {x["factor"] for x in a["plan"]["actions"]} & set(frozen)
        ex = a["explanation"]
        assert ex["factors"] == b["explanation"]["factors"]  # still in the explanation
        for d in ex["top_drivers"]:
            assert d["actionable"] == (d["dimension"] != "context" and d["field"] not in frozen)
        assert not {d["field"] for d in ex["actionable_drivers"]} & set(frozen)
    shown = {d["field"] for r in after for d in r["explanation"]["context_drivers"]}
    assert shown & set(frozen)


def test_plans_say_so_where_no_factor_can_be_acted_on(predictor, proposals):
    cat = predictor.bundle.catalogue
    nobody = Predictor(_frozen(predictor.bundle, cat.factor_names))
    rows = generate(10, seed=9, complete=True).drop(columns=["scaled_up"])
    for p in nobody.plan(rows):
        assert not p["actions"]
        if p["status"] != "no_plan_needed":
            assert p["status"] == "nothing_to_do"
            assert p["summary"].startswith("No factor in this catalogue can be acted on")
    assert np.isfinite([p["expected_probability"] for p in nobody.plan(rows)]).all()


def test_a_plan_the_model_cannot_vouch_for_says_so_in_words(predictor, proposals):
    import copy

    from scalepredict.inference.plan_figures import HONESTY_META

    sure = predictor.plan(proposals)
    vague = copy.copy(predictor.bundle)
    # a true gain's spread of 3 log-odds: no interval's low end is a gain
    vague.meta = {**vague.meta, HONESTY_META: {"shrinkage": 0.6, "error": 3.0}}
    unsure = Predictor(vague).plan(proposals)
    words = "too uncertain to tell whether these steps help"
    assert any(p["actions"] for p in unsure)
    for p in unsure + sure:
        if p["actions"] and p["status"] != "answer_first":
            assert (words in p["summary"]) == (p["confidence"] == "low"), p["summary"]
    assert all(p["confidence"] == "low" for p in unsure if p["actions"])
