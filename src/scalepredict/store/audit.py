"""The audit trail: every scored proposal, with request id, key name (never the key), time,
input, output and model version, in the database (`store.database`). One transaction per
request, so a request's rows land together."""

from __future__ import annotations

import contextlib
import csv
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

from scalepredict.data.tables import safe_cell
from scalepredict.settings import Settings
from scalepredict.store import database
from scalepredict.store.schema import scored_proposals as records

# Endpoints whose answers are scorings of a proposal (a probability per proposal); what-ifs
# and plans are not.
SCORING_ENDPOINTS = ("score", "portfolio")


_ORJSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def as_json(value: Any) -> str:
    """An input or output as JSON text. orjson writes it (a 100-proposal answer with
    explanations and plans: about 1 ms, against 17 ms with `json`); what orjson refuses (an
    integer past 64 bits, a lone surrogate) is written by `json`, so nothing goes unrecorded.
    Unknown types (dates in a frame, pandas' NA) are written as their text either way."""
    try:
        return orjson.dumps(value, default=str, option=_ORJSON).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, default=str)


class AuditLog:
    def __init__(self, settings: Settings) -> None:
        self.engine = database.engine(settings)
        # SQLite has one writer at a time. Under load, a thread holding its write lock can wait
        # for the GIL longer than SQLite's busy timeout while the scoring threads compute, and
        # the others' writes then fail ("database is locked": a 503). The service's own
        # writes queue here instead; other processes still meet the busy timeout.
        self._sqlite_writes = threading.Lock() if self.engine.dialect.name == "sqlite" else None

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
                # PostgreSQL text cannot hold NUL; the exact id stays in the input's JSON
                "initiative_id": str(iid).replace("\x00", "\ufffd"),
                "model_version": model_version,
                "input": as_json(inp),
                "output": as_json(out),
            }
            for iid, inp, out in items
        ]
        with self._sqlite_writes or contextlib.nullcontext(), self.engine.begin() as conn:
            conn.execute(records.insert(), rows)

    def writable(self) -> str | None:
        """Why a write would fail now (locked, read-only, unreachable), or None: a write
        transaction is opened and rolled back, so nothing is stored."""
        if self._sqlite_writes is not None and self._sqlite_writes.locked():
            return None  # one of our own writes is in progress: the store is being written
        try:
            with self.engine.connect() as conn:
                if self.engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    conn.exec_driver_sql("ROLLBACK")
                else:
                    conn.execute(select(1))
        except Exception as e:
            return database.one_line(e)
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
                writer.writerow([safe_cell(row._mapping[c]) for c in cols])
                n += 1
        return n
