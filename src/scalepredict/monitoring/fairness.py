"""Fairness by groups of cities: AUC, calibration (mean prediction - observed rate) and mean
plan effort per group, computed with Fairlearn's `MetricFrame`. The groups are the catalogue's
subgroups, one grouping per field (population bands, resource bands), so any catalogue
configures its own.

The largest gap between groups is biased upward when groups are small, so only groups with at
least `min_group` proposals take part, and a gap is flagged only when a permutation test (group
labels shuffled among the rows) finds it significant after Holm's correction over every
gap tested, and it is at least a minimum size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame
from scipy.stats import rankdata

from scalepredict.catalogue import Catalogue
from scalepredict.model.metrics import subgroup_masks
from scalepredict.monitoring.report_types import FairnessTest, FieldFairness, GroupFigures

PERMUTATIONS = 200


@dataclass(frozen=True)
class FairnessRules:
    min_group: int = 50
    alpha: float = 0.05  # Holm's family-wise level over every gap tested
    min_gap: float = 0.05  # AUC or calibration gap worth a flag
    min_effort_gap: float = 1.0  # effort units


def groupings(frame: pd.DataFrame, cat: Catalogue) -> dict[str, pd.Series]:
    """Per subgroup field, each row's group name (None: in no group of that field)."""
    masks = subgroup_masks(frame, cat)
    out: dict[str, pd.Series] = {}
    for g in cat.subgroups:
        labels = out.setdefault(g.field, pd.Series(None, index=frame.index, dtype=object))
        labels[masks[g.name].fillna(False).to_numpy(bool) & labels.isna().to_numpy()] = g.name
    return out


