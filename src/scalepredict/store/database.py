"""The one database of the service: API keys, the audit trail and outcomes. SQLite by default
(the `database_url` setting, a file under `var/`), PostgreSQL when the URL says so
(`postgresql+psycopg://`). Its schema is Alembic's (`store/migrations`): the first use in a
process upgrades it to the newest revision, so the service and every command start on it."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from scalepredict.settings import Settings, project_root

log = logging.getLogger("scalepredict.store")

MIGRATIONS = Path(__file__).parent / "migrations"
BASELINE = "0001"  # the audit table as created before migrations existed
LEGACY_SQLITE = "audit.db"  # the default file's name before it held keys and outcomes too

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or upgraded now; the message says why in one line."""


def describe(url: str) -> str:
    """The URL for people: a password inside it masked."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def engine(settings: Settings) -> Engine:
    """The process's engine for the settings' `database_url`, upgraded to the newest schema on
    first use. Failing to reach the database raises StoreUnavailable and caches nothing, so
    the next call tries again: a service started before its database becomes ready by itself."""
    url = settings.database_url
    with _lock:
        eng = _engines.get(url)
        if eng is None:
            eng = _create(url, settings.audit_wait_ms)
            try:
                upgrade(eng)
            except SQLAlchemyError as e:
                eng.dispose()
                raise StoreUnavailable(f"{describe(url)}: {one_line(e)}") from e
            _engines[url] = eng
    return eng


def one_line(e: BaseException) -> str:
    return f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}"


def _create(url: str, wait_ms: int) -> Engine:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        _adopt_legacy_file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)  # inputs and outputs: readable by the owner only
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        # an unreachable server fails the request (503) rather than hang it
        connect_args["connect_timeout"] = max(1, wait_ms // 1000)
    eng = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if url.startswith("sqlite"):

        @event.listens_for(eng, "connect")
        def _sqlite_pragmas(conn: Any, _: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            # concurrent writers wait this long, then fail (503) rather than hang the request
            cur.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            cur.close()

    return eng


def _adopt_legacy_file(path: Path) -> None:
    """The default database file took over from `var/audit.db`: an audit kept there is moved,
    not left behind."""
    default = project_root() / "var" / "scalepredict.db"
    legacy = path.with_name(LEGACY_SQLITE)
    if path != default or path.exists() or not legacy.exists():
        return
    for suffix in ("", "-wal", "-shm"):
        old = legacy.with_name(legacy.name + suffix)
        if old.exists():
            old.rename(path.with_name(path.name + suffix))
    log.warning("the audit in %s moved to %s (the database of keys, audit, outcomes)", legacy, path)


def alembic_config(connection: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(eng: Engine, attempts: int = 3) -> None:
    """Bring the schema to the newest revision. A database made before migrations (the audit
    table, no version table) is stamped at the baseline first, so its rows are kept. Two
    processes upgrading at once: the loser's transaction fails and it retries, finding the
    work done."""
    with eng.connect():
        pass  # unreachable: fail now, not after the retries meant for a race
    for attempt in range(attempts):
        try:
            with eng.begin() as conn:
                tables = set(inspect(conn).get_table_names())
                cfg = alembic_config(conn)
                if "scored_proposals" in tables and "alembic_version" not in tables:
                    log.warning("adopting an audit store made before migrations: %s", eng.url)
                    command.stamp(cfg, BASELINE)
                command.upgrade(cfg, "head")
            return
        except SQLAlchemyError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def head_revision(eng: Engine) -> str | None:
    """The revision the database is at (None: not under migrations)."""
    from alembic.runtime.migration import MigrationContext

    with eng.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
