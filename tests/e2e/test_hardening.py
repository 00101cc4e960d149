"""What a hostile or unlucky client can do, against a real `bentoml serve`: one test per class
of problem (bounded work on wide input, bounded metrics, a clean stop, load shedding with
honest audit rows, unreadable keys, one set of limits on every path, the error body on every
error path, an unwritable audit store, headers and exports, paths and stores)."""

from __future__ import annotations

import concurrent.futures as cf
import csv
import json
import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from scalepredict.settings import Settings
from tests.e2e.live_server import BIN, Server, free_port, proposals_json, trained_service_env

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    env = trained_service_env(tmp_path_factory.mktemp("hardening"))
    env["SCALEPREDICT_MAX_INFLIGHT_PROPOSALS"] = "800"  # two 400-proposal requests at once
    return env


@pytest.fixture(scope="module")
def server(env):
    with Server.started(env, "serve-hardening.log") as s:
        yield s


def _h(key: str, **more: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **more}


def _documented(r: httpx.Response) -> dict:
    """Every error answers with the documented JSON body."""
    assert r.headers["content-type"].startswith("application/json"), (r.status_code, r.text)
    body = r.json()
    assert isinstance(body["error"], str) and isinstance(body["problems"], list), body
    return body


def test_a_100000_column_csv_is_refused_at_once_and_the_worker_stays_idle(server, env):
    header = ",".join(f"c{i}" for i in range(100_000)).encode() + b"\n1\n"
    t0 = time.perf_counter()
    r = httpx.post(
        f"{server.url}/portfolio",
        content=header,
        headers=_h(env["_scorer"], **{"content-type": "text/csv"}),
        timeout=60,
    )
    seconds = time.perf_counter() - t0
    assert r.status_code == 422 and "100000 columns" in _documented(r)["error"]
    assert seconds < 5, seconds  # the quadratic check took minutes; a regression shows here
    worker = [p for p in psutil.Process(server.proc.pid).children(recursive=True)]
    time.sleep(1)
    assert all(p.cpu_percent(interval=0.5) < 50 for p in worker if p.is_running())


def test_random_paths_leave_metrics_bounded_and_metrics_need_the_admin_role(server, env):
    with httpx.Client(base_url=server.url, timeout=10) as c:
        for _ in range(3000):
            c.get(f"/{uuid.uuid4().hex}/{uuid.uuid4().hex[:8]}")
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers=_h(env["_scorer"])).status_code == 403
        m = c.get("/metrics", headers=_h(env["_admin"]))
    assert m.status_code == 200
    assert len(m.content) < 50_000, len(m.content)
    assert 'route="other"' in m.text and "scalepredict_requests" in m.text


def test_sigterm_to_serve_stops_every_process_and_frees_the_port(env, tmp_path):
    port = free_port()
    run_env = {**os.environ, **{k: v for k, v in env.items() if not k.startswith("_")}}
    run_env["BENTOML_HOME"] = str(tmp_path / "bentoml")
    proc = subprocess.Popen(
        [str(BIN / "scalepredict"), "serve", "--port", str(port)],
        env=run_env,
        stdout=(tmp_path / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert len(tree) >= 2
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        _, alive = psutil.wait_procs(tree, timeout=30)
        assert alive == [], [p.cmdline() for p in alive]
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # free again
    finally:
        if proc.poll() is None:
            proc.kill()


def _audit_rows(env) -> int:
    from scalepredict.store.audit import AuditLog

    return AuditLog(Settings(database_url=env["SCALEPREDICT_DATABASE_URL"])).count()


def test_overload_is_shed_with_503_and_only_answers_are_audited(server, env):
    before = _audit_rows(env)
    proposals = proposals_json(400)

    def call(k: int) -> httpx.Response:
        batch = [{**p, "initiative_id": f"{p['initiative_id']}-{k}"} for p in proposals]
        return httpx.post(
            f"{server.url}/score",
            json={"proposals": batch},
            headers=_h(env["_scorer"]),
            timeout=120,
        )

    with cf.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(8)))
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 503} and 503 in statuses and 200 in statuses, statuses
    for r in answers:
        if r.status_code == 503:
            assert int(r.headers["retry-after"]) >= 1 and "capacity" in _documented(r)["error"]
    scored = sum(len(r.json()["results"]) for r in answers if r.status_code == 200)
    assert _audit_rows(env) - before == scored


