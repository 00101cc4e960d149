"""The certified optimum of a plan: it equals brute force on small cases for any catalogue and
every family (trees leaf by leaf, the linear families and the explainable boosting machine as
a knapsack, blanks as the policy reads them), proves infeasibility, never uses a factor no
team can act on, and never costs more than the served plan while reaching the target on the
expected chance shown."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit

from scalepredict.catalogue import parse_catalogue
from scalepredict.data.generic import generate_for
from scalepredict.data.synthetic import generate
from scalepredict.data.validation import validate_file
from scalepredict.inference.plan_figures import expected_chance
from scalepredict.inference.plan_optimum import optimum
from scalepredict.inference.plan_problem import SearchProblem
from scalepredict.inference.plans import default_target, search_goal
from scalepredict.inference.predictor import Predictor
from scalepredict.inference.search_score import SearchScore
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.calibration import Calibrator, Conformal
from scalepredict.model.ebm import EbmModel
from scalepredict.model.features import feature_matrix, make_features, with_scores
from scalepredict.model.linear import ChecklistModel, LogisticModel
from scalepredict.model.trees import TreeModel
from tests.conftest import file_limits
from tests.integration.test_any_catalogue import catalogues


def _problem(bundle: ModelBundle, rows, targets=None, budget: float = 12.0):
    feats = feature_matrix(rows, bundle.catalogue)
    m0 = bundle.margin_of(feats)
    p0 = bundle.calibrator(expit(m0))
    if targets is None:
        targets = np.array([default_target(p) for p in p0])
    goal = search_goal(bundle, m0, targets, p0 >= targets - 1e-12)
    return SearchProblem.of(SearchScore.of(bundle, feats), goal, budget), m0, targets


def _brute_force(problem: SearchProblem, r: int) -> tuple[np.ndarray, np.ndarray]:
    """Every plan within the budget (step counts) and its log-odds under the whole policy."""
    nf = len(problem.step)
    plans = np.zeros((1, nf), int)
    for j in np.flatnonzero(problem.movable[r]):
        ks = np.arange(problem.room[r, j] + 1)
        ok = problem.cost(plans)[:, None] + problem.cum[j, ks][None, :] <= problem.budget + 1e-9
        a, b = np.nonzero(ok)
        plans = plans[a].copy()
        plans[:, j] = ks[b]
    bundle = problem.score.bundle
    x = np.repeat(problem.score.rows[[r]], len(plans), axis=0)
    states = problem.start[r] + plans * problem.step
    return plans, bundle.margin_of(with_scores(x, states, bundle.catalogue))


def _check_against_brute_force(problem: SearchProblem) -> None:
    for r in range(problem.n):
        got = optimum(problem, r)
        if problem.goal[r] == -np.inf:
            assert got.status == "no_plan_needed"
            continue
        plans, m = _brute_force(problem, r)
        reach = m >= problem.goal[r] - 1e-9
        if not reach.any():
            assert got.status == "infeasible", (r, got)
            continue
        assert got.status == "optimal", (r, got)
        assert got.cost == pytest.approx(problem.cost(plans[reach]).min())
        assert got.margin >= problem.goal[r] - 1e-9
        assert not (got.counts[~problem.movable[r]]).any()  # blanks, frozen factors untouched
        assert (got.counts <= problem.room[r]).all()


def _trees(cat, frame) -> TreeModel:
    """A small tree ensemble per stage on the catalogue's features (categories natively)."""
    x = make_features(frame, cat)
    d = xgb.DMatrix(x, frame[cat.outcome.name].astype(int), enable_categorical=True)
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.5, "nthread": 1}
    return TreeModel(
        {k: xgb.train({**params, "seed": i}, d, 6) for i, k in enumerate(cat.booster_keys)}
    )


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    raw=catalogues(),
    seed=st.integers(0, 2**16),
    kind=st.sampled_from(["xgboost", "logistic", "checklist", "ebm"]),
    lift=st.floats(0.02, 0.4),
)
def test_the_optimum_equals_brute_force_for_any_catalogue_and_family(raw, seed, kind, lift):
    cat = parse_catalogue(raw)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.csv"
        generate_for(cat, 150, seed).to_csv(path, index=False)
        frame = validate_file(path, True, cat, limits=file_limits()).good()
    x = feature_matrix(frame, cat)
    y = frame[cat.outcome.name].astype(int).to_numpy()
    if kind == "xgboost":
        model = _trees(cat, frame)
    elif kind == "ebm":
        model = EbmModel.fit(x, y, cat, seed)
    else:
        model = (LogisticModel if kind == "logistic" else ChecklistModel).fit(x, y, cat, 0.01)
    bundle = ModelBundle(cat, model, Calibrator(), Conformal())
    rows = frame.head(4).drop(columns=[cat.outcome.name]).reset_index(drop=True)
    p0 = bundle.probability(rows)
    cheapest = float(min(cat.effort_cost.values()))
    problem, _, _ = _problem(bundle, rows, np.minimum(p0 + lift, 0.99), budget=3 * cheapest)
    _check_against_brute_force(problem)


