"""The ScalePredict scoring service (BentoML 1.4).

BentoML runs the process (`bentoml serve serving.service:ScalePredict`), its /livez and
/readyz probes, metrics and the Bento. The routes live on a FastAPI app mounted at "/", because
native `@bentoml.api` methods are POST-only and cannot return the 401/403/413/422 JSON bodies
this API promises. The service stays thin: HTTP, auth, audit and error mapping; all model work
is the `Predictor` the CLI and the MLflow pyfunc use too."""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import bentoml
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from scalepredict import champion
from scalepredict.api_models import (
    MAX_PROPOSALS,
    ErrorBody,
    PlanRequest,
    PlanResponse,
    ScoreRequest,
    ScoreResponse,
    WhatIfRequest,
    WhatIfResponse,
)
from scalepredict.audit import AuditLog
from scalepredict.auth import Identity, KeyStore
from scalepredict.catalogue import catalogue_dict, load_catalogue
from scalepredict.mitigate import WhatIfError
from scalepredict.predictor import Predictor
from scalepredict.tableio import DataFileError, read_csv_bytes
from scalepredict.validation import InvalidAssessmentError, typed_records, validate_table

log = logging.getLogger("scalepredict.service")
STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = int(os.environ.get("SCALEPREDICT_MAX_BODY_BYTES", str(4 * 1024 * 1024)))

# Which role may call what; anything not listed (and not open) is admin-only.
OPEN_PATHS = {"/livez", "/healthz", "/metrics", "/docs.json", "/schema.json", "/docs", "/"}
SCORER_PATHS = {"/score", "/whatif", "/plan", "/portfolio", "/catalogue", "/model"}
# POST bodies and the media type each accepts (anything else: 415)
BODY_TYPES = {"/score": "json", "/whatif": "json", "/plan": "json", "/portfolio": "csv"}
# The planner page loads only its own files and talks only to this API.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

app = FastAPI(title="ScalePredict", docs_url=None, redoc_url=None, openapi_url=None)
_current: dict[str, Any] = {}  # the live service instance, for the middleware's /readyz


def _error(
    status: int, error: str, problems: list[dict] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"error": error, "problems": problems or [], **extra}, status_code=status)


class GuardMiddleware:
    """Raw ASGI: body-size limit (413), Bearer auth (401/403) and a JSON /readyz. Raw ASGI
    rather than BaseHTTPMiddleware so that streaming and BentoML's own routes are untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.keys = KeyStore()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/") or "/"
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        if path == "/readyz":
            return await _readyz()(scope, receive, send)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return await _error(
                413,
                f"request body too large: {length} bytes > limit {MAX_BODY_BYTES} bytes",
                limit_bytes=MAX_BODY_BYTES,
            )(scope, receive, send)
        if path in OPEN_PATHS or path.startswith("/static/"):
            return await self.app(scope, receive, send)
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        identity = self.keys.identify(token) if token else None
        if identity is None:
            msg = "missing Bearer token" if not token else "invalid API key"
            return await _error(401, msg)(scope, receive, send)
        if identity.role != "admin" and path not in SCORER_PATHS:
            return await _error(
                403,
                f"key {identity.name!r} (role {identity.role}) may not "
                f"call {path}; admin role required",
            )(scope, receive, send)
        scope.setdefault("state", {})["identity"] = identity
        ctype = headers.get("content-type", "")
        wanted = BODY_TYPES.get(path)
        if scope["method"] == "POST" and wanted and wanted not in ctype.lower():
            example = "application/json" if wanted == "json" else "text/csv"
            return await _error(
                415,
                f"send {wanted.upper()} (Content-Type: {example}), "
                f"not {ctype or 'no content type'}",
            )(scope, receive, send)
        if length is None and scope["method"] in ("POST", "PUT", "PATCH"):
            receive = await _limited(receive, scope, send)
            if receive is None:
                return None
        return await self.app(scope, receive, send)


async def _limited(receive: Any, scope: dict, send: Any) -> Any:
    """Chunked bodies have no Content-Length: read up to the limit, then replay."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        body = message.get("body", b"")
        size += len(body)
        if size > MAX_BODY_BYTES:
            await _error(
                413,
                f"request body too large: > limit {MAX_BODY_BYTES} bytes",
                limit_bytes=MAX_BODY_BYTES,
            )(scope, receive, send)
            return None
        chunks.append(body)
        more = message.get("more_body", False)
    replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

    async def again() -> dict:
        return replay.pop() if replay else await receive()

    return again


def _readyz() -> JSONResponse:
    svc = _current.get("service")
    predictor = svc.predictor if svc else None
    if predictor is None:
        return JSONResponse({"ready": False, "reason": "no model loaded"}, status_code=503)
    info = predictor.info
    return JSONResponse(
        {
            "ready": True,
            "model_version": info["version"],
            "source": info["source"],
            **(
                {
                    "warning": "registry unreachable at start; serving the cached "
                    "last-known-good model"
                }
                if info["source"] == "cache"
                else {}
            ),
        }
    )


