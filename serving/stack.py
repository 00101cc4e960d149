"""The production topology on one machine, for trying it and for its tests: PostgreSQL (a
cluster under var/stack), an MLflow tracking server on it, and service replicas sharing both.

    python serving/stack.py up [--replicas 2]    # what `make stack` runs
    python serving/stack.py down                  # what `make stack-down` runs

`up` writes var/stack.env (shell syntax, mode 600): `source var/stack.env` points every
`scalepredict` command at the stack, as the operator (the tracking server's `trainer`, the
database's service role). Each replica polls the registry's champion alias, so a new champion
or a reload on one replica reaches all of them. Every login needs a password, made at the first
`up` and kept under `secrets/` (mode 600); started as root, the tracking server and the
replicas run as system users of their own (`stack_users.py`); each replica runs under a
supervisor that restarts it when it dies (`supervise.py`). See docs/security.md."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine

from scalepredict.cli.serve import stop_tree
from scalepredict.settings import project_root
from scalepredict.store import database
from scalepredict.store.local_postgres import LocalPostgres, new_password, write_secret

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: its siblings import plainly
import stack_auth
import stack_users

BIN = Path(sys.executable).parent
SERVICE_ROLE = "scalepredict_service"  # the migrations' role (store/migrations, 0003)
MLFLOW_ROLE = "mlflow"


@dataclass
class Stack:
    """Where the stack lives and the ports it uses (all on 127.0.0.1)."""

    root: Path
    pg_port: int = 55432
    mlflow_port: int = 5050
    ports: list[int] = field(default_factory=lambda: [3101, 3102])
    data: Path | None = None  # training data for the first champion (default: data/initiatives.csv)
    train_config: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)  # more settings for every process
    # As root the cluster belongs to `postgres`, which must reach it (not under a 0700 tmp dir).
    pg_dir: Path | None = None

    @property
    def postgres(self) -> LocalPostgres:
        return LocalPostgres(self.pg_dir or self.root / "pg", self.pg_port)

    @property
    def tracking_uri(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    @property
    def pids_file(self) -> Path:
        return self.root / "pids.json"

    @property
    def env_file(self) -> Path:
        return self.root.parent / "stack.env"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    def secret(self, name: str) -> str:
        """A password (or key) of the stack: made at first use, kept in a file of mode 600."""
        path = self.secrets / name
        if not path.exists():
            self.secrets.mkdir(parents=True, exist_ok=True)
            self.secrets.chmod(0o700)
            write_secret(path, new_password())
        return path.read_text().strip()

    def service_database_url(self) -> str:
        return self.postgres.url(
            "scalepredict", role=SERVICE_ROLE, password=self.secret("db-service")
        )

    def settings(self) -> dict[str, str]:
        """What the operator's commands read (var/stack.env): the trainer's credentials, the
        service's database role, the signing key's file."""
        self.secret("signing.key")
        return {
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            **stack_auth.credentials(stack_auth.TRAINER, self.secret("mlflow-trainer")),
            "SCALEPREDICT_DATABASE_URL": self.service_database_url(),
            "SCALEPREDICT_SIGNING_KEY_FILE": str(self.secrets / "signing.key"),
            "SCALEPREDICT_SIGNING_KEY": "",  # an inherited key would win over the file
            "SCALEPREDICT_REPLICAS": ",".join(self.urls),
            **self.extra,
        }

    def replica_settings(self, name: str) -> dict[str, str]:
        """A replica's: the read-only `replica` identity, the key itself (it cannot read the
        operator's files), and directories of its own."""
        env = self.settings()
        del env["SCALEPREDICT_SIGNING_KEY_FILE"]
        home = self.root / name
        return {
            **env,
            **stack_auth.credentials(stack_auth.READER, self.secret("mlflow-replica")),
            "SCALEPREDICT_SIGNING_KEY": self.secret("signing.key"),
            "SCALEPREDICT_MODEL_CACHE": str(home / "model_cache"),
            "SCALEPREDICT_MONITOR_DIR": str(home / "monitor"),
            # BentoML clears its metrics directory (under its home) at start: one each
            "BENTOML_HOME": str(home / "bentoml"),
            "HOME": str(home),
        }

    def _pids(self) -> dict[str, int]:
        return json.loads(self.pids_file.read_text()) if self.pids_file.exists() else {}

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str], user: str) -> int:
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        logs.chmod(0o700)
        proc = subprocess.Popen(
            cmd,
            cwd=project_root(),
            env={**os.environ, **env},
            stdout=(logs / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this script; `down` stops its whole tree
            **stack_users.as_user(user),
        )
        pids = self._pids()
        pids[name] = proc.pid
        self.pids_file.write_text(json.dumps(pids, indent=1))
        return proc.pid

    def up(self, log: bool = True) -> None:
        say = print if log else (lambda *_: None)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o711)  # the service users reach their own directories, list nothing
        tracker = stack_users.ensure(stack_users.TRACKING_USER)
        server = stack_users.ensure(stack_users.SERVICE_USER)
        self._database(say)
        mlflow_dir = stack_users.private_dir(self.root / "mlflow", tracker)
        artifacts = stack_users.private_dir(self.root / "artifacts", tracker)
        admin = self.secret("mlflow-admin")
        if "mlflow" not in self._pids():
            say(f"MLflow tracking server: {self.tracking_uri} (basic auth, PostgreSQL backend)")
            mlflow_url = self.postgres.url(
                "mlflow", role=MLFLOW_ROLE, password=self.secret("db-mlflow")
            )
            ini = mlflow_dir / "auth.ini"
            stack_auth.write_auth_config(
                ini,
                self.postgres.url(
                    "mlflow_auth", role=MLFLOW_ROLE, password=self.secret("db-mlflow")
                ),
                admin,
            )
            stack_users.give(ini, tracker)
            stack_users.check_reach(tracker, [mlflow_dir, artifacts], say)
            self._spawn(
                "mlflow",
                [
                    str(BIN / "mlflow"),
                    "server",
                    "--app-name",
                    "basic-auth",
                    "--artifacts-destination",
                    artifacts.as_uri(),
                    "--serve-artifacts",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.mlflow_port),
                    "--workers",
                    "1",
                ],
                # secrets in the environment, not the command line (`ps` shows that to all)
                {
                    "MLFLOW_BACKEND_STORE_URI": mlflow_url,
                    "MLFLOW_AUTH_CONFIG_PATH": str(ini),
                    "MLFLOW_FLASK_SERVER_SECRET_KEY": self.secret("mlflow-flask"),  # CSRF
                    "HOME": str(mlflow_dir),
                },
                tracker,
            )
        _wait_http(f"{self.tracking_uri}/health", 400, self.root / "logs" / "mlflow.log")
        stack_auth.ensure_users(
            self.tracking_uri,
            admin,
            {
                stack_auth.TRAINER: self.secret("mlflow-trainer"),
                stack_auth.READER: self.secret("mlflow-replica"),
            },
        )
        env = self.settings()
        stack_auth.prepare_registry(self.tracking_uri, admin, *stack_auth.registry_names(env))
        train = [str(BIN / "scalepredict"), "train", "--if-missing"]
        if self.data is not None:
            train += ["--data", str(self.data)]
        if self.train_config is not None:
            train += ["--config", str(self.train_config)]
        say("champion: training one if the registry has none")
        subprocess.run(train, cwd=project_root(), env={**os.environ, **env}, check=True)
        for i, (port, url) in enumerate(zip(self.ports, self.urls, strict=True), 1):
            name = f"replica-{i}"
            if name in self._pids():
                continue
            say(f"replica {i}: {url} (supervised)")
            home = stack_users.private_dir(self.root / name, server)
            stack_users.check_reach(server, [home], say)
            self._spawn(
                name,
                [
                    sys.executable,
                    str(Path(__file__).with_name("supervise.py")),
                    name,
                    "--",
                    str(BIN / "scalepredict"),
                    "serve",
                    "--port",
                    str(port),
                ],
                self.replica_settings(name),
                server,
            )
        for i, url in enumerate(self.urls, 1):
            _wait_http(f"{url}/readyz", 180, self.root / "logs" / f"replica-{i}.log")
        write_secret(
            self.env_file,
            "# Written by `make stack`: `source var/stack.env` points scalepredict at the stack.\n"
            + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()),
        )
        say(f"ready; settings in {self.env_file}")

    def _database(self, say: Callable[..., None]) -> None:
        """The cluster (passwords only), the service's role and database (migrated here, by
        the superuser: the service's role cannot alter tables), MLflow's role and databases."""
        pg = self.postgres
        if pg.initialized and pg.password is None:
            raise RuntimeError(
                f"the cluster in {pg.data_dir} was made without passwords (trust): "
                "`make stack-down`, remove it, and `make stack` again"
            )
        if not pg.running:
            say(f"PostgreSQL: starting the cluster in {pg.data_dir} on port {self.pg_port}")
            pg.start()
        pg.set_role(SERVICE_ROLE, self.secret("db-service"))
        pg.set_role(MLFLOW_ROLE, self.secret("db-mlflow"))
        pg.create_database("scalepredict")
        pg.execute(
            'REVOKE ALL ON DATABASE "scalepredict" FROM PUBLIC',
            f'GRANT CONNECT, TEMPORARY ON DATABASE "scalepredict" TO {SERVICE_ROLE}',
        )
        engine = create_engine(pg.url("scalepredict"))
        try:
            database.upgrade(engine)
        finally:
            engine.dispose()
        for db in ("mlflow", "mlflow_auth"):
            pg.create_database(db, owner=MLFLOW_ROLE)

    def crash_replica(self, name: str) -> int:
        """SIGKILL a replica's whole process tree (not its supervisor), as a crash would;
        returns the pid of the replica's command that was killed."""
        import psutil

        supervisor = psutil.Process(self._pids()[name])
        command = supervisor.children()[0].pid
        for p in supervisor.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        return command

    def stop_replica(self, name: str, crash: bool = False) -> None:
        """Stop one process tree; `crash`: SIGKILL all of it at once, as a lost machine would."""
        pids = self._pids()
        if name not in pids:
            return
        pid = pids.pop(name)
        if crash:
            import psutil

            with contextlib.suppress(psutil.NoSuchProcess):
                root = psutil.Process(pid)
                for p in [*root.children(recursive=True), root]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        p.kill()
        stop_tree(pid)
        self.pids_file.write_text(json.dumps(pids, indent=1))

    def down(self) -> None:
        """Replicas, then the tracking server, then PostgreSQL; safe to run twice."""
        for name in sorted(self._pids(), key=lambda n: n == "mlflow"):
            self.stop_replica(name)
        self.postgres.stop()
        self.env_file.unlink(missing_ok=True)


def _wait_http(url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    tail = log.read_text()[-2000:] if log.exists() else ""
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s; log tail:\n{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--root", type=Path, default=project_root() / "var" / "stack")
    parser.add_argument("--pg-port", type=int, default=55432)
    parser.add_argument("--mlflow-port", type=int, default=5050)
    parser.add_argument("--ports", default="3101,3102", help="replica ports, comma-separated")
    args = parser.parse_args()
    stack = Stack(
        args.root.resolve(),
        args.pg_port,
        args.mlflow_port,
        [int(p) for p in args.ports.split(",")],
    )
    if args.action == "up":
        try:
            stack.up()
        except Exception:
            stack.down()  # nothing half-started is left running
            raise
    else:
        stack.down()
        print("stack stopped")


if __name__ == "__main__":
    main()
