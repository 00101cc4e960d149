"""The scoring API's routes, on a FastAPI app built around a `ServiceState`.

BentoML runs it (`serving/service.py` mounts it and adds the guard); tests can also run it in
process with `asgi(state)` and Starlette's TestClient. The routes stay thin: HTTP, audit and
error mapping; all model work is the `Predictor` the CLI and the MLflow pyfunc use too."""

import uuid
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from scalepredict.api.admin import admin_routes
from scalepredict.api.answers import CSV_TOO, Format, answer, wanted
from scalepredict.api.body import BodyDeadline, bounded_route
from scalepredict.api.common import SCORING, SIGNED_IN, identity, started
from scalepredict.api.decisions import decide
from scalepredict.api.errors import (
    SafeJSONResponse,
    TooManyProposals,
    documented,
    install_handlers,
)
from scalepredict.api.guard import GuardMiddleware
from scalepredict.api.openapi import document
from scalepredict.api.proposals import from_csv, from_records
from scalepredict.api.requests import request_models
from scalepredict.api.schemas import PlanResponse, ScoreResponse, WhatIfResponse
from scalepredict.api.state import ServiceState
from scalepredict.catalogue import catalogue_dict

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
        "`scalepredict template`); empty cells and the unknown tokens are unknown answers, "
        "history columns are ignored.",
    }
}


class PageFiles(StaticFiles):
    """The planner page's files, with the page's own security headers on every one."""

    async def get_response(self, path: str, scope: Any) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(PAGE_HEADERS)
        return response