def _echo(value: Any) -> Any:
    """An offending value as JSON can carry it (no containers, no inf/NaN, bounded length)."""
    if isinstance(value, dict | list):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)[:40]
    return value if not isinstance(value, str) else value[:200]


@app.exception_handler(RequestValidationError)
async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [
        {
            "path": ".".join(str(p) for p in e["loc"] if p != "body"),
            # null for a required field: pydantic says "should be a valid string"; say why
            "rule": "required: may not be empty"
            if e.get("input") is None and e["type"] != "missing"
            else e["msg"],
            "value": _echo(e.get("input")),
        }
        for e in exc.errors()
    ]
    return _error(422, "invalid request", problems)


@app.exception_handler(InvalidAssessmentError)
async def _invalid_assessment(_: Request, exc: InvalidAssessmentError) -> JSONResponse:
    problems = [
        {
            "path": f"proposals.{int(p.row) - 1}.{p.column}" if pd.notna(p.row) else p.column,
            "rule": f"must be {p.rule}",
            "value": p.value,
        }
        for p in exc.problems.itertuples()
    ]
    return _error(422, "invalid proposal", problems)


@app.exception_handler(WhatIfError)
async def _invalid_whatif(_: Request, exc: WhatIfError) -> JSONResponse:
    return _error(422, "invalid change", [{"path": "changes", "rule": str(exc)}])


def _documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route answers, all with the JSON error body."""
    return {status: {"model": ErrorBody} for status in statuses}


def _frame(proposals: list) -> pd.DataFrame:
    """Pydantic-checked proposals -> the typed frame. The pydantic models are generated from
    the catalogue and enforce the schema's rules, so validation happens once, here."""
    return typed_records([p.model_dump() for p in proposals])


def _identity(request: Request) -> Identity:
    return request.scope["state"]["identity"]


