"""The production topology, for real: PostgreSQL (Debian's package, a cluster in a temporary
directory), an MLflow tracking server on it (basic auth), and two `bentoml serve` replicas
sharing both, each under its supervisor. Run as root (CI), the tracking server and the
replicas run as system users of their own."""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from scalepredict.data.synthetic import generate
from scalepredict.model.signing import sign
from serving import stack_auth
from serving.stack import SERVICE_ROLE, Stack
from tests.conftest import SMALL_CONFIG
from tests.e2e.live_server import free_port, proposals_json

# The module's tests share one stack: `make test` deals tests out file by file (`--dist
# loadfile`), so they all run on one worker, in order.
pytestmark = [pytest.mark.service, pytest.mark.slow]

if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
    pytest.skip("PostgreSQL is not installed (`make postgres`)", allow_module_level=True)

BIN = Path(sys.executable).parent
POLL_S = 1.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = Path(tempfile.mkdtemp(prefix="scalepredict-stack-"))  # not pytest's 0700 basetemp
    root.chmod(0o711)
    data, config = root / "train.csv", root / "small.yaml"
    generate(2000, seed=21, truth=True).to_csv(data, index=False, date_format="%Y-%m-%d")
    config.write_text(yaml.safe_dump(SMALL_CONFIG))
    s = Stack(
        root / "var" / "stack",
        free_port(),
        free_port(),
        [free_port(), free_port()],
        data=data,
        train_config=config,
        extra={"SCALEPREDICT_CHAMPION_POLL_SECONDS": str(POLL_S)},
        pg_dir=Path(tempfile.mkdtemp(prefix="scalepredict-stack-pg-")) / "pg",
    )
    try:
        s.up(log=False)
        yield s
    finally:
        s.down()
        s.postgres.kill()
        shutil.rmtree(s.postgres.data_dir.parent, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def as_trainer(stack):
    """MLflow's clients log in from the environment: the trainer's credentials for a test."""
    with stack_auth.logged_in(stack_auth.TRAINER, stack.secret("mlflow-trainer")):
        yield


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "scalepredict"), *args],
        env={**os.environ, **stack.settings()},
        capture_output=True,
        text=True,
        check=True,
    )


@pytest.fixture(scope="module")
def keys(stack) -> dict[str, str]:
    return {
        role: cli(stack, "keys", "add", f"t-{role}", "--role", role).stdout.strip()
        for role in ("scorer", "admin")
    }


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def audited_request_ids(stack: Stack) -> set[str]:
    engine = create_engine(stack.settings()["SCALEPREDICT_DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT DISTINCT request_id FROM scored_proposals"))
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def test_stack_env_file_points_commands_at_the_stack(stack):
    lines = stack.env_file.read_text()
    for name, value in stack.settings().items():
        if not name.startswith("SCALEPREDICT_CHAMPION"):
            assert f"export {name}=" in lines and value.split("://")[-1] in lines
    status = cli(stack, "status", "--json")
    assert '"healthy": true' in status.stdout


@pytest.mark.parametrize("replica", [0, 1])
def test_auth_matrix_on_each_replica(stack, keys, replica):
    url = stack.urls[replica]
    body = {"proposals": proposals_json(2)}
    assert httpx.post(f"{url}/score", json=body).status_code == 401
    assert httpx.post(f"{url}/score", json=body, headers=_h("sp_wrong")).status_code == 401
    assert httpx.post(f"{url}/score", json=body, headers=_h(keys["scorer"])).status_code == 200
    assert httpx.post(f"{url}/admin/reload", headers=_h(keys["scorer"])).status_code == 403
    ok = httpx.post(f"{url}/admin/reload", headers=_h(keys["admin"]), timeout=60)
    assert ok.status_code == 200, ok.text


