"""A batch's one pass through the model: its feature matrix and its margins under the blank
policy, computed once by whoever scores and handed on to the explanation and the plan, so
`score --explain --plan` builds the matrix and runs the model on it once, not once per step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from scalepredict.model.bundle import ModelBundle
from scalepredict.model.features import feature_matrix
from scalepredict.model.unknowns import Scored


@dataclass(frozen=True)
class Assessed:
    """`x`: the feature matrix as given (blanks NaN); `scored`: its margins under the policy,
    with the matrix each row was scored as (`unknowns.Scored`)."""

    x: np.ndarray
    scored: Scored

    @classmethod
    def of(cls, bundle: ModelBundle, frame: pd.DataFrame) -> Assessed:
        x = feature_matrix(frame, bundle.catalogue)
        return cls(x, bundle.scored(x))

    @classmethod
    def given(cls, bundle: ModelBundle, frame: pd.DataFrame, assessed: Assessed | None) -> Assessed:
        """`assessed` where the caller has it (checked to be this frame's), else computed now."""
        if assessed is None:
            return cls.of(bundle, frame)
        if len(assessed.x) != len(frame):
            raise ValueError(f"assessed {len(assessed.x)} rows for a frame of {len(frame)}")
        return assessed

    @property
    def margin(self) -> np.ndarray:
        return self.scored.margin

    def probability(self, bundle: ModelBundle) -> np.ndarray:
        """The calibrated chance of each row, from the margins already computed."""
        return bundle.calibrator(expit(self.scored.margin))
