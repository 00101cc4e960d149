"""Blank answers under the catalogue's policy: under the default a blank never scores better
than the middle of the scale, for any factor and any other answers (blanks included); the
explanation says when the policy capped a score; `learned` keeps the model's reading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalepredict.catalogue import Catalogue, parse_catalogue
from scalepredict.data.generic import generate_for
from scalepredict.data.synthetic import generate
from scalepredict.data.validation import parse_assessments
from scalepredict.inference.predictor import Predictor
from scalepredict.model.config import TrainConfig
from scalepredict.model.fit import fit
from scalepredict.model.unknowns import policy_levels

# A small catalogue of its own: a 1-6 scale with labels, a factor whose lower levels are
# better, one without a direction, and a 0-10 scale.
GENERATED = {
    "name": "review",
    "scale": {"min": 1, "max": 5},
    "dimensions": [{"name": "delivery"}, {"name": "setting"}],
    "factors": [
        {"name": "satisfaction", "dimension": "delivery", "scale": {"min": 1, "max": 6}},
        {"name": "complexity", "dimension": "delivery", "direction": -1},
        {"name": "scope", "dimension": "delivery"},
        {"name": "readiness", "dimension": "setting", "scale": {"min": 0, "max": 10}},
        {"name": "support", "dimension": "setting"},
        {"name": "weather", "dimension": "setting", "direction": 0},
    ],
    "context": [
        {"name": "project_id", "type": "string", "role": "identifier", "unique": True},
        {"name": "staff", "type": "integer", "min": 1, "max": 500, "feature": True},
        {"name": "phase", "type": "category", "feature": True, "categories": ["design", "build"]},
    ],
    "stage": "phase",
    "outcome": {"name": "succeeded", "success": ["Yes"], "failure": ["No"]},
}
CONFIG = TrainConfig(
    seed=1,
    split={"test": 0.2, "calibration": 0.2},
    search={"trials": 1, "cv_folds": 2, "max_rounds": 150, "early_stopping_rounds": 20},
)


@pytest.fixture(scope="module")
def builtin(small_fit) -> tuple[Predictor, pd.DataFrame]:
    rows = generate(40, seed=77).drop(columns=["scaled_up"])
    return Predictor(small_fit[1].bundle), rows


@pytest.fixture(scope="module")
def generated() -> tuple[Predictor, pd.DataFrame]:
    cat = parse_catalogue(GENERATED)
    raw = generate_for(cat, 700, seed=3)
    frame = parse_assessments(raw, cat)
    result = fit(frame, CONFIG, cat=cat)
    return Predictor(result.bundle), frame.drop(columns=[cat.outcome.name]).head(40)


def _blank_never_beats_the_level(predictor: Predictor, rows: pd.DataFrame, data) -> None:
    """A random proposal with random blanks: for every blank factor, scoring it blank is at most
    scoring it at the policy's level, the other answers (blanks too) as they are."""
    cat: Catalogue = predictor.bundle.catalogue
    levels = policy_levels(cat)
    assert levels is not None
    row = rows.iloc[[data.draw(st.integers(0, len(rows) - 1))]].copy()
    for f in cat.factors:
        row[f.name] = pd.array(
            [data.draw(st.one_of(st.none(), st.integers(f.scale_min, f.scale_max)))],
            dtype="Int64",
        )
    blanks = [j for j, f in enumerate(cat.factor_names) if row[f].isna().all()]
    if not blanks:
        return
    at_level = pd.concat(
        [row.assign(**{cat.factor_names[j]: int(levels[j])}) for j in blanks],
        ignore_index=True,
    )
    p_blank = predictor.probability(row)[0]
    p_level = predictor.probability(at_level)
    assert (p_blank <= p_level + 1e-12).all(), (p_blank, p_level, blanks)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_builtin_blank_never_beats_the_middle(builtin, data):
    _blank_never_beats_the_level(*builtin, data)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_generated_blank_never_beats_the_middle(generated, data):
    _blank_never_beats_the_level(*generated, data)


def test_middle_levels_follow_scale_and_direction():
    cat = parse_catalogue(GENERATED)
    assert policy_levels(cat).tolist() == [3, 3, 3, 5, 3, 3]
    lowest = parse_catalogue({**GENERATED, "unknown_policy": "lowest"})
    assert policy_levels(lowest).tolist() == [1, 5, 1, 0, 1, 3]
    assert policy_levels(parse_catalogue({**GENERATED, "unknown_policy": "learned"})) is None


def test_the_explanation_says_when_the_policy_capped_a_score(builtin, cat):
    predictor, rows = builtin
    blanked = rows.copy()
    for f in cat.factor_names[::3]:
        blanked[f] = pd.array([pd.NA] * len(blanked), dtype="Int64")
    learned = Predictor(predictor.bundle.with_policy("learned"))
    p_learned = learned.probability(blanked)
    records = predictor.assess(blanked, plan=False)
    capped = [r for r in records if r["explanation"]["unknown_policy"]["capped"]]
    assert capped, "the built-in model reads some blanks above the middle"
    for rec, pl in zip(records, p_learned, strict=True):
        note = rec["explanation"]["unknown_policy"]
        assert rec["probability"] <= pl + 1e-9
        assert note["learned_probability"] == pytest.approx(pl, abs=1e-6)
        if note["capped"]:
            assert rec["probability"] < pl
            assert note["scored_as"] and set(note["scored_as"].values()) == {3}
            assert "capped" in note["note"] and "middle of the scale" in note["note"]
        # the explanation adds up to the score given
        ex = rec["explanation"]
        total = sum(ex["dimension_points"].values())
        assert abs(ex["typical_probability"] + total / 100 - rec["probability"]) < 1e-3
    # under `learned` nothing is capped and the score is the model's own reading
    for rec, pl in zip(learned.assess(blanked, plan=False), p_learned, strict=True):
        assert not rec["explanation"]["unknown_policy"]["capped"]
        assert rec["probability"] == pytest.approx(pl, abs=1e-6)


def test_complete_answers_are_untouched_by_the_policy(builtin):
    predictor, _ = builtin
    rows = generate(30, seed=78, complete=True).drop(columns=["scaled_up"])
    learned = predictor.bundle.with_policy("learned")
    np.testing.assert_allclose(predictor.bundle.margin(rows), learned.margin(rows), rtol=0, atol=0)
