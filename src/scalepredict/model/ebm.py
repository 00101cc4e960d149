"""The explainable boosting family: an EBM (`interpret-core`) on the context fields and the
factor scores, one shape function per field and no pairwise terms (`interactions=0`: a pair
cannot be held monotone, and without pairs the log-odds add up field by field). On synthetic
portfolios of 150 to 5,000 rows it beat the served trees (`benchmarks/small_data.py`).

Monotone: boosting runs under interpret's `monotone_constraints` (each factor's direction, and
any direction a context field has); a shape function that still broke it after fitting would
be projected onto the monotone ones (isotonic regression weighted by the bins' training
counts, interpret's `monotonize`), so a better answer never lowers the chance.

Stored as data only (`to_json`): per field its bin cut points and the score of each bin (a
category field: the score of each catalogue category), the score of a blank, its training
mean, and the intercept. Scoring reads that JSON back with numpy (`searchsorted` per field),
never interpret's objects, and is checked against interpret's own log-odds when fitted.
The derived dimension columns are left out: a shape function of a dimension's mean is not a
sum over its factors, and the exact plan solver needs one (a multiple-choice knapsack over
each factor's levels, `inference/plan_milp.py`).

Contributions are exact: a field's shape score minus its training mean, with the intercept
plus those means as the base for every row. A blank scores as the EBM learned it (its
missing-value bin); the catalogue's unknown-answer policy caps it like any other family's
(`unknowns.score`)."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from scalepredict.catalogue import Catalogue
from scalepredict.model.features import derived_names, feature_names, monotone_constraints

OUTER_BAGS = 4  # 14 by default: on 400-1,500 rows 4 were as good at under a third of the time
FIT_CHECK = 1e-8  # the JSON's log-odds against interpret's own, on the training rows


@dataclass
class _Shape:
    """One field's shape function: `cuts` (numeric: bin i holds cuts[i-1] <= v < cuts[i]) and
    `scores` per bin, or per category code; `missing` the blank's score; `mean` its mean
    score on the training rows (the reference its contribution is measured from)."""

    column: int  # index in the feature matrix
    kind: str  # "numeric" | "category"
    scores: list[float]
    missing: float
    mean: float = 0.0
    cuts: list[float] = field(default_factory=list)

    def of(self, v: np.ndarray) -> np.ndarray:
        """The shape's score of each value of its feature column (NaN: blank)."""
        scores = np.asarray(self.scores, float)
        blank = np.isnan(v)
        if self.kind == "category":
            index = np.where(blank, 0, v).astype(np.int64)
        else:
            index = np.searchsorted(np.asarray(self.cuts, float), v, side="right")
        return np.where(blank, self.missing, scores[np.clip(index, 0, len(scores) - 1)])


def model_columns(cat: Catalogue) -> list[int]:
    """Feature-matrix columns the EBM learns from: context fields and factors."""
    skip = set(derived_names(cat))
    return [j for j, name in enumerate(feature_names(cat)) if name not in skip]


def _is_category(cat: Catalogue, name: str) -> bool:
    return name in cat.feature_context and cat.context_field(name).type == "category"


