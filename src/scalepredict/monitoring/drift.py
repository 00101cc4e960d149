"""Input drift of one window against the model's reference profile.

Ordinal and numeric fields (factor scores, dimension means, unknown-answer indicators, numeric
context) are tested by their mean Mann-Whitney placement: each proposal's value is placed in
the reference distribution (P(ref < x) + P(ref = x) / 2, exact from the stored level counts),
and the window's mean placement is 1/2 when nothing changed. This respects the order of a 1-5
score (a shift from 3 to 4 counts, unlike a chi-squared test on five unordered cells) and is
the probability-of-superiority effect size itself. Its variance is clustered by the
catalogue's group field in the window and in the reference (proposals of one city move
together), so the test keeps its level. Category fields (the stage mix among them) have no
order: a two-sample chi-squared test on the counts, effect size the total variation distance.

Across the fields of a window, Benjamini-Hochberg (scipy's `false_discovery_control`) controls
the false discovery rate, and a field is flagged only when it is both significant and at least
a minimum effect size, so a large window does not alarm on a negligible change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, false_discovery_control
from scipy.stats import t as student_t

from scalepredict.model.profile import cdf_placement, clustered_variance
from scalepredict.monitoring.report_types import CategoryTest, DriftTest, PlacementTest, WindowDrift

MIN_KNOWN = 20  # fewer known values of a field in a window: not tested


@dataclass(frozen=True)
class DriftRules:
    fdr: float = 0.02  # Benjamini-Hochberg level over the fields of one window
    min_effect: float = 0.03  # |mean placement - 1/2| (probability of superiority - 1/2)
    min_distance: float = 0.05  # total variation distance of a category field


def _ordinal_test(
    entry: dict[str, Any], x: pd.Series, groups: np.ndarray | None
) -> dict[str, Any] | None:
    known = x.notna().to_numpy()
    if known.sum() < MIN_KNOWN or entry.get("n", 0) < MIN_KNOWN:
        return None
    v = cdf_placement(entry, x.to_numpy(dtype=float)[known])
    effect = float(v.mean() - 0.5)
    g = None if groups is None else groups[known]
    var = clustered_variance(v, g) + entry["var_mean"]
    # Student's t on the number of clusters: a cluster-robust variance from a few dozen
    # cities is itself uncertain
    df = max(1, (len(np.unique(g)) if g is not None else len(v)) - 1)
    if var > 0:
        p = float(2 * student_t.sf(abs(effect) / np.sqrt(var), df))
    else:  # no spread anywhere: any difference is certain
        p = 1.0 if effect == 0 else 0.0
    return {
        "test": "placement",
        "effect": round(effect, 4),
        "direction": "higher" if effect > 0 else "lower",
        "window_mean": round(float(x[known].astype(float).mean()), 4),
        "reference_mean": round(float(entry["mean"]), 4),
        "n": int(known.sum()),
        "p": p,
    }


def _category_test(entry: dict[str, Any], x: pd.Series) -> dict[str, Any] | None:
    values = x.dropna().astype(str)
    if len(values) < MIN_KNOWN:
        return None
    cats = list(entry["values"])
    counts = values.value_counts()
    window = [int(counts.get(c, 0)) for c in cats] + [
        int(len(values) - counts.reindex(cats).fillna(0).sum())
    ]
    ref = [*entry["counts"], 0]
    table = np.array([ref, window])
    table = table[:, table.sum(axis=0) > 0]
    share_w = np.array(window) / max(1, sum(window))
    share_r = np.array(ref) / max(1, sum(ref))
    distance = float(np.abs(share_w - share_r).sum() / 2)
    p = float(chi2_contingency(table)[1]) if table.shape[1] > 1 else 1.0
    return {
        "test": "chi-squared",
        "effect": round(distance, 4),
        "window_share": {c: round(float(s), 4) for c, s in zip(cats, share_w, strict=False)},
        "reference_share": {c: round(float(s), 4) for c, s in zip(cats, share_r, strict=False)},
        "n": len(values),
        "p": p,
    }


def window_drift(
    values: dict[str, pd.Series],
    groups: np.ndarray | None,
    profile: dict[str, Any],
    rules: DriftRules,
) -> WindowDrift:
    """Every field's test, BH-adjusted p-values and the flagged fields of one window."""
    tests: list[dict[str, Any]] = []
    if groups is not None:
        groups = pd.factorize(np.asarray(groups))[0]  # once per window, not per field
    for name, entry in profile["fields"].items():
        if name not in values:
            continue
        if entry["kind"] == "categories":
            t = _category_test(entry, values[name])
        else:
            t = _ordinal_test(entry, values[name], groups)
        if t is not None:
            tests.append({"field": name, **t})
    adjusted = false_discovery_control(np.array([t["p"] for t in tests], float))
    flagged = []
    for t, q in zip(tests, adjusted, strict=True):
        t["p_adjusted"] = float(q)
        floor = rules.min_distance if t["test"] == "chi-squared" else rules.min_effect
        t["flagged"] = bool(q < rules.fdr and abs(t["effect"]) >= floor)
        if t["flagged"]:
            flagged.append(t["field"])
    tests.sort(key=lambda t: (not t["flagged"], t["p"]))
    typed: list[DriftTest] = [
        CategoryTest(**t) if t["test"] == "chi-squared" else PlacementTest(**t) for t in tests
    ]
    return WindowDrift(status="drift" if flagged else "ok", flagged=flagged, tests=typed)
