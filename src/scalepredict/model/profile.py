"""The reference profile of a model's training data, stored in its bundle: what the monitor
compares incoming proposals with. Summaries only, never the rows: per factor the count at each
level and of unknown answers, per dimension the histogram of its mean score, per context
feature its category counts (the stage mix among them) or its value counts / quantiles.

Each ordinal or numeric field also stores the variance of a window mean of its placement
values (`placement`) on the training rows, clustered by the catalogue's group field: proposals
from one city share that city's capacity, so they are not independent, and a test that
assumed so would alarm far more often than its level."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from scalepredict.catalogue import Catalogue
from scalepredict.model.features import common_scale, dimension_scores

PROFILE_VERSION = 1
MAX_LEVELS = 101  # more distinct values than this: stored as quantiles
QUANTILES = 101  # 0%, 1%, ..., 100%
UNKNOWN, DIMENSION = "unknown:", "dimension:"
# The mean of every known answer (0-1 scale): a city's capacity shows in all its answers at
# once, so this one field sees a broad shift that each factor alone shows only faintly.
OVERALL = "score:overall"


def profile_values(frame: pd.DataFrame, cat: Catalogue) -> dict[str, pd.Series]:
    """Every profiled field of a typed assessment frame as one numeric (or category) series:
    factors, unknown-answer shares, dimension means (0-1, rounded to 0.01), context
    features (dates as fractional years)."""
    out: dict[str, pd.Series] = {}
    for name in cat.feature_context:
        f = cat.context_field(name)
        col = frame[name]
        if f.type == "category":
            out[name] = col.astype("object").where(col.notna(), None)
        elif f.type == "date":
            when = pd.to_datetime(col, errors="coerce")
            out[name] = when.dt.year + (when.dt.dayofyear - 1) / 366
        else:
            out[name] = pd.to_numeric(col, errors="coerce").astype(float)
    scores = frame[cat.factor_names].to_numpy(dtype=float, na_value=np.nan)
    for i, name in enumerate(cat.factor_names):
        out[name] = pd.Series(scores[:, i], index=frame.index)
    # unknown answers: the share per proposal in each dimension (one test per dimension
    # rather than per factor keeps the multiple-testing burden, and so the power, sensible)
    unknown = np.isnan(scores)
    for d in cat.dimension_names:
        ix = [cat.factor_names.index(f) for f in cat.factors_of(d)]
        out[UNKNOWN + d] = pd.Series(np.round(unknown[:, ix].mean(axis=1), 2), index=frame.index)
    dims = dimension_scores(scores, cat)
    for i, d in enumerate(cat.dimension_names):
        out[DIMENSION + d] = pd.Series(np.round(dims[:, i], 2), index=frame.index)
    directed = [i for i, f in enumerate(cat.factors) if f.direction != 0]
    unit = common_scale(scores, cat)[:, directed]
    known = (~np.isnan(unit)).sum(axis=1)
    total = np.where(np.isnan(unit), 0.0, unit).sum(axis=1)
    overall = np.divide(total, known, out=np.full(len(unit), np.nan), where=known > 0)
    out[OVERALL] = pd.Series(np.round(overall, 2), index=frame.index, dtype=float)
    return out


def cdf_placement(entry: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """P(ref < x) + P(ref = x) / 2 under the reference distribution: the Mann-Whitney
    placement of each value (mean 1/2 when x comes from the reference distribution)."""
    if entry["kind"] == "levels":
        values = np.asarray(entry["values"], float)
        share = np.asarray(entry["counts"], float) / max(1, sum(entry["counts"]))
        below = np.concatenate([[0.0], np.cumsum(share)])
        lo = np.searchsorted(values, x, side="left")
        hi = np.searchsorted(values, x, side="right")
        return (below[lo] + below[hi]) / 2
    q = np.asarray(entry["quantiles"], float)
    t = np.linspace(0, 1, len(q))
    lo = np.clip(np.searchsorted(q, x, side="left"), 0, len(q) - 1)
    hi = np.clip(np.searchsorted(q, x, side="right") - 1, 0, len(q) - 1)
    # a value equal to several quantiles (a tie in the data): the middle of the tie
    return np.where(q[lo] == x, (t[lo] + t[hi]) / 2, np.interp(x, q, t))


def clustered_variance(v: np.ndarray, groups: np.ndarray | None) -> float:
    """Variance of the mean of `v`, robust to correlation within groups (CR1 sandwich); each
    row its own group when there are none."""
    n = len(v)
    if n < 2:
        return float("nan")
    centred = v - v.mean()
    if groups is None:
        return float(centred.var(ddof=1) / n)
    codes = np.asarray(groups)
    if codes.dtype.kind not in "iu":  # names: to codes (callers in a loop pass codes)
        codes = pd.factorize(codes)[0]
    totals = np.bincount(codes, centred)
    totals = totals[np.bincount(codes) > 0]
    g = len(totals)
    if g < 2:
        return float("nan")
    return float((totals**2).sum() / n**2 * g / (g - 1))


def _ordinal_entry(values: pd.Series, groups: np.ndarray | None) -> dict[str, Any]:
    known = values.notna().to_numpy()
    x = values.to_numpy(dtype=float)[known]
    distinct, counts = np.unique(x, return_counts=True)
    entry: dict[str, Any]
    if len(distinct) <= MAX_LEVELS:
        entry = {"kind": "levels", "values": distinct.tolist(), "counts": counts.tolist()}
    else:
        qs = np.quantile(x, np.linspace(0, 1, QUANTILES))
        entry = {"kind": "quantiles", "quantiles": qs.tolist()}
    entry["n"] = len(x)
    entry["mean"] = float(x.mean()) if len(x) else float("nan")
    g = None if groups is None else groups[known]
    entry["var_mean"] = clustered_variance(cdf_placement(entry, x), g) if len(x) else 0.0
    return entry


def reference_profile(frame: pd.DataFrame, cat: Catalogue) -> dict[str, Any]:
    """The profile of a typed training frame (JSON-ready)."""
    groups = frame[cat.group].astype(str).to_numpy() if cat.group in frame else None
    fields: dict[str, Any] = {}
    for name, values in profile_values(frame, cat).items():
        if values.dtype == object:
            counts = values.dropna().value_counts()
            field = cat.context_field(name)
            cats = list(field.categories) or sorted(counts.index)
            fields[name] = {
                "kind": "categories",
                "values": cats,
                "counts": [int(counts.get(c, 0)) for c in cats],
                "n": int(counts.sum()),
            }
        else:
            fields[name] = _ordinal_entry(values, groups)
    return {
        "version": PROFILE_VERSION,
        "rows": len(frame),
        "catalogue_fingerprint": cat.fingerprint,
        "clustered_by": cat.group if groups is not None else None,
        "fields": fields,
    }
