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

from scalepredict.catalogue import load_catalogue
from scalepredict.model.features import make_features

Scorer = Callable[[pd.DataFrame], np.ndarray]


def logistic_baseline(train: pd.DataFrame) -> Scorer:
    """Logistic regression on the same features: one-hot categoricals, imputed + indicated
    missing answers, standardized numbers."""
    cat = load_catalogue()
    x = make_features(train)
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
        make_features(frame).astype({c: "object" for c in categorical})
    )[:, 1]


def checklist_score(frame: pd.DataFrame) -> np.ndarray:
    """The checklist a reviewer would use: the mean of the answered factor scores."""
    scores = frame[load_catalogue().factor_names].astype(float)
    return scores.mean(axis=1).fillna(3.0).to_numpy()


def checklist_baseline(train: pd.DataFrame) -> Scorer:
    """The checklist mean, mapped to a probability by a one-variable logistic fit."""
    lr = LogisticRegression().fit(
        checklist_score(train).reshape(-1, 1), train["scaled_up"].astype(int)
    )
    return lambda frame: lr.predict_proba(checklist_score(frame).reshape(-1, 1))[:, 1]