def _auc_by_group(y: np.ndarray, p: np.ndarray, labels: np.ndarray, *, k: int) -> np.ndarray:
    """AUC of each group 0..k-1 from within-group average ranks, so tied probabilities
    (isotonic calibration ties many) count one half, as `roc_auc_score` does."""
    out = np.full(k, np.nan)
    for g in range(k):
        m = labels == g
        yy = y[m]
        n1 = int(yy.sum())
        n0 = len(yy) - n1
        if n1 and n0:
            ranks = rankdata(p[m])
            out[g] = float((ranks[yy == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
    return out


def _calibration_by_group(
    y: np.ndarray, p: np.ndarray, labels: np.ndarray, *, k: int
) -> np.ndarray:
    n = np.bincount(labels, minlength=k)
    return (np.bincount(labels, p - y, minlength=k)) / np.maximum(n, 1)


def _mean_by_group(v: np.ndarray, labels: np.ndarray, *, k: int) -> np.ndarray:
    return np.bincount(labels, v, minlength=k) / np.maximum(np.bincount(labels, minlength=k), 1)


def _gap(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max() - finite.min()) if len(finite) > 1 else float("nan")


def _permutation_p(
    stat: Callable[[np.ndarray], np.ndarray], labels: np.ndarray, observed: float, seed: int
) -> float:
    rng = np.random.default_rng(seed)
    hits = sum(_gap(stat(rng.permutation(labels))) >= observed - 1e-12 for _ in range(PERMUTATIONS))
    return (1 + hits) / (1 + PERMUTATIONS)


def _holm(p: list[float]) -> list[float]:
    order = np.argsort(p)
    out, running = np.empty(len(p)), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out.tolist()


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def _calibration(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(p) - np.mean(y))


def fairness(
    frame: pd.DataFrame,
    y: np.ndarray,
    p: np.ndarray,
    effort: np.ndarray | None,
    cat: Catalogue,
    rules: FairnessRules,
    seed: int = 0,
) -> dict[str, FieldFairness]:
    """Per subgroup field: each group's figures (MetricFrame) and the tested gaps. `y` is NaN
    where the outcome is pending; `effort` NaN where a proposal had no plan."""
    out: dict[str, FieldFairness] = {}
    tests: list[dict[str, Any]] = []
    labelled = ~np.isnan(y)
    for field, names in groupings(frame, cat).items():
        groups: dict[str, dict[str, float | int | None]] = {}
        lab = names.to_numpy(object)
        in_group = pd.notna(lab)
        sizes = pd.Series(lab[in_group]).value_counts()
        if labelled.any():
            m = labelled & in_group
            frame_m = MetricFrame(
                metrics={"roc_auc": _auc, "calibration": _calibration},
                y_true=y[m].astype(int),
                y_pred=p[m],
                sensitive_features=pd.Series(lab[m], name=field),
            )
            for g, row in frame_m.by_group.iterrows():
                groups.setdefault(str(g), {})["labelled"] = int((lab[m] == g).sum())
                groups[str(g)].update({k: _round(v) for k, v in row.items()})
        if effort is not None and np.isfinite(effort).any():
            m = in_group & np.isfinite(effort)
            frame_e = MetricFrame(
                metrics={"mean_plan_effort": lambda t, _: float(np.mean(t))},
                y_true=effort[m],
                y_pred=effort[m],
                sensitive_features=pd.Series(lab[m], name=field),
            )
            for g, row in frame_e.by_group.iterrows():
                groups.setdefault(str(g), {}).update({k: _round(v) for k, v in row.items()})
        for g, n in sizes.items():
            groups.setdefault(str(g), {})["proposals"] = int(n)
        out[field] = FieldFairness(
            groups={g: GroupFigures.model_validate(v) for g, v in groups.items()}
        )
        tests += _gaps(field, lab, y, p, effort, rules, seed)
    adjusted = _holm([t["p"] for t in tests]) if tests else []
    for t, q in zip(tests, adjusted, strict=True):
        flagged = bool(q < rules.alpha and t["gap"] >= t.pop("min_gap"))
        out[t["field"]].tests.append(FairnessTest(**t, p_adjusted=round(q, 4), flagged=flagged))
    return out


def _round(v: float) -> float | None:
    return round(float(v), 4) if v is not None and np.isfinite(v) else None


def _gaps(
    field: str,
    lab: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    effort: np.ndarray | None,
    rules: FairnessRules,
    seed: int,
) -> list[dict[str, Any]]:
    """The permutation tests of one field's gaps, among groups of at least `min_group`."""
    labelled = ~np.isnan(y)
    checks: list[tuple[str, np.ndarray, float]] = [
        ("roc_auc", labelled, rules.min_gap),
        ("calibration", labelled, rules.min_gap),
    ]
    if effort is not None:
        checks.append(("mean_plan_effort", np.isfinite(effort), rules.min_effort_gap))
    found = []
    for metric, rows, floor in checks:
        sizes = pd.Series(lab[rows & pd.notna(lab)]).value_counts()
        big = sorted(sizes[sizes >= rules.min_group].index)
        if len(big) < 2:
            continue
        m = rows & np.isin(lab, big)
        codes = pd.Categorical(lab[m], categories=big).codes.astype(int)
        stat = _statistic(metric, y[m], p[m], None if effort is None else effort[m], len(big))
        values = stat(codes)
        observed = _gap(values)
        if not np.isfinite(observed):
            continue
        found.append(
            {
                "field": field,
                "metric": metric,
                "groups": {g: _round(v) for g, v in zip(big, values, strict=True)},
                "gap": round(observed, 4),
                "p": _permutation_p(stat, codes, observed, seed),
                "min_gap": floor,
            }
        )
    return found


def _statistic(
    metric: str, y: np.ndarray, p: np.ndarray, effort: np.ndarray | None, k: int
) -> Callable[[np.ndarray], np.ndarray]:
    """Group labels (codes 0..k-1) -> the metric per group."""
    if metric == "roc_auc":
        return partial(_auc_by_group, y.astype(int), p, k=k)
    if metric == "calibration":
        return partial(_calibration_by_group, y, p, k=k)
    assert effort is not None
    return partial(_mean_by_group, effort, k=k)
