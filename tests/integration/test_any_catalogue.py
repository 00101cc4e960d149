"""Any catalogue, end to end: a random framework (dimensions, per-factor scales and labels,
directions, mitigations, renamed columns, stage or not, context features, an outcome mapping)
goes through generation, validation, training, assessment (scores, explanations, plans), the
model's monotonicity and the HTTP API in process. The built-in catalogue is only one case."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from scalepredict.api.app import asgi
from scalepredict.api.state import ServiceState
from scalepredict.catalogue import Catalogue, parse_catalogue
from scalepredict.data.generic import generate_for
from scalepredict.data.validation import validate_file
from scalepredict.inference.plans import NO_ACTION
from scalepredict.inference.predictor import Predictor
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.config import TrainConfig
from scalepredict.model.fit import FitResult, fit
from scalepredict.settings import get_settings
from scalepredict.store.keys import add_key
from tests.conftest import file_limits

pytestmark = pytest.mark.slow

# 900 rows at ~6 rows per group: ~150 groups, well above the split's 40 and, per stage in the
# development split, above cv_folds even for the rarest of three stages (~22% of rows).
ROWS = 900
UNRATED = 30  # rows whose outcome is "not rated" (or, without that mapping, empty)
PROPOSALS = 25  # rows assessed with explanations and plans
CONFIG = TrainConfig(
    seed=1,
    split={"test": 0.2, "calibration": 0.2},
    search={
        "trials": 1,
        "cv_folds": 2,
        "max_rounds": 60,
        "early_stopping_rounds": 10,
        "max_seconds": 20,
    },
)
INFO = {"name": "t", "version": "1", "source": "registry"}
THEMES = {"people": {"label": "People"}, "money": {"label": "Money", "description": "Funds"}}
CUSTOM_EFFORTS = {"quick": {"cost": 1}, "slow": {"cost": 3}}
# Labels as people write them; "None" is also one of the default unknown tokens.
WORDS = ["None", "Very Low", "Low", "Fair", "Medium", "Good", "High", "Very High", "Top", "Best"]


@st.composite
def catalogues(draw: st.DrawFn) -> dict[str, Any]:
    """A catalogue's YAML mapping: 1-7 dimensions of 1-6 factors, each factor with its own
    scale (0-3 .. 1-10), maybe labels, a direction, mitigations or `actionable: false`, a
    rubric, its own column."""
    custom = draw(st.booleans(), label="custom efforts")
    efforts = list(CUSTOM_EFFORTS) if custom else ["low", "medium", "high"]
    n_dims = draw(st.integers(1, 7), label="dimensions")
    dims = [{"name": f"dim_{j}", "label": f"Dimension {j}"} for j in range(n_dims)]
    factors: list[dict[str, Any]] = []
    for j in range(n_dims):
        for k in range(draw(st.integers(1, 6))):
            lo = draw(st.sampled_from([0, 1]))
            hi = lo + draw(st.integers(3, 9))
            levels = range(lo, hi + 1)
            direction = draw(st.sampled_from([1, -1, 0]))
            # about one factor in three no team can act on (an after-the-fact rating)
            actionable = draw(st.sampled_from([True, True, False]), label="actionable")
            f: dict[str, Any] = {
                "name": f"f{j}_{k}",
                "dimension": f"dim_{j}",
                "question": f"How is factor {j}.{k}?",
                "direction": direction,
                "scale": {"min": lo, "max": hi},
            }
            style = draw(st.sampled_from(["numbers", "words", "grades"]))
            if style == "words":
                f["scale"]["labels"] = dict(zip(levels, WORDS, strict=False))
            elif style == "grades":
                f["scale"]["labels"] = {v: f"Grade {v} Of F{j}-{k}" for v in levels}
            if draw(st.booleans()):
                f["rubric"] = {v: f"what level {v} looks like" for v in levels}
            if draw(st.booleans()):
                f["column"] = f"Factor {j}.{k} Score"
            if not actionable:
                f["actionable"] = False
            elif direction != 0:
                f["mitigations"] = [
                    {
                        "action": f"Action {m} on f{j}_{k}",
                        "theme": draw(st.sampled_from([None, *THEMES])),
                        "effort": draw(st.sampled_from(efforts)),
                        "months": draw(st.integers(0, 12)),
                    }
                    for m in range(draw(st.integers(0, 2)))
                ]
            factors.append(f)
    if all(f["direction"] == 0 for f in factors):
        factors[0]["direction"] = 1
    identifier = {"name": "initiative_key", "type": "string", "column": "Initiative Key"}
    if draw(st.integers(0, 3), label="numeric identifier") == 0:
        identifier |= {"type": "integer", "min": 1}
    raw: dict[str, Any] = {
        "name": "random",
        "themes": THEMES,
        "dimensions": dims,
        "factors": factors,
        "context": [identifier, {"name": "team", "type": "string", "column": "Team Name"}],
        "group": "team",
        "outcome": {
            "name": "scaled",
            "column": "Scaled Up?",
            "success": ["Yes"],
            "failure": ["No"],
        },
    }
    if draw(st.booleans(), label="identifier by uniqueness"):
        identifier["unique"] = True
    else:
        raw["identifier"] = "initiative_key"
    if custom:
        raw["efforts"], raw["default_effort"] = CUSTOM_EFFORTS, "slow"
    if draw(st.booleans(), label="not_rated"):
        raw["outcome"]["not_rated"] = ["N/R"]
    if draw(st.booleans(), label="stage"):
        n = draw(st.integers(2, 3))
        stage = {"name": "phase", "type": "category", "feature": True}
        raw["context"].append(stage | {"categories": ["Pilot", "Scale Out", "Mature"][:n]})
        raw["stage"] = "phase"
    kinds = ["category", "integer", "boolean", "date"]
    extras = draw(st.lists(st.sampled_from(kinds), max_size=2))
    for i, kind in enumerate(extras):
        c: dict[str, Any] = {"name": f"ctx_{i}", "type": kind, "feature": True}
        if kind == "category":
            c["categories"] = ["north", "south", "east"]
        elif kind == "integer":
            c |= {"min": draw(st.sampled_from([0, 1])), "max": draw(st.sampled_from([9, 5000]))}
            c["direction"] = draw(st.sampled_from([None, 1, -1]))
        elif kind == "date":
            c |= {"min": "2015-01-01", "max": "2024-12-31"}
        c["nullable"] = kind != "integer" and draw(st.booleans())
        if draw(st.booleans()):
            c["column"] = f"Context {i}"
        raw["context"].append(c)
    return raw


def _json_value(value: Any, kind: str) -> Any:
    """One typed cell as the JSON a client sends."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "boolean":
        return bool(value)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _proposals_json(frame: pd.DataFrame, cat: Catalogue, texts: bool) -> list[dict[str, Any]]:
    """JSON proposals; `texts`: labelled factors as their label text rather than the level."""
    kinds = {f.name: f.type for f in cat.assessment_fields()}
    out = [
        {name: _json_value(row[name], kinds[name]) for name in cat.assessment_columns()}
        for _, row in frame.iterrows()
    ]
    for proposal in out if texts else []:
        for f in cat.factors:
            if f.labels and proposal[f.name] is not None:
                proposal[f.name] = f.labels[proposal[f.name]]
    return out


