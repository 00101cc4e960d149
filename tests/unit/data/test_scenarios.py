"""Drift scenarios of the generator: each changes what it says and nothing else."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scalepredict.cli import app
from scalepredict.data.synthetic import coefficients, generate
from scalepredict.data.synthetic_parameters import PARAMETERS, SCENARIOS, scenario_parameters


def test_no_scenario_is_the_default_generator():
    assert scenario_parameters(None, 0.7) is PARAMETERS
    assert generate(50, 3).equals(generate(50, 3, params=scenario_parameters("covariate", 0.0)))


def test_covariate_makes_cities_poorer_and_weaker():
    base, shifted = (
        generate(3000, 1),
        generate(3000, 1, params=scenario_parameters("covariate", 0.75)),
    )
    assert shifted["city_resources"].mean() < base["city_resources"].mean() - 0.4
    assert shifted["value_case"].mean() < base["value_case"].mean() - 0.15


def test_stage_mix_moves_to_rollouts():
    mix = scenario_parameters("stage-mix", 0.5).stage_mix
    assert mix["rollout"] == pytest.approx(0.625) and sum(mix.values()) == pytest.approx(1)


def test_concept_swaps_the_stage_coefficients_but_not_the_inputs():
    swapped = coefficients(params=scenario_parameters("concept", 1.0))
    base = coefficients()
    assert np.allclose(swapped.loc["proof_of_concept"], base.loc["rollout"])
    a = generate(200, 4, truth=True)
    b = generate(200, 4, truth=True, params=scenario_parameters("concept", 1.0))
    assert a.drop(columns=["scaled_up", "true_probability"]).equals(
        b.drop(columns=["scaled_up", "true_probability"])
    )
    assert not np.allclose(a["true_probability"], b["true_probability"])


def test_bad_scenarios_are_refused():
    with pytest.raises(ValueError, match="unknown scenario"):
        scenario_parameters("weather", 1)
    with pytest.raises(ValueError, match="share"):
        scenario_parameters("concept", 1.5)


def test_cli_generates_and_describes_scenarios(runner, tmp_path):
    out = tmp_path / "shifted.csv"
    res = runner.invoke(
        app,
        [
            "generate",
            "--rows",
            "30",
            "--scenario",
            "covariate",
            "--shift",
            "0.5",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0 and out.exists()
    res = runner.invoke(app, ["generate", "--describe", "--scenario", "concept", "--shift", "1"])
    described = json.loads(res.stdout)
    assert set(described["scenarios"]) == set(SCENARIOS)
    assert described["scenario"] == {"name": "concept", "shift": 1.0}
    assert described["concept_shift"] == 1.0
    res = runner.invoke(app, ["generate", "--scenario", "weather", "--out", str(out)])
    assert res.exit_code == 2 and "unknown scenario" in res.output
