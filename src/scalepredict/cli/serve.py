"""Service commands: start the API, print the effective settings."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import psutil

from scalepredict.cli.common import CatalogueFile, catalogue_or_fail
from scalepredict.cli.render import console, err


def serve(
    port: Annotated[
        int | None, typer.Option(help="Port on localhost [default: the port setting, 3000].")
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    catalogue: CatalogueFile = None,
) -> None:
    """Start the scoring API (`bentoml serve serving.service:ScalePredict`) with the champion
    of the catalogue's registered model name. SIGTERM or Ctrl+C stops the whole server."""
    import os

    from scalepredict.settings import get_settings, project_root

    settings = get_settings()
    root = project_root()
    cmd = server_command(host, port)
    # The server runs from the project root: hand it every setting as an absolute value, so
    # it reads the same key file, stores and catalogue as this command would.
    env = {**os.environ, **settings.as_environment()}
    if "OMP_WAIT_POLICY" not in os.environ:  # training's default; the server keeps OpenMP's
        env.pop("OMP_WAIT_POLICY")
    if catalogue is not None:
        catalogue_or_fail(catalogue)  # refuse a broken file before starting anything
        env["SCALEPREDICT_CATALOGUE"] = str(catalogue.resolve())
    err.print(f"starting: {' '.join(cmd)} (in {root})")
    raise typer.Exit(run_until_stopped(cmd, root, env))


def server_command(host: str, port: int | None) -> list[str]:
    """The BentoML command line `serve` runs: `port`, else the port setting (SCALEPREDICT_PORT);
    the bentoml beside this interpreter when none is on PATH."""
    import shutil
    import sys

    from scalepredict.settings import get_settings

    settings = get_settings()
    port = port or settings.port
    bentoml_bin = shutil.which("bentoml") or str(Path(sys.executable).parent / "bentoml")
    return [
        bentoml_bin,
        "serve",
        "serving.service:ScalePredict",
        "--host",
        host,
        "--port",
        str(port),
        # an idle connection is closed after this; a slow body is the app's (408)
        "--timeout-keep-alive",
        str(settings.keep_alive_timeout),
    ]


def run_until_stopped(cmd: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Run the server and forward SIGTERM / SIGINT / SIGHUP to it. BentoML's workers live in
    process groups of their own, so stopping only the parent would leave them serving on the
    port: the whole tree is stopped, and killed if it has not gone after a grace period."""
    import signal
    import subprocess

    proc = subprocess.Popen(cmd, cwd=cwd, env=env, start_new_session=True)

    def stop(signum: int, _frame: object) -> None:
        stop_tree(proc.pid)
        raise typer.Exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        return proc.wait()
    finally:
        stop_tree(proc.pid)


def stop_tree(pid: int, grace: float = 20.0) -> None:
    """SIGTERM a process and every descendant; SIGKILL whatever is left after `grace` s."""
    import psutil

    try:
        parent = psutil.Process(pid)
        tree = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    stop_processes(tree, grace)


def stop_processes(procs: list[psutil.Process], grace: float = 20.0) -> None:
    """SIGTERM each of `procs` (psutil processes), SIGKILL whatever is left after `grace` s."""
    import psutil

    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()


def settings(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """The effective settings (secrets masked) and the environment variable of each."""
    from rich.table import Table

    from scalepredict.settings import Settings, get_settings

    current = get_settings()
    values, sources = current.masked(), current.sources()
    if as_json:
        console.print_json(json.dumps(values))
        return
    t = Table(title="ScalePredict settings")
    for col in ("setting", "value", "environment variable", "meaning"):
        t.add_column(col, overflow="fold")
    for name, value in values.items():
        t.add_row(name, value, sources[name], Settings.model_fields[name].description or "")
    console.print(t)


def status(
    urls: Annotated[
        list[str] | None,
        typer.Argument(help="Service base URLs [default: the replicas setting, else the port's]."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Each replica's readiness and the model version it serves; exits 1 when one is not
    ready or the replicas serve different versions."""
    import httpx
    from rich.table import Table

    from scalepredict.settings import get_settings

    settings = get_settings()
    targets = urls or settings.replica_urls or [f"http://127.0.0.1:{settings.port}"]
    rows = []
    for url in targets:
        body: dict
        try:
            body = httpx.get(f"{url.rstrip('/')}/readyz", timeout=5).json()
        except (httpx.HTTPError, ValueError) as e:
            body = {"ready": False, "reason": f"unreachable: {type(e).__name__}"}
        rows.append({"url": url, **body})
    versions = {r.get("model_version") for r in rows}
    healthy = all(r.get("ready") for r in rows) and len(versions) == 1
    if as_json:
        console.print_json(json.dumps({"healthy": healthy, "replicas": rows}))
    else:
        t = Table(title="ScalePredict replicas")
        for col in ("url", "ready", "model version", "source", "reason"):
            t.add_column(col, overflow="fold")
        for r in rows:
            t.add_row(
                r["url"],
                "yes" if r.get("ready") else "no",
                str(r.get("model_version", "")),
                str(r.get("source", "")),
                str(r.get("reason", r.get("warning", ""))),
            )
        console.print(t)
        if len(versions) > 1:
            err.print(f"replicas serve different versions: {sorted(map(str, versions))}")
    raise typer.Exit(0 if healthy else 1)
