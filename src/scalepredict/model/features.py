"""The feature matrix, derived from the catalogue: one column per field the model may use.

Factor scores stay numeric with unknown answers as NaN (XGBoost routes them); `stage` and
`domain` are pandas categoricals with the catalogue's categories (XGBoost's native categorical
splits), so every feature is exactly one catalogue field and explanations need no un-encoding.
Money and population enter on a log scale.

Six derived columns carry the research's structure the trees cannot build from shallow splits:
each dimension's mean score (over its known answers) and the weakest of those means (an
initiative is held back by its weakest dimension). They are computed from the factor scores
here and in `with_scores`, never entered; explanations credit them back to the factors
(`explain.contributions`), so a planner still sees one contribution per catalogue field."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue, load_catalogue

LOG_FIELDS = {"city_population", "budget_eur"}


DIMENSION_MEAN = "mean_{}"  # one per dimension
WEAKEST = "weakest_dimension"


def derived_names(cat: Catalogue | None = None) -> list[str]:
    cat = cat or load_catalogue()
    return [*(DIMENSION_MEAN.format(d) for d in cat.dimension_names), WEAKEST]


def feature_names(cat: Catalogue | None = None) -> list[str]:
    """Context features, the derived dimension columns, then the factors (always last)."""
    cat = cat or load_catalogue()
    return [*cat.feature_context, *derived_names(cat), *cat.factor_names]


_MEMBERSHIP: dict[int, np.ndarray] = {}  # per loaded catalogue: factors x dimensions, 0/1


def _membership(cat: Catalogue) -> np.ndarray:
    if id(cat) not in _MEMBERSHIP:
        m = np.zeros((len(cat.factor_names), len(cat.dimension_names)))
        for k, d in enumerate(cat.dimension_names):
            m[[cat.factor_names.index(f) for f in cat.factors_of(d)], k] = 1.0
        _MEMBERSHIP[id(cat)] = m
    return _MEMBERSHIP[id(cat)]


def dimension_scores(scores: np.ndarray, cat: Catalogue | None = None) -> np.ndarray:
    """rows x (each dimension's mean over its known answers, then the minimum of those means);
    NaN where nothing is known. Matrix products: this runs in the plan search's inner loop."""
    cat = cat or load_catalogue()
    m = _membership(cat)
    known = ~np.isnan(scores)
    n = known @ m
    total = np.where(known, scores, 0.0) @ m
    means = np.divide(total, n, out=np.full(n.shape, np.nan), where=n > 0)
    return np.column_stack([means, np.fmin.reduce(means, axis=1)])  # fmin skips NaN


def with_scores(x: np.ndarray, scores: np.ndarray, cat: Catalogue | None = None) -> np.ndarray:
    """`x` (a feature matrix) with its factor columns set to `scores` and the derived dimension
    columns recomputed to match; in place, returns `x`."""
    cat = cat or load_catalogue()
    nf, nd = scores.shape[1], len(derived_names(cat))
    x[:, -nf:] = scores
    x[:, -nf - nd : -nf] = dimension_scores(scores, cat)
    return x


def monotone_constraints(cat: Catalogue | None = None) -> tuple[int, ...]:
    """+1 on every factor score and derived dimension score: a better readiness score never
    lowers the prediction."""
    cat = cat or load_catalogue()
    rising = set(cat.factor_names) | set(derived_names(cat))
    return tuple(1 if f in rising else 0 for f in feature_names(cat))


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
    return np.column_stack([*columns, dimension_scores(factors, cat), factors])


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
        "derived": {d: cat.factors_of(d) for d in cat.dimension_names},
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]
