"""The API's one error shape, `{"error": ..., "problems": [{"path", "rule", "value"}], ...}`,
and the exception handlers that produce it for every failure a route can meet."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

import orjson
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from scalepredict.api.schemas import ErrorBody
from scalepredict.data.validation import InvalidAssessmentError
from scalepredict.inference.plans import WhatIfError
from scalepredict.store.outcomes import OutcomesRejected

log = logging.getLogger("scalepredict.api")


class InvalidProposals(Exception):
    """Proposals broke the catalogue's rules (422): one problem per cell, nothing scored."""

    def __init__(self, message: str, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__(message)


class TooManyProposals(Exception):
    """More proposals in one request than the limit (413), counted before any work."""

    def __init__(self, n: int, limit: int, what: str = "") -> None:
        self.limit = limit
        super().__init__(f"too many proposals: {n}{what} > limit {limit}")

    @classmethod
    def check(cls, n: int, limit: int, what: str = "") -> None:
        if n > limit:
            raise cls(n, limit, what)


class NotReady(Exception):
    """No model is loaded yet (503)."""


class AtCapacity(Exception):
    """Scoring this request now would queue work past the timeout (503 + Retry-After)."""


class AuditUnavailable(Exception):
    """The audit store cannot be written: nothing is answered that is not recorded (503)."""


class SafeJSONResponse(JSONResponse):
    """JSON that any string can travel in. orjson writes it (UTF-8, numpy numbers as numbers;
    several times faster than `json` on a 100-proposal answer); what orjson refuses (a lone
    surrogate, an unknown type) is written by `json` with non-ASCII escaped, so echoing a
    hostile value can never fail the response itself."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
        except (orjson.JSONEncodeError, TypeError):
            text = json.dumps(
                content, ensure_ascii=True, allow_nan=False, separators=(",", ":"), default=_plain
            )
            return text.encode("ascii")


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python numbers and lists (the `json` fallback)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def error(
    status: int,
    message: str,
    problems: list[dict] | None = None,
    retry_after: int | None = None,
    allow: str | None = None,
    **extra: Any,
) -> JSONResponse:
    """The one error body of the API: {"error": ..., "problems": [...], ...}; `retry_after`
    and `allow` become the Retry-After and Allow headers."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if allow is not None:
        headers["Allow"] = allow
    body = {"error": echo(message, 2000), "problems": problems or [], **extra}
    return SafeJSONResponse(body, status_code=status, headers=headers or None)


def echo(value: Any, limit: int = 200) -> Any:
    """An offending value as JSON can carry it (no containers, no inf/NaN, bounded length,
    no lone surrogate)."""
    if isinstance(value, dict | list):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)[:40]
    if isinstance(value, str):
        return value[:limit].encode("utf-8", "replace").decode("utf-8")
    return value


def outcomes_refused(e: OutcomesRejected) -> JSONResponse:
    """422 naming every bad outcome (row, field, rule); 409 when the only problems are
    outcomes that differ from ones recorded."""
    return error(
        409 if e.conflict else 422,
        f"{len(e.problems)} problem(s) in the outcomes; nothing was recorded",
        [
            {
                "path": f"outcomes.{p.index}.{p.field}",
                "rule": p.rule,
                "value": echo(p.value),
                "initiative_id": p.initiative_id,
                "column": p.field,
            }
            for p in e.problems[:200]
        ],
    )


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


async def _invalid_proposals(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidProposals)
    return error(422, str(exc), exc.problems)


async def _too_many(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyProposals)
    return error(413, str(exc), limit_proposals=exc.limit)


async def _invalid_whatif(_: Request, exc: Exception) -> JSONResponse:
    return error(422, "invalid change", [{"path": "changes", "rule": str(exc)}])


async def _not_ready(_: Request, __: Exception) -> JSONResponse:
    return error(503, "no model loaded; see /readyz", retry_after=5)


async def _at_capacity(_: Request, exc: Exception) -> JSONResponse:
    return error(503, f"at capacity: {exc}; retry shortly", retry_after=1)


async def _audit_unavailable(_: Request, exc: Exception) -> JSONResponse:
    return error(
        503, f"the audit store cannot be written ({exc}); nothing was scored", retry_after=5
    )


async def _http(_: Request, exc: Exception) -> JSONResponse:
    """404, 405, a body that cannot be parsed (invalid UTF-8, gzip, too deep): the same body."""
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error(500, f"internal error ({type(exc).__name__}); it is logged")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(InvalidAssessmentError, _invalid_assessment)
    app.add_exception_handler(InvalidProposals, _invalid_proposals)
    app.add_exception_handler(TooManyProposals, _too_many)
    app.add_exception_handler(WhatIfError, _invalid_whatif)
    app.add_exception_handler(NotReady, _not_ready)
    app.add_exception_handler(AuditUnavailable, _audit_unavailable)
    app.add_exception_handler(AtCapacity, _at_capacity)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
