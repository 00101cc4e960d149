"""The synthetic generator's parameters, all in one place: per-stage dimension weights, factor
multipliers, intercepts set to the survey base rates, capacity and missingness. The causal
model that uses them is documented in `synthetic.py`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# Log-odds per score step, by stage and dimension; a factor's coefficient is its dimension's
# weight times the factor's multiplier (default 1), so a new catalogue factor needs no edit here.
DIMENSION_WEIGHTS: dict[str, dict[str, float]] = {
    "proof_of_concept": {
        "strategy": 0.20,
        "data": 0.07,
        "people_organization": 0.01,
        "process": 0.05,
        "technology": 0.05,
    },
    "pilot": {
        "strategy": 0.10,
        "data": 0.08,
        "people_organization": 0.09,
        "process": 0.07,
        "technology": 0.05,
    },
    "rollout": {
        "strategy": 0.01,
        "data": 0.07,
        "people_organization": 0.20,
        "process": 0.07,
        "technology": 0.05,
    },
}
FACTOR_MULTIPLIERS: dict[str, float] = {
    "value_case": 1.3,
    "funding_continuity": 1.2,
    "scaling_plan": 1.1,
    "strategic_alignment": 0.7,
    "data_quality": 1.2,
    "data_sharing": 1.1,
    "privacy_protection": 0.7,
    "leadership_commitment": 1.3,
    "cross_department_collaboration": 1.1,
    "citizen_engagement": 0.8,
    "operational_handover": 1.2,
    "procurement_fit": 1.1,
    "stakeholder_governance": 0.9,
    "performance_monitoring": 0.8,
    "interoperability": 1.2,
    "infrastructure_scalability": 1.1,
    "legacy_integration": 0.9,
    "security": 0.8,
}


@dataclass(frozen=True)
class Parameters:
    intercepts: dict[str, float] = field(
        default_factory=lambda: {"proof_of_concept": 0.682, "pilot": -0.817, "rollout": 0.198}
    )
    stage_mix: dict[str, float] = field(
        default_factory=lambda: {"proof_of_concept": 0.40, "pilot": 0.35, "rollout": 0.25}
    )
    # Later stages are survivors: their scores drift up a little (in latent units).
    stage_maturity: dict[str, float] = field(
        default_factory=lambda: {"proof_of_concept": 0.0, "pilot": 0.2, "rollout": 0.4}
    )
    domain_offsets: dict[str, float] = field(
        default_factory=lambda: {
            "mobility": -0.10,
            "energy": 0.10,
            "environment": 0.0,
            "water": 0.05,
            "waste": 0.05,
            "public_safety": -0.05,
            "health": -0.15,
            "buildings": 0.10,
            "governance": 0.0,
        }
    )
    resources_effect: float = 0.12  # log-odds per city_resources step
    weakest_link_threshold: float = 2.75
    weakest_link_strength: float = 1.6  # log-odds per score point of shortfall
    scarcity_strength: float = 1.5  # weak factors hurt up to 2.5x in the scarcest city
    # score = clip(round(3 + score_scale * z));
    # z = capacity_loading * c + initiative effect + dimension effect + noise
    capacity_mean: float = 0.0  # mean latent capacity of the cities (drift scenarios move it)
    # Concept drift: each stage's dimension weights and intercept move this share of the way
    # to those of the stage at the mirror position (proof_of_concept <-> rollout); 0: none.
    concept_shift: float = 0.0
    capacity_loading: float = 0.45
    initiative_sd: float = 0.35
    dimension_sd: float = 0.6
    factor_noise_sd: float = 0.85
    score_scale: float = 1.0
    initiatives_per_city: float = 6.0
    # Unknown answers: P = stage rate * factor multiplier * exp(weak_slope * (3 - score)).
    missing_rate: dict[str, float] = field(
        default_factory=lambda: {"proof_of_concept": 0.08, "pilot": 0.05, "rollout": 0.03}
    )
    missing_multipliers: dict[str, float] = field(
        default_factory=lambda: {
            "privacy_protection": 1.8,
            "security": 1.6,
            "procurement_fit": 1.4,
            "legacy_integration": 1.3,
            "funding_continuity": 1.3,
        }
    )
    missing_weak_slope: float = 0.25
    assessed_from: str = "2016-01-01"
    assessed_to: str = "2024-12-31"


PARAMETERS = Parameters()


# Drift scenarios (`generate --scenario NAME --shift SIZE`): what changes, so every monitoring
# figure can be checked against the generator's truth.
SCENARIOS: dict[str, str] = {
    "covariate": "poorer, weaker cities: the cities' latent capacity has mean -SIZE (in its "
    "standard deviations), so city_resources, population and every factor score fall; the "
    "causal model is unchanged (0.5 is moderate)",
    "stage-mix": "more roll-outs: a share SIZE (0..1) of the stage mix moves to the last "
    "stage; the causal model is unchanged",
    "concept": "the stage coefficients change: each stage's dimension weights and intercept "
    "move a share SIZE (0..1) of the way to the mirror stage's (1 swaps proof_of_concept and "
    "rollout); the inputs' distribution is unchanged",
}


def scenario_parameters(
    scenario: str | None, shift: float, params: Parameters = PARAMETERS
) -> Parameters:
    """The parameters of a drift scenario of size `shift` (no scenario: `params` as given)."""
    if scenario is None:
        return params
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
    if scenario == "covariate":
        return replace(params, capacity_mean=params.capacity_mean - shift)
    if not 0.0 <= shift <= 1.0:
        raise ValueError(f"the {scenario} scenario's shift is a share: 0..1, got {shift}")
    if scenario == "stage-mix":
        last = list(params.stage_mix)[-1]
        mix = {
            s: (1 - shift) * w + (shift if s == last else 0.0) for s, w in params.stage_mix.items()
        }
        return replace(params, stage_mix=mix)
    return replace(params, concept_shift=shift)
