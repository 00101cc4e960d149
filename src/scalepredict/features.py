"""The feature matrix, derived from the catalogue: one column per field the model may use.

Factor scores stay numeric with unknown answers as NaN (XGBoost routes them); `stage` and
`domain` are pandas categoricals with the catalogue's categories (XGBoost's native categorical
splits), so every feature is exactly one catalogue field and explanations need no un-encoding.
Money and population enter on a log scale."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue, load_catalogue

LOG_FIELDS = {"city_population", "budget_eur"}


def feature_names(cat: Catalogue | None = None) -> list[str]:
    cat = cat or load_catalogue()
    return [*cat.feature_context, *cat.factor_names]


def monotone_constraints(cat: Catalogue | None = None) -> tuple[int, ...]:
    """+1 on every factor score: a better readiness score never lowers the prediction."""
    cat = cat or load_catalogue()
    factors = set(cat.factor_names)
    return tuple(1 if f in factors else 0 for f in feature_names(cat))


def make_features(frame: pd.DataFrame, cat: Catalogue | None = None) -> pd.DataFrame:
    """Typed assessment frame -> model features (float, NaN for unknown, categoricals)."""
    cat = cat or load_catalogue()
    out: dict[str, pd.Series] = {}
    for name in cat.feature_context:
        f = cat.context_field(name)
        col = frame[name]
        if f.type == "category":
            out[name] = pd.Series(
                pd.Categorical(col.astype("object"), categories=list(f.categories)),
                index=frame.index,
            )
        else:
            values = pd.to_numeric(col, errors="coerce").astype("float64")
            out[name] = np.log10(values.clip(lower=1.0)) if name in LOG_FIELDS else values
    for name in cat.factor_names:
        out[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    return pd.DataFrame(out, index=frame.index)[feature_names(cat)]


def catalogue_fingerprint(cat: Catalogue | None = None) -> str:
    """Hash of what the features depend on; a bundle trained on another catalogue is refused."""
    cat = cat or load_catalogue()
    spec = {
        "features": feature_names(cat),
        "categories": {
            c: list(cat.context_field(c).categories)
            for c in cat.feature_context
            if cat.context_field(c).type == "category"
        },
        "log": sorted(LOG_FIELDS),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
