"""The whole HTTP layer in process (routes behind the guard, Starlette's TestClient): the same
contracts the live `bentoml serve` tests check, fast enough to run on every change."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from scalepredict.api.app import STATIC, asgi
from scalepredict.api.state import ServiceState
from scalepredict.settings import Settings
from scalepredict.store.audit import AuditLog
from tests.e2e.live_server import proposals_json


def test_score_answers_and_audits_every_proposal(service):
    client, keys, tmp = service
    r = client.post("/score", json={"proposals": proposals_json(3)}, headers=keys["scorer"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == {"name": "scalepredict", "version": "7", "source": "registry"}
    assert [x["initiative_id"] for x in body["results"]] == [
        p["initiative_id"] for p in proposals_json(3)
    ]
    assert all("plan" in x and "explanation" in x for x in body["results"])
    assert AuditLog(Settings(database_url=f"sqlite:///{tmp}/audit.db")).count() == 3


@pytest.mark.parametrize(
    ("path", "role", "status"),
    [
        ("/model", None, 401),
        ("/model", "scorer", 200),
        ("/admin/audit", "scorer", 403),
        ("/admin/audit", "admin", 200),
        ("/catalogue", "scorer", 200),
        ("/model", "recorder", 403),
        ("/catalogue", "recorder", 403),
        ("/admin/audit", "recorder", 403),
    ],
)
def test_roles(service, path, role, status):
    client, keys, _ = service
    r = client.get(path, headers=keys[role] if role else {})
    assert r.status_code == status
    if status >= 400:
        assert set(r.json()) >= {"error", "problems"}


def test_every_refusal_has_the_documented_body(service):
    client, keys, _ = service
    h = keys["scorer"]
    p = proposals_json(1)[0]
    cases = [
        client.post("/score", content=b"x", headers={**h, "content-type": "text/plain"}),
        client.post("/score", json={"proposals": [p, p]}, headers=h),
        client.post("/score", json={"proposals": [{**p, "data_quality": 9}]}, headers=h),
        client.post("/score", json={"proposals": [p], "pad": "x" * 300_000}, headers=h),
        client.post("/portfolio", content=b"a;b\n1;2\n", headers={**h, "content-type": "text/csv"}),
        client.post("/admin/reload", headers=keys["admin"]),  # the store has no champion
    ]
    assert [c.status_code for c in cases] == [415, 422, 422, 413, 422, 409]
    for c in cases:
        assert isinstance(c.json()["error"], str) and isinstance(c.json()["problems"], list)
    assert cases[2].json()["problems"][0]["path"] == "proposals.0.data_quality"
    assert client.get("/model", headers=h).json()["version"] == "7"  # still serving


def test_readiness_follows_the_model(service, cat):
    client, keys, _ = service
    assert client.get("/readyz").json() == {
        "ready": True,
        "model_version": "7",
        "source": "registry",
    }
    empty = ServiceState(cat)
    with TestClient(asgi(empty)) as bare:
        assert bare.get("/readyz").status_code == 503
        r = bare.get("/model", headers=keys["scorer"])
        assert r.status_code == 503 and r.json()["error"].startswith("no model loaded")


def test_portfolio_csv_matches_json_scores(service):
    client, keys, _ = service
    import pandas as pd

    rows = proposals_json(4)
    csv = pd.DataFrame(rows).to_csv(index=False).encode()
    by_csv = client.post(
        "/portfolio", content=csv, headers={**keys["scorer"], "content-type": "text/csv"}
    )
    by_json = client.post("/score", json={"proposals": rows}, headers=keys["scorer"])
    assert by_csv.status_code == 200, by_csv.text
    assert [r["probability"] for r in by_csv.json()["results"]] == [
        r["probability"] for r in by_json.json()["results"]
    ]


def test_planner_page_is_package_data(service):
    client, _, _ = service
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert json.loads(client.get("/readyz").text)["ready"] is True
    # the page's ES modules: a browser runs a module only when it comes as JavaScript
    modules = sorted(STATIC.glob("*.js"))
    assert {"app.js", "docs.js", "dom.js"} <= {m.name for m in modules}
    for module in modules:
        r = client.get(f"/static/{module.name}")
        assert r.status_code == 200, module.name
        assert r.headers["content-type"].startswith("text/javascript"), module.name
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
