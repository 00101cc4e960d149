"""The synthetic ground truth: a structural causal model of initiatives scaling up.

Assumptions (domain.md, after Kuguoglu, van der Voort & Janssen 2021), all in `PARAMETERS`:
- each city has a latent capacity c ~ N(capacity_mean, 1) (mean 0 but in a drift scenario);
  `city_resources` and every factor score load on it, so weak cities are weak on many
  factors at once;
- each factor's log-odds effect per score step depends on the stage: strategy weighs most at
  proof_of_concept and least at rollout, people & organization the reverse, data, process and
  technology matter throughout;
- weakest link: an initiative whose weakest dimension (mean of its factor scores) falls below a
  threshold loses log-odds in proportion to the shortfall, beyond the sum of its factors;
- scarcity amplifies: the deficit of weak factors (score below the midpoint) is multiplied by
  1 + strength * scarcity, scarcity = (5 - city_resources) / 4;
- every term is non-decreasing in every factor score, so the truth is monotone;
- stage intercepts are set so base rates sit in the survey bands;
- answers go missing more often early on, for some sensitive questions, and when weak.

The true log-odds (s = complete factor scores, centred at 3):
    eta = b0[stage] + domain_offset[domain] + r * (city_resources - 3)
          + sum_f beta[stage, f] * (s_f - 3)
          - (1 + k * scarcity) * sum_f beta[stage, f] * max(0, 3 - s_f) * deficit
          - w * max(0, t - min_d mean_{f in d} s_f)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from scalepredict.catalogue import Catalogue, builtin_catalogue
from scalepredict.data.synthetic_parameters import (
    DIMENSION_WEIGHTS,
    FACTOR_MULTIPLIERS,
    PARAMETERS,
    SCENARIOS,
    Parameters,
)

SCALE = (1, 5)  # the built-in catalogue's factor scale
TRUTH = "true_probability"
# The committed default data set, data/initiatives.csv (tests prove the file equals this output).
DEFAULT_ROWS = 5000
DEFAULT_SEED = 2021


class IncompleteAssessmentError(ValueError):
    """The true probability needs every factor score; unknown answers have no truth."""


def coefficients(cat: Catalogue | None = None, params: Parameters = PARAMETERS) -> pd.DataFrame:
    """Log-odds coefficient per score step: stages x factors."""
    cat = cat or builtin_catalogue()
    stages = list(cat.stages)

    def weight(stage: str, dimension: str) -> float:
        mirror = stages[len(stages) - 1 - stages.index(stage)]
        own = DIMENSION_WEIGHTS[stage].get(dimension, 0.2)
        other = DIMENSION_WEIGHTS[mirror].get(dimension, 0.2)
        return (1 - params.concept_shift) * own + params.concept_shift * other

    rows = {
        stage: {
            f.name: weight(stage, f.dimension) * FACTOR_MULTIPLIERS.get(f.name, 1.0)
            for f in cat.factors
        }
        for stage in stages
    }
    return pd.DataFrame(rows).T.loc[list(cat.stages), cat.factor_names]


def describe(params: Parameters = PARAMETERS) -> dict[str, Any]:
    """The generator's parameters as JSON-ready data."""
    cat = builtin_catalogue()
    coef = coefficients(cat, params)
    p = params.__dict__
    return {
        "model": __doc__.split("The true log-odds")[1].strip() if __doc__ else "",
        "coefficients": {s: {f: round(float(coef.loc[s, f]), 6) for f in coef} for s in coef.index},
        "dimension_weights": DIMENSION_WEIGHTS,
        "base_rates": measured_base_rates(params),
        "target_base_rates": dict(TARGET_BASE_RATES),
        "intercepts": params.intercepts,
        "weakest_link": {
            "threshold": params.weakest_link_threshold,
            "strength": params.weakest_link_strength,
            "term": "-strength * max(0, threshold - min over dimensions of the mean score)",
        },
        "scarcity": {
            "strength": params.scarcity_strength,
            "term": "deficit terms x (1 + strength * (5 - city_resources) / 4)",
        },
        "resources_effect": params.resources_effect,
        "domain_offsets": params.domain_offsets,
        "stage_mix": params.stage_mix,
        "scores": {
            k: p[k]
            for k in (
                "capacity_loading",
                "initiative_sd",
                "dimension_sd",
                "factor_noise_sd",
                "score_scale",
                "stage_maturity",
            )
        },
        "missing": {
            "rate_by_stage": params.missing_rate,
            "factor_multipliers": params.missing_multipliers,
            "weak_slope": params.missing_weak_slope,
        },
        "initiatives_per_city": params.initiatives_per_city,
        "capacity_mean": params.capacity_mean,
        "concept_shift": params.concept_shift,
        "scenarios": dict(SCENARIOS),
    }


