"""A PostgreSQL cluster in a directory of ours (Debian's `postgresql` package, nothing
system-wide): for `make stack` and the tests that need a real PostgreSQL.

PostgreSQL refuses to run as root; as root the cluster belongs to the package's `postgres`
user and its commands run as that user. Every login needs a password (SCRAM-SHA-256; no
`trust` line in pg_hba.conf): the superuser's is made at `initdb` and kept in a file of mode
600 beside the data directory, read only by whoever manages the cluster."""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

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


def write_secret(path: Path, value: str) -> None:
    """Write `value` to a new file of mode 600 (never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)


def new_password() -> str:
    return secrets.token_urlsafe(32)  # 256 bits, URL-safe: needs no quoting in a URL


class LocalPostgres:
    """One cluster: `data_dir` holds its files, its log and its socket; it listens on
    127.0.0.1:`port` and asks every login for its password (SCRAM-SHA-256)."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        server_options: str = "",
        password_file: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.server_options = server_options  # e.g. `-c fsync=off` for a throwaway cluster
        self.bin = bindir()
        self._as_postgres = os.geteuid() == 0
        # the superuser's password: beside the data directory, not in it (initdb wants it empty)
        self.password_file = password_file or self.data_dir.with_name(
            f"{self.data_dir.name}.superuser-password"
        )

    @property
    def password(self) -> str | None:
        """The superuser's password; None for a cluster made before passwords (trust)."""
        try:
            return self.password_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise PostgresError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def url(
        self,
        database: str = "postgres",
        driver: str = "postgresql+psycopg",
        role: str = SUPERUSER,
        password: str | None = None,
    ) -> str:
        """A URL for `role` (the superuser by default, with its password)."""
        secret = password if role != SUPERUSER or password else self.password
        auth = f"{quote(role, safe='')}:{quote(secret, safe='')}" if secret else quote(role)
        return f"{driver}://{auth}@127.0.0.1:{self.port}/{database}"

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
        password = new_password()
        write_secret(self.password_file, password)
        # initdb reads the password from a file its user can read; it is removed right after.
        pwfile = self.data_dir.with_name(f".{self.data_dir.name}.initdb-{secrets.token_hex(4)}")
        write_secret(pwfile, password + "\n")
        try:
            if self._as_postgres:
                shutil.chown(pwfile, "postgres", "postgres")
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
            )
        finally:
            pwfile.unlink(missing_ok=True)

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

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run statements as the superuser, each in its own transaction."""
        engine = create_engine(self.url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in statements:
                    conn.exec_driver_sql(statement)
        finally:
            engine.dispose()

    def create_database(self, name: str, owner: str | None = None) -> str:
        """Create `name` if missing; returns its (superuser) URL. With an `owner`, the database
        is that role's and no other role (but superusers) may connect to it."""
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
        if owner is not None:
            self.execute(
                f'ALTER DATABASE "{name}" OWNER TO "{owner}"',
                f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC',
            )
        return self.url(name)

    def set_role(self, role: str, password: str) -> None:
        """Create or update a login role (never a superuser) with this password."""
        literal = "'" + password.replace("'", "''") + "'"
        self.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
            f"'{role}') THEN CREATE ROLE \"{role}\"; END IF; END $$",
            f'ALTER ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {literal}',
        )

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
