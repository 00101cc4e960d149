"""A Python client of the scoring API, for analysts working in pandas:

    import pandas as pd
    from scalepredict.client import Client

    proposals = pd.read_csv("proposals.csv")  # blanks, 3.0, dates: as pandas reads them
    scores = Client("http://localhost:3000", key).score(proposals)
    scores.to_csv("scores.csv")

It talks HTTP only (httpx, pandas) and imports nothing else of the package, so an analyst's
machine needs no model libraries. Frames larger than the server's limit are sent in batches
(the limit is read from the server's OpenAPI document); a busy server (503) is retried after
its Retry-After, else with exponential backoff."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from typing import Any

import httpx
import pandas as pd

DEFAULT_LIMIT = 1000  # proposals per request when the server does not say


class ScoringError(Exception):
    """The server refused the proposals (or the request). `problems` are the API's, with the
    proposal numbers counted from 1 over the whole frame (not the batch)."""

    def __init__(self, status: int, message: str, problems: list[dict[str, Any]]) -> None:
        self.status, self.problems = status, problems
        lines = [
            f"proposal {p.get('proposal')} ({p.get('initiative_id')}) {p.get('column')}: "
            f"{p.get('rule')}, got {p.get('value')!r}"
            for p in problems[:20]
        ]
        super().__init__("\n".join([f"HTTP {status}: {message}", *lines]))


class Client:
    """`Client(url, key).score(frame)` -> one row per proposal, the frame's index kept."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        timeout: float = 120.0,
        retries: int = 5,
        backoff: float = 0.5,
        batch_size: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """`batch_size`: proposals per request (default: the server's limit); `retries` of a
        busy server (503) before giving up; `transport`: httpx's (a proxy, a test's faults)."""
        self.url = url.rstrip("/")
        self.retries, self.backoff = retries, backoff
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {key}"},
            transport=transport,
        )
        self._batch = batch_size
        self._spec: dict[str, Any] | None = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def score(
        self, frame: pd.DataFrame, *, explain: bool = True, plan: bool = True
    ) -> pd.DataFrame:
        """Score every row of `frame` (columns as in the catalogue's template). Returns the
        API's flat CSV answer as a frame; raises `ScoringError` listing every problem."""
        records = self.records(frame)
        size = self._batch or self._limit()
        parts, problems, start = [], [], 0
        params = {"explain": str(explain).lower(), "plan": str(plan).lower(), "format": "csv"}
        while start < len(records):
            batch = records[start : start + size]
            r = self._post("/score", {"proposals": batch}, params)
            if r.status_code == 413 and len(batch) > 1:
                limit = r.json().get("limit_proposals")
                if limit is not None and int(limit) < len(batch):
                    size = int(limit)  # the server's limit is lower: re-split
                    continue
                if "limit_bytes" in r.json():
                    size = len(batch) // 2  # the body is too large: halve the batches
                    continue
            if r.status_code == 422:
                problems += [_shifted(p, start) for p in r.json().get("problems", [])]
            elif r.status_code != 200:
                raise _refusal(r)
            else:
                parts.append(pd.read_csv(io.StringIO(r.text)))
            start += len(batch)
        if problems:
            raise ScoringError(422, f"{len(problems)} problem(s); nothing returned", problems)
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        out.index = frame.index
        return out

    def records(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        """The frame as the API's JSON: blanks null, dates YYYY-MM-DD, numbers in text
        fields (an id pandas read as 1001) as text."""
        text = self._text_fields()
        out = frame.copy()
        for c in out.columns:
            col = out[c]
            if pd.api.types.is_datetime64_any_dtype(col):
                out[c] = col.dt.strftime("%Y-%m-%d")
            elif col.dtype == object:
                out[c] = col.map(_date_text)
            elif c in text and pd.api.types.is_numeric_dtype(col) and col.dtype != bool:
                out[c] = col.map(_number_text).astype(object)
        return json.loads(out.to_json(orient="records"))

    def _post(self, path: str, body: dict, params: dict[str, str]) -> httpx.Response:
        for attempt in range(self.retries + 1):
            r = self._http.post(path, json=body, params=params)
            if r.status_code != 503 or attempt == self.retries:
                return r
            after = r.headers.get("Retry-After", "")
            time.sleep(float(after) if after.isdigit() else self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    def _document(self) -> dict[str, Any]:
        if self._spec is None:
            r = self._http.get("/docs.json")
            self._spec = dict(r.json()) if r.status_code == 200 else {}
        return self._spec

    def _limit(self) -> int:
        schemas = self._document().get("components", {}).get("schemas", {})
        items = schemas.get("ScoreRequest", {}).get("properties", {}).get("proposals", {})
        return int(items.get("maxItems", DEFAULT_LIMIT))

    def _text_fields(self) -> set[str]:
        schemas = self._document().get("components", {}).get("schemas", {})
        props = schemas.get("Proposal", {}).get("properties", {})
        text = set()
        for name, schema in props.items():
            kinds = {a.get("type") for a in [schema, *schema.get("anyOf", [])]}
            if "string" in kinds and not kinds & {"integer", "number"}:
                text.add(name)
        return text


def _date_text(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):  # pd.Timestamp is a datetime
        return value.strftime("%Y-%m-%d")
    return value


def _number_text(value: Any) -> Any:
    if pd.isna(value):
        return None
    return str(int(value)) if float(value).is_integer() else str(value)


def _shifted(problem: dict[str, Any], start: int) -> dict[str, Any]:
    p = dict(problem)
    if isinstance(p.get("proposal"), int):
        k = p["proposal"] + start
        p["proposal"] = k
        path = str(p.get("path", ""))
        p["path"] = path.replace(f"proposals.{k - start - 1}.", f"proposals.{k - 1}.", 1)
    return p


def _refusal(r: httpx.Response) -> ScoringError:
    try:
        body = r.json()
    except ValueError:
        body = {"error": r.text[:500]}
    return ScoringError(r.status_code, str(body.get("error")), body.get("problems", []))