def _trained(
    cat: Catalogue, seed: int, directory: Path
) -> tuple[pd.DataFrame, pd.DataFrame, FitResult]:
    """Generate (with some rows not rated), write, validate and fit: (the file's rated rows,
    their typed frame, the fit)."""
    raw = generate_for(cat, ROWS + UNRATED, seed)
    outcome = cat.outcome.column or cat.outcome.name
    unrated = raw.index[:: len(raw) // UNRATED][:UNRATED]
    raw.loc[unrated, outcome] = cat.outcome_map.not_rated[0] if cat.outcome_map.not_rated else ""
    path = directory / "history.csv"
    raw.to_csv(path, index=False)
    result = validate_file(path, True, cat, limits=file_limits())
    if cat.outcome_map.not_rated:  # counted and left out of training
        assert result.valid, result.problems.head(10).to_string()
        assert result.not_rated.sum() == UNRATED
    else:  # an empty outcome is a problem in the rows that have it
        assert set(result.problems["row"] - 2) == set(unrated)
        assert set(result.problems["rule"]) == {"required (empty)"}
    raw = raw.drop(index=unrated).reset_index(drop=True)
    frame = result.good()
    assert len(frame) == ROWS
    for f in cat.factors:  # every answer read as the level it was written for
        cells = raw[f.column or f.name]
        if f.labels:
            cells = cells.map({t: k for k, t in f.labels.items()})
        expected = pd.Series(cells.to_numpy(), name=f.name).astype("Int64")
        pd.testing.assert_series_equal(frame[f.name], expected)
    return raw, frame, fit(frame, CONFIG, cat=cat)


def _check_explanation(rec: dict[str, Any], cat: Catalogue) -> None:
    ex = rec["explanation"]
    dims = ex["dimensions"]
    assert list(dims) == [*cat.dimension_names, "context"]
    assert abs(sum(dims.values()) - (ex["margin"] - ex["base_value"])) <= 1e-3, ex
    assert list(ex["factors"]) == cat.factor_names
    assert list(ex["context"]) == cat.feature_context
    for d in ex["top_drivers"]:  # a factor no team can act on is explained, never actionable
        is_factor = d["field"] in cat.factor_names
        assert d["actionable"] == (is_factor and cat.factor(d["field"]).actionable), d


def _check_plan(rec: dict[str, Any], row: pd.Series, cat: Catalogue) -> None:
    plan = rec["plan"]
    level = {f: (None if pd.isna(row[f]) else int(row[f])) for f in cat.factor_names}
    previous = plan["probability"]
    for a in plan["actions"]:
        f = cat.factor(a["factor"])
        assert f.direction != 0 and f.actionable, a
        assert a["dimension"] == f.dimension
        assert level[f.name] is not None and a["from"] == level[f.name], (a, level[f.name])
        assert a["to"] == a["from"] + f.direction  # one level toward the best
        assert f.scale_min <= a["to"] <= f.scale_max
        ordered = {m.action for m in f.mitigations} or {NO_ACTION}
        assert a["action"] in ordered
        assert a["effort"] in cat.effort_cost
        assert a["expected_probability"] >= previous, plan
        previous = a["expected_probability"]
        level[f.name] = a["to"]
    assert plan["expected_probability"] == previous
    assert plan["total_effort"] <= plan["max_effort"]
    assert plan["reached"] == (plan["expected_probability"] >= plan["target_probability"] - 1e-4)
    if not any(f.movable for f in cat.factors) and plan["status"] != "no_plan_needed":
        assert "No factor in this catalogue can be acted on" in plan["summary"], plan


def _check_monotone(bundle: ModelBundle, proposals: pd.DataFrame, cat: Catalogue) -> None:
    """Each directed factor swept over its scale in a few rows: the probability moves only
    the way the factor's direction says."""
    rows = proposals.head(4)
    for f in cat.factors:
        if f.direction == 0:
            continue
        sweep = pd.concat([rows.assign(**{f.name: v}) for v in f.levels], ignore_index=True)
        sweep[f.name] = sweep[f.name].astype("Int64")
        p = bundle.probability(sweep).reshape(len(f.levels), len(rows))
        steps = np.diff(p, axis=0) * f.direction
        assert (steps >= -1e-9).all(), (f.name, f.direction, p.T)


def _check_api(
    bundle: ModelBundle, cat: Catalogue, raw: pd.DataFrame, proposals: pd.DataFrame, tmp: Path
) -> None:
    predictor = Predictor(bundle, dict(INFO))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCALEPREDICT_KEYS_FILE", str(tmp / "keys.json"))
        mp.setenv("SCALEPREDICT_AUDIT_URL", f"sqlite:///{tmp}/audit.db")
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp}/mlflow.db")
        mp.setenv("SCALEPREDICT_MODEL_CACHE", str(tmp / "cache"))
        headers = {"Authorization": f"Bearer {add_key('tester', 'scorer', get_settings())}"}
        recorder = {"Authorization": f"Bearer {add_key('desk', 'recorder', get_settings())}"}
        state = ServiceState(cat)
        state.predictor = predictor
        with TestClient(asgi(state)) as client:
            three = proposals.head(3)
            sent = _proposals_json(three.head(2), cat, False) + _proposals_json(
                three.tail(1), cat, True
            )
            r = client.post("/score", json={"proposals": sent}, headers=headers)
            assert r.status_code == 200, r.text
            results = r.json()["results"]
            assert len(results) == 3
            assert [x["initiative_id"] for x in results] == [str(i) for i in three[cat.id_column]]
            local = [x["probability"] for x in predictor.assess(three, plan=False)]
            np.testing.assert_allclose([x["probability"] for x in results], local, atol=1e-9)
            # the same rows as the user's file holds them (their columns, label texts)
            outcome = cat.outcome.column or cat.outcome.name
            csv = raw.head(3).drop(columns=[outcome]).to_csv(index=False).encode()
            r = client.post(
                "/portfolio", content=csv, headers={**headers, "content-type": "text/csv"}
            )
            assert r.status_code == 200, r.text
            by_csv = [x["probability"] for x in r.json()["results"]]
            np.testing.assert_allclose(by_csv, local, atol=1e-9)
            # a directed, answered factor set to its best level: never a lower probability
            one = _proposals_json(three.head(1), cat, False)[0]
            answered = [x for x in cat.factors if x.direction != 0 and one[x.name] is not None]
            if answered:
                change = {"proposal": one, "changes": {answered[0].name: answered[0].best}}
                r = client.post("/whatif", json=change, headers=headers)
                assert r.status_code == 200, r.text
                assert r.json()["delta"] >= 0.0, r.json()
            r = client.post("/plan", json={"proposal": one}, headers=headers)
            assert r.status_code == 200, r.text
            assert r.json()["initiative_id"] == str(one[cat.id_column])
            listed = client.get("/catalogue", headers=headers)
            assert listed.status_code == 200, listed.text
            scales = {
                f["name"]: (f["scale"]["min"], f["scale"]["max"], f["direction"])
                for d in listed.json()["dimensions"]
                for f in d["factors"]
            }
            assert scales == {f.name: (f.scale_min, f.scale_max, f.direction) for f in cat.factors}
            # outcomes of the scored ids in the catalogue's own outcome field and values
            today = pd.Timestamp.now(tz="UTC").date().isoformat()
            happened = [
                {"initiative_id": i, cat.outcome.name: v, "observed_on": today}
                for i, v in zip(
                    [x["initiative_id"] for x in results],
                    [cat.outcome_map.success[0], cat.outcome_map.failure[0], "not-a-value"],
                    strict=True,
                )
            ]
            r = client.post("/outcomes", json={"outcomes": happened}, headers=recorder)
            assert r.status_code == 422 and r.json()["problems"][0]["path"] == (
                f"outcomes.2.{cat.outcome.name}"
            )
            r = client.post("/outcomes", json={"outcomes": happened[:2]}, headers=recorder)
            assert r.json() == {"recorded": 2, "replaced": 0, "unchanged": 0}, r.text


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a shrink would refit dozens of models
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw=catalogues(), seed=st.integers(0, 2**16))
def test_any_catalogue_end_to_end(raw: dict[str, Any], seed: int) -> None:
    cat = parse_catalogue(raw)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        table, frame, result = _trained(cat, seed, tmp)
        bundle = result.bundle
        proposals = frame.drop(columns=[cat.outcome.name]).head(PROPOSALS)
        records = Predictor(bundle, dict(INFO)).assess(proposals)
        assert len(records) == len(proposals)
        for rec, (_, row) in zip(records, proposals.iterrows(), strict=True):
            assert 0.0 <= rec["probability"] <= 1.0
            assert rec["initiative_id"] == row[cat.id_column]
            _check_explanation(rec, cat)
            _check_plan(rec, row, cat)
        _check_monotone(bundle, proposals, cat)
        _check_api(bundle, cat, table, proposals, tmp)


