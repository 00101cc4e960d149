"""The audit trail: every scored proposal, with request id, key name (never the key), time,
input, output and model version. SQLite by default; any SQLAlchemy URL in the `audit_url`
setting. One transaction per request, so a request's rows land together."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine

from scalepredict.settings import get_settings

metadata = MetaData()
records = Table(
    "scored_proposals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False, index=True),
    Column("endpoint", String(32), nullable=False),
    Column("key_name", String(128), nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    Column("initiative_id", String(128), nullable=False),
    Column("model_version", String(32), nullable=False),
    Column("input", Text, nullable=False),
    Column("output", Text, nullable=False),
)


def audit_url() -> str:
    return get_settings().audit_url


def engine(url: str | None = None) -> Engine:
    url = url or audit_url()
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)  # inputs and outputs: readable by the owner only
    eng = create_engine(url, pool_pre_ping=True)
    if url.startswith("sqlite"):
        wait_ms = get_settings().audit_wait_ms

        @event.listens_for(eng, "connect")
        def _sqlite_pragmas(conn: Any, _: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            # concurrent writers wait this long, then fail (503) rather than hang the request
            cur.execute(f"PRAGMA busy_timeout={int(wait_ms)}")
            cur.close()

    metadata.create_all(eng)
    return eng


def _safe_cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (=, +, -, @, tab, CR first)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class AuditLog:
    def __init__(self, url: str | None = None) -> None:
        self.engine = engine(url)

    def record(
        self,
        request_id: str,
        endpoint: str,
        key_name: str,
        model_version: str,
        items: list[tuple[str, dict, dict]],
    ) -> None:
        """Store (initiative_id, input, output) triples of one request in one transaction."""
        now = datetime.now(UTC)
        rows = [
            {
                "request_id": request_id,
                "endpoint": endpoint,
                "key_name": key_name,
                "scored_at": now,
                "initiative_id": iid,
                "model_version": model_version,
                "input": json.dumps(inp, default=str),
                "output": json.dumps(out, default=str),
            }
            for iid, inp, out in items
        ]
        with self.engine.begin() as conn:
            conn.execute(records.insert(), rows)

    def writable(self) -> str | None:
        """Why a write would fail now (locked, read-only, unreachable), or None: a write
        transaction is opened and rolled back, so nothing is stored."""
        try:
            with self.engine.connect() as conn:
                if self.engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    conn.exec_driver_sql("ROLLBACK")
                else:
                    conn.execute(select(1))
        except Exception as e:
            return f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
        return None

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(records)).scalar_one())

    def export(self, path: str | Path) -> int:
        """Write every record to CSV; returns the number of rows."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        n = 0
        with self.engine.connect() as conn, path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            cols = [c.name for c in records.columns]
            writer.writerow(cols)
            for row in conn.execute(select(records).order_by(records.c.id)):
                writer.writerow([_safe_cell(row._mapping[c]) for c in cols])
                n += 1
        return n
