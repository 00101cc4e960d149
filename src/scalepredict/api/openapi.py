"""The OpenAPI document of /docs.json, served by our app rather than BentoML's generic one: our
title, description and versions (the package's and the served model's), the Bearer scheme on
every route that needs a key, the service's health routes, examples from the catalogue."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

import scalepredict
from scalepredict.api.state import ServiceState

OPEN = {"/livez", "/readyz", "/healthz", "/docs.json", "/docs", "/"}
DESCRIPTION = """Will a smart-city AI+IoT initiative scale past its pilot, why, and what to do.

Send proposals as JSON to `/score` (or a CSV to `/portfolio`); both accept and refuse the
same cells: null, a missing field or an unknown token (`{tokens}`) is an unknown answer, 3.0
is the whole number 3, history columns ({history}) are ignored. Every problem names the
proposal (from 1), its `{id}`, the field and the rule. `Accept: text/csv` (or `format=csv`)
answers one flat row per proposal. Every route but the health checks and this document
needs `Authorization: Bearer <key>`. Catalogue: {catalogue}."""
TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}
READY = {
    "type": "object",
    "properties": {
        "ready": {"type": "boolean"},
        "model_version": {"type": "string"},
        "source": {"type": "string"},
        "reason": {"type": "string"},
        "warning": {"type": "string"},
        "refused": {"type": "string"},
    },
    "required": ["ready"],
}
ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
THROTTLED = {
    "description": "too many invalid API keys from this address: a key that is not valid is "
    "refused without a lookup until Retry-After (a valid key is never refused so)",
    "headers": {
        "Retry-After": {
            "description": "seconds until this address may try keys that are not valid again",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
# The routes BentoML's server answers itself (health, metrics), beside our app's own.
HEALTH = {
    "/livez": {"get": {"summary": "Livez", "responses": {"200": {"description": "alive", **TEXT}}}},
    "/healthz": {
        "get": {"summary": "Healthz", "responses": {"200": {"description": "alive", **TEXT}}}
    },
    "/metrics": {
        "get": {
            "summary": "Metrics",
            "description": "Prometheus metrics of this server, its workers' counts summed "
            "(admin key): requests and latency by route, method and status class; refused "
            "scoring requests; key attempts answered 429.",
            "responses": {
                "200": {"description": "Prometheus text format", **TEXT},
                "401": {"description": "no key, or an unknown or revoked one", **ERROR},
                "403": {"description": "the key's role may not read the metrics", **ERROR},
                "429": {"description": "throttled", **ERROR},
            },
        }
    },
    "/readyz": {
        "get": {
            "summary": "Readyz",
            "responses": {
                str(status): {
                    "description": text,
                    "content": {"application/json": {"schema": READY}},
                }
                for status, text in ((200, "ready: a model is loaded"), (503, "not ready, why"))
            },
        }
    },
}


def document(app: FastAPI, state: ServiceState) -> dict[str, Any]:
    """The document for `app` (built once per app), with the model served now."""
    if app.openapi_schema is None:  # FastAPI's own cache of the document
        app.openapi_schema = _build(app, state)
    doc = copy.copy(app.openapi_schema)
    predictor = state.predictor
    info = dict(doc["info"])
    info["x-model-version"] = predictor.info["version"] if predictor else None
    if predictor is not None:
        info["description"] += f" Model: {predictor.info['name']} v{predictor.info['version']}."
    doc["info"] = info
    return doc


def _build(app: FastAPI, state: ServiceState) -> dict[str, Any]:
    cat = state.catalogue
    doc = get_openapi(
        title="ScalePredict",
        version=scalepredict.__version__,
        summary="Chances of scaling past the pilot, with explanations and plans.",
        description=DESCRIPTION.format(
            tokens="`, `".join(cat.unknown),
            history=", ".join(f"`{c}`" for c in cat.history_columns),
            id=cat.id_column,
            catalogue=f"{cat.name} ({cat.fingerprint})",
        ),
        routes=app.routes,
    )
    doc["paths"] = {**HEALTH, **doc["paths"]}
    doc.setdefault("components", {})["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (`scalepredict keys add NAME ROLE`).",
        }
    }
    for path, item in doc["paths"].items():
        if path not in OPEN:
            for operation in item.values():
                operation["security"] = [{"bearer": []}]
                if "429" in operation["responses"]:
                    operation["responses"]["429"].update(THROTTLED)
    return doc
