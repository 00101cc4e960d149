"""The tree family: one monotone XGBoost booster per stage (one for all rows when the catalogue
has no stage), each row scored by the booster of its own stage (the paper: which causes matter
depends on the stage), so a stage's explanations come from a model fitted to that stage (its
rows at full weight, the other stages' rows down-weighted, see `search.train_per_stage`). Every
booster sees the same feature columns. The stage enters through the routing and each stage's
base value; a booster may still split on the stage column to set its own rows apart from the
borrowed ones, and that (small) effect shows as the stage's contribution. Trained on its own
stage's rows only, a booster never splits on the stage, which then contributes exactly 0.

Predictions go through the compiled trees (`compiled_trees`: the same sums without XGBoost's
fixed cost per call) where they compile faithfully; contributions are XGBoost's exact tree
SHAP (`pred_contribs`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import xgboost as xgb

from scalepredict.catalogue import Catalogue
from scalepredict.model.compiled_trees import CompiledForest, compile_forest
from scalepredict.model.features import feature_names


class TreeModelError(ValueError):
    """Boosters that do not fit the catalogue (one per stage, its feature columns)."""


def stage_codes(x: np.ndarray, cat: Catalogue) -> np.ndarray:
    """Per row of a feature matrix, the number of its stage (catalogue order; 0 without a
    stage field). A row without a stage, or with a code outside the catalogue, is refused."""
    stage = cat.stage
    if stage is None:
        return np.zeros(len(x), np.int64)
    codes = x[:, feature_names(cat).index(stage)]
    n = len(cat.booster_keys)
    if np.isnan(codes).any():
        raise ValueError(f"rows without a {stage} cannot be scored")
    if ((codes < 0) | (codes >= n)).any():
        raise ValueError(f"a {stage} code outside the catalogue's {n}")
    return codes.astype(np.int64)


@dataclass
class TreeModel:
    kind: ClassVar[str] = "xgboost"
    additive: ClassVar[bool] = False
    boosters: dict[str, xgb.Booster]  # one per stage (or one for all), in catalogue order
    # the boosters as one compiled evaluator, made at the first prediction; None where they
    # cannot be compiled faithfully
    _forest: CompiledForest | None = field(default=None, init=False, repr=False, compare=False)
    _forest_tried: bool = field(default=False, init=False, repr=False, compare=False)

    def check(self, cat: Catalogue) -> TreeModel:
        """Itself with its boosters in catalogue order; refused unless one per stage."""
        keys = list(cat.booster_keys)
        if sorted(self.boosters) != sorted(keys):
            raise TreeModelError(
                f"a bundle needs one booster per stage {keys}, got {list(self.boosters)}"
            )
        self.boosters = {s: self.boosters[s] for s in keys}
        return self

    @property
    def forest(self) -> CompiledForest | None:
        """The compiled evaluator of every booster (made once, checked against XGBoost)."""
        if not self._forest_tried:
            self._forest = compile_forest(list(self.boosters.values()))
            self._forest_tried = True
        return self._forest

    def booster_of_rows(self, x: np.ndarray, cat: Catalogue) -> np.ndarray:
        return stage_codes(x, cat)

    def routes(self, x: np.ndarray, cat: Catalogue) -> list[tuple[str, xgb.Booster, np.ndarray]]:
        """(stage, its booster, the row indices at that stage) for each stage present in the
        feature matrix `x`; every row goes to exactly one booster."""
        codes = self.booster_of_rows(x, cat)
        out = []
        for code, (stage, booster) in enumerate(self.boosters.items()):  # catalogue order
            rows = np.flatnonzero(codes == code)
            if rows.size:
                out.append((stage, booster, rows))
        return out

    def dmatrix(self, x: np.ndarray) -> xgb.DMatrix:
        """A DMatrix from a feature matrix (categorical codes), typed as the boosters were
        trained (all share the catalogue's feature columns)."""
        first = next(iter(self.boosters.values()))
        return xgb.DMatrix(
            x,
            feature_names=first.feature_names,
            feature_types=first.feature_types,
            enable_categorical=True,
        )

    def learned_margin_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray:
        forest = self.forest
        if forest is not None:
            return forest.margin(x, self.booster_of_rows(x, cat))
        out = np.empty(len(x))
        for _, booster, rows in self.routes(x, cat):
            part = x if rows.size == len(x) else x[rows]
            out[rows] = booster.inplace_predict(part, predict_type="margin")
        return out

    def contributions_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray:
        """Exact tree SHAP per model feature, bias last: what `shap.TreeExplainer` gives for
        each row's stage booster."""
        raw = np.empty((len(x), x.shape[1] + 1))
        for _, booster, rows in self.routes(x, cat):
            raw[rows] = booster.predict(self.dmatrix(x[rows]), pred_contribs=True)
        return raw

    def to_json(self) -> dict[str, Any]:
        return {s: json.loads(b.save_raw("json")) for s, b in self.boosters.items()}

    @classmethod
    def from_json(cls, models: Any, cat: Catalogue) -> TreeModel:
        stages = list(cat.booster_keys)
        if not isinstance(models, dict) or list(models) != stages:
            found = list(models)[:5] if isinstance(models, dict) else type(models).__name__
            raise TreeModelError(
                f"it must hold one booster per stage {stages}, found {found} "
                "(a bundle from an older version?); retrain it"
            )
        boosters = {}
        for stage, model in models.items():
            booster = xgb.Booster()
            try:
                booster.load_model(bytearray(json.dumps(model), "utf-8"))
            except xgb.core.XGBoostError as e:
                raise TreeModelError(f"the {stage} booster is corrupt ({e})") from e
            if booster.feature_names != feature_names(cat):
                raise TreeModelError(f"the {stage} booster's features do not match the catalogue")
            boosters[stage] = booster
        return cls(boosters)

    def describe(self) -> dict[str, Any]:
        return {"boosters": len(self.boosters)}
