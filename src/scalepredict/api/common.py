"""What the API's route modules share: the statuses each kind of route documents, who is
calling and when the guard let the request in."""

from __future__ import annotations

import time

from fastapi import Request

from scalepredict.store.keys import Identity

# Statuses each kind of route can answer, all with the documented error body.
# no or wrong key, wrong role, too many wrong keys from the address; keys or model unavailable
SIGNED_IN = (401, 403, 429, 503)
SCORING = (*SIGNED_IN, 400, 413, 415, 422)  # + unreadable, too large, wrong type, invalid


def identity(request: Request) -> Identity:
    return request.scope["state"]["identity"]


def started(request: Request) -> float:
    """When the guard let the request in (monotonic clock)."""
    return float(request.scope.get("state", {}).get("started", time.monotonic()))
