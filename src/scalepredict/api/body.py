"""Bounds on reading a request body: how long a client may take to send it (408), and how long
an integer in JSON may be (400, while parsing: Python's own limit, 4,300 digits, lets through
numbers that later overflow a float)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scalepredict.api.errors import error


def bounded_int(max_digits: int) -> Callable[[str], int]:
    """`json.loads`' parse_int that refuses an integer longer than `max_digits` digits."""

    def parse(text: str) -> int:
        digits = len(text) - (text[:1] == "-")
        if digits > max_digits:
            raise HTTPException(
                400, f"an integer of {digits} digits in the body; at most {max_digits} are read"
            )
        return int(text)

    return parse


def bounded_route(max_digits: int) -> type[APIRoute]:
    """Routes whose JSON body is parsed with integers bounded to `max_digits` digits."""
    parse_int = bounded_int(max_digits)

    class BoundedRequest(Request):
        async def json(self) -> Any:
            if not hasattr(self, "_json"):
                self._json = json.loads(await self.body(), parse_int=parse_int)
            return self._json

    class BoundedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                return await handler(BoundedRequest(request.scope, request.receive))

            return handle

    return BoundedRoute


class BodyDeadline:
    """ASGI middleware: a request whose body has not fully arrived `seconds` after the request
    started is answered 408 and its connection closed, so a slow client cannot hold a worker.
    Once the body is in, `receive` passes through untouched (a route may wait on a disconnect)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        state = {"body_done": False, "timed_out": False, "started": False}

        async def timed_receive() -> Message:
            if state["timed_out"]:
                return {"type": "http.disconnect"}
            if state["body_done"]:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0))
            except TimeoutError:
                state["timed_out"] = True
                if not state["started"]:
                    late = error(408, f"the request body did not arrive within {self.seconds:g} s")
                    late.headers["Connection"] = "close"
                    await late(scope, receive, send)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                state["body_done"] = True
            return message

        async def guarded_send(message: Message) -> None:
            if state["timed_out"]:
                return  # the 408 is the answer
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        await self.app(scope, timed_receive, guarded_send)
