"""GET /admin/monitor: admin only, the summary of what the service has scored."""

from __future__ import annotations

from tests.e2e.live_server import proposals_json


def test_monitor_summary_over_the_audit_store(service):
    client, keys, _ = service
    r = client.post("/score", json={"proposals": proposals_json(5)}, headers=keys["scorer"])
    assert r.status_code == 200
    assert client.get("/admin/monitor", headers=keys["scorer"]).status_code == 403
    r = client.get("/admin/monitor", headers=keys["admin"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verdict"] == "ok" and body["proposals"] == 5
    assert body["windows"][0]["drift"] == "too few proposals"
    assert body["windows"][0]["model_version"] == "7"
    bad = client.get("/admin/monitor?since=yesterday", headers=keys["admin"])
    assert bad.status_code == 422 and set(bad.json()) >= {"error", "problems"}


def test_the_monitor_answer_is_documented_as_the_summary_model(service):
    """OpenAPI shows the summary's fields, the verdict among them, and what they hold."""
    client, _, _ = service
    spec = client.get("/docs.json").json()
    ok = spec["paths"]["/admin/monitor"]["get"]["responses"]["200"]["content"]
    ref = ok["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = spec["components"]["schemas"][ref]
    assert {"verdict", "reasons", "proposals", "window", "windows"} <= set(schema["properties"])
    assert schema["properties"]["verdict"]["enum"] == ["ok", "watch", "act"]