def test_key_revoked_on_one_is_refused_by_every_replica_within_5_s(stack):
    key = cli(stack, "keys", "add", "short-lived", "--role", "scorer").stdout.strip()
    body = {"proposals": proposals_json(1)}
    for url in stack.urls:
        assert httpx.post(f"{url}/score", json=body, headers=_h(key)).status_code == 200
    cli(stack, "keys", "revoke", "short-lived")
    revoked = time.monotonic()
    refused: dict[str, float] = {}
    while len(refused) < len(stack.urls) and time.monotonic() - revoked < 10:
        for url in stack.urls:
            if url not in refused:
                code = httpx.post(f"{url}/score", json=body, headers=_h(key)).status_code
                if code == 401:
                    refused[url] = time.monotonic() - revoked
        time.sleep(0.1)
    assert set(refused) == set(stack.urls) and max(refused.values()) <= 5.0, refused


def test_new_champion_and_a_reload_on_one_replica_reach_both(stack, keys, as_trainer):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=stack.tracking_uri, registry_uri=stack.tracking_uri)
    current = client.get_model_version_by_alias("scalepredict", "champion")
    copy = client.copy_model_version(f"models:/scalepredict/{current.version}", "scalepredict")
    client.set_registered_model_alias("scalepredict", "champion", copy.version)
    r = httpx.post(f"{stack.urls[0]}/admin/reload", headers=_h(keys["admin"]), timeout=60)
    assert r.status_code == 200 and str(copy.version) in r.text
    deadline = time.monotonic() + 30 * POLL_S
    while time.monotonic() < deadline:
        versions = [httpx.get(f"{u}/readyz").json().get("model_version") for u in stack.urls]
        if versions == [str(copy.version)] * 2:
            break
        time.sleep(0.2)
    assert versions == [str(copy.version)] * 2


def _load(stack: Stack, key: str, seconds: float, during=None):
    """Requests alternate over the replicas from 8 threads, as a load balancer would send
    them; a replica that cannot be reached is skipped for the other (the balancer's
    failover). Returns (status counts, request ids answered 200, proposals answered 200)."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    codes: dict[int | str, int] = {}
    ok_ids: set[str] = set()
    answered = [0]
    turn = itertools.count()

    def worker(seed: int) -> None:
        batch = proposals_json(2, seed=seed)
        while time.monotonic() < stop:
            start = next(turn)
            for hop in range(len(stack.urls)):
                url = stack.urls[(start + hop) % len(stack.urls)]
                try:
                    r = httpx.post(
                        f"{url}/score", json={"proposals": batch}, headers=_h(key), timeout=30
                    )
                except httpx.TransportError:
                    continue  # the balancer tries the other replica
                with lock:
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        ok_ids.add(r.json()["request_id"])
                        answered[0] += len(batch)
                break
            else:
                with lock:
                    codes["unreachable"] = codes.get("unreachable", 0) + 1

    with cf.ThreadPoolExecutor(9) as pool:
        futures = [pool.submit(worker, seed) for seed in range(8)]
        if during is not None:
            during()
        for f in futures:
            f.result()
    return codes, ok_ids, answered[0]


def test_the_registry_refuses_clients_without_credentials(stack):
    api = f"{stack.tracking_uri}/api/2.0/mlflow"
    read = httpx.get(f"{api}/registered-models/search")
    write = httpx.post(f"{api}/registered-models/create", json={"name": "planted"})
    alias = httpx.post(
        f"{api}/registered-models/alias",
        json={"name": "scalepredict", "alias": "champion", "version": "1"},
    )
    assert (read.status_code, write.status_code, alias.status_code) == (401, 401, 401)
    replica = (stack_auth.READER, stack.secret("mlflow-replica"))
    assert httpx.get(f"{api}/registered-models/search", auth=replica).status_code == 200
    moved = httpx.post(
        f"{api}/registered-models/alias",
        json={"name": "scalepredict", "alias": "challenger", "version": "1"},
        auth=replica,
    )
    assert moved.status_code == 403  # the replicas' identity reads and never writes


HOSTILE = """import pathlib
import mlflow
pathlib.Path({marker!r}).write_text("code from the registry ran")


