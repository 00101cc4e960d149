"""A real PostgreSQL for the tests (Debian's `postgresql` package): the stack's cluster
(`scalepredict.store.local_postgres`) in a temporary directory on a free port, without fsync,
stopped (the whole process tree) and removed at the end."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from scalepredict.store.local_postgres import LocalPostgres, PostgresMissing, bindir
from tests.e2e.live_server import free_port


def binaries() -> Path | None:
    """The directory of initdb and pg_ctl; None if PostgreSQL is not installed."""
    try:
        return bindir()
    except PostgresMissing:
        return None


class Postgres(LocalPostgres):
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="scalepredict-pg-"))
        super().__init__(self.root / "data", free_port(), server_options="-c fsync=off")

    def new_database(self) -> str:
        """A fresh empty database; its URL."""
        return self.create_database(f"t_{uuid.uuid4().hex[:12]}")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running() -> Iterator[Postgres]:
    pg = Postgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.close()