def test_two_workers_each_load_the_champion_every_answer_is_audited_and_counted(env):
    """`SCALEPREDICT_WORKERS=2`: two worker processes on one SQLite file, each with the
    champion; concurrent answers all 200, an audit row for every proposal answered, and
    /metrics counts both workers' answers whichever worker serves the scrape."""
    with Server.started({**env, "SCALEPREDICT_WORKERS": "2"}, "serve-workers.log") as s:
        deadline = time.time() + 120  # /readyz came from one worker: wait for the other
        while len(re.findall(r"serving \S+ v\d+ from", s.log.read_text())) < 2:
            assert time.time() < deadline, s.log.read_text()[-3000:]
            time.sleep(0.5)
        tree = psutil.Process(s.proc.pid).children(recursive=True)
        assert sum("_bentoml_impl.worker" in " ".join(p.cmdline()) for p in tree) == 2
        before = _audit_rows(env)
        proposals = proposals_json(5, seed=41)

        def call(_: int) -> httpx.Response:
            return httpx.post(
                f"{s.url}/score?plan=false",
                json={"proposals": proposals},
                headers=_h(env["_scorer"]),
                timeout=120,
            )

        with cf.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, range(24)))
        assert [r.status_code for r in answers] == [200] * 24
        assert _audit_rows(env) - before == 24 * 5
        scored = re.compile(
            r'^scalepredict_requests_total\{[^}]*route="/score"[^}]*\} (\S+)$', re.M
        )
        for _ in range(6):  # several scrapes: each worker answers some
            m = httpx.get(f"{s.url}/metrics", headers=_h(env["_admin"]), timeout=10)
            assert [float(v) for v in scored.findall(m.text)] == [24.0], m.text


def test_a_random_key_flood_gets_429_while_a_real_key_still_scores(server, env):
    """From one address (loopback), random keys past the allowance (20 per minute) get 429 with
    Retry-After and no lookup; the scorer's key, sent between them, is answered every time."""
    body = {"proposals": proposals_json(1, seed=43)}

    def guess(_: int) -> httpx.Response:
        return httpx.post(
            f"{server.url}/score", json=body, headers=_h(f"sp_{uuid.uuid4().hex}"), timeout=30
        )

    def real(_: int) -> httpx.Response:
        return httpx.post(
            f"{server.url}/score?plan=false", json=body, headers=_h(env["_scorer"]), timeout=60
        )

    with cf.ThreadPoolExecutor(16) as pool:
        guesses = [pool.submit(guess, i) for i in range(300)]
        reals = [pool.submit(real, i) for i in range(10)]
        answers = [f.result() for f in guesses]
        scored = [f.result() for f in reals]
    assert [r.status_code for r in scored] == [200] * 10
    statuses = [r.status_code for r in answers]
    assert set(statuses) == {401, 429} and statuses.count(401) <= 20, statuses
    refused = next(r for r in answers if r.status_code == 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "too many invalid API keys" in _documented(refused)["error"]
    assert "used up its failed API key attempts" in server.log.read_text()


def test_one_set_of_limits_on_every_path(server, env):
    h = _h(env["_scorer"])
    p = proposals_json(1)[0]
    cases = [
        ("/score", {"proposals": [{**p, "initiative_id": "a"}, {**p, "initiative_id": " a"}]}),
        ("/score", {"proposals": [{**p, "initiative_id": "   "}]}),
        ("/score", {"proposals": [{**p, "initiative_id": "x" * 3000}]}),
        ("/whatif", {"proposal": p, "changes": {"value_case": True}}),
        ("/plan", {"proposal": p, "max_effort": True}),
        ("/plan", {"proposal": p, "target_probability": "0.5"}),
    ]
    for path, body in cases:
        r = httpx.post(f"{server.url}{path}", json=body, headers=h)
        assert r.status_code == 422, (path, body, r.text)
        _documented(r)
    for column, value in (("initiative_id", "x" * 3000), ("assessed_on", "now")):
        for bad in (value, "today", "2026", "2026/03/02") if column == "assessed_on" else (value,):
            row = {**p, column: bad}
            text = (
                ",".join(row) + "\n" + ",".join("" if v is None else str(v) for v in row.values())
            )
            r = httpx.post(
                f"{server.url}/portfolio",
                content=text.encode(),
                headers={**h, "content-type": "text/csv"},
            )
            assert r.status_code == 422 and _documented(r)["problems"][0]["column"] == column


ERRORS = [
    # (method, path, headers, body, status): every status the API gives, every body documented
    ("GET", "/model", {}, None, 401),
    ("GET", "/admin/audit", {"key": "_scorer"}, None, 403),
    ("GET", "/no/such/path", {"key": "_scorer"}, None, 403),  # unlisted paths are admin-only
    ("GET", "/no/such/path", {"key": "_admin"}, None, 404),
    ("DELETE", "/score", {"key": "_scorer"}, None, 405),
    ("POST", "/score", {"key": "_scorer", "content-type": "application/x-notjson"}, b"{}", 415),
    ("POST", "/score", {"key": "_scorer", "content-type": "text/plain"}, b"hi", 415),
    ("POST", "/score", {"key": "_scorer", "content-type": "application/json"}, b"\xff\xfe{", 400),
    ("POST", "/score", {"key": "_scorer", "content-type": "application/json"}, b"{oops", 422),
    ("POST", "/score", {"key": "_scorer", "content-encoding": "gzip"}, b"\x1f\x8b\x08\x00", 400),
    ("POST", "/score", {"key": "_scorer"}, b"[" * 5000 + b"]" * 5000, 400),
    ("POST", "/score", {"key": "_scorer"}, b'{"proposals": [' + b"9" * 5000 + b"]}", 400),
    ("POST", "/score", {"key": "_scorer"}, b'{"proposals": [{"city": "\\ud800"}]}', 422),
    ("POST", "/score", {"key": "_scorer"}, b"x" * 3_100_000, 413),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), ERRORS)
