"""The two simple model families: a sign-constrained (monotone) penalized logistic regression on
the factor scores and the context, and the checklist score as a model. Small portfolios (a
funding body's 100-1,000 projects) rarely hold the interactions a tree ensemble needs, and on
them these are as good or better (`benchmarks/small_data.py`); the data chooses (`families.py`).

Both read the same feature matrix as the trees (`features.feature_matrix`) and give exact
contributions: for a linear margin b + sum_j w_j z_j with every z_j centred on the training
mean, w_j z_j is the field's exact (interventional) SHAP value and b the base for every row.
A blank counts as the training mean (contribution 0) as the model learned it; the catalogue's
unknown-answer policy caps it like any other family's (`unknowns.score`).

Monotone: every factor with a direction enters on its common 0 (worst) .. 1 (best) scale with a
weight >= 0, a context field with a direction with that sign, so a better answer never lowers
the chance, whatever the data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from scalepredict.catalogue import Catalogue
from scalepredict.model.features import common_scale, derived_names, feature_names

# L2 strengths tried for the logistic family (per row, on standardized columns)
PENALTIES = (0.3, 0.1, 0.03, 0.01, 0.003, 0.001)


def _fit_logistic(
    z: np.ndarray,
    y: np.ndarray,
    penalty: float,
    bounds: list[tuple[float | None, float | None]],
    weight: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """(intercept, weights) minimising the weighted mean log loss + penalty/2 |w|^2 within the
    weights' sign bounds (L-BFGS-B: bounds are exact, the loss is smooth and convex)."""
    n, p = z.shape
    sw = np.ones(n) if weight is None else np.asarray(weight, float)
    sw = sw / sw.sum()
    sign = 2.0 * y - 1.0

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        m = theta[0] + z @ theta[1:]
        ll = -(sw * log_expit(sign * m)).sum() + 0.5 * penalty * theta[1:] @ theta[1:]
        r = sw * (expit(m) - y)
        grad = np.concatenate([[r.sum()], z.T @ r + penalty * theta[1:]])
        return float(ll), grad

    rate = float(np.clip((sw * y).sum(), 1e-3, 1 - 1e-3))
    start = np.zeros(p + 1)
    start[0] = np.log(rate / (1 - rate))
    res = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=[(None, None), *bounds])
    return float(res.x[0]), np.asarray(res.x[1:], float)


@dataclass
class _Term:
    """One feature column's part of the linear margin: numeric (centred, scaled) or categorical
    (one centred indicator per category)."""

    column: int  # index in the feature matrix
    kind: str  # "numeric" | "category"
    mean: float = 0.0
    scale: float = 1.0
    freq: list[float] = field(default_factory=list)  # per category code
    sign: int = 0  # +1 / -1: the weight's sign bound; 0 free


