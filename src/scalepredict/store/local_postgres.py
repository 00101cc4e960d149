"""A PostgreSQL cluster in a directory of ours (Debian's `postgresql` package, nothing
system-wide): for `make stack` and the tests that need a real PostgreSQL.

PostgreSQL refuses to run as root; as root the cluster belongs to the package's `postgres`
user and its commands run as that user."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path

from sqlalchemy import create_engine, text

SUPERUSER = "scalepredict"


class PostgresMissing(RuntimeError):
    """The PostgreSQL server binaries are not installed."""


def bindir() -> Path:
    """The newest installed server's bin directory (Debian keeps them out of PATH)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    if candidates:
        return Path(candidates[-1])
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise PostgresMissing(
        "PostgreSQL is not installed: `make postgres` (Debian's postgresql package)"
    )


class PostgresError(RuntimeError):
    """A PostgreSQL command failed; the message carries its error output."""


class LocalPostgres:
    """One cluster: `data_dir` holds its files, its log and its socket; it listens on
    127.0.0.1:`port` and trusts local connections (it is reachable from this machine only)."""

    def __init__(self, data_dir: Path, port: int, server_options: str = "") -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.server_options = server_options  # e.g. `-c fsync=off` for a throwaway cluster
        self.bin = bindir()
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise PostgresError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        if self.initialized:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            # The server's user must reach its directory: the parent (ours) becomes traversable.
            parent = self.data_dir.parent
            parent.chmod(parent.stat().st_mode | 0o011)
            shutil.chown(self.data_dir, "postgres", "postgres")
        self.data_dir.chmod(0o700)
        self._run("initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8")

    def start(self, timeout: float = 30) -> None:
        self.init()
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            str(int(timeout)),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.data_dir / "server.log"),
            "-o",
            f"-h 127.0.0.1 -p {self.port} -k {self.data_dir} {self.server_options}",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate` simulates a crash); a stopped one is left alone."""
        if self.running:
            self._run("pg_ctl", "stop", "-w", "-m", mode, "-D", str(self.data_dir))

    def kill(self) -> None:
        """Whatever is left of the server's process tree after `stop`."""
        import contextlib

        import psutil

        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(Exception):
            main = psutil.Process(int(pid_file.read_text().split()[0]))
            tree = [main, *main.children(recursive=True)]
            for p in tree:
                p.kill()
            psutil.wait_procs(tree, timeout=10)

    @property
    def running(self) -> bool:
        if not self.initialized:
            return False
        try:
            self._run("pg_ctl", "status", "-D", str(self.data_dir))
        except PostgresError:
            return False
        return True

    def create_database(self, name: str) -> str:
        """Create `name` if missing; returns its URL."""
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                exists = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def wait_accepting(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port))
                return
            except PostgresError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