def test_every_error_path_returns_the_documented_body(
    server, env, method, path, headers, body, status
):
    headers = dict(headers)
    if "key" in headers:
        headers["Authorization"] = f"Bearer {env[headers.pop('key')]}"
    headers.setdefault("content-type", "application/json")
    r = httpx.request(method, f"{server.url}{path}", content=body, headers=headers, timeout=30)
    assert r.status_code == status, r.text[:500]
    _documented(r)


def test_a_locked_audit_store_answers_503_fast_and_readyz_says_why(server, env):
    db = env["SCALEPREDICT_DATABASE_URL"].removeprefix("sqlite:///")
    lock = sqlite3.connect(db, timeout=1)
    try:
        lock.execute("BEGIN EXCLUSIVE")
        t0 = time.perf_counter()
        r = httpx.post(
            f"{server.url}/score", json={"proposals": proposals_json(1)}, headers=_h(env["_scorer"])
        )
        assert r.status_code == 503 and "audit" in _documented(r)["error"]
        assert time.perf_counter() - t0 < 2.5
        time.sleep(1.1)  # past the readiness probe's cache
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 503 and "audit" in ready.json()["reason"]
    finally:
        lock.rollback()
        lock.close()
    time.sleep(1.1)
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    r = httpx.post(
        f"{server.url}/score", json={"proposals": proposals_json(1)}, headers=_h(env["_scorer"])
    )
    assert r.status_code == 200


def test_page_files_carry_the_page_headers_and_exports_are_formula_safe(server, env, tmp_path):
    for path in ("/", "/static/index.html", "/static/app.js"):
        r = httpx.get(f"{server.url}{path}")
        assert r.headers["content-security-policy"].startswith("default-src 'self'"), path
        assert r.headers["x-content-type-options"] == "nosniff"
    p = {**proposals_json(1, seed=4)[0], "initiative_id": '=HYPERLINK("http://x")', "city": "@x"}
    r = httpx.post(f"{server.url}/score", json={"proposals": [p]}, headers=_h(env["_scorer"]))
    assert r.status_code == 200
    export = httpx.get(f"{server.url}/admin/audit", headers=_h(env["_admin"])).text
    cells = [c for row in csv.reader(export.splitlines()) for c in row]
    assert not any(c[:1] in "=+-@" for c in cells if c)
    assert "'=HYPERLINK" in export
    db = Path(env["SCALEPREDICT_DATABASE_URL"].removeprefix("sqlite:///"))
    assert stat.S_IMODE(db.stat().st_mode) & 0o077 == 0  # owner only


def test_a_missing_tracking_store_is_named_not_created(env, tmp_path):
    missing = tmp_path / "nowhere" / "mlflow.db"
    broken = {k: v for k, v in env.items() if not k.startswith("_")}
    broken["MLFLOW_TRACKING_URI"] = f"sqlite:///{missing}"
    broken["SCALEPREDICT_MODEL_CACHE"] = str(tmp_path / "no-cache")
    other = Server(broken, tmp_path / "serve-missing.log")
    try:
        deadline = time.time() + 90
        body = {}
        while time.time() < deadline:
            try:
                r = httpx.get(f"{other.url}/readyz", timeout=2)
                body = r.json()
                if "reason" in body and "no model loaded:" in body["reason"]:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert (
            "no MLflow store at" in json.dumps(body)
            or "no MLflow store at" in (tmp_path / "serve-missing.log").read_text()
        )
        assert not missing.exists()
    finally:
        other.stop()
