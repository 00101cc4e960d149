"""The bundle: one booster per stage, rows routed by stage, exact per-row additivity, a JSON
round trip, and refusal of corrupt or mismatched bundles."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from scalepredict.data.synthetic import generate
from scalepredict.inference.explain import contributions, global_importance
from scalepredict.model.bundle import BOOSTER_FILE, BundleError, ModelBundle
from scalepredict.model.config import TrainConfig
from scalepredict.model.features import feature_matrix, feature_names
from scalepredict.model.fit import fit
from scalepredict.model.split import InsufficientDataError
from tests.conftest import SMALL_CONFIG


@pytest.fixture(scope="module")
def bundle(small_fit) -> ModelBundle:
    return small_fit[1].bundle


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return generate(90, seed=77).drop(columns=["scaled_up"])


def test_one_booster_per_stage_in_catalogue_order(bundle, cat):
    assert list(bundle.boosters) == list(cat.stages)
    assert len({id(b) for b in bundle.boosters.values()}) == len(cat.stages)


def test_each_row_is_scored_by_the_booster_of_its_stage(bundle, rows, cat):
    x = feature_matrix(rows, cat)
    margin = bundle.learned_margin_of(x)  # the boosters' own reading (no blank policy)
    for stage, booster in bundle.boosters.items():
        m = (rows["stage"] == stage).to_numpy()
        own = booster.inplace_predict(x[m], predict_type="margin")
        np.testing.assert_allclose(margin[m], own, atol=1e-6)
    # a row's score does not depend on the other rows in the batch
    one_by_one = [bundle.learned_margin_of(x[[i]])[0] for i in range(len(x))]
    np.testing.assert_allclose(margin, one_by_one, atol=1e-6)
    # and under the blank policy too (rows with as many blanks are scored together)
    policy = bundle.margin_of(x)
    np.testing.assert_allclose(policy, [bundle.margin_of(x[[i]])[0] for i in range(len(x))])


def test_moving_a_row_to_another_stage_changes_its_model(bundle, rows, cat):
    row = rows.iloc[[0]]
    margins = {s: bundle.margin(row.assign(stage=s))[0] for s in cat.stages}
    assert len({round(m, 6) for m in margins.values()}) == len(cat.stages)


def test_additivity_is_exact_per_row_with_one_base_value_per_stage(bundle, rows, cat):
    c = contributions(bundle, rows)
    np.testing.assert_allclose(c.margin, bundle.margin(rows), atol=1e-5)
    base = pd.Series(c.base, index=rows.index).groupby(rows["stage"]).nunique()
    assert (base == 1).all() and len(base) == len(cat.stages)


def test_boosters_of_own_rows_only_give_the_stage_no_contribution(small_fit, rows):
    frame = small_fit[0]
    cfg = copy.deepcopy(SMALL_CONFIG)
    cfg["search"] = {**cfg["search"], "trials": 1, "other_stage_weight": 0.0}
    own = fit(frame, TrainConfig(**cfg)).bundle
    c = contributions(own, rows)
    assert (c.values["stage"] == 0).all()
    np.testing.assert_allclose(c.margin, own.margin(rows), atol=1e-5)


def test_global_importance_is_per_stage(bundle, rows, cat):
    imp = global_importance(bundle, rows)
    assert set(imp) == set(cat.stages)
    assert sum(v["n"] for v in imp.values()) == len(rows)


def test_round_trip_gives_the_same_predictions(bundle, rows, tmp_path):
    loaded = ModelBundle.load(bundle.save(tmp_path / "b"))
    np.testing.assert_array_equal(loaded.probability(rows), bundle.probability(rows))
    np.testing.assert_array_equal(
        contributions(loaded, rows).values, contributions(bundle, rows).values
    )
    assert loaded.calibrator == bundle.calibrator and loaded.conformal == bundle.conformal
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "booster.json",
        "bundle.json",
        "catalogue.json",
    ]
    assert loaded.catalogue.fingerprint == bundle.catalogue.fingerprint  # it carries its own


def _edit_boosters(path, edit) -> None:
    models = json.loads((path / BOOSTER_FILE).read_text())
    (path / BOOSTER_FILE).write_text(json.dumps(edit(models)))


def test_a_corrupt_stage_booster_is_refused(bundle, tmp_path):
    d = bundle.save(tmp_path / "b")

    def corrupt(models):
        models["pilot"]["learner"]["gradient_booster"] = {"trees": "?"}
        return models

    _edit_boosters(d, corrupt)
    with pytest.raises(BundleError, match="pilot booster is corrupt"):
        ModelBundle.load(d)


def test_a_missing_stage_or_an_old_single_booster_bundle_is_refused(bundle, tmp_path):
    d = bundle.save(tmp_path / "b")
    _edit_boosters(d, lambda m: {k: v for k, v in m.items() if k != "rollout"})
    with pytest.raises(BundleError, match="one booster per stage"):
        ModelBundle.load(d)
    d = bundle.save(tmp_path / "old")
    bundle.boosters["pilot"].save_model(d / BOOSTER_FILE)  # the former one-booster layout
    with pytest.raises(BundleError, match="one booster per stage"):
        ModelBundle.load(d)
    (d / BOOSTER_FILE).write_text("{ corrupt")
    with pytest.raises(BundleError, match="not a loadable model bundle"):
        ModelBundle.load(d)


def test_a_bundle_needs_every_stage(bundle):
    with pytest.raises(BundleError, match="one booster per stage"):
        ModelBundle(
            bundle.catalogue,
            {"pilot": bundle.boosters["pilot"]},
            bundle.calibrator,
            bundle.conformal,
        )


def test_a_row_without_a_stage_cannot_be_scored(bundle, rows, cat):
    x = feature_matrix(rows.head(2), cat)
    x[0, feature_names(cat).index("stage")] = np.nan
    with pytest.raises(ValueError, match="without a stage"):
        bundle.margin_of(x)


def test_a_stage_with_too_few_cities_is_a_clear_error(cat):
    frame = generate(1500, seed=8)
    rollout = frame["stage"] == "rollout"
    frame.loc[rollout, "city"] = np.where(frame.index[rollout] % 2, "city-a", "city-b")
    with pytest.raises(InsufficientDataError, match="stage rollout"):
        fit(frame, TrainConfig(**SMALL_CONFIG))
