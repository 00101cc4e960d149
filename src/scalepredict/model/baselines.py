"""The baselines a model must beat: logistic regression on the same features, and the
checklist a reviewer would use (the mean of the factor scores)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from scalepredict.catalogue import Catalogue
from scalepredict.model.features import common_scale, make_features

Scorer = Callable[[pd.DataFrame], np.ndarray]


def logistic_baseline(train: pd.DataFrame, cat: Catalogue) -> Scorer:
    """Logistic regression on the same features: one-hot categoricals, imputed + indicated
    missing answers, standardized numbers."""
    x = make_features(train, cat)
    categorical = [c for c in x if isinstance(x[c].dtype, pd.CategoricalDtype)]
    numeric = [c for c in x if c not in categorical]
    model = make_pipeline(
        ColumnTransformer(
            [
                ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
                (
                    "num",
                    make_pipeline(
                        SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
                    ),
                    numeric,
                ),
            ]
        ),
        LogisticRegression(max_iter=5000, C=1.0),
    )
    model.fit(x.astype({c: "object" for c in categorical}), train[cat.outcome.name].astype(int))
    return lambda frame: model.predict_proba(
        make_features(frame, cat).astype({c: "object" for c in categorical})
    )[:, 1]


def checklist_score(frame: pd.DataFrame, cat: Catalogue) -> np.ndarray:
    """The checklist a reviewer would use: the mean of the answered factor scores, each on a
    common 0 (worst) .. 1 (best) scale; factors without a direction take no part, and an
    initiative with no answer scores the middle."""
    directed = [f.direction != 0 for f in cat.factors]
    scores = frame[cat.factor_names].to_numpy(dtype=float, na_value=np.nan)
    unit = common_scale(scores, cat)[:, directed]
    known = ~np.isnan(unit)
    total, n = np.where(known, unit, 0.0).sum(axis=1), known.sum(axis=1)
    return np.divide(total, n, out=np.full(len(unit), 0.5), where=n > 0)


def checklist_baseline(train: pd.DataFrame, cat: Catalogue) -> Scorer:
    """The checklist mean, mapped to a probability by a one-variable logistic fit."""
    y = train[cat.outcome.name].astype(int)
    lr = LogisticRegression().fit(checklist_score(train, cat).reshape(-1, 1), y)
    return lambda frame: lr.predict_proba(checklist_score(frame, cat).reshape(-1, 1))[:, 1]
