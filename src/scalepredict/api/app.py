"""The scoring API's routes, on a FastAPI app built around a `ServiceState`.

BentoML runs it (`serving/service.py` mounts it and adds the guard); tests can also run it in
process with `asgi(state)` and Starlette's TestClient. The routes stay thin: HTTP, audit and
error mapping; all model work is the `Predictor` the CLI and the MLflow pyfunc use too."""

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from scalepredict.api.admin import admin_routes
from scalepredict.api.common import SCORING, SIGNED_IN, identity, started, too_many
from scalepredict.api.errors import (
    SafeJSONResponse,
    documented,
    echo,
    error,
    install_handlers,
)
from scalepredict.api.guard import GuardMiddleware
from scalepredict.api.schemas import (
    PlanResponse,
    ScoreResponse,
    WhatIfResponse,
    request_models,
)
from scalepredict.api.state import ServiceState
from scalepredict.catalogue import Catalogue, catalogue_dict
from scalepredict.data.tables import DataFileError, read_csv_bytes
from scalepredict.data.validation import in_catalogue_names, typed_records, validate_table

STATIC = Path(__file__).parent / "static"
# The planner page loads only its own files and talks only to this API.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PORTFOLIO_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "A CSV of proposals in the template's columns (see "
        "`scalepredict template`); empty cells are unknown answers.",
    }
}


def _frame(proposals: list, cat: Catalogue) -> pd.DataFrame:
    """Pydantic-checked proposals -> the typed frame. The pydantic models are generated from
    the catalogue and enforce the schema's rules, so validation happens once, here."""
    return typed_records([p.model_dump() for p in proposals], cat)


class PageFiles(StaticFiles):
    """The planner page's files, with the page's own security headers on every one."""

    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(PAGE_HEADERS)
        return response


def _duplicates(ids: list[str], id_column: str) -> Response | None:
    if len(set(ids)) == len(ids):
        return None
    seen: set[str] = set()
    dupes = {i for i in ids if i in seen or seen.add(i)}  # type: ignore[func-returns-value]
    return error(
        422,
        f"duplicate {id_column} in one request",
        [
            {"path": f"proposals.{k}.{id_column}", "rule": "unique", "value": i}
            for k, i in enumerate(ids)
            if i in dupes
        ],
    )


