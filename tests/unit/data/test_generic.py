"""The generic generator draws valid, labelled data for any catalogue from a known, monotone
truth: a new framework can be dry-run, and tests can check models against the real probability."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalepredict.catalogue import Catalogue, builtin_catalogue, parse_catalogue
from scalepredict.data.generic import describe_for, generate_for, true_probability_for
from tests.conftest import file_limits

SATISFACTION = [
    "Highly Unsatisfactory",
    "Unsatisfactory",
    "Moderately Unsatisfactory",
    "Moderately Satisfactory",
    "Satisfactory",
    "Highly Satisfactory",
]

INLINE = {
    "name": "project-review",
    "scale": {"min": 1, "max": 5},
    "dimensions": [{"name": "delivery"}, {"name": "setting"}],
    "factors": [
        {
            "name": "satisfaction",
            "dimension": "delivery",
            "column": "Overall Rating",
            "scale": {"min": 1, "max": 6, "labels": dict(enumerate(SATISFACTION, start=1))},
        },
        {"name": "complexity", "dimension": "delivery", "direction": -1, "column": "Complexity"},
        {"name": "readiness", "dimension": "setting", "scale": {"min": 0, "max": 10}},
        {"name": "weather", "dimension": "setting", "direction": 0},
    ],
    "context": [
        {"name": "project_id", "type": "string", "role": "identifier", "unique": True},
        {
            "name": "region",
            "type": "category",
            "column": "Region",
            "categories": ["north", "south", "east"],
            "nullable": True,
        },
        {"name": "staff", "type": "integer", "min": 1, "max": 500},
        {"name": "budget", "type": "number", "min": 10, "max": 1_000_000, "nullable": True},
        {"name": "approved_on", "type": "date", "min": "2018-01-01", "max": "2020-12-31"},
        {"name": "funded", "type": "boolean", "nullable": True},
        {"name": "notes", "type": "string", "nullable": True},
    ],
    "outcome": {"name": "succeeded", "column": "Success?", "success": ["Yes"], "failure": ["No"]},
}


def _staged(raw: dict) -> dict:
    """The inline catalogue with a stage and a group: stage multipliers and group capacity."""
    raw = copy.deepcopy(raw)
    raw["context"] += [
        {"name": "phase", "type": "category", "feature": True, "categories": ["design", "build"]},
        {"name": "agency", "type": "string"},
    ]
    return raw | {"stage": "phase", "group": "agency"}


def _catalogue(which: str) -> Catalogue:
    if which == "builtin":
        return builtin_catalogue()
    return parse_catalogue(_staged(INLINE) if which == "staged" else INLINE)


@pytest.fixture(scope="module")
def inline() -> Catalogue:
    return parse_catalogue(INLINE)


@pytest.fixture(scope="module")
def staged() -> Catalogue:
    return parse_catalogue(_staged(INLINE))


def test_inline_frame_reads_like_a_raw_export(inline):
    df = generate_for(inline, 400, seed=1)
    assert list(df.columns) == [f.column or f.name for f in inline.labelled_fields()]
    assert {"Overall Rating", "Complexity", "Region", "Success?"} <= set(df.columns)
    assert set(df["Overall Rating"].dropna()) <= set(SATISFACTION)
    assert len(set(df["Overall Rating"].dropna())) >= 4  # the scale is used, not one level
    assert set(df["Success?"]) == {"Yes", "No"}
    assert df["project_id"].is_unique and df["project_id"].notna().all()
    assert set(df["Region"].dropna()) <= {"north", "south", "east"}
    assert df["staff"].between(1, 500).all()
    assert df["budget"].dropna().between(10, 1_000_000).all()
    dates = pd.to_datetime(df["approved_on"], format="%Y-%m-%d")
    assert dates.between("2018-01-01", "2020-12-31").all()
    assert set(df["funded"].dropna()) <= {True, False}
    assert df["notes"].dropna().str.startswith("text-").all()
    for column, lo, hi in (("Complexity", 1, 5), ("readiness", 0, 10), ("weather", 1, 5)):
        assert df[column].dropna().between(lo, hi).all()
    missing = df[["Complexity", "readiness", "weather"]].isna().to_numpy().mean()
    assert 0.02 < missing < 0.12  # unknown answers, ~6%
    assert df["Region"].isna().any() and df["staff"].notna().all()  # nullable only where allowed


def test_same_seed_same_frame_other_seed_other_frame(inline):
    pd.testing.assert_frame_equal(generate_for(inline, 200, seed=5), generate_for(inline, 200, 5))
    assert not generate_for(inline, 200, seed=5).equals(generate_for(inline, 200, seed=6))


def test_complete_hides_no_answer(inline):
    df = generate_for(inline, 300, seed=2, complete=True)
    assert df[["Overall Rating", "Complexity", "readiness", "weather"]].notna().all().all()


def test_builtin_groups_stages_and_base_rates():
    cat = builtin_catalogue()
    df = generate_for(cat, 3000, seed=11, truth=True)
    assert df.groupby(cat.group).size().mean() > 1
    assert set(df[cat.stage]) == set(cat.stages)
    rates = (df[cat.outcome.name] == cat.outcome_map.success[0]).groupby(df[cat.stage]).mean()
    assert rates.between(0.15, 0.85).all(), rates
    assert df[cat.truth.name].between(0, 1).all()


def _levels(cat: Catalogue, rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    levels = {f.name: rng.integers(f.scale_min, f.scale_max + 1, rows) for f in cat.factors}
    if cat.stage:
        levels[cat.stage] = rng.choice(list(cat.stages), rows)
    return pd.DataFrame(levels)


@pytest.mark.parametrize("which", ["inline", "staged", "builtin"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_truth_is_monotone_in_every_factor_by_its_direction(which, data):
    cat = _catalogue(which)
    i = data.draw(st.integers(0, len(cat.factors) - 1), label="factor")
    rows = data.draw(st.integers(1, 40), label="rows")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    f = cat.factors[i]
    before = _levels(cat, rows, seed)
    after = before.copy()
    after[f.name] = np.minimum(before[f.name] + 1, f.scale_max)
    p0, p1 = true_probability_for(cat, before, seed), true_probability_for(cat, after, seed)
    if f.direction > 0:
        assert (p1 >= p0 - 1e-12).all()
    elif f.direction < 0:
        assert (p1 <= p0 + 1e-12).all()
    else:
        np.testing.assert_array_equal(p0, p1)


def test_every_directed_factor_matters(staged):
    best = {f.name: f.best for f in staged.factors} | {staged.stage: "design"}
    worst = {f.name: f.scale_max + f.scale_min - f.best for f in staged.factors}
    worst |= {staged.stage: "design"}
    frame = pd.DataFrame([best, worst])
    p = true_probability_for(staged, frame, seed=3)
    assert p[0] > p[1]


def test_truth_column_is_the_truth_of_the_levels(staged):
    df = generate_for(staged, 500, seed=4, truth=False, complete=True)
    assert "true_probability" not in df  # the inline catalogue defines no truth field
    cat = builtin_catalogue()
    df = generate_for(cat, 500, seed=4, truth=True, complete=True)
    levels = df[[*cat.factor_names, cat.stage]].copy()
    np.testing.assert_allclose(true_probability_for(cat, levels, 4), df[cat.truth.name])


def test_outcomes_follow_the_truth():
    cat = builtin_catalogue()
    df = generate_for(cat, 20_000, seed=7, truth=True)
    outcome = (df[cat.outcome.name] == cat.outcome_map.success[0]).mean()
    assert abs(outcome - df[cat.truth.name].mean()) < 0.02


def test_truth_refuses_unknown_answers(inline):
    levels = _levels(inline, 5, 0).astype(float)
    levels.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="every factor"):
        true_probability_for(inline, levels, 0)


def test_parameters_are_described_and_drawn_from_the_seed(inline, staged):
    d = describe_for(staged, 9)
    json.dumps(d)  # JSON-ready
    assert d == describe_for(staged, 9) and d != describe_for(staged, 10)
    assert d["betas"]["weather"] == 0 and d["betas"]["complexity"] > 0
    assert set(d["intercepts"]) == {"design", "build"}
    assert all(m > 0 for s in d["stage_multipliers"].values() for m in s.values())
    assert all(0.3 <= r <= 0.6 for r in d["target_base_rates"].values())
    assert set(describe_for(inline, 9)["intercepts"]) == {"all"}


@pytest.mark.parametrize("which", ["inline", "staged", "builtin"])
def test_generated_file_validates(which, tmp_path):
    from scalepredict.data.validation import validate_file

    cat = _catalogue(which)
    path = tmp_path / "generated.csv"
    generate_for(cat, 300, seed=12, truth=True).to_csv(path, index=False)
    result = validate_file(path, labelled=True, cat=cat, limits=file_limits())
    assert result.valid, result.problems
    assert len(result.good()) == 300


@st.composite
def catalogues(draw: st.DrawFn) -> dict:
    """Small random frameworks: scales, labels, directions, renamed columns, context types."""
    dims = [{"name": f"d{j}"} for j in range(draw(st.integers(1, 3)))]
    factors = []
    for j, d in enumerate(dims):
        for k in range(draw(st.integers(1, 3))):
            lo = draw(st.integers(0, 1))
            hi = lo + draw(st.integers(1, 9))
            labels = {v: f"level {v} text" for v in range(lo, hi + 1)}
            f = {
                "name": f"f{j}_{k}",
                "dimension": d["name"],
                "direction": draw(st.sampled_from([1, 1, -1, 0])),
                "scale": {"min": lo, "max": hi, "labels": labels if draw(st.booleans()) else {}},
            }
            if draw(st.booleans()):
                f["column"] = f"Factor {j}.{k}"
            factors.append(f)
    context: list[dict] = [{"name": "key", "type": "string", "unique": True}]
    for i, kind in enumerate(draw(st.lists(st.sampled_from(["c", "i", "n", "d", "b", "s"])))):
        field = {
            "c": {"type": "category", "categories": ["a", "b"]},
            "i": {"type": "integer", "min": draw(st.sampled_from([None, -5, 1]))},
            "n": {"type": "number", "max": draw(st.sampled_from([None, 0.5, 1e9]))},
            "d": {"type": "date"},
            "b": {"type": "boolean"},
            "s": {"type": "string"},
        }[kind]
        context.append({"name": f"x{i}", "nullable": draw(st.booleans()), **field})
    raw = {"dimensions": dims, "factors": factors, "context": context}
    raw["outcome"] = {"name": "result", "success": ["ok", "done"], "failure": ["failed"]}
    if draw(st.booleans()):
        context.append({"name": "team", "type": "string"})
        raw["group"] = "team"
    if draw(st.booleans()):
        context.append({"name": "step", "type": "category", "feature": True, "categories": ["s1"]})
        raw["stage"] = "step"
    return raw


@settings(max_examples=15, deadline=None)
@given(raw=catalogues(), seed=st.integers(0, 2**16))
def test_any_catalogue_gets_valid_data(raw, seed, tmp_path_factory):
    from scalepredict.data.validation import validate_file

    cat = parse_catalogue(raw)
    path = tmp_path_factory.mktemp("any") / "generated.csv"
    df = generate_for(cat, 60, seed)
    assert set(df["result"]) <= {"ok", "failed"}
    df.to_csv(path, index=False)
    result = validate_file(path, labelled=True, cat=cat, limits=file_limits())
    assert result.valid, result.problems
