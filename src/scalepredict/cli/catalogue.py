"""`scalepredict catalogue`: check a catalogue file, print its format's JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scalepredict.cli.common import EXIT_PROBLEMS, fail
from scalepredict.cli.render import console, err

catalogue_app = typer.Typer(
    help="Assessment catalogues: your framework's factors, scales, labels and outcome.",
    no_args_is_help=True,
)


@catalogue_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="Catalogue YAML file.")]) -> None:
    """Report every problem of a catalogue with its path in the file (exit 1), or a summary."""
    from rich.table import Table

    from scalepredict.catalogue import CatalogueError, read_catalogue
    from scalepredict.settings import get_settings

    try:
        cat = read_catalogue(file, get_settings())
    except CatalogueError as e:
        t = Table(title=f"{len(e.problems)} problem(s) in {file}")
        t.add_column("where in the file", overflow="fold")
        t.add_column("rule", overflow="fold")
        for path, rule in e.problems:
            t.add_row(path, rule)
        err.print(t)
        unusable = len(e.problems) == 1 and e.problems[0][0] == str(file)
        raise fail(f"{file}: not a usable catalogue", 2 if unusable else EXIT_PROBLEMS) from None
    scales = sorted({f"{f.scale_min}..{f.scale_max}" for f in cat.factors})
    console.print(
        f"[green]valid[/]: {file}: catalogue {cat.name!r} (fingerprint {cat.fingerprint}), "
        f"{len(cat.dimensions)} dimension(s), {len(cat.factors)} factor(s) on scale(s) "
        f"{', '.join(scales)}, {len(cat.context)} context field(s), "
        f"stage: {cat.stage or 'none (one model)'}, group: {cat.group or 'none'}"
    )


@catalogue_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the catalogue file format."""
    from scalepredict.catalogue.spec import CatalogueSpec

    print(json.dumps(CatalogueSpec.model_json_schema(), indent=2))
