"""An answer as JSON (the default) or as CSV, one flat row per proposal (`Accept: text/csv` or
`format=csv`): what an analyst loads with `pd.read_csv`."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from fastapi import Request
from fastapi.responses import Response

from scalepredict.api.errors import SafeJSONResponse
from scalepredict.data.tables import csv_text, formula_safe
from scalepredict.inference.predictor import flat_record

Format = Literal["json", "csv"]
CSV = "text/csv"


def wanted(request: Request, format: Format | None) -> Format:
    """`format` if given, else the Accept header's preferred of JSON and CSV (JSON on a tie)."""
    if format is not None:
        return format
    best: tuple[float, Format] = (0.0, "json")
    for part in request.headers.get("accept", "").split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media.strip().lower() in (CSV, "application/csv") and q > best[0]:
            best = (q, "csv")
        elif media.strip().lower() in ("application/json", "*/*") and q >= best[0]:
            best = (q, "json")
    return best[1]


def answer(body: dict[str, Any], fmt: Format) -> Any:
    """The body as JSON, or its results as CSV with the request id and model version as
    headers. Built by our own code to ScoreResponse's shape, it is answered as is, not
    validated again (re-validating a 100-proposal answer cost more than scoring it)."""
    if fmt == "json":
        return SafeJSONResponse({**body, "results": _answered(body["results"])})
    frame = formula_safe(pd.DataFrame([_flat(r) for r in body["results"]]))
    headers = {"X-Request-Id": body["request_id"], "X-Model-Version": body["model"]["version"]}
    return Response(csv_text(frame), media_type=CSV, headers=headers)


def _flat(r: dict[str, Any]) -> dict[str, Any]:
    """A flat row, with the budget's `cost` and `decision` right after the identifier."""
    flat = flat_record(r)
    if "decision" not in r:
        return flat
    ident, rest = {"initiative_id": flat.pop("initiative_id")}, flat
    return ident | {"decision": r["decision"], "cost": r["cost"]} | rest


def _answered(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As ScoreResponse says: the identifier as text (a catalogue's may be a number), and
    `explanation` and `plan` always present (null when switched off)."""
    return [
        {
            **r,
            "initiative_id": str(r["initiative_id"]),
            "explanation": r.get("explanation"),
            "plan": r.get("plan"),
        }
        for r in results
    ]


# the 200 answer of a route that can answer CSV too, for the OpenAPI document
CSV_TOO: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The assessments: JSON, or with `Accept: text/csv` (or `format=csv`) "
        "one CSV row per proposal: initiative_id, probability, risk_band, uncertainty, "
        "prediction_set, top_drivers, actionable_drivers, context_drivers, driver_1..n and "
        "driver_k_points, points_<dimension>, plan_actions, plan_status, "
        "plan_target_probability, plan_expected_probability, plan_interval_low, "
        "plan_interval_high, plan_confidence, plan_reached_target, plan_total_effort, "
        "plan_summary; with a `budget`, `decision` and `cost` follow initiative_id.",
        "content": {CSV: {"schema": {"type": "string"}}},
    }
}
