"""The routes beside scoring: outcomes (recorder, admin) and the admin's reload, audit
export and monitor summary. No `from __future__ import annotations`: FastAPI must see the
request model generated from the catalogue as an object, not as a name to look up."""

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from scalepredict.api.common import SIGNED_IN, identity
from scalepredict.api.errors import TooManyProposals, documented, error, outcomes_refused
from scalepredict.api.schemas import OutcomesResponse
from scalepredict.api.state import ReloadRefused, ServiceState, log
from scalepredict.monitoring.report_types import MonitorSummary
from scalepredict.store import outcomes

IsoDate = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-01-31"])]


def admin_routes(
    state: ServiceState, OutcomesRequest: Any, route_class: type[APIRoute] = APIRoute
) -> APIRouter:
    """`OutcomesRequest` is generated from the served catalogue (see `request_models`);
    `route_class` parses bodies as the scoring routes do."""
    app = APIRouter(route_class=route_class)
    cat = state.catalogue

    @app.post(
        "/outcomes",
        response_model=OutcomesResponse,
        responses=documented(*SIGNED_IN, 400, 409, 413, 415, 422),
    )
    def record_outcomes(body: OutcomesRequest, request: Request) -> Any:
        """Record what happened to scored initiatives, each matched to its latest scoring. All
        or nothing: 422 lists every bad row; 409 a different outcome for a recorded id (send
        `replace: true`; the old one goes to history); the same outcome again is unchanged."""
        TooManyProposals.check(len(body.outcomes), state.settings.max_proposals, " outcomes")
        try:
            done = outcomes.record(
                state.audit.engine, body.outcomes, cat, identity(request).name, body.replace
            )
        except outcomes.OutcomesRejected as e:
            return outcomes_refused(e)
        except Exception as e:  # the database is down: nothing recorded, say so
            log.error("outcomes not recorded: %s: %s", type(e).__name__, str(e)[:300])
            return error(
                503,
                f"the database cannot be written ({type(e).__name__}); nothing was recorded",
                retry_after=5,
            )
        return done.as_dict()  # who recorded each outcome is stored with it

    @app.post("/admin/reload", responses=documented(*SIGNED_IN, 409))
    def reload(request: Request) -> Any:
        """Load the current champion; in-flight requests finish on the model they started with."""
        try:
            previous, candidate = state.reload()
        except ReloadRefused as e:
            return error(
                409,
                f"reload refused, still serving version {e.previous}",
                [{"path": "model", "rule": str(e)}],
            )
        version = candidate.info["version"]
        log.info("reloaded by %s: v%s -> v%s", identity(request).name, previous, version)
        return {
            "previous_version": previous,
            "version": version,
            "source": candidate.info["source"],
        }

    @app.get(
        "/admin/audit",
        responses={
            200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
            **documented(*SIGNED_IN),
        },
        response_class=Response,
    )
    def audit_export() -> Any:
        """The audit trail as CSV (admin only)."""
        with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
            state.audit.export(tmp.name)
            data = Path(tmp.name).read_bytes()
        return Response(data, media_type="text/csv")

    @app.get("/admin/monitor", response_model=MonitorSummary, responses=documented(*SIGNED_IN, 422))
    def monitor(since: IsoDate = None, until: IsoDate = None) -> Any:
        """The monitor's summary (admin only): verdict (ok / watch / act), reasons, and per
        window the drift and the estimated and realized AUC; `since`/`until`: YYYY-MM-DD."""
        from scalepredict.api.monitor import monitor_summary

        try:  # only calendar dates: pydantic would also read `0` as 1970-01-01
            start, end = (None if d is None else date.fromisoformat(d) for d in (since, until))
        except ValueError as e:
            return error(422, "invalid date", [{"path": "query", "rule": str(e)}])
        if start is not None and end is not None and end <= start:
            return error(
                422, "until must be after since", [{"path": "query.until", "rule": "> since"}]
            )
        return monitor_summary(state, start, end)

    return app
