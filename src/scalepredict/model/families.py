"""The one interface over the model families the data may choose: the monotone XGBoost per
stage (`trees.py`), the monotone penalized logistic regression and the checklist score as a
model (`linear.py`), and the monotone explainable boosting machine (`ebm.py`). Every family
gives the learned log-odds of a feature matrix and its exact contributions (per feature
column, base last), and says whether its log-odds add up factor by factor once the blanks are
fixed (`additive`: the exact plan solver is then a knapsack, `inference/plan_milp.py`);
everything above it (the unknown-answer policy, calibration, explanations, plans, the pyfunc,
Dask batches, the monitor) goes through the bundle and never asks which family it holds.

Simpler first: where two families' cross-validated log losses tie, the simpler one serves
(the EBM, additive, before the trees per stage)."""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

import numpy as np

from scalepredict.catalogue import Catalogue
from scalepredict.model.ebm import EbmModel
from scalepredict.model.linear import ChecklistModel, LogisticModel
from scalepredict.model.trees import TreeModel

# simplest first: the order ties are broken in
FAMILIES = ("checklist", "logistic", "ebm", "xgboost")
FAMILY_WORDS = {
    "checklist": "the checklist score (mean of the factor scores) as a model",
    "logistic": "monotone penalized logistic regression",
    "ebm": "monotone explainable boosting (EBM)",
    "xgboost": "monotone gradient-boosted trees per stage (XGBoost)",
}


class Family(Protocol):
    kind: ClassVar[str]
    additive: ClassVar[bool]  # log-odds a sum of per-field terms (the blanks fixed)

    def learned_margin_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray: ...

    def contributions_of(self, x: np.ndarray, cat: Catalogue) -> np.ndarray: ...

    def to_json(self) -> Any: ...

    def describe(self) -> dict[str, Any]: ...


def family_from_json(kind: str, data: Any, cat: Catalogue) -> Family:
    """A saved family back from its JSON (data only: nothing is executed)."""
    if kind == TreeModel.kind:
        return TreeModel.from_json(data, cat).check(cat)
    if kind == LogisticModel.kind:
        return LogisticModel.from_json(data)
    if kind == EbmModel.kind:
        return EbmModel.from_json(data, cat)
    if kind == ChecklistModel.kind:
        return ChecklistModel.from_json(data)
    raise ValueError(f"unknown model family {kind!r} (known: {', '.join(FAMILIES)})")
