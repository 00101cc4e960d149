"""What `serving/service.py` hands BentoML, made lazily. `bentoml serve` imports the service
module twice, one after the other: in its supervisor (to read the service's configuration) and
in each worker. Only a worker serves, so the state, the routes and their imports (pandas,
XGBoost, MLflow: seconds) are made there when the worker creates the service, not at import:
the supervisor starts the worker seconds sooner. Each worker has its own state: its champion,
its poller of the registry's alias, its audit connections."""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

    from scalepredict.api.body import BodyDeadline
    from scalepredict.api.state import ServiceState


@cache
def worker_state() -> ServiceState:
    """The worker's one state, of the catalogue setting's catalogue (default: the built-in)."""
    from scalepredict.api.state import ServiceState
    from scalepredict.catalogue import load_catalogue
    from scalepredict.settings import get_settings

    logging.getLogger("scalepredict").setLevel(logging.INFO)  # model source, reloads, refusals
    return ServiceState(load_catalogue(get_settings()))


class WorkerRoutes:
    """The routes as an ASGI app, built by `start` when the worker creates the service (or by
    a request that somehow came sooner)."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    def start(self) -> None:
        """Build the routes, then load the champion and open the audit log."""
        self._build()
        worker_state().start()

    def _build(self) -> ASGIApp:
        if self.app is None:
            from scalepredict.api.app import create_app

            self.app = create_app(worker_state())
        return self.app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._build()(scope, receive, send)


def guard(app: ASGIApp) -> BodyDeadline:
    """The guard around the whole worker app (BentoML's own routes too), over its state, and
    around it the deadline for a request body (a slow client is answered 408)."""
    from scalepredict.api.body import BodyDeadline
    from scalepredict.api.guard import GuardMiddleware

    state = worker_state()
    return BodyDeadline(GuardMiddleware(app, state=state), state.settings.body_timeout)
