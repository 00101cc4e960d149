"""Keep one command running: restart it when it exits without being asked to.

    python serving/supervise.py NAME -- COMMAND [ARGS...]

`make stack` runs each replica under this. The supervisor is a child subreaper (Linux
`PR_SET_CHILD_SUBREAPER`), so what the command started stays its descendant even after the
command dies (`scalepredict serve` starts `bentoml serve` in a session of its own): a crashed
replica's leftover workers are killed before the next start, so the port is free again.
SIGTERM or SIGINT stops the command's whole tree and the supervisor; a command that keeps
dying is restarted with a growing pause (1 s doubling to 30 s; a run of 60 s resets it)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time

import psutil

from scalepredict.cli.serve import stop_processes

PR_SET_CHILD_SUBREAPER = 36
STEADY_S = 60.0  # a run this long was not a crash loop: the pause starts again at 1 s


def _say(name: str, message: str) -> None:
    print(f"[supervise {name}] {time.strftime('%H:%M:%S')} {message}", flush=True)


def _kill_descendants() -> None:
    """Everything left under us (the dead command's orphans are ours, as a subreaper)."""
    left = psutil.Process().children(recursive=True)
    for p in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(left, timeout=10)


def _wait(pid: int, stopping: list[bool]) -> int | None:
    """`pid`'s exit code once it exits, reaping any orphan meanwhile; None if asked to stop."""
    while not stopping:
        try:
            done, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            done, status = 0, 0
        if done == pid:
            return os.waitstatus_to_exitcode(status)
        if done == 0:
            time.sleep(0.2)
    return None


def supervise(name: str, cmd: list[str]) -> int:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    stopping: list[bool] = []  # a signal handler appends; the loop below acts on it

    def stop(signum: int, _frame: object) -> None:
        stopping.append(True)
        _say(name, f"signal {signum}: stopping")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause = 1.0
    while not stopping:
        started = time.monotonic()
        child = subprocess.Popen(cmd)
        _say(name, f"started pid {child.pid}")
        code = _wait(child.pid, stopping)
        child.returncode = code if code is not None else -1  # reaped above, not by Popen
        if code is None:
            break
        _say(name, f"exited with {code}: killing what is left of it, restarting")
        _kill_descendants()
        pause = 1.0 if time.monotonic() - started > STEADY_S else min(pause * 2, 30.0)
        deadline = time.monotonic() + pause
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
    stop_processes(psutil.Process().children(recursive=True))  # every descendant
    _say(name, "stopped")
    return 0


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 3 or args[1] != "--":
        sys.exit(__doc__.split("\n\n")[1])
    sys.exit(supervise(args[0], args[2:]))


if __name__ == "__main__":
    main()
