"""What a model shows for a field with no effect: the null reference a driver's strength is
held against.

A model fitted to data shows some contribution for every field, also for one that has no
effect at all (on the default data `budget_eur`, `duration_months` and `partners`): noise it
fitted, largest where the data is small. To tell a reason from that noise, the served family is
refitted (its tuned settings, all training rows) on the outcomes shuffled across rows, where no
field has an effect, `NULL_REFITS` times; each field's |points| over those null models give its
noise level (the `NULL_QUANTILE` quantile). A driver is worded moderate or strong only when its
points exceed its field's noise level (and the usual 2 / 5 points); otherwise it is "weak" and
marked not distinguishable from noise (`explain._driver`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalepredict.inference.explain import NOISE_META as NOISE_META
from scalepredict.inference.explain import contributions, field_points
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.calibration import Calibrator, Conformal
from scalepredict.model.candidates import Tuned, fit_family
from scalepredict.model.config import TrainConfig

NULL_REFITS = 3
NULL_QUANTILE = 0.95  # of a no-effect field's |points| over rows and refits
NULL_ROWS = 2000  # rows each null model is explained on (a sample of the training rows)


def noise_points(
    bundle: ModelBundle, frame: pd.DataFrame, tuned: Tuned, cfg: TrainConfig
) -> dict[str, float]:
    """Per catalogue field, the |points| a model of the served family fitted to shuffled
    outcomes shows at the `NULL_QUANTILE` quantile."""
    cat = bundle.catalogue
    rng = np.random.default_rng(cfg.seed + 7)
    outcome = cat.outcome.name
    shown = frame.iloc[rng.permutation(len(frame))[:NULL_ROWS]].reset_index(drop=True)
    parts = []
    for _ in range(NULL_REFITS):
        shuffled = frame.assign(**{outcome: rng.permutation(frame[outcome].to_numpy())})
        family = fit_family(bundle.kind, shuffled, tuned, cfg, cat)
        null = ModelBundle(cat, family, Calibrator(), Conformal())
        contrib = contributions(null, shown)
        parts.append(np.abs(field_points(null, contrib)))
    every = np.concatenate(parts)
    names = [*cat.feature_context, *cat.factor_names]
    return {
        f: round(float(np.quantile(every[:, j], NULL_QUANTILE)), 3) for j, f in enumerate(names)
    }
