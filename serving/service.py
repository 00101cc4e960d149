"""The BentoML service: hands ScalePredict's FastAPI app to BentoML, which runs the process,
/livez, /readyz and the Bento. Routes, auth, errors and metrics live in `scalepredict.api`.

`bentoml serve` imports this module twice, one after the other: in its supervisor (to read the
service's configuration) and in each worker. Only the worker serves, so the app, its state and
their imports (pandas, XGBoost, MLflow: seconds) are made there, when the worker creates the
service, not at import: the supervisor starts the worker seconds sooner."""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING, Any

import bentoml

from scalepredict.settings import get_settings

if TYPE_CHECKING:
    from scalepredict.api.guard import GuardMiddleware
    from scalepredict.api.state import ServiceState

settings = get_settings()


@cache
def worker_state() -> ServiceState:
    """The worker's one state: the catalogue setting's (default: the built-in one)."""
    from scalepredict.api.state import ServiceState
    from scalepredict.catalogue import load_catalogue

    logging.getLogger("scalepredict").setLevel(logging.INFO)  # model source, reloads, refusals
    return ServiceState(load_catalogue())


class WorkerApp:
    """The routes as an ASGI app, made in the worker by `ScalePredict.__init__` (before the
    worker serves), or by a first request that somehow came sooner."""

    app: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self.app is None:
            self.build()
        await self.app(scope, receive, send)

    def build(self) -> None:
        from scalepredict.api.app import create_app

        self.app = create_app(worker_state())


def guard(app: Any) -> GuardMiddleware:
    """The guard around the whole worker app (BentoML's routes too), over the worker's state."""
    from scalepredict.api.guard import GuardMiddleware

    return GuardMiddleware(app, state=worker_state())


routes = WorkerApp()


# BentoML's metrics label requests by raw path (unbounded): the guard serves bounded ones.
@bentoml.service(
    workers=settings.workers,
    threads=8,
    traffic={"timeout": settings.request_timeout},
    metrics={"enabled": False},
)
@bentoml.asgi_app(routes, path="/")
class ScalePredict:
    def __init__(self) -> None:
        # in the worker process: the routes, the champion, the audit log
        routes.build()
        worker_state().start()

    def __is_ready__(self) -> bool:
        return worker_state().ready


ScalePredict.add_asgi_middleware(guard)  # type: ignore[arg-type]  # a factory, as Starlette allows
