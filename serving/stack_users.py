"""Who the stack's processes run as. Started as root, the tracking server and the replicas
run as system users of their own, made when missing (`scalepredict-mlflow`, `scalepredict`):
neither can read the other's secrets nor the operator's files (the signing key file, the
superuser's password). Started by anyone else, everything runs as that user."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRACKING_USER = "scalepredict-mlflow"
SERVICE_USER = "scalepredict"


def as_root() -> bool:
    return os.geteuid() == 0


def ensure(name: str) -> str:
    """The user the processes named `name` run as: `name` (a system user without a login
    shell or home, made when missing) as root, else the current user."""
    if not as_root():
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--user-group",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
        )
    return name


def as_user(user: str) -> dict[str, Any]:
    """subprocess.Popen arguments that run a command as `user` (nothing to change if it is us)."""
    entry = pwd.getpwnam(user)
    if entry.pw_uid == os.geteuid():
        return {}
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def private_dir(path: Path, user: str) -> Path:
    """`path` made if missing, owned by `user`, mode 700."""
    path.mkdir(parents=True, exist_ok=True)
    give(path, user)
    path.chmod(0o700)
    return path.resolve()


def give(path: Path, user: str) -> None:
    """`path` (and what it holds) owned by `user`."""
    if not as_root():
        return
    entry = pwd.getpwnam(user)
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.chown(p, entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def _enterable(paths: list[Path], say: Callable[[str], None]) -> None:
    """Every directory above `paths` enterable by others (o+x: reach a known name, list
    nothing), as PostgreSQL's data directory's parent is: a venv's interpreter under /root
    (pyenv) cannot run as another user otherwise."""
    for path in paths:
        for d in reversed(path.resolve().parents):
            mode = d.stat().st_mode
            if not mode & stat.S_IXOTH:
                d.chmod(mode | stat.S_IXOTH)
                say(f"{d}: made enterable by other users (o+x, not listable) for the stack's users")


def check_reach(user: str, writable: list[Path], say: Callable[[str], None] = print) -> None:
    """Make sure `user` can run the project's code and reach its own directories; fail now,
    naming the path, if it cannot."""
    if not as_user(user):
        return
    from scalepredict.settings import project_root

    code = [Path(sys.executable).resolve(), Path(sys.base_prefix), Path(sys.prefix)]
    _enterable([*code, project_root() / "src", *writable], say)
    probe = "import scalepredict, mlflow, sys, os; [os.listdir(p) for p in sys.argv[1:]]"
    done = subprocess.run(
        [sys.executable, "-c", probe, *map(str, writable)],
        cwd=project_root(),
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
        **as_user(user),
    )
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise RuntimeError(
            f"the system user {user} cannot run the stack from {project_root()} "
            f"({sys.executable}): {why}; the checkout and its .venv must be readable by others"
        )
