"""API keys: Bearer tokens with a role, in the database (`store.database`). Only a key's SHA-256
hash is stored; the key itself is shown once, when it is made. A former JSON key file (the
`keys_file` setting) is imported once, with a message.

A replica trusts a lookup for `key_cache_seconds` (at most 2 s), so a key revoked on one
replica is refused by every replica within that bound. Valid and unknown keys are remembered
apart (each a bounded TTL cache), so a stream of random keys can evict only other random keys,
never the keys in use. For a client whose failed attempts are being throttled, `is_key` says
from memory whether a key is one of the database's (a snapshot of every key's digest, at most
`SNAPSHOT_SECONDS` old), so its guesses cost no query while its real keys still get one."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cachetools import TTLCache
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from scalepredict.settings import Settings
from scalepredict.store import database
from scalepredict.store.schema import api_keys, key_imports

ROLES = ("scorer", "recorder", "admin")
CACHE_ENTRIES = 10_000  # valid keys, and separately unknown ones, remembered per replica
SNAPSHOT_SECONDS = 1.0  # most one full read of the key digests per second, however many guesses
log = logging.getLogger("scalepredict.store")
_imported: set[str] = set()  # database URLs whose key file this process has checked
_import_lock = threading.Lock()


class ApiKeyError(ValueError):
    """A key cannot be added (bad name or role, name taken)."""


class KeyFileError(RuntimeError):
    """The former key file exists but cannot be read or is not a key file; the message names it."""


class KeysUnavailable(RuntimeError):
    """The database holding the keys cannot be read now; the message says why."""


@dataclass(frozen=True)
class Identity:
    name: str
    role: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def engine(settings: Settings) -> Engine:
    """The database, with the former key file imported into it (once per database)."""
    eng = database.engine(settings)
    key = str(eng.url)
    if key not in _imported:
        with _import_lock:
            if key not in _imported:
                import_key_file(eng, settings.keys_file)
                _imported.add(key)
    return eng


def _read_key_file(path: Path) -> tuple[str, dict[str, dict]]:
    try:
        text = path.read_text()
        keys = json.loads(text)
        if not isinstance(keys, dict) or not all(
            isinstance(k, dict) and {"sha256", "role"} <= set(k) for k in keys.values()
        ):
            raise ValueError("not a mapping of names to {sha256, role, created}")
    except (OSError, ValueError) as e:
        raise KeyFileError(f"{path}: cannot be read as a key file ({type(e).__name__}: {e})") from e
    return hashlib.sha256(text.encode()).hexdigest(), keys


def import_key_file(eng: Engine, path: Path) -> int | None:
    """Import the keys of a former JSON key file that this database has not seen (by content);
    returns how many were added, or None when there was nothing to import. Names the database
    already holds are kept as they are."""
    if not path.exists():
        return None
    digest, keys = _read_key_file(path)
    with eng.begin() as conn:
        if conn.execute(select(key_imports.c.digest).where(key_imports.c.digest == digest)).first():
            return None
        held = set(conn.execute(select(api_keys.c.name)).scalars())
        rows = [
            {
                "name": name,
                "sha256": k["sha256"],
                "role": k["role"] if k["role"] in ROLES else "scorer",
                "created": _created(k.get("created")),
            }
            for name, k in keys.items()
            if name not in held
        ]
        if rows:
            conn.execute(insert(api_keys), rows)
        conn.execute(
            insert(key_imports),
            {"digest": digest, "path": str(path), "keys": len(rows), "imported_at": _now()},
        )
    log.warning(
        "imported %d API key(s) from %s into %s; the file is no longer read and may be deleted",
        len(rows),
        path,
        database.describe(str(eng.url)),
    )
    return len(rows)


def _now() -> datetime:
    return datetime.now(UTC)


def _created(value: object) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return _now()


def add_key(name: str, role: str, settings: Settings) -> str:
    """Create a key for `name` with `role`; returns the key (the only time it is seen)."""
    if role not in ROLES:
        raise ApiKeyError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 128 or not name.replace("-", "").replace("_", "").isalnum():
        raise ApiKeyError("name must be 1-128 letters, digits, '-' or '_'")
    key = f"sp_{secrets.token_urlsafe(32)}"
    row = {"name": name, "sha256": _digest(key), "role": role, "created": _now()}
    try:
        with engine(settings).begin() as conn:
            conn.execute(insert(api_keys), row)
    except IntegrityError:
        raise ApiKeyError(f"a key named {name!r} exists; revoke it first") from None
    return key


def revoke_key(name: str, settings: Settings) -> bool:
    """Delete the key; every replica refuses it within `key_cache_seconds`."""
    with engine(settings).begin() as conn:
        return conn.execute(delete(api_keys).where(api_keys.c.name == name)).rowcount > 0


def list_keys(settings: Settings) -> dict[str, dict]:
    query = select(api_keys.c.name, api_keys.c.role, api_keys.c.created).order_by(api_keys.c.name)
    with engine(settings).connect() as conn:
        return {
            r.name: {"role": r.role, "created": r.created.isoformat(timespec="seconds")}
            for r in conn.execute(query)
        }


class KeyStore:
    """Verifies Bearer tokens against the database. A lookup (found or not) is trusted for
    `ttl` seconds, so most requests touch no database while a revoked key still stops working
    everywhere within the bound. Thread-safe: the API looks keys up in worker threads."""

    def __init__(self, settings: Settings, ttl: float | None = None) -> None:
        self.settings = settings
        self.ttl = settings.key_cache_seconds if ttl is None else ttl
        ttl = self.ttl or 1.0  # with a ttl of 0 the caches are never used
        self._valid: TTLCache[str, Identity] = TTLCache(CACHE_ENTRIES, ttl)
        self._unknown: TTLCache[str, bool] = TTLCache(CACHE_ENTRIES, ttl)
        self._lock = threading.Lock()
        self._digests: frozenset[str] = frozenset()
        self._digests_at = -float("inf")

    def cached(self, token: str) -> Identity | None:
        """The key's holder while a lookup of it is still trusted, else None (no query)."""
        if self.ttl <= 0:
            return None
        with self._lock:
            return self._valid.get(_digest(token))

    def identify(self, token: str) -> Identity | None:
        """The key's holder and role, None for an unknown key; KeysUnavailable (or
        KeyFileError for an unreadable former key file) when that cannot be known now."""
        digest = _digest(token)
        if self.ttl > 0:
            with self._lock:
                if (hit := self._valid.get(digest)) is not None:
                    return hit
                if digest in self._unknown:
                    return None
        # By the digest's index: the hash of a secret leaks nothing through timing.
        query = select(api_keys.c.name, api_keys.c.role).where(api_keys.c.sha256 == digest)
        try:
            with engine(self.settings).connect() as conn:
                row = conn.execute(query).first()
        except (SQLAlchemyError, database.StoreUnavailable) as e:
            raise KeysUnavailable(database.one_line(e)) from e
        found = Identity(row.name, row.role) if row else None
        if self.ttl > 0:
            with self._lock:
                if found is None:
                    self._unknown[digest] = True
                else:
                    self._valid[digest] = found
        return found

    def is_key(self, token: str) -> bool | None:
        """Whether the token is one of the database's keys, from the snapshot of their
        digests; None when the snapshot is older than `SNAPSHOT_SECONDS` (`refresh` first)."""
        if time.monotonic() - self._digests_at > SNAPSHOT_SECONDS:
            return None
        return _digest(token) in self._digests

    def refresh(self) -> None:
        """Read every key's digest (a few rows: keys are made by people, not by clients)."""
        try:
            with engine(self.settings).connect() as conn:
                digests = frozenset(conn.execute(select(api_keys.c.sha256)).scalars())
        except (SQLAlchemyError, database.StoreUnavailable) as e:
            raise KeysUnavailable(database.one_line(e)) from e
        self._digests, self._digests_at = digests, time.monotonic()
