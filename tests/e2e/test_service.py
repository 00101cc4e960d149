"""The scoring service, tested against a real `bentoml serve` process with a real HTTP client."""

from __future__ import annotations

import concurrent.futures as cf
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from scalepredict.client import ScoringError
from scalepredict.settings import Settings
from tests.e2e.live_server import Server, proposals_json, template_with_blanks, trained_service_env

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict:
    env = trained_service_env(tmp_path_factory.mktemp("service"))
    # schemathesis's auth check sends an invalid key after every accepted request, all from
    # loopback: past the allowance those would be 429, which it does not count as a refusal
    env["SCALEPREDICT_KEY_FAILURES_ALLOWED"] = str(10**9)
    return env


@pytest.fixture(scope="module")
def server(env):
    with Server.started(env, "serve.log") as s:
        yield s


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_score_returns_everything_a_funder_needs(server, env):
    r = httpx.post(
        f"{server.url}/score",
        json={"proposals": proposals_json(5)},
        headers=_h(env["_scorer"]),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == {"name": "scalepredict", "version": "1", "source": "registry"}
    assert len(body["request_id"]) >= 16 and len(body["results"]) == 5
    for res in body["results"]:
        assert 0 < res["probability"] < 1
        assert res["risk_band"] in {"high", "elevated", "moderate", "low"}
        assert res["prediction_set"] and res["uncertainty"].startswith(("90%", "uncertain"))
        assert set(res["explanation"]["dimensions"]) >= {"strategy", "people_organization"}
        assert res["explanation"]["top_drivers"]
        assert "actions" in res["plan"] and "expected_probability" in res["plan"]


def test_whatif_plan_catalogue_model_and_health(server, env):
    h, p = _h(env["_scorer"]), proposals_json(1)[0]
    p["value_case"] = 1
    w = httpx.post(
        f"{server.url}/whatif", json={"proposal": p, "changes": {"value_case": 5}}, headers=h
    )
    assert w.status_code == 200, w.text
    assert w.json()["after"]["probability"] >= w.json()["before"]["probability"]
    pl = httpx.post(
        f"{server.url}/plan",
        json={"proposal": p, "target_probability": 0.99, "max_effort": 2},
        headers=h,
    )
    assert pl.status_code == 200 and pl.json()["plan"]["reached"] is False
    cat = httpx.get(f"{server.url}/catalogue", headers=h).json()
    factors = [f for d in cat["dimensions"] for f in d["factors"]]
    assert len(factors) == 20 and all(len(f["rubric"]) == 5 for f in factors)
    model = httpx.get(f"{server.url}/model", headers=h).json()
    assert model["version"] == "1" and model["source"] == "registry" and model["data"]["sha256"]
    assert "roc_auc" in model["metrics"] and model["trained_at"]
    assert httpx.get(f"{server.url}/livez").status_code == 200
    assert httpx.get(f"{server.url}/readyz").json()["ready"] is True
    spec = httpx.get(f"{server.url}/docs.json").json()
    props = spec["components"]["schemas"]["Proposal"]["properties"]
    assert "5: " in props["value_case"]["description"]  # the rubric is in the OpenAPI page


@pytest.mark.parametrize(
    "method, path, none, scorer, recorder, admin",
    [
        ("POST", "/score", 401, 200, 403, 200),
        ("POST", "/whatif", 401, 200, 403, 200),
        ("POST", "/plan", 401, 200, 403, 200),
        ("GET", "/catalogue", 401, 200, 403, 200),
        ("GET", "/model", 401, 200, 403, 200),
        ("POST", "/outcomes", 401, 403, 200, 200),
        ("POST", "/admin/reload", 401, 403, 403, 200),
        ("GET", "/admin/audit", 401, 403, 403, 200),
        ("GET", "/admin/monitor", 401, 403, 403, 200),
        ("GET", "/livez", 200, 200, 200, 200),
        ("GET", "/readyz", 200, 200, 200, 200),
    ],
)
def test_auth_matrix(server, env, method, path, none, scorer, recorder, admin):
    p = proposals_json(1)[0]
    if path == "/outcomes":  # an outcome needs a scoring of its id
        scored = httpx.post(
            f"{server.url}/score", json={"proposals": [p]}, headers=_h(env["_scorer"])
        )
        assert scored.status_code == 200
    today = dt.datetime.now(dt.UTC).date().isoformat()
    body = {
        "/score": {"proposals": [p]},
        "/whatif": {"proposal": p, "changes": {"security": 3}},
        "/plan": {"proposal": p},
        "/outcomes": {
            "outcomes": [
                {"initiative_id": p["initiative_id"], "scaled_up": 1, "observed_on": today}
            ]
        },
    }.get(path)
    for key, expected in (
        (None, none),
        ("wrong-key", none),
        (env["_scorer"], scorer),
        (env["_recorder"], recorder),
        (env["_admin"], admin),
    ):
        headers = _h(key) if key else {}
        r = httpx.request(method, f"{server.url}{path}", json=body, headers=headers, timeout=30)
        assert r.status_code == expected, (path, key and key[:6], r.text)
        if expected in (401, 403):
            assert "error" in r.json()


@pytest.mark.parametrize(
    "mutate, status, path",
    [
        (lambda p: p.update(value_case=9), 422, "proposals.0.value_case"),
        (lambda p: p.update(stage="scaling"), 422, "proposals.0.stage"),
        (lambda p: p.update(valeu_case=3), 422, "proposals.0.valeu_case"),
        (lambda p: p.pop("city"), 422, "proposals.0.city"),
        (lambda p: p.update(budget_eur=-1), 422, "proposals.0.budget_eur"),
        (lambda p: p.update(assessed_on="31/12/2020"), 422, "proposals.0.assessed_on"),
        (lambda p: p.update(security="high"), 422, "proposals.0.security"),
    ],
)
def test_bad_input_lists_every_problem_never_5xx(server, env, mutate, status, path):
    p = proposals_json(2)
    mutate(p[0])
    r = httpx.post(f"{server.url}/score", json={"proposals": p}, headers=_h(env["_scorer"]))
    assert r.status_code == status, r.text
    problems = r.json()["problems"]
    assert path in [x["path"] for x in problems]
    assert all({"path", "rule"} <= set(x) for x in problems)
    # every problem names the proposal (from 1) and its id besides the path
    assert {(x["proposal"], x["initiative_id"]) for x in problems} == {
        (1, p[0].get("initiative_id"))
    }


def test_limits_and_duplicates(server, env):
    h = _h(env["_scorer"])
    p = proposals_json(1)[0]
    r = httpx.post(f"{server.url}/score", json={"proposals": [p] * 1001}, headers=h, timeout=60)
    assert r.status_code == 413 and "1000" in r.json()["error"]
    big = json.dumps({"proposals": [p], "pad": "x" * 3_100_000})
    r = httpx.post(
        f"{server.url}/score", content=big, headers={**h, "content-type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["limit_bytes"] == 3_000_000
    r = httpx.post(f"{server.url}/score", json={"proposals": [p, p]}, headers=h)
    assert r.status_code == 422
    assert [(x["proposal"], x["rule"]) for x in r.json()["problems"]] == [
        (1, "must be unique (duplicate value)"),
        (2, "must be unique (duplicate value)"),
    ]
    r = httpx.post(
        f"{server.url}/score", content=b"{oops", headers={**h, "content-type": "application/json"}
    )
    assert r.status_code in (400, 422)
    r = httpx.post(f"{server.url}/score", json={"proposals": []}, headers=h)
    assert r.status_code == 422


def _count_audit(env) -> int:
    from scalepredict.store.audit import AuditLog

    return AuditLog(Settings(database_url=env["SCALEPREDICT_DATABASE_URL"])).count()


def test_audit_rows_equal_proposals_scored_under_concurrency(server, env, tmp_path):
    before = _count_audit(env)
    batches = [proposals_json(k, seed=100 + k) for k in range(1, 17)]  # 136 proposals, 16 requests

    def post(batch):
        return httpx.post(
            f"{server.url}/score", json={"proposals": batch}, headers=_h(env["_scorer"]), timeout=60
        ).status_code

    with cf.ThreadPoolExecutor(8) as pool:
        assert set(pool.map(post, batches)) == {200}
    assert _count_audit(env) - before == sum(len(b) for b in batches)
    out = tmp_path / "audit.csv"
    res = subprocess.run(
        [str(Path(sys.executable).parent / "scalepredict"), "audit", "export", "--out", str(out)],
        env={**os.environ, **{k: v for k, v in env.items() if not k.startswith("_")}},
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == _count_audit(env)
    assert {r["key_name"] for r in rows} <= {"funder", "ops"}
    text = out.read_text()
    assert env["_scorer"] not in text and env["_admin"] not in text  # keys never stored
    log = (Path(env["_root"]) / "serve.log").read_text()
    assert env["_scorer"] not in log and env["_admin"] not in log  # nor logged


def test_reload_during_a_stream_fails_nothing(server, env):
    def post(i):
        return httpx.post(
            f"{server.url}/score",
            json={"proposals": proposals_json(3, seed=i)},
            headers=_h(env["_scorer"]),
            timeout=60,
        ).status_code

    with cf.ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(post, i) for i in range(60)]
        for _ in range(3):
            r = httpx.post(f"{server.url}/admin/reload", headers=_h(env["_admin"]), timeout=60)
            assert r.status_code == 200, r.text
        codes = [f.result() for f in futures]
    assert codes == [200] * 60


def test_corrupt_champion_is_refused_on_reload_and_previous_keeps_serving(server, env):
    import mlflow
    from mlflow import MlflowClient

    uri = env["MLFLOW_TRACKING_URI"]
    client = MlflowClient(uri, uri)
    # register a second version, then corrupt its booster on disk and make it champion
    subprocess.run(
        [
            str(Path(sys.executable).parent / "scalepredict"),
            "train",
            "--data",
            env["_data"],
            "--config",
            env["_config"],
        ],
        env={**os.environ, "MLFLOW_TRACKING_URI": uri},
        check=True,
        capture_output=True,
    )
    v2 = client.get_model_version("scalepredict", "2")
    mlflow.set_tracking_uri(uri)
    model_id = v2.source.rsplit("/", 1)[-1]
    boosters = list(Path(env["_root"]).rglob(f"{model_id}/artifacts/artifacts/bundle/booster.json"))
    assert boosters, "booster of version 2 not found in the artifact store"
    boosters[0].write_text("{ corrupt")
    served = httpx.get(f"{server.url}/model", headers=_h(env["_scorer"])).json()["version"]
    previous = client.get_model_version_by_alias("scalepredict", "champion").version
    client.set_registered_model_alias("scalepredict", "champion", "2")
    try:
        r = httpx.post(f"{server.url}/admin/reload", headers=_h(env["_admin"]), timeout=60)
        assert r.status_code == 409 and "still serving" in r.json()["error"]
        now = httpx.get(f"{server.url}/model", headers=_h(env["_scorer"])).json()["version"]
        assert now == served
        ok = httpx.post(
            f"{server.url}/score", json={"proposals": proposals_json(2)}, headers=_h(env["_scorer"])
        )
        assert ok.status_code == 200
        assert "reload refused" in (Path(env["_root"]) / "serve.log").read_text()
    finally:
        client.set_registered_model_alias("scalepredict", "champion", str(previous))


def test_registry_unreachable_at_start_serves_from_cache(server, env):
    # `server` has populated the cache; a second process starts with no reachable registry.
    cut_off = {k: v for k, v in env.items() if not k.startswith("_")}
    cut_off.update(
        {
            "MLFLOW_TRACKING_URI": "http://127.0.0.1:9",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "2",
        }
    )
    other = Server(cut_off, Path(env["_root"]) / "serve_cache.log")
    try:
        ready = other.wait_ready()
        assert ready["source"] == "cache" and "registry unreachable" in ready["warning"]
        model = httpx.get(f"{other.url}/model", headers=_h(env["_scorer"])).json()
        assert model["source"] == "cache" and model["registry_error"]
        r = httpx.post(
            f"{other.url}/score", json={"proposals": proposals_json(2)}, headers=_h(env["_scorer"])
        )
        assert r.status_code == 200 and r.json()["model"]["source"] == "cache"
    finally:
        other.stop()


def test_schemathesis_finds_no_server_errors(server, env):
    """Property-based API testing from our own OpenAPI, every check (status codes, content
    types, headers, undeclared methods, negative data refused), >= 2,000 cases: no failure."""
    st = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
    res = subprocess.run(
        [
            st,
            "--config-file",
            str(Path(__file__).parent / "schemathesis.toml"),
            "run",
            f"{server.url}/docs.json",
            "--checks",
            "all",
            # any string is a schema-valid CSV body, and OpenAPI 3.0 cannot say a date's
            # range: those are refused with 422 and the documented body, which the other
            # checks verify
            "--exclude-checks",
            "positive_data_acceptance",
            "-H",
            f"Authorization: Bearer {env['_admin']}",
            # the fuzzing budget is set per operation in the file
            "--seed",
            "1",
            "--exclude-path",
            "/admin/reload",
        ],
        capture_output=True,
        text=True,
        # each request's proposals go through the pandas validation the CSV uses (tens of ms)
        timeout=1500,
    )
    assert res.returncode == 0, res.stdout[-4000:]
    import re

    generated = re.search(r"(\d+) generated", res.stdout)
    assert generated and int(generated.group(1)) >= 2000, res.stdout[-2000:]


def test_hostile_inputs_get_4xx_not_5xx(server, env):
    h = {**_h(env["_scorer"]), "content-type": "application/json"}
    p = json.dumps({"proposals": proposals_json(1)}).replace(
        '"budget_eur":', '"budget_eur":1e400,"x":'
    )
    r = httpx.post(f"{server.url}/score", content=p.encode(), headers=h)
    assert r.status_code == 422, r.text
    r = httpx.post(
        f"{server.url}/score", content=b"{}", headers={"Authorization": b"Bearer \xff\xfe"}
    )
    assert r.status_code == 401
    r = httpx.post(
        f"{server.url}/score",
        content=b"hello",
        headers={**_h(env["_scorer"]), "content-type": "text/plain"},
    )
    assert r.status_code == 415 and "JSON" in r.json()["error"]


def _csv(rows: list[dict]) -> bytes:
    import pandas as pd

    return pd.DataFrame(rows).to_csv(index=False).encode()


def test_portfolio_csv_is_scored_and_audited_like_json(server, env):
    rows = proposals_json(20, seed=31)
    url, h = f"{server.url}/portfolio", {**_h(env["_scorer"]), "Content-Type": "text/csv"}
    before = _count_audit(env)
    r = httpx.post(url, content=_csv(rows), headers=h, timeout=60)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["initiative_id"] for x in results] == [p["initiative_id"] for p in rows]
    assert all("explanation" in x and x.get("plan") is None for x in results)  # no plans: fast
    same = httpx.post(
        f"{server.url}/score", json={"proposals": rows[:3]}, headers=_h(env["_scorer"])
    ).json()["results"]
    assert [x["probability"] for x in results[:3]] == [x["probability"] for x in same]
    assert _count_audit(env) - before == 20 + 3
    assert (
        httpx.post(url, content=_csv(rows), headers={"Content-Type": "text/csv"}).status_code == 401
    )


def test_portfolio_problems_name_row_id_column_and_rule(server, env):
    rows = proposals_json(5, seed=32)
    rows[2]["city_resources"] = 9
    rows[4]["stage"] = "scaling"
    url, h = f"{server.url}/portfolio", {**_h(env["_scorer"]), "Content-Type": "text/csv"}
    before = _count_audit(env)
    r = httpx.post(url, content=_csv(rows), headers=h)
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert {(p["row"], p["column"], p["initiative_id"]) for p in problems} == {
        (4, "city_resources", rows[2]["initiative_id"]),  # file row: the header is row 1
        (6, "stage", rows[4]["initiative_id"]),
    }
    assert all(p["rule"].startswith("must be") for p in problems)
    assert _count_audit(env) == before  # nothing scored, nothing stored
    for body, ctype, status, words in [
        (b"a|b|c\n1|2|3\n", "text/csv", 422, "pipe"),
        (b"", "text/csv", 422, "empty"),
        (b"\x00\x01\x02garbage", "text/csv", 422, "binary"),
        (_csv(rows)[: _csv(rows).index(b"\n") + 1], "text/csv", 422, "no data rows"),
        (_csv(rows), "application/json", 415, "text/csv"),
        (_csv(proposals_json(1001, seed=33)), "text/csv", 413, "limit 1000"),
    ]:
        r = httpx.post(url, content=body, headers={**h, "Content-Type": ctype}, timeout=60)
        assert r.status_code == status, (words, r.text)
        assert words in r.json()["error"], r.text


def test_planner_page_and_its_files_are_served_with_a_strict_policy(server):
    r = httpx.get(f"{server.url}/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert "default-src 'self'" in r.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/style.css"):
        assert httpx.get(f"{server.url}{asset}").status_code == 200
    for escape in ("/static/../pyproject.toml", "/static/%2e%2e/pyproject.toml"):
        r = httpx.get(f"{server.url}{escape}")
        assert r.status_code in (401, 404) and "[project]" not in r.text


def test_a_pandas_frame_is_scored_by_to_json_and_by_the_client(server, env, tmp_path):
    import pandas as pd

    from scalepredict.client import Client

    frame = pd.read_csv(template_with_blanks(tmp_path, 7))  # blanks: 3.0 and NaN
    r = httpx.post(
        f"{server.url}/score",
        content='{"proposals": ' + frame.to_json(orient="records") + "}",
        headers={**_h(env["_scorer"]), "content-type": "application/json"},
        params={"plan": "false"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    expected = [x["probability"] for x in r.json()["results"]]
    with Client(server.url, env["_scorer"]) as client:
        scores = client.score(frame, plan=False)
    assert list(scores.index) == list(frame.index) and list(scores["probability"]) == expected
    assert list(scores["initiative_id"]) == list(frame["initiative_id"])
    with Client(server.url, env["_scorer"], batch_size=3) as client:  # 3 + 3 + 1
        assert list(client.score(frame, plan=False)["probability"]) == expected
        frame.loc[5, "security"] = 9
        with pytest.raises(ScoringError) as refused:
            client.score(frame, plan=False)
    [problem] = refused.value.problems
    assert (problem["proposal"], problem["path"]) == (6, "proposals.5.security")  # frame's numbers


class _BusyTwice(httpx.HTTPTransport):
    """The real server behind a transport that first answers 503, as a busy server does."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/score" and self.refused < 2:
            self.refused += 1
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"error": "busy"})
        return super().handle_request(request)


def test_the_client_waits_out_a_busy_server(server, env):
    import pandas as pd

    from scalepredict.client import Client

    transport = _BusyTwice()
    frame = pd.DataFrame(proposals_json(2, seed=41))
    with Client(server.url, env["_scorer"], transport=transport) as client:
        assert len(client.score(frame, explain=False, plan=False)) == 2
    assert transport.refused == 2


def test_a_client_generated_from_the_document_scores_a_proposal(server, env, tmp_path):
    import importlib.util

    from openapi_spec_validator import validate

    spec = httpx.get(f"{server.url}/docs.json").json()
    validate(spec)
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    models = tmp_path / "generated_models.py"
    gen = shutil.which("datamodel-codegen") or str(
        Path(sys.executable).parent / "datamodel-codegen"
    )
    subprocess.run(
        [
            gen,
            "--input",
            str(tmp_path / "spec.json"),
            "--input-file-type",
            "openapi",
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--output",
            str(models),
        ],
        check=True,
        capture_output=True,
    )
    loaded = importlib.util.spec_from_file_location("generated_models", models)
    assert loaded and loaded.loader
    generated = importlib.util.module_from_spec(loaded)
    sys.modules["generated_models"] = generated  # its annotations resolve in the module
    loaded.loader.exec_module(generated)
    example = spec["components"]["schemas"]["Proposal"]["examples"][0]
    request = generated.ScoreRequest(proposals=[generated.Proposal(**example)])
    r = httpx.post(
        f"{server.url}/score",
        content=request.model_dump_json(exclude_none=True),
        headers={**_h(env["_scorer"]), "content-type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    answer = generated.ScoreResponse.model_validate_json(r.text)
    assert answer.results[0].initiative_id == example["initiative_id"]
    assert 0 < answer.results[0].probability < 1
