"""The production topology on one machine, for trying it and for its tests: PostgreSQL (a
cluster under var/stack), an MLflow tracking server on it, and service replicas sharing both.

    python serving/stack.py up [--replicas 2]    # what `make stack` runs
    python serving/stack.py down                  # what `make stack-down` runs

`up` writes var/stack.env (shell syntax): `source var/stack.env` points every `scalepredict`
command at the stack. Each replica polls the registry's champion alias, so a new champion or
a reload on one replica reaches all of them."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scalepredict.cli.serve import stop_tree
from scalepredict.settings import project_root
from scalepredict.store.local_postgres import LocalPostgres

BIN = Path(sys.executable).parent


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

    def settings(self) -> dict[str, str]:
        """What every command and replica of the stack reads."""
        return {
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "SCALEPREDICT_DATABASE_URL": self.postgres.url("scalepredict"),
            "SCALEPREDICT_REPLICAS": ",".join(self.urls),
            **self.extra,
        }

    def _pids(self) -> dict[str, int]:
        return json.loads(self.pids_file.read_text()) if self.pids_file.exists() else {}

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> int:
        logs = self.root / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            cmd,
            cwd=project_root(),
            env={**os.environ, **env},
            stdout=(logs / f"{name}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this script; `down` stops its whole tree
        )
        pids = self._pids()
        pids[name] = proc.pid
        self.pids_file.write_text(json.dumps(pids, indent=1))
        return proc.pid

    def up(self, log: bool = True) -> None:
        say = print if log else (lambda *_: None)
        self.root.mkdir(parents=True, exist_ok=True)
        pg = self.postgres
        if not pg.running:
            say(f"PostgreSQL: starting the cluster in {pg.data_dir} on port {self.pg_port}")
            pg.start()
        for db in ("mlflow", "scalepredict"):
            pg.create_database(db)
        if "mlflow" not in self._pids():
            say(f"MLflow tracking server: {self.tracking_uri} (PostgreSQL backend)")
            self._spawn(
                "mlflow",
                [
                    str(BIN / "mlflow"),
                    "server",
                    "--backend-store-uri",
                    pg.url("mlflow"),
                    "--artifacts-destination",
                    (self.root / "artifacts").resolve().as_uri(),
                    "--serve-artifacts",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.mlflow_port),
                    "--workers",
                    "1",
                ],
                {},
            )
        _wait_http(f"{self.tracking_uri}/health", 120, self.root / "logs" / "mlflow.log")
        env = self.settings()
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
            say(f"replica {i}: {url}")
            self._spawn(
                name,
                [str(BIN / "scalepredict"), "serve", "--port", str(port)],
                {
                    **env,
                    "SCALEPREDICT_MODEL_CACHE": str(self.root / name / "model_cache"),
                    # BentoML clears its metrics directory (under its home) at start: one each
                    "BENTOML_HOME": str(self.root / name / "bentoml"),
                },
            )
        for i, url in enumerate(self.urls, 1):
            _wait_http(f"{url}/readyz", 180, self.root / "logs" / f"replica-{i}.log")
        self.env_file.write_text(
            "# Written by `make stack`: `source var/stack.env` points scalepredict at the stack.\n"
            + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        )
        say(f"ready; settings in {self.env_file}")

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
