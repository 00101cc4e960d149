"""Bounds the API checks before doing the work a hostile body asks for, each answered with the
documented error body: unknown fields per proposal, integer size, text no column can hold, a
body that arrives too slowly; and CSV answers a spreadsheet will not run as formulas."""

from __future__ import annotations

import asyncio
import io
import json
import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scalepredict.api.body import BodyDeadline
from scalepredict.api.errors import error
from tests.e2e.live_server import proposals_json


def _documented(r) -> dict:
    body = r.json()
    assert set(body) >= {"error", "problems"} and isinstance(body["problems"], list)
    return body


def test_a_proposal_with_250000_unknown_fields_is_refused_at_once(service):
    client, keys, _ = service
    proposal = proposals_json(1)[0] | {f"junk{k}": 1 for k in range(250_000)}
    data = json.dumps({"proposals": [proposal]}).encode()
    assert 3_000_000 < len(data) < 4 * 2**20  # under the body limit the service runs with
    client.app.app.max_body = 2**23  # the guard's limit (the fixture lowers it), as served
    started = time.perf_counter()
    r = client.post(
        "/score", content=data, headers={**keys["scorer"], "Content-Type": "application/json"}
    )
    took = time.perf_counter() - started
    assert r.status_code == 422, r.text
    (problem,) = _documented(r)["problems"]
    assert problem["path"] == "proposals.0" and "250000 sent" in problem["rule"]
    assert took < 5  # 57 s before the bound (2-core machine; the bound's work is a count)


def test_a_few_unknown_fields_are_still_named_with_a_hint(service):
    client, keys, _ = service
    proposal = proposals_json(1)[0] | {"securty": 3}
    r = client.post("/score", json={"proposals": [proposal]}, headers=keys["scorer"])
    assert r.status_code == 422
    assert "did you mean" in _documented(r)["problems"][0]["rule"]


def test_an_integer_of_4000_digits_is_a_400_not_a_500(service):
    client, keys, _ = service
    text = json.dumps({"proposals": proposals_json(1)}).replace(
        '"initiative_id"', f'"value_case": {"9" * 4000}, "initiative_id"', 1
    )
    headers = {**keys["scorer"], "Content-Type": "application/json"}
    r = client.post("/score", content=text.encode(), headers=headers)
    assert r.status_code == 400, r.text
    assert "4000 digits" in _documented(r)["error"]
    outcome = '{"outcomes": [{"initiative_id": "A", "scaled_up": ' + "1" * 4000 + "}]}"
    r = client.post("/outcomes", content=outcome.encode(), headers={**headers, **keys["recorder"]})
    assert r.status_code == 400, r.text


def test_an_id_with_nul_is_refused_not_audited_as_another_id(service):
    client, keys, _ = service
    proposal = proposals_json(1)[0] | {"initiative_id": "SC-1\x00"}
    r = client.post("/score", json={"proposals": [proposal]}, headers=keys["scorer"])
    assert r.status_code == 422
    (problem,) = _documented(r)["problems"]
    assert problem["column"] == "initiative_id" and "NUL" in problem["rule"]


def test_outcome_ids_with_a_lone_surrogate_are_refused_naming_the_field(service):
    client, keys, _ = service
    body = (
        '{"outcomes": [{"initiative_id": "A\\ud800", "scaled_up": 1, "observed_on": "2026-01-01"}]}'
    )
    headers = {**keys["recorder"], "Content-Type": "application/json"}
    r = client.post("/outcomes", content=body.encode(), headers=headers)
    assert r.status_code == 422, r.text
    assert _documented(r)["problems"][0]["path"] == "outcomes.0.initiative_id"


@pytest.mark.parametrize(
    ("sent", "read_back"),
    [
        # formula-like text is written after a quote, so no spreadsheet runs it
        (["=HYPERLINK(1)", "+1+1", "@SUM(A1)"], ["'=HYPERLINK(1)", "'+1+1", "'@SUM(A1)"]),
        # a line break inside a text stays in its row for every CSV reader
        (["A\rB", "C\nD", "E\r\nF"], ["A\rB", "C\nD", "E\r\nF"]),
    ],
    ids=["formula", "line-break"],
)
def test_csv_answers_read_back_one_row_per_proposal_and_run_no_formula(service, sent, read_back):
    client, keys, _ = service
    proposals = proposals_json(3)
    for p, iid in zip(proposals, sent, strict=True):
        p["initiative_id"] = iid
    r = client.post(
        "/score?format=csv&plan=false", json={"proposals": proposals}, headers=keys["scorer"]
    )
    assert r.status_code == 200, r.text
    back = pd.read_csv(io.BytesIO(r.content))
    assert back["initiative_id"].tolist() == read_back
    assert back["probability"].between(0, 1).all()


async def _slow_request(seconds: float, pause: float) -> list[dict]:
    """A client that sends half a body, then waits `pause` s: what the deadline answers."""
    sent: list[dict] = []
    parts = [{"type": "http.request", "body": b'{"proposals": ', "more_body": True}]

    async def receive() -> dict:
        if parts:
            return parts.pop()
        await asyncio.sleep(pause)
        return {"type": "http.request", "body": b"[]}", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    async def app(scope, receive, send) -> None:  # any app that reads the whole body
        while (await receive()).get("more_body"):
            pass
        await error(422, "read")(scope, receive, send)

    scope = {"type": "http", "method": "POST", "path": "/score", "headers": []}
    await BodyDeadline(app, seconds)(scope, receive, send)
    return sent


def test_a_body_that_arrives_too_slowly_is_answered_408():
    sent = asyncio.run(_slow_request(0.2, 5))
    assert sent[0]["status"] == 408
    assert b"did not arrive within 0.2 s" in sent[1]["body"]
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    sent = asyncio.run(_slow_request(2, 0.01))  # in time: the app's own answer
    assert sent[0]["status"] == 422


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(st.text(max_size=12), st.integers() | st.text(max_size=8), max_size=40))
def test_any_extra_fields_are_answered_with_the_documented_body(service, extra):
    client, keys, _ = service
    proposal = {**proposals_json(1)[0], **extra}
    r = client.post("/score?explain=false&plan=false", json={"proposals": [proposal]},
                    headers=keys["scorer"])  # fmt: skip
    assert r.status_code in (200, 400, 422), r.text
    if r.status_code != 200:
        _documented(r)
