"""The synthetic ground truth has the properties domain.md requires."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalepredict.cli import app
from scalepredict.data.synthetic import (
    IncompleteAssessmentError,
    coefficients,
    generate,
    true_probability,
)
from scalepredict.settings import get_settings

BANDS = {"proof_of_concept": (0.35, 0.45), "pilot": (0.25, 0.30), "rollout": (0.45, 0.55)}


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    return generate(50_000, seed=5, truth=True)


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = generate(300, 1, truth=True), generate(300, 1, truth=True), generate(300, 2)
    pd.testing.assert_frame_equal(a, b)
    assert not a["value_case"].equals(c["value_case"])


def test_base_rates_by_stage_in_survey_bands(big):
    rates = big.groupby("stage")["scaled_up"].mean()
    for stage, (lo, hi) in BANDS.items():
        assert lo <= rates[stage] <= hi, (stage, rates[stage])


def test_outcomes_follow_the_true_probability(big):
    by_decile = big.groupby(pd.qcut(big["true_probability"], 10), observed=True)
    gap = (by_decile["scaled_up"].mean() - by_decile["true_probability"].mean()).abs()
    assert gap.max() < 0.03


def test_cities_hold_several_initiatives_and_weak_cities_score_low(big, cat):
    per_city = big.groupby("city").size()
    assert per_city.mean() > 4 and (per_city > 1).mean() > 0.8
    mean_score = big[cat.factor_names].mean(axis=1)
    assert mean_score.corr(big["city_resources"].astype(float)) > 0.3
    # weak cities are weak on many factors at once: factors correlate positively
    corr = big[cat.factor_names].astype(float).corr().to_numpy()
    assert corr[np.triu_indices(20, 1)].min() > 0.1


def test_missing_answer_rates_are_realistic(big, cat):
    missing = big[cat.factor_names].isna()
    assert 0.03 < missing.to_numpy().mean() < 0.10
    by_stage = missing.groupby(big["stage"]).apply(lambda m: m.to_numpy().mean())
    assert by_stage["proof_of_concept"] > by_stage["pilot"] > by_stage["rollout"]
    assert missing["privacy_protection"].mean() > missing["value_case"].mean()
    assert generate(500, 1, complete=True)[cat.factor_names].notna().all().all()


def test_truth_comes_from_complete_scores_before_masking(cat):
    masked, complete = generate(2000, 9, truth=True), generate(2000, 9, truth=True, complete=True)
    pd.testing.assert_series_equal(masked["true_probability"], complete["true_probability"])
    np.testing.assert_allclose(true_probability(complete), complete["true_probability"], atol=1e-6)
    shown = masked[cat.factor_names].notna()
    assert (
        masked[cat.factor_names][shown] == complete[cat.factor_names][shown]
    ).sum().sum() == shown.sum().sum()


def test_truth_refuses_unknown_answers(cat):
    frame = generate(50, 3, complete=True)
    frame.loc[4, "security"] = pd.NA
    with pytest.raises(IncompleteAssessmentError, match="1 row"):
        true_probability(frame)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    factor_index=st.integers(0, 19),
    steps=st.integers(1, 4),
)
def test_raising_any_factor_never_lowers_the_truth(seed, factor_index, steps):
    """The do-intervention: set one factor higher, the true probability cannot fall."""
    frame = generate(20, seed, complete=True)
    factor = frame.columns[10 + factor_index]
    raised = frame.copy()
    raised[factor] = (raised[factor] + steps).clip(upper=5)
    assert (true_probability(raised) >= true_probability(frame) - 1e-12).all()


def test_stage_shift_read_from_describe(runner):
    res = runner.invoke(app, ["generate", "--describe"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert set(d["base_rates"]) == set(BANDS)
    assert {"weakest_link", "scarcity"} <= set(d)
    coef = pd.DataFrame(d["coefficients"]).T  # stages x factors
    from scalepredict.catalogue import load_catalogue

    cat = load_catalogue(get_settings())
    by_dim = {dim: coef[cat.factors_of(dim)].sum(axis=1) for dim in cat.dimension_names}
    assert by_dim["strategy"].idxmax() == "proof_of_concept"
    assert by_dim["strategy"].idxmin() == "rollout"
    assert by_dim["people_organization"].idxmax() == "rollout"
    assert (coef.to_numpy() > 0).all()  # every factor helps: the truth is monotone


def test_weakest_link_and_scarcity_bite(cat):
    frame = generate(1, 0, complete=True)
    frame.loc[0, cat.factor_names] = 3
    frame.loc[0, "city_resources"] = 5
    base = true_probability(frame)[0]
    weak = frame.copy()
    weak.loc[0, cat.factors_of("data")] = 1  # one dimension collapses
    spread = frame.copy()
    spread.loc[0, [cat.factors_of(d)[0] for d in cat.dimension_names[1:]]] = (
        1  # same-ish loss, spread
    )
    assert true_probability(weak)[0] < base
    poor_weak = weak.copy()
    poor_weak.loc[0, "city_resources"] = 1
    poor = frame.copy()
    poor.loc[0, "city_resources"] = 1
    # scarcity amplifies: the same weakness costs more log-odds in a poor city
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    loss_rich = logit(base) - logit(true_probability(weak)[0])
    loss_poor = logit(true_probability(poor)[0]) - logit(true_probability(poor_weak)[0])
    assert loss_poor > loss_rich
    assert coefficients(cat).shape == (3, 20)


def test_cli_generate_is_deterministic(tmp_path, runner):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for p in (a, b):
        res = runner.invoke(
            app, ["generate", "--rows", "200", "--seed", "4", "--truth", "--out", str(p)]
        )
        assert res.exit_code == 0, res.output
    assert a.read_bytes() == b.read_bytes()
    assert "true_probability" in a.read_text().splitlines()[0]