def _answered(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Results as ScoreResponse answers them: the identifier always as text (a catalogue's
    identifier may be a number)."""
    if all(isinstance(r["initiative_id"], str) for r in results):
        return results
    return [{**r, "initiative_id": str(r["initiative_id"])} for r in results]


def create_app(state: ServiceState) -> FastAPI:
    """The routes over `state`, with request models of the state's catalogue (not yet guarded:
    see `asgi`)."""
    app = FastAPI(
        title="ScalePredict",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        default_response_class=SafeJSONResponse,
    )
    install_handlers(app)
    cat = state.catalogue
    models = request_models(cat, state.settings.max_proposals)
    ScoreRequest, WhatIfRequest, PlanRequest = (
        models.ScoreRequest,
        models.WhatIfRequest,
        models.PlanRequest,
    )

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    def page() -> FileResponse:
        """The planner page (plain HTML, CSS and JS; it signs in with an API key)."""
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    @app.get("/docs", include_in_schema=False)
    def docs() -> FileResponse:
        """The API reference: our own page over /docs.json, nothing loaded from elsewhere."""
        return FileResponse(STATIC / "docs.html", headers=PAGE_HEADERS)

    @app.post("/score", response_model=ScoreResponse, responses=documented(*SCORING))
    def score(body: ScoreRequest, request: Request) -> Any:
        """Score 1..1,000 proposals: probability, risk band, 90% statement, drivers, plan."""
        refused = too_many(len(body.proposals), "", state.settings.max_proposals) or _duplicates(
            [getattr(p, cat.id_column) for p in body.proposals], cat.id_column
        )
        if refused is not None:
            return refused
        predictor, model = state.model()
        with state.admitted(len(body.proposals)):
            results = predictor.assess(_frame(body.proposals, cat))
        request_id = uuid.uuid4().hex
        state.record(
            started(request),
            request_id,
            "score",
            identity(request).name,
            model["version"],
            [
                (r["initiative_id"], p.model_dump(mode="json"), r)
                for p, r in zip(body.proposals, results, strict=True)
            ],
        )
        # Built by our own code to ScoreResponse's shape: answered as is, not validated again
        # (re-validating a 100-proposal answer cost more than scoring it).
        return SafeJSONResponse(
            {"request_id": request_id, "model": model, "results": _answered(results)}
        )

    @app.post("/whatif", response_model=WhatIfResponse, responses=documented(*SCORING))
    def whatif(body: WhatIfRequest, request: Request) -> Any:
        """Probability and explanation before and after setting factors to given scores."""
        predictor, model = state.model()
        with state.admitted(2):  # before and after
            out = predictor.whatif(_frame([body.proposal], cat), body.changes)[0]
        request_id = uuid.uuid4().hex
        inputs = {"proposal": body.proposal.model_dump(mode="json"), "changes": body.changes}
        state.record(
            started(request),
            request_id,
            "whatif",
            identity(request).name,
            model["version"],
            [(getattr(body.proposal, cat.id_column), inputs, out)],
        )
        return {"request_id": request_id, "model": model, **out}

    @app.post("/plan", response_model=PlanResponse, responses=documented(*SCORING))
    def plan(body: PlanRequest, request: Request) -> Any:
        """The cheapest set of mitigation steps that reaches the target probability."""
        predictor, model = state.model()
        frame = _frame([body.proposal], cat)
        with state.admitted(1):
            result = predictor.plan(frame, body.target_probability, body.max_effort)[0]
        request_id = uuid.uuid4().hex
        state.record(
            started(request),
            request_id,
            "plan",
            identity(request).name,
            model["version"],
            [(getattr(body.proposal, cat.id_column), body.model_dump(mode="json"), result)],
        )
        return {
            "request_id": request_id,
            "model": model,
            "initiative_id": getattr(body.proposal, cat.id_column),
            "plan": result,
        }

    @app.post(
        "/portfolio",
        response_model=ScoreResponse,
        responses=documented(*SCORING),
        openapi_extra=PORTFOLIO_BODY,
    )
    async def portfolio(request: Request, filename: str = "portfolio.csv") -> Any:
        """Score a CSV of up to 1,000 proposals (no plans): problems are reported by file row,
        initiative_id, column and rule, as `scalepredict validate` reports them. History
        columns (`scaled_up`, `true_probability`) are ignored: proposals are being scored.
        `filename` only names the file in messages."""
        body = await request.body()
        name = Path(filename[:200]).name or "portfolio.csv"
        who, since = identity(request).name, started(request)
        return await run_in_threadpool(_portfolio, state, body, name, who, since)

    @app.get("/catalogue", responses=documented(*SIGNED_IN))
    def catalogue() -> dict:
        """Dimensions, factors with their rubric, context fields, mitigations."""
        return catalogue_dict(cat)

    @app.get("/model", responses=documented(*SIGNED_IN))
    def model() -> dict:
        """The model being served: version, alias, data fingerprint, metrics, source."""
        predictor, _ = state.model()
        return predictor.info

    app.include_router(admin_routes(state, models.OutcomesRequest))
    app.mount("/static", PageFiles(directory=STATIC), name="static")
    return app


def _portfolio(
    state: ServiceState, body: bytes, filename: str, key_name: str, started: float
) -> Any:
    cat = state.catalogue
    try:
        raw = in_catalogue_names(read_csv_bytes(body, filename), cat)
        history = [c for c in cat.history_columns if c in raw.frame.columns]
        raw = replace(raw, frame=raw.frame.drop(columns=history))
        refused = too_many(len(raw.frame), " rows", state.settings.max_proposals)
        if refused is not None:
            return refused
        result = validate_table(raw, False, cat)
    except DataFileError as e:
        return error(422, str(e))
    if not result.valid:
        return error(
            422,
            f"{len(result.problems)} problem(s) in the CSV; nothing was scored",
            [
                {
                    "path": f"row {p.row}.{p.column}",
                    "row": int(p.row) if pd.notna(p.row) else None,
                    "initiative_id": p.initiative_id,
                    "column": p.column,
                    "rule": f"must be {p.rule}",
                    "value": echo(p.value),
                }
                for p in result.problems.head(200).itertuples()
            ],
        )
    predictor, model = state.model()
    with state.admitted(len(result.frame)):
        results = predictor.assess(result.frame, plan=False)
    request_id = uuid.uuid4().hex
    rows = result.raw.frame.astype(object).where(result.raw.frame.notna(), None)
    state.record(
        started,
        request_id,
        "portfolio",
        key_name,
        model["version"],
        [
            (r["initiative_id"], given, r)
            for given, r in zip(rows.to_dict("records"), results, strict=True)
        ],
    )
    return {"request_id": request_id, "model": model, "results": results}


def asgi(state: ServiceState) -> GuardMiddleware:
    """The whole HTTP layer in process: the routes behind the guard (for TestClient)."""
    return GuardMiddleware(create_app(state), state=state)
