"""The BentoML service: hands ScalePredict's FastAPI app to BentoML, which runs the processes,
/livez, /readyz and the Bento. Routes, auth, errors and metrics live in `scalepredict.api`;
`scalepredict.api.worker` makes them in each worker, not in BentoML's supervisor."""

from __future__ import annotations

import bentoml

from scalepredict.api.worker import WorkerRoutes, guard, worker_state
from scalepredict.settings import get_settings

settings = get_settings()
routes = WorkerRoutes()


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
        routes.start()  # in the worker process: the routes, the champion, the audit log

    def __is_ready__(self) -> bool:
        return worker_state().ready


ScalePredict.add_asgi_middleware(guard)  # type: ignore[arg-type]  # a factory, as Starlette allows
