"""Every route the service answers, written once: its methods, who may call it and the body
it takes. The guard (roles, 405, 415) and the metrics (one label per route) derive their
lists from this table, so a new route cannot be known to one and not the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GET = frozenset({"GET", "HEAD"})
POST = frozenset({"POST"})
Access = Literal["open", "scorer", "recorder", "admin"]  # admin may call every route


@dataclass(frozen=True)
class Route:
    methods: frozenset[str]
    access: Access = "admin"
    body: Literal["json", "csv"] | None = None  # a POST body's media type (else: 415)


TABLE: dict[str, Route] = {
    "/": Route(GET, "open"),
    "/score": Route(POST, "scorer", "json"),
    "/whatif": Route(POST, "scorer", "json"),
    "/plan": Route(POST, "scorer", "json"),
    "/portfolio": Route(POST, "scorer", "csv"),
    "/outcomes": Route(POST, "recorder", "json"),
    "/catalogue": Route(GET, "scorer"),
    "/model": Route(GET, "scorer"),
    "/admin/reload": Route(POST),
    "/admin/audit": Route(GET),
    "/admin/monitor": Route(GET),
    "/livez": Route(GET, "open"),
    "/readyz": Route(GET),
    "/healthz": Route(GET, "open"),
    "/docs": Route(GET, "open"),
    "/docs.json": Route(GET, "open"),
    "/metrics": Route(GET),
    "/static": Route(GET, "open"),  # and every path below it
}

ROUTES: dict[str, frozenset[str]] = {path: r.methods for path, r in TABLE.items()}
OPEN_PATHS = {path for path, r in TABLE.items() if r.access == "open"}
ROLE_PATHS = {
    role: {path for path, r in TABLE.items() if r.access == role} for role in ("scorer", "recorder")
}
BODY_TYPES = {path: r.body for path, r in TABLE.items() if r.body}
