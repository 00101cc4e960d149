"""The scorings the monitor and retraining read: the latest scoring of each proposal (its input
in the catalogue's field names, probability, model version, plan effort) with its outcome when
known, `status` from the outcome horizon setting."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy.engine import Engine

from scalepredict.catalogue import Catalogue
from scalepredict.store.outcomes import scorings_with_outcomes


def scorings(
    engine: Engine,
    cat: Catalogue,
    horizon_months: int,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """One row per initiative scored in [since, until): see `scorings_with_outcomes` (past
    `horizon_months` without an outcome: expired); inputs renamed from the catalogue's
    columns to its field names, every field present."""
    frame = scorings_with_outcomes(engine, since, until, horizon_months, now).rename(
        columns=cat.renames
    )
    for name in cat.assessment_columns():
        if name not in frame.columns:
            frame[name] = None
    return frame