# Centres of domain.md's survey bands; the intercepts above were solved for them on 200k rows.
TARGET_BASE_RATES = {"proof_of_concept": 0.40, "pilot": 0.275, "rollout": 0.50}


def measured_base_rates(params: Parameters = PARAMETERS, rows: int = 100_000) -> dict[str, float]:
    """Mean true probability by stage on a fixed-seed sample: the rates the generator implies."""
    df = generate(rows, seed=0, truth=True, complete=True, params=params)
    rates = df.groupby("stage")[TRUTH].mean()
    return {s: round(float(rates[s]), 4) for s in builtin_catalogue().stages}


def _intercepts(cat: Catalogue, params: Parameters) -> np.ndarray:
    """Each stage's intercept; under concept drift moved toward the mirror stage's, as the
    dimension weights are (`coefficients`)."""
    own = np.array([params.intercepts[s] for s in cat.stages])
    return (1 - params.concept_shift) * own + params.concept_shift * own[::-1]


def _log_odds(
    scores: np.ndarray,
    stage_idx: np.ndarray,
    resources: np.ndarray,
    domain_offset: np.ndarray,
    cat: Catalogue,
    params: Parameters,
) -> np.ndarray:
    coef = coefficients(cat, params).to_numpy()[stage_idx]  # rows x factors
    intercept = _intercepts(cat, params)[stage_idx]
    centred = scores - 3.0
    lo, hi = SCALE
    scarcity = (hi - resources) / (hi - lo)
    deficit = (coef * np.maximum(0.0, -centred)).sum(axis=1)
    dims = [
        np.array([cat.factor_names.index(n) for n in cat.factors_of(d)])
        for d in cat.dimension_names
    ]
    weakest = np.min(np.stack([scores[:, ix].mean(axis=1) for ix in dims], axis=1), axis=1)
    return (
        intercept
        + domain_offset
        + params.resources_effect * (resources - 3.0)
        + (coef * centred).sum(axis=1)
        - params.scarcity_strength * scarcity * deficit
        - params.weakest_link_strength * np.maximum(0.0, params.weakest_link_threshold - weakest)
    )


def true_probability(df: pd.DataFrame, params: Parameters = PARAMETERS) -> np.ndarray:
    """The true probability of scaling up for each row of an assessment frame.

    Needs complete factor scores: a frame whose scores were changed by hand is a
    do-intervention, and its result is the true effect of that change."""
    return expit(true_log_odds(df, params))


def true_log_odds(df: pd.DataFrame, params: Parameters = PARAMETERS) -> np.ndarray:
    """The true log-odds (see the module docstring); scores may be fractional (references)."""
    cat = builtin_catalogue()
    factors = cat.factor_names
    missing_cols = [c for c in [*factors, "stage", "city_resources", "domain"] if c not in df]
    if missing_cols:
        raise IncompleteAssessmentError(f"missing column(s): {', '.join(missing_cols)}")
    unknown = df[factors].isna()
    if unknown.to_numpy().any():
        n_rows = int(unknown.any(axis=1).sum())
        cols = [c for c in factors if unknown[c].any()]
        raise IncompleteAssessmentError(
            f"{n_rows} row(s) have unknown answers (in {', '.join(cols[:5])}"
            f"{'...' if len(cols) > 5 else ''}); the truth needs complete factor scores"
        )
    stage_idx = pd.Categorical(df["stage"], categories=list(cat.stages)).codes
    if (stage_idx < 0).any():
        raise IncompleteAssessmentError("unknown or empty stage")
    scores = df[factors].to_numpy(dtype=float)
    resources = df["city_resources"].to_numpy(dtype=float)
    offsets = df["domain"].map(params.domain_offsets).fillna(0.0).to_numpy(dtype=float)
    return _log_odds(scores, np.asarray(stage_idx), resources, offsets, cat, params)


def _ids(prefix: str, n: int, width: int) -> pd.Series:
    return prefix + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width)


