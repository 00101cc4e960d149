"""Service commands: start the API, print the effective settings."""

from __future__ import annotations

import json
from typing import Annotated

import typer

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
    of the catalogue's registered model name."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from scalepredict.settings import get_settings, project_root

    bentoml_bin = shutil.which("bentoml") or str(Path(sys.executable).parent / "bentoml")
    root = project_root()
    cmd = [
        bentoml_bin,
        "serve",
        "serving.service:ScalePredict",
        "--host",
        host,
        "--port",
        str(port or get_settings().port),
    ]
    env = os.environ.copy()
    if catalogue is not None:
        catalogue_or_fail(catalogue)  # refuse a broken file before starting anything
        env["SCALEPREDICT_CATALOGUE"] = str(catalogue.resolve())
    err.print(f"starting: {' '.join(cmd)} (in {root})")
    raise typer.Exit(subprocess.call(cmd, cwd=root, env=env))


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