@bentoml.service(workers=1, threads=8, traffic={"timeout": 60})
@bentoml.asgi_app(app, path="/")
class ScalePredict:
    def __init__(self) -> None:
        self._reload_lock = threading.Lock()
        self.predictor: Predictor | None = None
        self.audit = AuditLog()
        _current["service"] = self
        try:
            self.predictor = champion.load_at_start()
            log.info(
                "serving %s v%s from %s",
                self.predictor.info["name"],
                self.predictor.info["version"],
                self.predictor.info["source"],
            )
        except Exception as e:  # not ready, but alive: /readyz says why
            log.error("no model could be loaded: %s: %s", type(e).__name__, e)

    def __is_ready__(self) -> bool:
        return self.predictor is not None

    def _model(self) -> tuple[Predictor, dict]:
        predictor = self.predictor  # one read per request: a reload never changes it midway
        if predictor is None:
            raise _NotReady
        info = predictor.info
        return predictor, {
            "name": info["name"],
            "version": info["version"],
            "source": info["source"],
        }

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def page(self) -> FileResponse:
        """The planner page (plain HTML, CSS and JS; it signs in with an API key)."""
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    @app.get("/docs")
    def docs(self) -> Any:
        from fastapi.openapi.docs import get_redoc_html

        return get_redoc_html(openapi_url="/docs.json", title="ScalePredict API")

    @app.post(
        "/score",
        response_model=ScoreResponse,
        responses=_documented(401, 403, 413, 422),
    )
    def score(self, body: ScoreRequest, request: Request) -> Any:
        """Score 1..1,000 proposals: probability, risk band, 90% statement, drivers, plan."""
        if len(body.proposals) > MAX_PROPOSALS:
            return _error(
                413,
                f"too many proposals: {len(body.proposals)} > limit {MAX_PROPOSALS}",
                limit_proposals=MAX_PROPOSALS,
            )
        ids = [p.initiative_id for p in body.proposals]
        dupes = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) < len(ids) else []
        if dupes:
            return _error(
                422,
                "duplicate initiative_id in one request",
                [
                    {"path": f"proposals.{k}.initiative_id", "rule": "unique", "value": i}
                    for k, i in enumerate(ids)
                    if i in dupes
                ],
            )
        predictor, model = self._model()
        frame = _frame(body.proposals)
        results = predictor.assess(frame)
        request_id = uuid.uuid4().hex
        self.audit.record(
            request_id,
            "score",
            _identity(request).name,
            model["version"],
            [
                (r["initiative_id"], p.model_dump(mode="json"), r)
                for p, r in zip(body.proposals, results, strict=True)
            ],
        )
        return {"request_id": request_id, "model": model, "results": results}

    @app.post("/whatif", response_model=WhatIfResponse, responses=_documented(422))
    def whatif(self, body: WhatIfRequest, request: Request) -> Any:
        """Probability and explanation before and after setting factors to given scores."""
        predictor, model = self._model()
        frame = _frame([body.proposal])
        out = predictor.whatif(frame, body.changes)[0]
        request_id = uuid.uuid4().hex
        self.audit.record(
            request_id,
            "whatif",
            _identity(request).name,
            model["version"],
            [
                (
                    body.proposal.initiative_id,
                    {"proposal": body.proposal.model_dump(mode="json"), "changes": body.changes},
                    out,
                )
            ],
        )
        return {"request_id": request_id, "model": model, **out}

    @app.post("/plan", response_model=PlanResponse, responses=_documented(422))
    def plan(self, body: PlanRequest, request: Request) -> Any:
        """The cheapest set of mitigation steps that reaches the target probability."""
        predictor, model = self._model()
        frame = _frame([body.proposal])
        plan = predictor.plan(frame, body.target_probability, body.max_effort)[0]
        request_id = uuid.uuid4().hex
        self.audit.record(
            request_id,
            "plan",
            _identity(request).name,
            model["version"],
            [(body.proposal.initiative_id, body.model_dump(mode="json"), plan)],
        )
        return {
            "request_id": request_id,
            "model": model,
            "initiative_id": body.proposal.initiative_id,
            "plan": plan,
        }

    @app.post(
        "/portfolio",
        response_model=ScoreResponse,
        responses=_documented(401, 403, 413, 415, 422),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"text/csv": {"schema": {"type": "string"}}},
                "description": "A CSV of proposals in the template's columns (see "
                "`scalepredict template`); empty cells are unknown answers.",
            }
        },
    )
    async def portfolio(self, request: Request, filename: str = "portfolio.csv") -> Any:
        """Score a CSV of up to 1,000 proposals (no plans): problems are reported by file row,
        initiative_id, column and rule, as `scalepredict validate` reports them. History
        columns (`scaled_up`, `true_probability`) are ignored: proposals are being scored.
        `filename` only names the file in messages."""
        body = await request.body()
        name = Path(filename[:200]).name or "portfolio.csv"
        return await run_in_threadpool(self._portfolio, body, name, _identity(request).name)

    def _portfolio(self, body: bytes, filename: str, key_name: str) -> Any:
        cat = load_catalogue()
        try:
            raw = read_csv_bytes(body, filename)
            history = [c for c in (cat.outcome.name, cat.truth.name) if c in raw.frame.columns]
            raw = replace(raw, frame=raw.frame.drop(columns=history))
            if len(raw.frame) > MAX_PROPOSALS:
                return _error(
                    413,
                    f"too many proposals: {len(raw.frame)} rows > limit {MAX_PROPOSALS}",
                    limit_proposals=MAX_PROPOSALS,
                )
            result = validate_table(raw, labelled=False)
        except DataFileError as e:
            return _error(422, str(e))
        if not result.valid:
            return _error(
                422,
                f"{len(result.problems)} problem(s) in the CSV; nothing was scored",
                [
                    {
                        "path": f"row {p.row}.{p.column}",
                        "row": int(p.row) if pd.notna(p.row) else None,
                        "initiative_id": p.initiative_id,
                        "column": p.column,
                        "rule": f"must be {p.rule}",
                        "value": _echo(p.value),
                    }
                    for p in result.problems.head(200).itertuples()
                ],
            )
        predictor, model = self._model()
        results = predictor.assess(result.frame, plan=False)
        request_id = uuid.uuid4().hex
        self.audit.record(
            request_id,
            "portfolio",
            key_name,
            model["version"],
            [
                (r["initiative_id"], raw, r)
                for raw, r in zip(
                    result.raw.frame.astype(object)
                    .where(result.raw.frame.notna(), None)
                    .to_dict("records"),
                    results,
                    strict=True,
                )
            ],
        )
        return {"request_id": request_id, "model": model, "results": results}

    @app.get("/catalogue")
    def catalogue(self) -> dict:
        """Dimensions, factors with their rubric, context fields, mitigations."""
        return catalogue_dict(load_catalogue())

    @app.get("/model")
    def model(self) -> dict:
        """The model being served: version, alias, data fingerprint, metrics, source."""
        predictor, _ = self._model()
        return predictor.info

    @app.post("/admin/reload")
    def reload(self, request: Request) -> Any:
        """Load the current champion; in-flight requests finish on the model they started with."""
        with self._reload_lock:
            previous = self.predictor.info["version"] if self.predictor else None
            try:
                candidate = champion.from_registry()
            except Exception as e:
                log.error(
                    "reload refused: %s: %s; still serving v%s", type(e).__name__, e, previous
                )
                return _error(
                    409,
                    f"reload refused, still serving version {previous}",
                    [{"path": "model", "rule": f"{type(e).__name__}: {str(e)[:300]}"}],
                )
            self.predictor = candidate
        log.info(
            "reloaded by %s: v%s -> v%s",
            _identity(request).name,
            previous,
            candidate.info["version"],
        )
        return {
            "previous_version": previous,
            "version": candidate.info["version"],
            "source": candidate.info["source"],
        }

    @app.get("/admin/audit")
    def audit_export(self) -> Any:
        """The audit trail as CSV (admin only)."""
        import tempfile

        from fastapi.responses import Response

        with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
            self.audit.export(tmp.name)
            data = Path(tmp.name).read_bytes()
        return Response(data, media_type="text/csv")


class _NotReady(Exception):
    pass


@app.exception_handler(_NotReady)
async def _not_ready(_: Request, __: _NotReady) -> JSONResponse:
    return _error(503, "no model loaded; see /readyz")


app.mount("/static", StaticFiles(directory=STATIC), name="static")

ScalePredict.add_asgi_middleware(GuardMiddleware)
