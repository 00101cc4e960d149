"""What every command shares: the consoles, exit codes, one-line failures, and loading a
validated file or a model with the CLI's error conventions.

Exit codes: 0 success; 1 the data has row-level problems (the report lists them); 2 the file or
the command cannot be used at all (one line says why)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalepredict.cli.render import err, print_problems
from scalepredict.data.tables import DataFileError

if TYPE_CHECKING:
    import pandas as pd

    from scalepredict.inference.predictor import Predictor

EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2

ModelUri = Annotated[
    str | None,
    typer.Option(
        help="MLflow model URI or a local bundle directory "
        "[default: models:/MODEL_NAME@champion, MODEL_NAME from the settings]."
    ),
]


def fail(message: str, code: int = EXIT_UNUSABLE) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def model_uri_or_champion(uri: str | None) -> str:
    from scalepredict.tracking.registry import model_uri

    return uri or model_uri()


def load_valid(path: Path, labelled: bool | None = None) -> pd.DataFrame:
    """Validated typed frame of a file, or the problem report and exit 1 / one line and exit 2."""
    from scalepredict.data.validation import validate_file

    try:
        result = validate_file(path, labelled)
    except DataFileError as e:
        raise fail(str(e)) from None
    if not result.valid:
        print_problems(result.problems, 50)
        raise fail(f"{path}: {len(result.problems)} problem(s); fix them first", EXIT_PROBLEMS)
    return result.frame


def load_predictor(uri: str | None) -> Predictor:
    from scalepredict.model.bundle import BundleError
    from scalepredict.tracking.registry import load_predictor

    try:
        return load_predictor(model_uri_or_champion(uri))
    except BundleError as e:
        raise fail(str(e)) from None
