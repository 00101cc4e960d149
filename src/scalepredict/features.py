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


def feature_matrix(frame: pd.DataFrame, cat: Catalogue | None = None) -> np.ndarray:
    """Typed assessment frame -> float matrix in `feature_names` order: categoricals as their
    catalogue code (NaN if empty), unknown answers as NaN. XGBoost reads codes for the
    categorical features, so hot loops (plans, what-ifs) predict on this without pandas."""
    cat = cat or load_catalogue()
    columns = []
    for name in cat.feature_context:
        f = cat.context_field(name)
        col = frame[name]
        if f.type == "category":
            codes = pd.Categorical(col.astype("object"), categories=list(f.categories)).codes
            columns.append(np.where(codes < 0, np.nan, codes).astype(float))
        else:
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            columns.append(np.log10(np.clip(values, 1.0, None)) if name in LOG_FIELDS else values)
    factors = frame[cat.factor_names].to_numpy(dtype=float, na_value=np.nan)
    return np.column_stack([*columns, factors]) if columns else factors


def make_features(frame: pd.DataFrame, cat: Catalogue | None = None) -> pd.DataFrame:
    """The same features as a DataFrame with pandas categoricals (training, plots)."""
    cat = cat or load_catalogue()
    x = pd.DataFrame(feature_matrix(frame, cat), columns=feature_names(cat), index=frame.index)
    for name in cat.feature_context:
        f = cat.context_field(name)
        if f.type == "category":
            codes = x[name].fillna(-1).astype(int)
            x[name] = pd.Categorical.from_codes(codes, categories=list(f.categories))
    return x


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
