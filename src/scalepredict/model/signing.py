"""Authenticating a saved bundle: a manifest of every file's sha256, and an HMAC-SHA256 over it
with a key the model registry never holds. Whoever can write to the registry can change a
bundle's files or register one of their own, but cannot sign it; loading verifies before
anything is parsed. The key is an argument: settings are read at the edges."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

from scalepredict.model.bundle import BundleError

MANIFEST = "signature.json"
ALGORITHM = "hmac-sha256"


def _files(directory: Path) -> dict[str, str]:
    """sha256 of every file under `directory` (but the manifest), by POSIX relative path."""
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.relative_to(directory).as_posix() != MANIFEST
    }


def _canonical(files: dict[str, str]) -> bytes:
    return json.dumps(files, sort_keys=True, separators=(",", ":")).encode()


def _mac(key: bytes, digest: str) -> str:
    return hmac.new(key, f"{ALGORITHM}:{digest}".encode(), hashlib.sha256).hexdigest()


def sign(directory: str | Path, key: bytes) -> str:
    """Write the manifest into `directory`; returns the bundle's digest (sha256 of the list of
    files and their digests), the value recorded in the registry for people."""
    if not key:
        raise BundleError("an empty signing key signs nothing")
    d = Path(directory)
    files = _files(d)
    digest = hashlib.sha256(_canonical(files)).hexdigest()
    manifest = {"algorithm": ALGORITHM, "files": files, "digest": digest, "hmac": _mac(key, digest)}
    (d / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return digest


def verify(directory: str | Path, key: bytes) -> str:
    """The bundle's digest once its manifest's HMAC is valid under `key` and every file matches
    it (none missing, none added); else BundleError saying what is wrong."""
    d = Path(directory)
    try:
        manifest = json.loads((d / MANIFEST).read_text())
        listed, digest, mac = manifest["files"], str(manifest["digest"]), str(manifest["hmac"])
    except OSError:
        raise BundleError(f"{d}: the bundle is not signed (no {MANIFEST}); refused") from None
    except (ValueError, KeyError, TypeError) as e:
        raise BundleError(f"{d}: {MANIFEST} is malformed ({type(e).__name__}); refused") from e
    if not isinstance(listed, dict) or hashlib.sha256(_canonical(listed)).hexdigest() != digest:
        raise BundleError(f"{d}: {MANIFEST} does not match its own digest; refused")
    if not key or not hmac.compare_digest(_mac(key, digest), mac):
        raise BundleError(
            f"{d}: the bundle's signature is not valid under this signing key (signed with "
            "another key, or altered after signing); refused"
        )
    found = _files(d)
    changed = sorted(n for n in listed.keys() & found.keys() if listed[n] != found[n])
    missing, added = sorted(listed.keys() - found.keys()), sorted(found.keys() - listed.keys())
    for what, names in (("changed", changed), ("missing", missing), ("not signed", added)):
        if names:
            raise BundleError(f"{d}: file(s) {what} since signing: {', '.join(names[:5])}; refused")
    return digest
