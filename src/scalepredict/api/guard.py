"""The guard in front of every route: body-size limit (413), Bearer auth with roles (401/403),
media types (415) and a JSON /readyz. Raw ASGI rather than BaseHTTPMiddleware so that streaming
and BentoML's own routes are untouched."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from scalepredict.api.errors import error
from scalepredict.api.state import ServiceState
from scalepredict.settings import get_settings
from scalepredict.store.keys import KeyStore

# Which role may call what; anything not listed (and not open) is admin-only.
OPEN_PATHS = {"/livez", "/healthz", "/metrics", "/docs.json", "/schema.json", "/docs", "/"}
SCORER_PATHS = {"/score", "/whatif", "/plan", "/portfolio", "/catalogue", "/model"}
# POST bodies and the media type each accepts (anything else: 415)
BODY_TYPES = {"/score": "json", "/whatif": "json", "/plan": "json", "/portfolio": "csv"}


def readyz(state: ServiceState) -> JSONResponse:
    predictor = state.predictor
    if predictor is None:
        reason = f"no model loaded: {state.refused}" if state.refused else "no model loaded"
        return JSONResponse({"ready": False, "reason": reason}, status_code=503)
    info = predictor.info
    warning = (
        {"warning": "registry unreachable at start; serving the cached last-known-good model"}
        if info["source"] == "cache"
        else {}
    )
    return JSONResponse(
        {"ready": True, "model_version": info["version"], "source": info["source"], **warning}
    )


class GuardMiddleware:
    def __init__(self, app: Any, state: ServiceState) -> None:
        self.app = app
        self.state = state
        self.keys = KeyStore()
        self.max_body = get_settings().max_body_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/") or "/"
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
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
        auth = headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        identity = self.keys.identify(token) if token else None
        if identity is None:
            msg = "missing Bearer token" if not token else "invalid API key"
            return await error(401, msg)(scope, receive, send)
        if identity.role != "admin" and path not in SCORER_PATHS:
            return await error(
                403,
                f"key {identity.name!r} (role {identity.role}) may not "
                f"call {path}; admin role required",
            )(scope, receive, send)
        scope.setdefault("state", {})["identity"] = identity
        ctype = headers.get("content-type", "")
        wanted = BODY_TYPES.get(path)
        if scope["method"] == "POST" and wanted and wanted not in ctype.lower():
            example = "application/json" if wanted == "json" else "text/csv"
            return await error(
                415,
                f"send {wanted.upper()} (Content-Type: {example}), "
                f"not {ctype or 'no content type'}",
            )(scope, receive, send)
        if length is None and scope["method"] in ("POST", "PUT", "PATCH"):
            receive = await self._limited(receive, scope, send)
            if receive is None:
                return None
        return await self.app(scope, receive, send)

    async def _limited(self, receive: Any, scope: dict, send: Any) -> Any:
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

        async def again() -> dict:
            return replay.pop() if replay else await receive()

        return again
