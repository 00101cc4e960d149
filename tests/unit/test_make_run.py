"""`make run` serves on the configured port: the port setting (SCALEPREDICT_PORT), or
`make run PORT=...`; the Makefile no longer pins 3000."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from scalepredict.cli.serve import server_command
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def serve_line(*make_args: str, **env: str) -> str:
    """The `scalepredict serve` line `make run` would run (a dry run: nothing is executed)."""
    base = {k: v for k, v in os.environ.items() if k not in ("PORT", "SCALEPREDICT_PORT")}
    out = subprocess.run(
        ["make", "-n", "run", *make_args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    (line,) = [ln for ln in out.stdout.splitlines() if "scalepredict serve" in ln]
    return line


def test_make_run_passes_a_port_given_on_its_command_line():
    assert serve_line("PORT=3401").split()[-2:] == ["--port", "3401"]


def _port(cmd: list[str]) -> str:
    return cmd[cmd.index("--port") + 1]


def test_make_run_leaves_the_port_to_the_setting_so_the_environment_wins(monkeypatch):
    # no --port on the command line: `serve` takes the port setting ...
    assert "--port" not in serve_line(SCALEPREDICT_PORT="3401")
    # ... and a PORT some platform exported for its own use is not mistaken for ours
    assert "--port" not in serve_line(PORT="8080")
    monkeypatch.setenv("SCALEPREDICT_PORT", "3401")
    assert _port(server_command("127.0.0.1", None)) == "3401"
    assert _port(server_command("127.0.0.1", 3555)) == "3555"
    monkeypatch.delenv("SCALEPREDICT_PORT")
    assert _port(server_command("127.0.0.1", None)) == "3000"
