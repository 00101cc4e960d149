"""The API's one error shape, `{"error": ..., "problems": [{"path", "rule", "value"}], ...}`,
and the exception handlers that produce it for every failure a route can meet."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from scalepredict.api.schemas import ErrorBody
from scalepredict.data.validation import InvalidAssessmentError
from scalepredict.inference.plans import WhatIfError


class NotReady(Exception):
    """No model is loaded yet (503)."""


def error(
    status: int, message: str, problems: list[dict] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": message, "problems": problems or [], **extra}, status_code=status)


def echo(value: Any) -> Any:
    """An offending value as JSON can carry it (no containers, no inf/NaN, bounded length)."""
    if isinstance(value, dict | list):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)[:40]
    return value if not isinstance(value, str) else value[:200]


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route answers, all with the JSON error body."""
    return {status: {"model": ErrorBody} for status in statuses}


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "path": ".".join(str(p) for p in e["loc"] if p != "body"),
            # null for a required field: pydantic says "should be a valid string"; say why
            "rule": "required: may not be empty"
            if e.get("input") is None and e["type"] != "missing"
            else e["msg"],
            "value": echo(e.get("input")),
        }
        for e in exc.errors()
    ]
    return error(422, "invalid request", problems)


async def _invalid_assessment(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidAssessmentError)
    problems = [
        {
            "path": f"proposals.{int(p.row) - 1}.{p.column}" if pd.notna(p.row) else p.column,
            "rule": f"must be {p.rule}",
            "value": p.value,
        }
        for p in exc.problems.itertuples()
    ]
    return error(422, "invalid proposal", problems)


async def _invalid_whatif(_: Request, exc: Exception) -> JSONResponse:
    return error(422, "invalid change", [{"path": "changes", "rule": str(exc)}])


async def _not_ready(_: Request, __: Exception) -> JSONResponse:
    return error(503, "no model loaded; see /readyz")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(InvalidAssessmentError, _invalid_assessment)
    app.add_exception_handler(WhatIfError, _invalid_whatif)
    app.add_exception_handler(NotReady, _not_ready)
