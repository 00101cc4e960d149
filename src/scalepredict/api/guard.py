"""The guard in front of every route: body-size limit (413), Bearer auth with roles (401/403),
failed key attempts throttled per client address (429, `api.throttle`), media types (415), a
JSON /readyz, an admin-only /metrics with bounded labels. Raw ASGI rather than
BaseHTTPMiddleware so that streaming and BentoML's own routes are untouched.

A key the cache still trusts is checked on the event loop; anything needing the database
(a lookup, the snapshot of key digests) runs in a worker thread, so a flood of guesses never
stalls the requests already being answered."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scalepredict.api.errors import error
from scalepredict.api.metrics import Metrics, route_of
from scalepredict.api.routes import BODY_TYPES, OPEN_PATHS, ROLE_PATHS, ROUTES
from scalepredict.api.state import ServiceState
from scalepredict.api.throttle import FailedKeys
from scalepredict.store.keys import Identity, KeyFileError, KeyStore, KeysUnavailable

log = logging.getLogger("scalepredict.api")

MEDIA = {"json": "application/json", "csv": "text/csv"}


def readyz(state: ServiceState) -> JSONResponse:
    predictor = state.predictor
    if predictor is None:
        reason = f"no model loaded: {state.refused}" if state.refused else "no model loaded"
        return JSONResponse({"ready": False, "reason": reason}, status_code=503)
    audit_problem = state.audit_problem()
    if audit_problem:
        body = {"ready": False, "reason": f"the audit store cannot be written: {audit_problem}"}
        return JSONResponse(body, status_code=503)
    info = predictor.info
    warning = (
        {"warning": "registry unreachable at start; serving the cached last-known-good model"}
        if info["source"] == "cache"
        else {}
    )
    if state.refused:  # the registry's champion was refused: this model keeps serving
        warning["refused"] = f"the registry's champion was not loaded: {state.refused}"
    return JSONResponse(
        {"ready": True, "model_version": info["version"], "source": info["source"], **warning}
    )


def accepts(kind: str, content_type: str) -> bool:
    """The media type itself (parameters such as charset aside), not a substring of it."""
    media = content_type.split(";", 1)[0].strip().lower()
    if kind == "json":
        return media == "application/json" or (
            media.startswith("application/") and media.endswith("+json")
        )
    return media in ("text/csv", "application/csv")


class GuardMiddleware:
    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state
        settings = state.settings  # read once, by the state
        self.keys = KeyStore(settings)
        self.max_body = settings.max_body_bytes
        self.failures = FailedKeys(
            settings.key_failures_allowed, settings.key_failure_window_seconds
        )
        self._snapshot = asyncio.Lock()  # one read of the key digests at a time
        self.metrics = Metrics()
        state.on_shed = self.metrics.shed.inc

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [0]

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        path = scope["path"].rstrip("/") or "/"
        scope.setdefault("state", {})["started"] = time.monotonic()
        try:
            await self._guarded(scope, receive, counted, path)
        finally:
            self.metrics.observe(path, scope["method"], status[0], time.perf_counter() - started)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        route = route_of(path)
        if route != "other" and scope["method"] not in ROUTES[route]:
            allowed = ", ".join(sorted(ROUTES[route]))
            return await error(
                405, f"{scope['method']} is not allowed on {path}; use {allowed}", allow=allowed
            )(scope, receive, send)
        if path == "/readyz":
            return await readyz(self.state)(scope, receive, send)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return await error(
                413,
                f"request body too large: {length} bytes > limit {self.max_body} bytes",
                limit_bytes=self.max_body,
            )(scope, receive, send)
        if path in OPEN_PATHS or path.startswith("/static/"):
            return await self.app(scope, receive, send)
        identity = await self._identify(headers, scope, receive, send)
        if identity is None:
            return None
        if identity.role != "admin" and path not in ROLE_PATHS.get(identity.role, ()):
            needed = " or ".join(
                [role for role, paths in ROLE_PATHS.items() if path in paths] + ["admin"]
            )
            return await error(
                403,
                f"key {identity.name!r} (role {identity.role}) may not "
                f"call {path}; {needed} role required",
            )(scope, receive, send)
        if route == "other":  # past the guard BentoML would answer in plain text
            return await error(404, f"no such path: {path[:200]}")(scope, receive, send)
        if path == "/metrics":
            return await Response(self.metrics.render(), media_type="text/plain")(
                scope, receive, send
            )
        scope["state"]["identity"] = identity
        wanted = BODY_TYPES.get(path)
        ctype = headers.get("content-type", "")
        if scope["method"] == "POST" and wanted and not accepts(wanted, ctype):
            return await error(
                415,
                f"send {wanted.upper()} (Content-Type: {MEDIA[wanted]}), "
                f"not {ctype or 'no content type'}",
            )(scope, receive, send)
        if length is None and scope["method"] in ("POST", "PUT", "PATCH"):
            replayed = await self._limited(receive, scope, send)
            if replayed is None:
                return None
            receive = replayed
        return await self.app(scope, receive, send)

    async def _identify(
        self, headers: dict[str, str], scope: Scope, receive: Receive, send: Send
    ) -> Identity | None:
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not token:
            await error(401, "missing Bearer token")(scope, receive, send)
            return None
        identity = self.keys.cached(token)
        if identity is not None:
            return identity
        address = str((scope.get("client") or ("unknown",))[0])
        wait = self.failures.retry_after(address)
        try:
            # A throttled address's keys get a lookup only when they are real keys, so its
            # guesses cost no query and a valid key sharing the address still gets in.
            if wait is None:
                self.failures.attempt(address)
                try:
                    identity = await run_in_threadpool(self.keys.identify, token)
                except BaseException:  # no answer (keys unavailable): not a failed attempt
                    self.failures.settle(address, failed=False)
                    raise
                self.failures.settle(address, failed=identity is None)
            elif await self._is_key(token):
                identity = await run_in_threadpool(self.keys.identify, token)
        except (KeyFileError, KeysUnavailable) as e:  # refuse at once and say why, not hang
            log.error("API keys unavailable: %s", e)
            await error(503, f"API keys unavailable: {e}", retry_after=5)(scope, receive, send)
            return None
        if identity is None and wait is not None:
            self.failures.refuse(address)
            self.metrics.throttled.inc()
            await error(
                429,
                f"too many invalid API keys from this address; try again in {wait} s",
                retry_after=wait,
            )(scope, receive, send)
        elif identity is None:
            await error(401, "invalid API key")(scope, receive, send)
        return identity

    async def _is_key(self, token: str) -> bool:
        known = self.keys.is_key(token)
        if known is None:
            async with self._snapshot:  # the first stale check reads; the others wait for it
                if (known := self.keys.is_key(token)) is None:
                    await run_in_threadpool(self.keys.refresh)
                    known = bool(self.keys.is_key(token))
        return known

    async def _limited(self, receive: Receive, scope: Scope, send: Send) -> Receive | None:
        """Chunked bodies have no Content-Length: read up to the limit, then replay."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            body = message.get("body", b"")
            size += len(body)
            if size > self.max_body:
                await error(
                    413,
                    f"request body too large: > limit {self.max_body} bytes",
                    limit_bytes=self.max_body,
                )(scope, receive, send)
                return None
            chunks.append(body)
            more = message.get("more_body", False)
        replay = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def again() -> Message:
            return replay.pop() if replay else await receive()

        return again
