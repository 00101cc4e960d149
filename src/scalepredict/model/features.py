"""The feature matrix, derived from the catalogue: one column per field the model may use.

Factor scores stay numeric with unknown answers as NaN (XGBoost routes them); categorical
context fields are pandas categoricals with the catalogue's categories (XGBoost's native
categorical splits), so every feature is exactly one catalogue field and explanations need no
un-encoding. Fields marked `log` enter on a log scale, booleans as 0/1, dates as a year.

Derived columns carry the research's structure the trees cannot build from shallow splits:
each dimension's mean score (over its known answers, each factor on a common 0-1 scale that
points the way its direction says) and the weakest of those means (an initiative is held back
by its weakest dimension). They are computed from the factor scores here and in `with_scores`,
never entered; explanations credit them back to the factors (`explain.contributions`), so a
planner still sees one contribution per catalogue field."""

from __future__ import annotations

import functools
import hashlib
import json

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue

# The derived features' names live with the catalogue, which keeps every field off them.
from scalepredict.catalogue.spec import DIMENSION_MEAN as DIMENSION_MEAN
from scalepredict.catalogue.spec import WEAKEST as WEAKEST


def derived_names(cat: Catalogue) -> list[str]:
    return [*(DIMENSION_MEAN.format(d) for d in cat.dimension_names), WEAKEST]


def feature_names(cat: Catalogue) -> list[str]:
    """Context features, the derived dimension columns, then the factors (always last)."""
    return [*cat.feature_context, *derived_names(cat), *cat.factor_names]


# Per catalogue (by fingerprint): membership (factors x dimensions, 0/1; factors without a
# direction take no part), and each factor's offset and step to the common 0-1 scale.
_SCALING: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _scaling(cat: Catalogue) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if cat.fingerprint not in _SCALING:
        m = np.zeros((len(cat.factors), len(cat.dimension_names)))
        for i, f in enumerate(cat.factors):
            if f.direction != 0:
                m[i, cat.dimension_names.index(f.dimension)] = 1.0
        span = np.array([f.scale_max - f.scale_min for f in cat.factors], float)
        low = np.array([f.scale_max if f.direction < 0 else f.scale_min for f in cat.factors])
        step = np.array([-1.0 if f.direction < 0 else 1.0 for f in cat.factors]) / span
        _SCALING[cat.fingerprint] = (m, low.astype(float), step)
    return _SCALING[cat.fingerprint]


def common_scale(scores: np.ndarray, cat: Catalogue) -> np.ndarray:
    """Factor scores on 0 (worst) .. 1 (best), by each factor's scale and direction."""
    _, low, step = _scaling(cat)
    return (scores - low) * step


def dimension_scores(scores: np.ndarray, cat: Catalogue) -> np.ndarray:
    """rows x (each dimension's mean over its known answers, then the minimum of those means);
    NaN where nothing is known. Matrix products: this runs in the plan search's inner loop."""
    m, _, _ = _scaling(cat)
    unit = common_scale(scores, cat)
    known = ~np.isnan(unit)
    n = known @ m
    total = np.where(known, unit, 0.0) @ m
    means = np.divide(total, n, out=np.full(n.shape, np.nan), where=n > 0)
    weakest = np.fmin.reduce(means, axis=1) if means.shape[1] else np.full(len(means), np.nan)
    return np.column_stack([means, weakest])  # fmin skips NaN


def with_scores(x: np.ndarray, scores: np.ndarray, cat: Catalogue) -> np.ndarray:
    """`x` (a feature matrix) with its factor columns set to `scores` and the derived dimension
    columns recomputed to match; in place, returns `x`."""
    nf, nd = scores.shape[1], len(derived_names(cat))
    x[:, -nf:] = scores
    x[:, -nf - nd : -nf] = dimension_scores(scores, cat)
    return x


def monotone_constraints(cat: Catalogue) -> tuple[int, ...]:
    """Each factor's direction (+1: a better score never lowers the prediction), +1 on the
    derived dimension scores, and any direction the catalogue gives a context field."""
    direction = {f.name: f.direction for f in cat.factors}
    direction.update({d: 1 for d in derived_names(cat)})
    direction.update({c.name: c.direction for c in cat.context if c.feature})
    return tuple(direction.get(f, 0) for f in feature_names(cat))


@functools.lru_cache(maxsize=256)
def _category_index(categories: tuple[str, ...]) -> pd.Index:
    return pd.Index(categories)


def _context_column(col: pd.Series, kind: str, log: bool, categories: list[str]) -> np.ndarray:
    if kind == "category":  # an index lookup: a quarter of pd.Categorical's cost on one row
        index = _category_index(tuple(categories))
        codes = index.get_indexer(col.to_numpy(object, na_value=None))
        return np.where(codes < 0, np.nan, codes).astype(float)
    if kind == "date":
        when = pd.to_datetime(col, errors="coerce")
        return (when.dt.year + (when.dt.dayofyear - 1) / 366).to_numpy(dtype=float, na_value=np.nan)
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.log10(np.clip(values, 1.0, None)) if log else values


def feature_matrix(frame: pd.DataFrame, cat: Catalogue) -> np.ndarray:
    """Typed assessment frame -> float matrix in `feature_names` order: categoricals as their
    catalogue code (NaN if empty), unknown answers as NaN. XGBoost reads codes for the
    categorical features, so hot loops (plans, what-ifs) predict on this without pandas."""
    columns = []
    for name in cat.feature_context:
        f = cat.context_field(name)
        columns.append(_context_column(frame[name], f.type, f.log, list(f.categories)))
    # column by column: a third of the cost of one 2-D conversion of nullable columns
    factors = np.column_stack(
        [frame[f].to_numpy(dtype=float, na_value=np.nan) for f in cat.factor_names]
        or [np.zeros((len(frame), 0))]
    )
    return np.column_stack([*columns, dimension_scores(factors, cat), factors])


def make_features(frame: pd.DataFrame, cat: Catalogue) -> pd.DataFrame:
    """The same features as a DataFrame with pandas categoricals (training, plots)."""
    x = pd.DataFrame(feature_matrix(frame, cat), columns=feature_names(cat), index=frame.index)
    for name in cat.feature_context:
        f = cat.context_field(name)
        if f.type == "category":
            codes = x[name].fillna(-1).astype(int)
            x[name] = pd.Categorical.from_codes(codes, categories=list(f.categories))
    return x


def feature_fingerprint(cat: Catalogue) -> str:
    """Hash of what the features depend on (names, categories, scales, directions)."""
    spec = {
        "features": feature_names(cat),
        "categories": {
            c: list(cat.context_field(c).categories)
            for c in cat.feature_context
            if cat.context_field(c).type == "category"
        },
        "log": sorted(c.name for c in cat.context if c.log),
        "derived": {d: cat.factors_of(d) for d in cat.dimension_names},
        "scales": {f.name: [f.scale_min, f.scale_max, f.direction] for f in cat.factors},
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