SINGLE = {
    "name": "single",
    "dimensions": [{"name": "only"}],
    "factors": [
        {"name": "readiness", "dimension": "only", "scale": {"min": 1, "max": 6}},
    ],
    "context": [
        {"name": "ref", "type": "string", "unique": True},
        {"name": "city", "type": "string"},
    ],
    "group": "city",
    "outcome": {"name": "ok", "success": [1], "failure": [0]},
}


def test_one_factor_without_actions_plans_say_so(tmp_path: Path) -> None:
    cat = parse_catalogue(SINGLE)
    _, frame, result = _trained(cat, 5, tmp_path)
    proposals = frame.drop(columns=[cat.outcome.name])
    low = proposals[proposals["readiness"] <= 2].head(10)
    assert len(low) > 0
    records = Predictor(result.bundle, dict(INFO)).assess(low)
    actions = [a for rec in records for a in rec["plan"]["actions"]]
    assert actions, "a low readiness should leave room for a step up"
    for rec, (_, row) in zip(records, low.iterrows(), strict=True):
        _check_explanation(rec, cat)
        _check_plan(rec, row, cat)
        assert rec["explanation"]["dimensions"]["context"] == 0.0
    assert {a["action"] for a in actions} == {NO_ACTION}
    assert {(a["theme"], a["effort"]) for a in actions} == {("", cat.default_effort)}
    # the same model with its only factor out of any team's reach: plans say so plainly
    fixed = parse_catalogue({**SINGLE, "factors": [{**SINGLE["factors"][0], "actionable": False}]})
    b = result.bundle
    frozen = ModelBundle(fixed, b.family, b.calibrator, b.conformal, b.meta)
    for rec, before in zip(Predictor(frozen, dict(INFO)).assess(low), records, strict=True):
        assert rec["probability"] == before["probability"] and not rec["plan"]["actions"]
        assert rec["plan"]["status"] in ("nothing_to_do", "no_plan_needed", "answer_first")
        if rec["plan"]["status"] != "no_plan_needed":
            assert "No factor in this catalogue can be acted on" in rec["plan"]["summary"]