def create_app(state: ServiceState) -> FastAPI:
    """The routes over `state`, with request models of the state's catalogue (not yet guarded:
    see `asgi`)."""
    app = FastAPI(
        title="ScalePredict",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        default_response_class=SafeJSONResponse,
        # operation ids are the route names (`score`), what a generated client calls
        generate_unique_id_function=lambda route: route.name,
    )
    install_handlers(app)
    # integers bounded while the body is parsed (a 4,000-digit one would overflow later)
    app.router.route_class = bounded_route(state.settings.max_integer_digits)
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

    @app.get("/docs.json", include_in_schema=False)
    def openapi_document() -> dict:
        """This API's OpenAPI document (open: a client generator reads it)."""
        return document(app, state)

    @app.post("/score", response_model=ScoreResponse, responses={**CSV_TOO, **documented(*SCORING)})
    def score(
        body: ScoreRequest,
        request: Request,
        explain: bool = True,
        plan: bool = True,
        format: Format | None = None,
    ) -> Any:
        """Score 1..1,000 proposals: probability, risk band, 90% statement, drivers, plan.
        `explain=false` / `plan=false` leave those out (null; faster); `format=csv` (or
        `Accept: text/csv`) answers one CSV row per proposal."""
        TooManyProposals.check(len(body.proposals), state.settings.max_proposals)
        frame = from_records(body.proposals, cat, limit=state.settings.max_unknown_fields)
        predictor, model = state.model()
        with state.admitted(len(body.proposals)):
            results = predictor.assess(frame, explain=explain, plan=plan)
        request_id = uuid.uuid4().hex
        state.record(
            started(request),
            request_id,
            "score",
            identity(request).name,
            model["version"],
            [(r["initiative_id"], p, r) for p, r in zip(body.proposals, results, strict=True)],
        )
        out = {"request_id": request_id, "model": model, "results": results}
        return answer(out, wanted(request, format))

    @app.post("/whatif", response_model=WhatIfResponse, responses=documented(*SCORING))
    def whatif(body: WhatIfRequest, request: Request) -> Any:
        """Probability and explanation before and after setting factors to given scores."""
        frame = from_records([body.proposal], cat, "proposal", state.settings.max_unknown_fields)
        predictor, model = state.model()
        with state.admitted(2):  # before and after
            out = predictor.whatif(frame, body.changes)[0]
        request_id = uuid.uuid4().hex
        inputs = {"proposal": body.proposal, "changes": body.changes}
        state.record(
            started(request),
            request_id,
            "whatif",
            identity(request).name,
            model["version"],
            [(frame[cat.id_column].iloc[0], inputs, out)],
        )
        return {"request_id": request_id, "model": model, **out}

    @app.post("/plan", response_model=PlanResponse, responses=documented(*SCORING))
    def plan(body: PlanRequest, request: Request) -> Any:
        """The cheapest set of mitigation steps that reaches the target probability."""
        frame = from_records([body.proposal], cat, "proposal", state.settings.max_unknown_fields)
        predictor, model = state.model()
        with state.admitted(1):
            result = predictor.plan(frame, body.target_probability, body.max_effort)[0]
        request_id = uuid.uuid4().hex
        state.record(
            started(request),
            request_id,
            "plan",
            identity(request).name,
            model["version"],
            [(frame[cat.id_column].iloc[0], body.model_dump(mode="json"), result)],
        )
        return {
            "request_id": request_id,
            "model": model,
            "initiative_id": str(frame[cat.id_column].iloc[0]),
            "plan": result,
        }

    @app.post(
        "/portfolio",
        response_model=ScoreResponse,
        responses={**CSV_TOO, **documented(*SCORING)},
        openapi_extra=PORTFOLIO_BODY,
    )
    async def portfolio(
        request: Request,
        filename: str = "portfolio.csv",
        explain: bool = True,
        plan: bool = False,
        format: Format | None = None,
        budget: float | None = None,
        cost: str | None = None,
    ) -> Any:
        """Score a CSV of up to 1,000 proposals (plans on request): the same cells are
        accepted and refused as in /score, problems named by file row, proposal,
        initiative_id, column and rule. `filename` only names the file in messages. With a
        `budget`, each proposal costs its `cost` field (a numeric context field, e.g.
        `budget_eur`) and gets a `decision` (`fund` or `do not fund`): the set within the
        budget of largest expected successes as assessed (the sum of the chosen
        probabilities), solved exactly as a 0/1 knapsack; the answer's `budget` sums it up."""
        body = await request.body()
        name = Path(filename[:200]).name or "portfolio.csv"
        who, since = identity(request).name, started(request)
        parts = {"explain": explain, "plan": plan}
        out = await run_in_threadpool(
            _portfolio, state, body, name, who, since, parts, (budget, cost)
        )
        return answer(out, wanted(request, format))

    @app.get("/catalogue", responses=documented(*SIGNED_IN))
    def catalogue() -> dict:
        """Dimensions, factors with their rubric, context fields, mitigations."""
        return catalogue_dict(cat)

    @app.get("/model", responses=documented(*SIGNED_IN))
    def model() -> dict:
        """The model being served: version, alias, data fingerprint, metrics, source."""
        predictor, _ = state.model()
        return predictor.info

    app.include_router(admin_routes(state, models.OutcomesRequest, app.router.route_class))
    app.mount("/static", PageFiles(directory=STATIC), name="static")
    return app


def _portfolio(
    state: ServiceState,
    body: bytes,
    filename: str,
    key_name: str,
    started: float,
    parts: dict[str, bool],
    choose: tuple[float | None, str | None] = (None, None),
) -> dict[str, Any]:
    settings = state.settings
    result = from_csv(body, filename, state.catalogue, settings.max_proposals, settings.max_columns)
    predictor, model = state.model()
    with state.admitted(len(result.frame)):
        results = predictor.assess(result.frame, **parts)
    budget, cost = choose
    summary = None
    if budget is not None:
        first = result.raw.first_row
        summary = decide(results, result.frame, state.catalogue, budget, cost, first)
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
    out = {"request_id": request_id, "model": model, "results": results}
    return out if summary is None else {**out, "budget": summary}


def asgi(state: ServiceState) -> BodyDeadline:
    """The whole HTTP layer in process: the routes behind the guard and the body deadline (for
    TestClient); `scalepredict.api.worker.guard` is the same for BentoML."""
    guarded = GuardMiddleware(create_app(state), state=state)
    return BodyDeadline(guarded, state.settings.body_timeout)