@pytest.fixture(scope="module")
def proposals():
    return generate(30, seed=4242).drop(columns=["scaled_up"])


@pytest.fixture(scope="module", params=["xgboost", "ebm"])
def served(request, small_fit) -> ModelBundle:
    """The small fit's trees, or an EBM on its rows with the same calibrator."""
    bundle = small_fit[1].bundle
    if request.param == "xgboost":
        return bundle
    frame, cat = small_fit[0], bundle.catalogue
    y = frame[cat.outcome.name].astype(int).to_numpy()
    ebm = EbmModel.fit(feature_matrix(frame, cat), y, cat, seed=3)
    return ModelBundle(cat, ebm, bundle.calibrator, bundle.conformal)


def test_the_optimum_is_never_dearer_than_the_served_plan_and_reaches(served, proposals):
    bundle = served
    plans = Predictor(bundle).plan(proposals)
    problem, m0, targets = _problem(bundle, proposals)
    solved = 0
    for r, plan in enumerate(plans):
        got = optimum(problem, r)
        assert got.status in ("optimal", "infeasible", "no_plan_needed"), got
        if plan["reached"] and plan["actions"]:
            assert got.status == "optimal" and got.cost <= plan["total_effort"] + 1e-9
        if got.status == "optimal":
            solved += 1
            shown = expected_chance(bundle, np.array([m0[r], got.margin]))[-1]
            assert shown >= targets[r] - 1e-9
    assert solved >= 5


def test_the_optimum_equals_brute_force_with_blanks(served, proposals):
    problem, _, _ = _problem(served, proposals.head(12), budget=4.0)
    assert np.isnan(problem.start).any()  # the policy's readings of blanks are exercised
    _check_against_brute_force(problem)


def test_no_plan_is_proven_where_none_reaches(small_fit, proposals):
    bundle = small_fit[1].bundle
    problem, _, _ = _problem(bundle, proposals.head(6), np.full(6, 0.99), budget=2.0)
    for r in range(problem.n):
        got = optimum(problem, r)
        _, m = _brute_force(problem, r)
        assert got.status == "infeasible" and (m < problem.goal[r]).all()


def test_a_factor_no_team_can_act_on_is_never_in_the_optimum(small_fit, proposals):
    bundle = small_fit[1].bundle
    problem, _, _ = _problem(bundle, proposals)
    used = np.zeros(len(problem.step))
    for r in range(problem.n):
        used += optimum(problem, r).counts
    frozen = [bundle.catalogue.factor_names[j] for j in np.argsort(-used)[:2]]
    raw = dict(bundle.catalogue.source)
    raw["factors"] = [
        {**f, "actionable": False, "mitigations": []} if f["name"] in frozen else f
        for f in raw["factors"]
    ]
    cat = parse_catalogue(raw, "frozen")
    again = ModelBundle(cat, bundle.boosters, bundle.calibrator, bundle.conformal, bundle.meta)
    problem, _, _ = _problem(again, proposals)
    at = [cat.factor_names.index(f) for f in frozen]
    for r in range(problem.n):
        assert not optimum(problem, r).counts[at].any()