def generate(
    rows: int,
    seed: int,
    *,
    truth: bool = False,
    complete: bool = False,
    params: Parameters = PARAMETERS,
) -> pd.DataFrame:
    """Generate `rows` labelled initiatives. Deterministic for (rows, seed, params)."""
    if rows < 1:
        raise ValueError("rows must be >= 1")
    cat = builtin_catalogue()
    rng = np.random.default_rng(seed)
    factors = cat.factor_names
    n_cities = max(1, round(rows / params.initiatives_per_city))
    capacity = rng.normal(params.capacity_mean, 1.0, size=n_cities)
    city_res = np.clip(np.rint(3 + capacity + rng.normal(0, 0.5, n_cities)), 1, 5)
    log_pop = np.clip(5.0 + 0.4 * capacity + rng.normal(0, 0.6, n_cities), 3.5, 7.3)
    city = rng.integers(0, n_cities, rows)
    c = capacity[city]

    stages = list(cat.stages)
    stage_idx = rng.choice(len(stages), size=rows, p=[params.stage_mix[s] for s in stages])
    domains = list(cat.context_field("domain").categories)
    domain = np.array(domains, dtype=object)[rng.integers(0, len(domains), rows)]

    maturity = np.array([params.stage_maturity[s] for s in stages])[stage_idx]
    dim_of = np.array([cat.dimension_names.index(f.dimension) for f in cat.factors])
    dim_effect = rng.normal(0, params.dimension_sd, (rows, len(cat.dimensions)))[:, dim_of]
    z = (
        params.capacity_loading * c[:, None]
        + rng.normal(0, params.initiative_sd, rows)[:, None]
        + dim_effect
        + rng.normal(0, params.factor_noise_sd, (rows, len(factors)))
        + maturity[:, None]
    )
    scores = np.clip(np.rint(3 + params.score_scale * z), *SCALE)

    offsets = np.array([params.domain_offsets.get(d, 0.0) for d in domains])[
        pd.Categorical(domain, categories=domains).codes
    ]
    resources = city_res[city]
    p_true = expit(_log_odds(scores, stage_idx, resources, offsets, cat, params))
    scaled_up = (rng.random(rows) < p_true).astype(int)

    base_budget = np.array([1.5e5, 6e5, 3e6])[stage_idx]
    budget = np.round(base_budget * np.exp(0.2 * c + rng.normal(0, 0.7, rows)), -3)
    base_months = np.array([6.0, 12.0, 30.0])[stage_idx]
    duration = np.clip(np.rint(base_months * np.exp(rng.normal(0, 0.35, rows))), 1, 120)
    partners = np.clip(rng.poisson(1.5 + 1.5 * stage_idx), 0, 200)
    start = np.datetime64(params.assessed_from)
    span = (np.datetime64(params.assessed_to) - start).astype(int)
    assessed_on = start + rng.integers(0, span + 1, rows).astype("timedelta64[D]")

    # Masking happens after the truth is computed: an unknown answer is still a real score.
    miss_p = (
        np.array([params.missing_rate[s] for s in stages])[stage_idx][:, None]
        * np.array([params.missing_multipliers.get(f, 1.0) for f in factors])[None, :]
        * np.exp(params.missing_weak_slope * (3.0 - scores))
    )
    missing = (rng.random(scores.shape) < miss_p) & (not complete)

    out = pd.DataFrame(
        {
            "initiative_id": _ids("INI-", rows, 7),
            "city": _ids("city-", n_cities, 5).to_numpy()[city],
            "assessed_on": pd.to_datetime(assessed_on).astype("datetime64[ns]"),
            "stage": np.array(stages, dtype=object)[stage_idx],
            "domain": domain,
            "city_population": np.rint(10 ** log_pop[city]).astype(np.int64),
            "city_resources": resources.astype(np.int64),
            "budget_eur": budget,
            "duration_months": duration.astype(np.int64),
            "partners": partners.astype(np.int64),
        }
    )
    for k in ("stage", "domain", "initiative_id", "city"):
        out[k] = out[k].astype("str")
    for k in ("city_population", "city_resources", "duration_months", "partners"):
        out[k] = out[k].astype("Int64")
    score_frame = pd.DataFrame(np.where(missing, np.nan, scores), columns=factors).astype("Int64")
    out = pd.concat([out, score_frame], axis=1)
    out[cat.outcome.name] = pd.array(scaled_up, dtype="Int64")
    if truth:
        out[TRUTH] = np.round(p_true, 6)
    return out[[*cat.labelled_columns(), *([TRUTH] if truth else [])]]
