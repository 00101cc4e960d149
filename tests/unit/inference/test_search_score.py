"""The plan search's log-odds: the blank policy's own wherever a proposal has at most four
blanks, never below it with more, and equal to it as assessed; and a proposal with many blanks
still gets a plan whose figures are the policy's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalepredict.data.synthetic import generate
from scalepredict.inference.predictor import Predictor
from scalepredict.inference.search_score import MAX_WAYS, SearchScore
from scalepredict.model.features import feature_matrix, with_scores


@pytest.fixture(scope="module")
def bundle(small_fit):
    return small_fit[1].bundle


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return generate(12, seed=77, complete=True).drop(columns=["scaled_up"])


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_search_scores_bound_the_policy(bundle, rows, data):
    cat = bundle.catalogue
    nf = len(cat.factor_names)
    x = feature_matrix(rows, cat)
    blanks = [
        data.draw(st.lists(st.integers(0, nf - 1), max_size=9, unique=True)) for _ in range(len(x))
    ]
    for r, js in enumerate(blanks):
        x[r, [x.shape[1] - nf + j for j in js]] = np.nan
    x = with_scores(x, x[:, -nf:].copy(), cat)  # the dimension columns with the blanks
    score = SearchScore.of(bundle, x)
    start = x[:, -nf:]
    exact = bundle.margin_of(x)
    np.testing.assert_allclose(score.margins(np.arange(len(x)), start), exact, atol=1e-9)
    # steps on answered factors (blanks stay blank, as in a plan)
    moved = start.copy()
    ups = data.draw(st.lists(st.integers(0, nf - 1), min_size=1, max_size=5))
    for j in ups:
        moved[:, j] = np.where(np.isnan(moved[:, j]), np.nan, np.minimum(moved[:, j] + 1, 5))
    policy = bundle.margin_of(with_scores(x.copy(), moved, cat))
    search = score.margins(np.arange(len(x)), moved)
    few = np.array([len(js) <= 4 for js in blanks])
    np.testing.assert_allclose(search[few], policy[few], atol=1e-9)
    assert (search[~few] >= policy[~few] - 1e-9).all()
    # rows renamed: the same scores
    twice = score.take(np.tile(np.arange(len(x)), 2))
    np.testing.assert_allclose(
        twice.margins(np.arange(2 * len(x)), np.concatenate([moved, moved])),
        np.concatenate([search, search]),
        atol=1e-9,
    )


def test_many_blanks_get_a_plan_with_the_policys_figures(bundle, rows):
    cat = bundle.catalogue
    row = rows.head(1).copy()
    for f in cat.factor_names[:12]:  # 12 blanks: 794 ways under the policy, the search weighs 16
        row[f] = pd.array([pd.NA], dtype="Int64")
    assert SearchScore.of(bundle, feature_matrix(row, cat)).ways[0] == MAX_WAYS
    predictor = Predictor(bundle)
    plan = predictor.plan(row)[0]
    assert all(a["factor"] not in cat.factor_names[:12] for a in plan["actions"])
    after = row.copy()
    for a in plan["actions"]:
        after[a["factor"]] = a["to"]
    assert abs(predictor.probability(after)[0] - plan["model_probability"]) < 1e-3
    assert plan["reached"] == (plan["model_probability"] >= plan["target_probability"] - 1e-9)


def test_many_blanks_questions_show_the_policys_chance_of_each_answer(bundle, rows):
    cat = bundle.catalogue
    row = rows.head(1).copy()
    for f in cat.factor_names[:12]:
        row[f] = pd.array([pd.NA], dtype="Int64")
    predictor = Predictor(bundle)
    asked = predictor.plan(row)[0]["answer_first"]
    for q in asked:  # ranked by the search's bound, shown as the whole policy scores them
        f = cat.factor(q["factor"])
        lowest, highest = min(f.levels), max(f.levels)
        for level, shown in (
            (lowest, "probability_if_lowest"),
            (highest, "probability_if_highest"),
        ):
            exact = predictor.probability(row.assign(**{q["factor"]: level}))[0]
            assert q[shown] == pytest.approx(exact, abs=1e-4)
    widths = [q["probability_if_highest"] - q["probability_if_lowest"] for q in asked]
    assert widths == sorted(widths, key=abs, reverse=True)
