"""The BentoML service: hands ScalePredict's FastAPI app to BentoML, which runs the process,
/livez, /readyz and the Bento. Routes, auth, errors and metrics live in `scalepredict.api`."""

from __future__ import annotations

import logging

import bentoml

from scalepredict.api.app import create_app
from scalepredict.api.guard import GuardMiddleware
from scalepredict.api.state import ServiceState
from scalepredict.catalogue import load_catalogue
from scalepredict.settings import get_settings

logging.getLogger("scalepredict").setLevel(logging.INFO)  # model source, reloads, refusals
state = ServiceState(load_catalogue())  # the catalogue setting's (default: the built-in one)
app = create_app(state)


# BentoML's metrics label requests by raw path (unbounded): the guard serves bounded ones.
@bentoml.service(
    workers=1,
    threads=8,
    traffic={"timeout": get_settings().request_timeout},
    metrics={"enabled": False},
)
@bentoml.asgi_app(app, path="/")
class ScalePredict:
    def __init__(self) -> None:
        state.start()  # in the worker process: the champion, the audit log

    def __is_ready__(self) -> bool:
        return state.ready


ScalePredict.add_asgi_middleware(GuardMiddleware, state=state)
