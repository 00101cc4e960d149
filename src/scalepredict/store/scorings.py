"""The scorings the monitor and retraining read: the latest scoring of each proposal (its input
in the catalogue's field names, probability, model version) with its outcome when known.

Today it reads the audit trail only (every proposal `pending`); once outcomes are stored
beside it, `scorings` is the one place to join them (same columns, `status` from the outcome
horizon)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from scalepredict.catalogue import Catalogue
from scalepredict.store.audit import records

SCORING_ENDPOINTS = ("score", "portfolio")  # where a proposal itself was scored


def _effort(output: dict[str, Any]) -> float | None:
    plan = output.get("plan")
    return (
        float(plan["total_effort"]) if isinstance(plan, dict) and "total_effort" in plan else None
    )


def audit_scorings(
    engine: Engine,
    cat: Catalogue,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """The latest scoring of each initiative in [since, until) from the audit trail."""
    q = select(records).where(records.c.endpoint.in_(SCORING_ENDPOINTS))
    if since is not None:
        q = q.where(records.c.scored_at >= since)
    if until is not None:
        q = q.where(records.c.scored_at < until)
    rows = []
    with engine.connect() as conn:
        for r in conn.execute(q.order_by(records.c.id)):
            given = json.loads(r.input)
            output = json.loads(r.output)
            rows.append(
                {
                    **{cat.renames.get(k, k): v for k, v in given.items()},
                    "initiative_id": r.initiative_id,
                    "scored_at": r.scored_at,
                    "model_version": r.model_version,
                    "probability": output.get("probability"),
                    "plan_effort": _effort(output),
                }
            )
    columns = [
        "initiative_id",
        "scored_at",
        "model_version",
        *cat.assessment_columns(),
        "probability",
        "plan_effort",
        "outcome",
        "observed_on",
        "funded",
        "status",
    ]
    if not rows:
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame(rows).drop_duplicates("initiative_id", keep="last")
    frame["outcome"], frame["observed_on"], frame["funded"] = None, None, None
    frame["status"] = "pending"
    return frame.reset_index(drop=True)


def scorings(
    engine: Engine,
    cat: Catalogue,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pd.DataFrame:
    """What the monitor and `retrain` read (see the module docstring)."""
    return audit_scorings(engine, cat, since, until)
