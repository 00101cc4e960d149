"""A real PostgreSQL (Debian's `postgresql` package) for the tests: a cluster made by initdb in
a temporary directory, served by pg_ctl on a free port on 127.0.0.1, stopped (the whole process
tree) and removed at the end. PostgreSQL refuses to run as root, so under root the cluster
belongs to the `postgres` user the package creates (else `nobody`)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil

from tests.e2e.live_server import free_port


def binaries() -> Path | None:
    """The directory of initdb and pg_ctl, newest version first; None if not installed."""
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(found).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Postgres:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="scalepredict-pg-"))
        self.data = self.root / "data"
        self.user: str | None = None
        if os.geteuid() == 0:
            names = {p.pw_name for p in pwd.getpwall()}
            self.user = "postgres" if "postgres" in names else "nobody"
            shutil.chown(self.root, self.user)
        self._run(
            "initdb", "-D", str(self.data), "-U", "sp", "--auth=trust", "-E", "UTF8", "--no-locale"
        )

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://sp@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def new_database(self) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=sp dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        """Stop the server and whatever is left of its process tree; remove the cluster."""
        with contextlib.suppress(Exception):
            self.stop()
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(Exception):
                main = psutil.Process(int(pid_file.read_text().split()[0]))
                tree = [main, *main.children(recursive=True)]
                for p in tree:
                    p.kill()
                psutil.wait_procs(tree, timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running(bindir: Path) -> Iterator[Postgres]:
    pg = Postgres(bindir)
    try:
        pg.start()
        yield pg
    finally:
        pg.close()