@dataclass
class EbmModel:
    """A monotone additive EBM read back as data (see the module's docstring)."""

    kind: ClassVar[str] = "ebm"
    additive: ClassVar[bool] = True
    shapes: list[_Shape]
    intercept: float
    n_features: int
    outer_bags: int = OUTER_BAGS

    @classmethod
    def fit(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        cat: Catalogue,
        seed: int = 0,
        weight: np.ndarray | None = None,
    ) -> EbmModel:
        from interpret.glassbox import ExplainableBoostingClassifier  # import cost: ~1 s

        names = feature_names(cat)
        columns = model_columns(cat)
        direction = monotone_constraints(cat)
        category = [_is_category(cat, names[j]) for j in columns]
        ebm = ExplainableBoostingClassifier(
            feature_types=["nominal" if c else "continuous" for c in category],
            monotone_constraints=[int(direction[j]) for j in columns],
            interactions=0,
            outer_bags=OUTER_BAGS,
            n_jobs=1,  # deterministic, and the service's machines are shared
            random_state=seed,
        )
        xs = x[:, columns]
        with warnings.catch_warnings():  # "missing values detected": blanks are expected
            warnings.simplefilter("ignore", UserWarning)
            ebm.fit(xs, np.asarray(y, int), sample_weight=weight)
        for i, j in enumerate(columns):
            d = direction[j]
            bins = np.asarray(ebm.term_scores_[i][1:-1])
            if d and not category[i] and (np.diff(bins) * d < 0).any():
                ebm.monotonize(i, increasing=d > 0)
        shapes = []
        for i, j in enumerate(columns):
            scores = np.asarray(ebm.term_scores_[i], float)
            if category[i]:  # each catalogue code's score, as interpret bins it
                probe = np.repeat(xs[:1], len(cat.context_field(names[j]).categories), axis=0)
                probe[:, i] = np.arange(len(probe))
                per_code = np.asarray(ebm.eval_terms(probe), float)[:, i]
                shapes.append(_Shape(j, "category", per_code.tolist(), float(scores[0])))
            else:
                cuts = np.asarray(ebm.bins_[i][0], float)
                bins = scores[1 : len(cuts) + 2]
                shapes.append(
                    _Shape(j, "numeric", bins.tolist(), float(scores[0]), cuts=cuts.tolist())
                )
        sw = None if weight is None else np.asarray(weight, float)
        for s in shapes:
            s.mean = float(np.average(s.of(x[:, s.column]), weights=sw)) if len(x) else 0.0
        model = cls(shapes, float(np.ravel(ebm.intercept_)[0]), x.shape[1])
        gap = np.abs(model.learned_margin_of(x, cat) - ebm.decision_function(xs)).max()
        if gap > FIT_CHECK:  # our reading of interpret's bins is wrong: never serve it
            raise ValueError(f"the explainable boosting machine does not read back ({gap:.2e})")
        return model

    def _scores(self, x: np.ndarray) -> np.ndarray:
        """rows x shapes: each field's shape score."""
        if not self.shapes:
            return np.zeros((len(x), 0))
        return np.column_stack([s.of(x[:, s.column]) for s in self.shapes])

    def learned_margin_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray:
        return self.intercept + self._scores(x).sum(axis=1)

    def contributions_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray:
        """rows x (feature columns + 1): each field's score minus its training mean (exact for
        an additive model), the base (intercept + those means) last."""
        out = np.zeros((len(x), self.n_features + 1))
        means = np.array([s.mean for s in self.shapes])
        out[:, [s.column for s in self.shapes]] = self._scores(x) - means
        out[:, -1] = self.intercept + means.sum()
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "intercept": self.intercept,
            "n_features": self.n_features,
            "outer_bags": self.outer_bags,
            "shapes": [asdict(s) for s in self.shapes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], cat: Catalogue) -> EbmModel:
        """Back from `to_json`, checked against the catalogue's feature columns."""
        n = len(feature_names(cat))
        if int(data["n_features"]) != n:
            raise ValueError(f"{data['n_features']} feature columns, the catalogue has {n}")
        shapes = []
        for raw in data["shapes"]:
            s = _Shape(
                int(raw["column"]),
                str(raw["kind"]),
                [float(v) for v in raw["scores"]],
                float(raw["missing"]),
                float(raw["mean"]),
                [float(v) for v in raw["cuts"]],
            )
            if not 0 <= s.column < n or s.kind not in ("numeric", "category"):
                raise ValueError(f"shape of column {s.column}: not a feature of the catalogue")
            width = len(s.cuts) + 1 if s.kind == "numeric" else len(s.scores)
            if len(s.scores) != width or not s.scores or np.any(np.diff(s.cuts) <= 0):
                raise ValueError(f"shape of column {s.column}: bins and scores do not match")
            shapes.append(s)
        return cls(shapes, float(data["intercept"]), n, int(data.get("outer_bags", OUTER_BAGS)))

    def describe(self) -> dict[str, Any]:
        return {"shapes": len(self.shapes), "outer_bags": self.outer_bags}
