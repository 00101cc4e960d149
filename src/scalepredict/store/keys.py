"""API keys: Bearer tokens with a role. Only a key's SHA-256 hash is stored; the key itself is
shown once, when it is made. The key file is the `keys_file` setting."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scalepredict.settings import get_settings

ROLES = ("scorer", "admin")
_lock = threading.Lock()


class ApiKeyError(ValueError):
    """A key cannot be added (bad name or role, name taken)."""


@dataclass(frozen=True)
class Identity:
    name: str
    role: str


def keys_file() -> Path:
    return get_settings().keys_file


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyFileError(RuntimeError):
    """The key file exists but cannot be read or is not a key file; the message names it."""


def _read(path: Path) -> dict[str, dict]:
    if not path.exists():
        return {}
    try:
        keys = json.loads(path.read_text())
        if not isinstance(keys, dict) or not all(
            isinstance(k, dict) and {"sha256", "role"} <= set(k) for k in keys.values()
        ):
            raise ValueError("not a mapping of names to {sha256, role, created}")
    except (OSError, ValueError) as e:
        raise KeyFileError(f"{path}: cannot be read as a key file ({type(e).__name__}: {e})") from e
    return keys


def _write(path: Path, keys: dict[str, dict]) -> None:
    """Write beside, then rename: a running server never reads a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(keys, indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def add_key(name: str, role: str, path: Path | None = None) -> str:
    """Create a key for `name` with `role`; returns the key (the only time it is seen)."""
    if role not in ROLES:
        raise ApiKeyError(f"role must be one of {', '.join(ROLES)}")
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise ApiKeyError("name must be letters, digits, '-' or '_'")
    path = path or keys_file()
    with _lock:
        keys = _read(path)
        if name in keys:
            raise ApiKeyError(f"a key named {name!r} exists; revoke it first")
        key = f"sp_{secrets.token_urlsafe(32)}"
        keys[name] = {
            "sha256": _digest(key),
            "role": role,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _write(path, keys)
    return key


def revoke_key(name: str, path: Path | None = None) -> bool:
    path = path or keys_file()
    with _lock:
        keys = _read(path)
        if keys.pop(name, None) is None:
            return False
        _write(path, keys)
    return True


def list_keys(path: Path | None = None) -> dict[str, dict]:
    return {
        n: {"role": k["role"], "created": k["created"]}
        for n, k in _read(path or keys_file()).items()
    }


class KeyStore:
    """Verifies Bearer tokens; re-reads the key file when it changes (new keys need no restart)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or keys_file()
        self._mtime: tuple[int, int, int] | None = None
        self._keys: dict[str, dict] = {}

    def _refresh(self) -> None:
        st = self.path.stat() if self.path.exists() else None
        mtime = (st.st_mtime_ns, st.st_size, st.st_ino) if st else None
        if mtime != self._mtime:
            self._keys, self._mtime = _read(self.path), mtime

    def identify(self, token: str) -> Identity | None:
        self._refresh()
        digest = _digest(token)
        found = None
        for name, k in self._keys.items():  # compare with every key: no timing hint
            if hmac.compare_digest(digest, k["sha256"]):
                found = Identity(name, k["role"])
        return found
