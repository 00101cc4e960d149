"""The BentoML service: hands ScalePredict's FastAPI app to BentoML, which runs the process,
/livez, /readyz, metrics and the Bento. Routes, auth and errors live in `scalepredict.api`."""

from __future__ import annotations

import bentoml

from scalepredict.api.app import create_app
from scalepredict.api.guard import GuardMiddleware
from scalepredict.api.state import ServiceState
from scalepredict.catalogue import load_catalogue

state = ServiceState(load_catalogue())  # the catalogue setting's (default: the built-in one)
app = create_app(state)


@bentoml.service(workers=1, threads=8, traffic={"timeout": 60})
@bentoml.asgi_app(app, path="/")
class ScalePredict:
    def __init__(self) -> None:
        state.start()  # in the worker process: the champion, the audit log

    def __is_ready__(self) -> bool:
        return state.ready


ScalePredict.add_asgi_middleware(GuardMiddleware, state=state)
