"""POST /outcomes through the guard, on SQLite and a real PostgreSQL: roles, all-or-nothing
validation with the documented error body, idempotence, replace; and a PostgreSQL stopped
while serving: 503 with the documented body, then service resumes by itself, no audit lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from scalepredict.api.app import asgi
from scalepredict.api.state import ServiceState
from scalepredict.inference.predictor import Predictor
from scalepredict.settings import Settings, get_settings
from scalepredict.store import outcomes
from scalepredict.store.audit import AuditLog
from scalepredict.store.keys import add_key
from tests.e2e.live_server import proposals_json

TODAY = str(datetime.now(UTC).date())


def _client(small_fit, database_url, tmp_path, monkeypatch) -> tuple[ServiceState, dict]:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("SCALEPREDICT_MODEL_CACHE", str(tmp_path / "cache"))
    keys = {
        role: {"Authorization": f"Bearer {add_key(role + '-key', role, get_settings())}"}
        for role in ("scorer", "recorder", "admin")
    }
    state = ServiceState(small_fit[1].bundle.catalogue)
    state.predictor = Predictor(
        small_fit[1].bundle, {"name": "scalepredict", "version": "7", "source": "registry"}
    )
    return state, keys


@pytest.fixture()
def service(small_fit, database_url, tmp_path, monkeypatch) -> Iterator[tuple]:
    state, keys = _client(small_fit, database_url, tmp_path, monkeypatch)
    with TestClient(asgi(state)) as client:
        yield client, keys, database_url


def _documented(r) -> dict:
    body = r.json()
    assert isinstance(body["error"], str) and isinstance(body["problems"], list), body
    return body


def _scored(client, keys, n=3) -> list[str]:
    r = client.post("/score", json={"proposals": proposals_json(n)}, headers=keys["scorer"])
    assert r.status_code == 200, r.text
    return [x["initiative_id"] for x in r.json()["results"]]


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), ("scorer", 403), ("recorder", 200), ("admin", 200)]
)
def test_who_may_record_outcomes(service, role, status):
    client, keys, _ = service
    ids = _scored(client, keys, 1)
    body = {"outcomes": [{"initiative_id": ids[0], "scaled_up": 1, "observed_on": TODAY}]}
    r = client.post("/outcomes", json=body, headers=keys[role] if role else {})
    assert r.status_code == status, r.text
    if status != 200:
        assert "recorder or admin" in _documented(r)["error"] or status == 401
    recorder_scoring = client.post("/score", json={"proposals": []}, headers=keys["recorder"])
    assert recorder_scoring.status_code == 403


def test_outcomes_are_recorded_once_and_replaced_only_on_request(service):
    client, keys, url = service
    a, b, _ = _scored(client, keys)
    h = keys["recorder"]
    first = [
        {"initiative_id": a, "scaled_up": 1, "observed_on": TODAY, "funded": True},
        {"initiative_id": b, "scaled_up": 0, "observed_on": TODAY},
    ]
    r = client.post("/outcomes", json={"outcomes": first}, headers=h)
    assert r.json() == {"recorded": 2, "replaced": 0, "unchanged": 0}
    r = client.post("/outcomes", json={"outcomes": first}, headers=h)
    assert r.json() == {"recorded": 0, "replaced": 0, "unchanged": 2}
    # the optional `funded` left out is no different outcome: unchanged, and it stays recorded
    bare = [{k: v for k, v in first[0].items() if k != "funded"}]
    r = client.post("/outcomes", json={"outcomes": bare}, headers=h)
    assert r.json() == {"recorded": 0, "replaced": 0, "unchanged": 1}, r.text
    changed = [{**first[1], "scaled_up": 1}]
    r = client.post("/outcomes", json={"outcomes": changed}, headers=h)
    assert r.status_code == 409
    problem = _documented(r)["problems"][0]
    assert problem["path"] == "outcomes.0.scaled_up" and "replace" in problem["rule"]
    r = client.post("/outcomes", json={"outcomes": changed, "replace": True}, headers=h)
    assert r.json() == {"recorded": 0, "replaced": 1, "unchanged": 0}
    eng = AuditLog(Settings(database_url=url)).engine
    rows = outcomes.scorings_with_outcomes(eng).set_index("initiative_id")
    assert rows.loc[b, "outcome"] == 1 and rows.loc[a, "funded"] is True
    assert rows.loc[a, "model_version"] == "7" and 0 < rows.loc[a, "probability"] < 1
    assert [h["outcome"] for h in outcomes.history(eng, b)] == ["0"]


def test_a_bad_row_refuses_the_whole_request_naming_row_field_and_rule(service):
    client, keys, url = service
    a, b, c = _scored(client, keys)
    yesterday = str(datetime.now(UTC).date() - timedelta(days=1))
    bad = [
        {"initiative_id": a, "scaled_up": 1, "observed_on": TODAY},
        {"initiative_id": "never-scored", "scaled_up": 1, "observed_on": TODAY},
        {"initiative_id": b, "scaled_up": "yes", "observed_on": TODAY},
        {"initiative_id": c, "scaled_up": 0, "observed_on": yesterday},
        {"initiative_id": c, "scaled_up": 0, "observed_on": "26/11/2026"},
    ]
    r = client.post("/outcomes", json={"outcomes": bad}, headers=keys["recorder"])
    assert r.status_code == 422
    paths = {p["path"]: p["rule"] for p in _documented(r)["problems"]}
    assert "scored" in paths["outcomes.1.initiative_id"]
    assert "one of 1, 0" in paths["outcomes.2.scaled_up"]
    assert "latest scoring" in paths["outcomes.3.observed_on"]
    assert "date" in paths["outcomes.4.observed_on"]
    assert not any(p.startswith("outcomes.0") for p in paths)
    assert (
        outcomes.scorings_with_outcomes(AuditLog(Settings(database_url=url)).engine)["status"]
        == "pending"
    ).all()
    for body in ({"outcomes": []}, {"outcomes": [{}], "replace": "yes"}, {"rows": []}):
        r = client.post("/outcomes", json=body, headers=keys["recorder"])
        assert r.status_code == 422
        _documented(r)
    r = client.request("PUT", "/outcomes", json={}, headers=keys["recorder"])
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_postgresql_lost_while_serving_answers_503_then_recovers_without_audit_loss(
    small_fit, postgres, tmp_path, monkeypatch
):
    url = postgres.new_database()
    monkeypatch.setenv("SCALEPREDICT_DATABASE_URL", url)
    monkeypatch.setenv("SCALEPREDICT_KEYS_FILE", str(tmp_path / "api_keys.json"))
    state, keys = _client(small_fit, url, tmp_path, monkeypatch)
    answered = 0

    def score(client: TestClient, k: int):
        nonlocal answered
        batch = [{**p, "initiative_id": f"{p['initiative_id']}-{k}"} for p in proposals_json(2)]
        r = client.post("/score", json={"proposals": batch}, headers=keys["scorer"])
        answered += 2 if r.status_code == 200 else 0
        return r

    with TestClient(asgi(state)) as client:
        assert score(client, 0).status_code == 200
        postgres.stop()
        try:
            time.sleep(2.5)  # past the key cache: the keys themselves are in the lost database
            for k in (1, 2):
                r = score(client, k)
                assert r.status_code == 503 and r.headers["retry-after"], r.text
                assert "unavailable" in _documented(r)["error"] or "audit" in r.json()["error"]
            time.sleep(1.1)
            assert client.get("/readyz").status_code == 503
            late = ServiceState(state.catalogue)  # a replica started while it is down
            late.start()
            late.predictor = state.predictor  # no registry here: the model is handed over
            assert not late.ready and "Connection refused" in late.audit_problem()
        finally:
            postgres.start()
        deadline, k = time.monotonic() + 30, 3
        while score(client, k).status_code != 200:
            assert time.monotonic() < deadline, "no recovery 30 s after PostgreSQL came back"
            time.sleep(0.5)
            k += 1
        time.sleep(1.1)
        assert client.get("/readyz").status_code == 200
        assert late.ready  # and it becomes ready by itself
    assert AuditLog(Settings(database_url=url)).count() == answered


def test_a_nul_in_an_id_is_refused_or_stored_never_a_503(service):
    client, keys, _ = service
    p = {**proposals_json(1)[0], "initiative_id": "SC\x00-1"}
    r = client.post("/score", json={"proposals": [p]}, headers=keys["scorer"])
    assert r.status_code in (200, 422), r.text
    body = {"outcomes": [{"initiative_id": "SC\x00-1", "scaled_up": 1, "observed_on": TODAY}]}
    r = client.post("/outcomes", json=body, headers=keys["recorder"])
    assert r.status_code == 422 and "NUL" in r.json()["problems"][0]["rule"]
