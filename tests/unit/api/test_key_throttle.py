"""Guessing keys: past the allowance an address's keys that are not valid get 429 with
Retry-After and cost no database query, while a valid key from the same address (in process,
every client is `testclient`) still scores."""

from __future__ import annotations

import math
import time
import uuid

import pytest
from sqlalchemy import event

from scalepredict.api.throttle import FailedKeys
from scalepredict.settings import get_settings
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


@pytest.fixture()
def long_window(throttled, monkeypatch) -> None:
    """A window longer than the flood takes on a loaded machine: the address stays throttled."""
    monkeypatch.setenv("SCALEPREDICT_KEY_FAILURE_WINDOW_SECONDS", "60")


def test_a_valid_key_still_scores_during_a_flood_and_guesses_cost_no_query(long_window, service):
    client, keys, _ = service
    for _ in range(ALLOWED):
        _guess(client)
    queries: list[str] = []

    def seen(*args) -> None:
        queries.append(args[2])

    eng = database.engine(get_settings())
    event.listen(eng, "before_cursor_execute", seen)
    start = time.monotonic()
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
    seconds = math.ceil(time.monotonic() - start) + 1
    assert len(key_queries) <= 4 + 2 * seconds, key_queries


def test_lookups_in_flight_count_so_a_concurrent_flood_cannot_overrun_the_allowance():
    failures = FailedKeys(allowed=3, window=60)
    for _ in range(3):  # three guesses arrive together: all looked up, none answered yet
        assert failures.retry_after("10.0.0.1") is None
        failures.attempt("10.0.0.1")
    assert failures.retry_after("10.0.0.1") is not None  # the fourth is refused at once
    assert failures.retry_after("10.0.0.2") is None  # another address is not


def test_valid_keys_and_unanswered_lookups_take_their_attempt_back():
    failures = FailedKeys(allowed=2, window=60)
    for failed in (False, False, False, True):  # three valid keys (or an outage), one guess
        failures.attempt("10.0.0.1")
        failures.settle("10.0.0.1", failed=failed)
    assert failures.retry_after("10.0.0.1") is None
    failures.attempt("10.0.0.1")
    failures.settle("10.0.0.1", failed=True)
    assert failures.retry_after("10.0.0.1") == 60
