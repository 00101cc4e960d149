"""Guessing keys: past the allowance an address's keys that are not valid get 429 with
Retry-After and cost no database query, while a valid key from the same address (in process,
every client is `testclient`) still scores."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import event

from scalepredict.store import database
from tests.e2e.live_server import proposals_json

ALLOWED = 5


@pytest.fixture()
def throttled(monkeypatch) -> None:
    """A small allowance, a short window, and no key cache: every valid key is looked up."""
    monkeypatch.setenv("SCALEPREDICT_KEY_FAILURES_ALLOWED", str(ALLOWED))
    monkeypatch.setenv("SCALEPREDICT_KEY_FAILURE_WINDOW_SECONDS", "1.5")
    monkeypatch.setenv("SCALEPREDICT_KEY_CACHE_SECONDS", "0")


def _guess(client):
    return client.post(
        "/score", json={"proposals": []}, headers={"Authorization": f"Bearer sp_{uuid.uuid4().hex}"}
    )


def test_random_keys_get_429_with_retry_after_past_the_allowance(throttled, service):
    client, _, _ = service
    assert [_guess(client).status_code for _ in range(ALLOWED)] == [401] * ALLOWED
    r = _guess(client)
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 2
    body = r.json()
    assert "too many invalid API keys" in body["error"] and body["problems"] == []
    assert client.get("/model").status_code == 401  # no key at all: not a guess, still 401
    time.sleep(float(r.headers["retry-after"]))
    assert _guess(client).status_code == 401  # the window is over: one more try


def test_a_valid_key_still_scores_during_a_flood_and_guesses_cost_no_query(throttled, service):
    client, keys, _ = service
    for _ in range(ALLOWED):
        _guess(client)
    queries: list[str] = []

    def seen(*args) -> None:
        queries.append(args[2])

    eng = database.engine()
    event.listen(eng, "before_cursor_execute", seen)
    try:
        for i in range(100):
            assert _guess(client).status_code == 429
            if i % 25 == 0:
                r = client.post(
                    "/score", json={"proposals": proposals_json(2)}, headers=keys["scorer"]
                )
                assert r.status_code == 200, r.text
    finally:
        event.remove(eng, "before_cursor_execute", seen)
    key_queries = [q for q in queries if "api_keys" in q]
    # the valid key's four lookups and at most a snapshot of the digests per second
    assert len(key_queries) <= 4 + 2 * 4, key_queries