@dataclass
class LogisticModel:
    """Monotone penalized logistic regression on the feature matrix's context and factor
    columns (the derived dimension columns are linear in the factors, so they add nothing)."""

    kind: ClassVar[str] = "logistic"
    additive: ClassVar[bool] = True
    terms: list[_Term]
    intercept: float
    weights: list[list[float]]  # per term: one weight, or one per category
    penalty: float
    n_features: int

    # --- encoding -------------------------------------------------------------------------
    @staticmethod
    def layout(cat: Catalogue, x: np.ndarray) -> list[_Term]:
        """The terms, with their centring learned from training matrix `x`."""
        names = feature_names(cat)
        skip = set(derived_names(cat))
        directions = {f.name: f.direction for f in cat.factors}
        unit = common_scale(x[:, -len(cat.factors) :], cat) if cat.factors else x[:, :0]
        terms = []
        for j, name in enumerate(names):
            if name in skip:
                continue
            if name in directions:
                col = unit[:, cat.factor_names.index(name)]
                sign = 1 if directions[name] != 0 else 0
            else:
                f = cat.context_field(name)
                if f.type == "category":
                    codes = x[:, j]
                    known = codes[~np.isnan(codes)].astype(int)
                    counts = np.bincount(known, minlength=len(f.categories)).astype(float)
                    freq = counts / max(1, known.size)
                    terms.append(_Term(j, "category", freq=freq.tolist()))
                    continue
                col, sign = x[:, j], int(np.sign(f.direction))
            known = col[~np.isnan(col)]
            mean = float(known.mean()) if known.size else 0.0
            sd = float(known.std()) if known.size > 1 else 0.0
            terms.append(_Term(j, "numeric", mean, sd if sd > 1e-9 else 1.0, sign=sign))
        return terms

    @staticmethod
    def encode(terms: list[_Term], x: np.ndarray, cat: Catalogue) -> tuple[np.ndarray, list[int]]:
        """rows x encoded columns (blanks at 0, the training mean), and each term's width."""
        nf = len(cat.factors)
        unit = common_scale(x[:, -nf:], cat) if nf else x[:, :0]
        first_factor = x.shape[1] - nf
        blocks, widths = [], []
        for t in terms:
            v = x[:, t.column]
            if t.kind == "category":
                freq = np.asarray(t.freq)
                known = ~np.isnan(v)
                block = np.zeros((len(x), len(freq)))
                rows = np.flatnonzero(known)
                block[rows, v[rows].astype(int)] = 1.0
                block[known] -= freq
                blocks.append(block)
                widths.append(len(freq))
                continue
            if t.column >= first_factor:
                v = unit[:, t.column - first_factor]
            blocks.append(np.nan_to_num((v - t.mean) / t.scale, nan=0.0)[:, None])
            widths.append(1)
        z = np.concatenate(blocks, axis=1) if blocks else np.zeros((len(x), 0))
        return z, widths

    # --- the model ------------------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        cat: Catalogue,
        penalty: float,
        weight: np.ndarray | None = None,
    ) -> LogisticModel:
        terms = cls.layout(cat, x)
        z, widths = cls.encode(terms, x, cat)
        bounds: list[tuple[float | None, float | None]] = []
        for t, w in zip(terms, widths, strict=True):
            lo, hi = (0.0, None) if t.sign > 0 else (None, 0.0) if t.sign < 0 else (None, None)
            bounds += [(lo, hi)] * w
        b, flat = _fit_logistic(z, np.asarray(y, float), penalty, bounds, weight)
        at, weights = 0, []
        for w in widths:
            weights.append(flat[at : at + w].tolist())
            at += w
        return cls(terms, b, weights, penalty, x.shape[1])

    def _flat(self) -> np.ndarray:
        return np.concatenate([np.asarray(w, float) for w in self.weights] or [np.zeros(0)])

    def learned_margin_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray:
        z, _ = self.encode(self.terms, x, cat)
        return self.intercept + z @ self._flat()

    def contributions_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray:
        """rows x (feature columns + 1): each column's exact contribution, the base last."""
        z, widths = self.encode(self.terms, x, cat)
        zw = z * self._flat()
        out = np.zeros((len(x), self.n_features + 1))
        at = 0
        for t, w in zip(self.terms, widths, strict=True):
            out[:, t.column] = zw[:, at : at + w].sum(axis=1)
            at += w
        out[:, -1] = self.intercept
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "intercept": self.intercept,
            "penalty": self.penalty,
            "n_features": self.n_features,
            "terms": [
                {**t.__dict__, "weights": w} for t, w in zip(self.terms, self.weights, strict=True)
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LogisticModel:
        terms, weights = [], []
        for raw in data["terms"]:
            raw = dict(raw)
            weights.append([float(v) for v in raw.pop("weights")])
            terms.append(_Term(**raw))
        return cls(
            terms, float(data["intercept"]), weights, float(data["penalty"]), data["n_features"]
        )

    def describe(self) -> dict[str, Any]:
        return {"penalty": self.penalty, "terms": len(self.terms)}


def checklist_of(x: np.ndarray, cat: Catalogue) -> tuple[np.ndarray, np.ndarray]:
    """(rows x directed factors on the common 0..1 scale with NaN for blanks, the checklist
    score: the mean of the answered ones, 0.5 where none is answered)."""
    directed = [f.direction != 0 for f in cat.factors]
    nf = len(cat.factors)
    unit = common_scale(x[:, -nf:], cat)[:, directed] if nf else x[:, :0]
    known = ~np.isnan(unit)
    total, n = np.where(known, unit, 0.0).sum(axis=1), known.sum(axis=1)
    return unit, np.divide(total, n, out=np.full(len(unit), 0.5), where=n > 0)


@dataclass
class ChecklistModel:
    """The checklist a reviewer would use as a model: log-odds a + b (score - centre) with
    b >= 0, where the score is the mean of the answered factor scores on a common 0..1 scale."""

    kind: ClassVar[str] = "checklist"
    additive: ClassVar[bool] = True  # with the answered factors fixed: their mean is a sum
    intercept: float
    slope: float
    centre: float
    n_features: int

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        cat: Catalogue,
        penalty: float = 0.0,
        weight: np.ndarray | None = None,
    ) -> ChecklistModel:
        _, s = checklist_of(x, cat)
        centre = float(s.mean()) if len(s) else 0.5
        z = (s - centre)[:, None]
        bound: list[tuple[float | None, float | None]] = [(0.0, None)]
        b, w = _fit_logistic(z, np.asarray(y, float), 1e-6, bound, weight)
        return cls(b, float(w[0]), centre, x.shape[1])

    def learned_margin_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray:
        _, s = checklist_of(x, cat)
        return self.intercept + self.slope * (s - self.centre)

    def contributions_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray:
        """Each answered factor's share of slope x (score - centre); with nothing answered, the
        middle score's distance from the centre is shared by every directed factor."""
        unit, _ = checklist_of(x, cat)
        known = ~np.isnan(unit)
        n = known.sum(axis=1, keepdims=True)
        none = n[:, 0] == 0
        share = np.where(known, self.slope * (np.nan_to_num(unit) - self.centre), 0.0)
        share = np.divide(share, n, out=np.zeros_like(share), where=n > 0)
        if none.any() and unit.shape[1]:
            share[none] = self.slope * (0.5 - self.centre) / unit.shape[1]
        out = np.zeros((len(x), self.n_features + 1))
        nf = len(cat.factors)
        directed = [k for k, f in enumerate(cat.factors) if f.direction != 0]
        out[:, [self.n_features - nf + k for k in directed]] = share
        out[:, -1] = self.intercept
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "intercept": self.intercept,
            "slope": self.slope,
            "centre": self.centre,
            "n_features": self.n_features,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChecklistModel:
        return cls(
            float(data["intercept"]),
            float(data["slope"]),
            float(data["centre"]),
            int(data["n_features"]),
        )

    def describe(self) -> dict[str, Any]:
        return {"slope": round(self.slope, 4)}
