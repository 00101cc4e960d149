"""Scorings built from the generator (its truth known) and, where needed, the session's small
model; drift needs no model at all."""

from __future__ import annotations

import pandas as pd
import pytest

from scalepredict.data.synthetic import generate
from scalepredict.data.synthetic_parameters import scenario_parameters
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.profile import reference_profile

WINDOW = 500


@pytest.fixture(scope="session")
def profile(cat) -> dict:
    """The profile of 5,000 generated rows: the default data set's size, no training."""
    return reference_profile(generate(5000, seed=8), cat)


def window(scenario: str | None, shift: float, seed: int, rows: int = WINDOW) -> pd.DataFrame:
    return generate(rows, seed=seed, truth=True, params=scenario_parameters(scenario, shift))


def scorings(
    bundle: ModelBundle, frames: list[pd.DataFrame], status: str = "recorded"
) -> pd.DataFrame:
    """One window per frame (months of 2026 in turn), scored by `bundle`, outcomes as the
    generator drew them."""
    parts = []
    for i, frame in enumerate(frames):
        s = frame.copy()
        s["scored_at"] = pd.Timestamp(2026, 1 + i % 12, 15, tz="UTC") + pd.DateOffset(years=i // 12)
        s["model_version"] = "1"
        s["probability"] = bundle.probability(frame)
        s["outcome"] = s["scaled_up"].astype(object)
        s["status"] = status
        parts.append(s)
    return pd.concat(parts, ignore_index=True)