class Hostile(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return [0.99] * len(model_input)


mlflow.models.set_model(Hostile())
"""


def test_a_version_registered_without_the_signing_key_is_refused_and_runs_no_code(
    stack, as_trainer
):
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=stack.tracking_uri, registry_uri=stack.tracking_uri)
    genuine = client.get_model_version_by_alias("scalepredict", "champion")
    work = Path(tempfile.mkdtemp(prefix="scalepredict-hostile-"))
    work.chmod(0o777)  # any user the code might run as could write the marker
    marker = work / "marker"
    before = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(stack.tracking_uri)
    mlflow.set_registry_uri(stack.tracking_uri)
    bundle = Path(
        mlflow.artifacts.download_artifacts(
            f"models:/scalepredict/{genuine.version}/artifacts/bundle", dst_path=str(work)
        )
    )
    sign(bundle, b"an attacker's key")  # valid registry credentials, not the signing key
    code = work / "hostile_model.py"
    code.write_text(HOSTILE.format(marker=str(marker)))
    try:
        with mlflow.start_run(experiment_id=client.get_run(genuine.run_id).info.experiment_id):
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=str(code),
                artifacts={"bundle": str(bundle)},
                registered_model_name="scalepredict",
                pip_requirements=["mlflow"],
            )
        # MLflow imports a models-from-code file while logging it, here, in the test: that
        # marker is ours; what follows is about the replicas
        marker.unlink(missing_ok=True)
        client.set_registered_model_alias("scalepredict", "champion", info.registered_model_version)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = [httpx.get(f"{u}/readyz").json() for u in stack.urls]
            if all("refused" in r.get("refused", "") for r in ready):
                break
            time.sleep(0.5)
        assert all("signing key" in r.get("refused", "") for r in ready), ready
        assert [r.get("model_version") for r in ready] == [str(genuine.version)] * 2
        assert not marker.exists()
    finally:
        client.set_registered_model_alias("scalepredict", "champion", genuine.version)
        mlflow.set_tracking_uri(before[0])
        mlflow.set_registry_uri(before[1])
        shutil.rmtree(work, ignore_errors=True)


def test_postgres_asks_every_login_for_a_password_and_the_audit_is_append_only(stack, keys):
    scored = httpx.post(
        f"{stack.urls[0]}/score",
        json={"proposals": proposals_json(1)},
        headers=_h(keys["scorer"]),
        timeout=30,
    )
    assert scored.status_code == 200, scored.text  # this test's own row, whatever ran before
    pg = stack.postgres
    hba = [ln for ln in (pg.data_dir / "pg_hba.conf").read_text().splitlines() if ln.strip()]
    assert not [ln for ln in hba if not ln.startswith("#") and "trust" in ln]
    for role in ("scalepredict", SERVICE_ROLE, "mlflow", "postgres"):
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(host="127.0.0.1", port=stack.pg_port, user=role, dbname="postgres")
    engine = create_engine(stack.service_database_url())
    try:
        with engine.connect() as conn:
            mine = conn.execute(
                text("SELECT count(*) FROM scored_proposals WHERE request_id = :id"),
                {"id": scored.json()["request_id"]},
            )
            assert mine.scalar() == 1  # the service's role reads what its replicas wrote
        for edit in (
            "UPDATE scored_proposals SET output = '{}'",
            "DELETE FROM scored_proposals",
            "TRUNCATE scored_proposals",
            "DELETE FROM outcome_history",
        ):
            with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
                conn.execute(text(edit))
        with pytest.raises(DBAPIError), engine.connect() as conn:  # not even its superuser's
            conn.execute(text("COPY (SELECT 1) TO PROGRAM 'true'"))
    finally:
        engine.dispose()
    mlflow_db = pg.url("mlflow", role=SERVICE_ROLE, password=stack.secret("db-service"))
    with pytest.raises(DBAPIError, match="permission denied"):
        create_engine(mlflow_db).connect()  # MLflow's database is not the service's


def test_secrets_are_private_and_services_run_unprivileged(stack):
    assert stack.env_file.stat().st_mode & 0o077 == 0
    assert "mlflow-admin" not in stack.env_file.read_text()
    for path in stack.secrets.iterdir():
        assert path.stat().st_mode & 0o077 == 0, path
    admin = stack.secret("mlflow-admin")
    for name, pid in stack._pids().items():
        tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        if os.geteuid() == 0:
            assert all(p.uids().effective != 0 for p in tree), name
        if name != "mlflow":
            assert all(admin not in "".join(p.environ().values()) for p in tree), name


def test_a_crashed_replica_is_restarted(stack, keys):
    killed = stack.crash_replica("replica-1")
    body = {"proposals": proposals_json(1)}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            r = httpx.post(f"{stack.urls[0]}/score", json=body, headers=_h(keys["scorer"]))
            if r.status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(1)
    assert r.status_code == 200
    supervisor = psutil.Process(stack._pids()["replica-1"])
    assert killed not in [p.pid for p in supervisor.children()]


def test_random_keys_are_throttled_while_a_real_key_scores(stack, keys):
    url, body = stack.urls[1], {"proposals": proposals_json(1)}
    codes = [
        httpx.post(f"{url}/score", json=body, headers=_h(f"sp_guess{i}")).status_code
        for i in range(100)
    ]
    assert set(codes) == {401, 429} and codes[-1] == 429, codes
    assert httpx.post(f"{url}/score", json=body, headers=_h(keys["scorer"])).status_code == 200


def test_postgres_lost_mid_load_gives_503_then_recovers_without_audit_loss(stack, keys):
    def outage():
        time.sleep(5)
        stack.postgres.stop("immediate")
        time.sleep(4)
        stack.postgres.start()

    codes, ok_ids, _ = _load(stack, keys["scorer"], 25, during=outage)
    assert set(codes) <= {200, 503}, codes
    assert codes.get(503, 0) > 0 and codes[200] > 0, codes
    assert ok_ids <= audited_request_ids(stack)  # every answer sent has its audit rows
    after = httpx.post(
        f"{stack.urls[0]}/score", json={"proposals": proposals_json(1)}, headers=_h(keys["scorer"])
    )
    assert after.status_code == 200


def test_load_over_both_with_one_replica_killed_loses_no_answer_and_no_audit(stack, keys):
    before = audited_request_ids(stack)
    codes, ok_ids, answered = _load(
        stack,
        keys["scorer"],
        30,
        during=lambda: (time.sleep(10), stack.stop_replica("replica-2", crash=True)),
    )
    assert codes.get(200, 0) > 0 and set(codes) == {200}, codes
    after = audited_request_ids(stack) - before
    assert ok_ids <= after, len(ok_ids - after)
    engine = create_engine(stack.settings()["SCALEPREDICT_DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT count(*) FROM scored_proposals WHERE request_id = ANY(:ids)"),
            {"ids": list(ok_ids)},
        ).scalar()
    engine.dispose()
    assert rows == answered  # one audit row per proposal answered 200


def test_tracking_server_down_replicas_keep_serving_and_a_new_one_uses_its_cache(stack, keys):
    from tests.e2e.live_server import Server

    stack.stop_replica("mlflow")
    body = {"proposals": proposals_json(1)}
    r = httpx.post(f"{stack.urls[0]}/score", json=body, headers=_h(keys["scorer"]), timeout=30)
    assert r.status_code == 200
    cache = stack.root / "replica-1" / "model_cache"
    env = {**stack.settings(), "SCALEPREDICT_MODEL_CACHE": str(cache), "_root": str(stack.root)}
    with Server.started(env, "late-replica.log") as late:
        ready = httpx.get(f"{late.url}/readyz").json()
        assert ready["source"] == "cache" and "registry unreachable" in ready["warning"]
        r = httpx.post(f"{late.url}/score", json=body, headers=_h(keys["scorer"]), timeout=30)
        assert r.status_code == 200
