"""What every command shares: the consoles, exit codes, one-line failures, and loading a
validated file or a model with the CLI's error conventions.

Exit codes: 0 success; 1 the data has row-level problems (the report lists them); 2 the file or
the command cannot be used at all (one line says why); 3 `train --require-promotion` registered
a version that the gate did not promote."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalepredict.cli.render import err, print_left_out, print_problems
from scalepredict.data.tables import DataFileError, FileLimits
from scalepredict.settings import get_settings

if TYPE_CHECKING:
    import pandas as pd

    from scalepredict.catalogue import Catalogue
    from scalepredict.data.quarantine import LeftOut
    from scalepredict.data.validation import ValidationResult
    from scalepredict.inference.predictor import Predictor

EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2
EXIT_NOT_PROMOTED = 3

ModelUri = Annotated[
    str | None,
    typer.Option(
        help="MLflow model URI or a local bundle directory "
        "[default: the champion of the catalogue's registered model name]."
    ),
]
CatalogueFile = Annotated[
    Path | None,
    typer.Option(
        "--catalogue",
        help="Assessment catalogue YAML [default: the catalogue setting, else the built-in one].",
    ),
]


def fail(message: str, code: int = EXIT_UNUSABLE) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def store_errors() -> Iterator[None]:
    """The database unreachable, or a former key file unreadable: one line and exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from scalepredict.store.database import StoreUnavailable, one_line
    from scalepredict.store.keys import KeyFileError

    try:
        yield
    except (StoreUnavailable, KeyFileError) as e:
        raise fail(str(e)) from None
    except SQLAlchemyError as e:
        raise fail(f"the database cannot be used: {one_line(e)}") from None


def catalogue_or_fail(path: Path | None) -> Catalogue:
    """The catalogue to work with, or every problem in it and exit 2."""
    from scalepredict.catalogue import CatalogueError, load_catalogue

    try:
        return load_catalogue(get_settings(), path)
    except CatalogueError as e:
        raise fail(str(e)) from None


def model_uri_or_champion(uri: str | None, cat: Catalogue) -> str:
    from scalepredict.tracking.registry import CHAMPION, model_name, model_uri

    return uri or model_uri(CHAMPION, model_name(get_settings(), cat))


def load_valid(path: Path, cat: Catalogue, labelled: bool | None = None) -> pd.DataFrame:
    """Validated typed frame of a file (every row: a file scored or passed on to `train` keeps
    its not-rated rows), or the problem report and exit 1 / one line and exit 2."""
    result, left = _validated(path, cat, labelled)
    print_left_out(left.lines(not_rated=False))
    return result.frame


def load_rated(path: Path, cat: Catalogue) -> tuple[pd.DataFrame, LeftOut]:
    """A labelled file's rows with a rated outcome, the not-rated ones skipped as `train` skips
    them and counted on stderr (a metric needs an outcome), and what was left out."""
    result, left = _validated(path, cat, True)
    print_left_out(left.lines())
    return result.good(), left


def _validated(
    path: Path, cat: Catalogue, labelled: bool | None
) -> tuple[ValidationResult, LeftOut]:
    from scalepredict.data.quarantine import left_out
    from scalepredict.data.validation import validate_file

    try:
        result = validate_file(path, labelled, cat, limits=FileLimits.of(get_settings()))
    except DataFileError as e:
        raise fail(str(e)) from None
    if not result.valid:
        print_problems(result.problems, 50)
        raise fail(f"{path}: {len(result.problems)} problem(s); fix them first", EXIT_PROBLEMS)
    return result, left_out(result, cat)


def load_predictor(uri: str | None, catalogue: Path | None) -> Predictor:
    """The model to use; it speaks its own catalogue, and a --catalogue that differs is refused."""
    from scalepredict.model.bundle import BundleError
    from scalepredict.tracking.registry import load_predictor

    asked = catalogue_or_fail(catalogue)
    try:
        predictor = load_predictor(model_uri_or_champion(uri, asked), get_settings())
    except BundleError as e:
        raise fail(str(e)) from None
    own = predictor.bundle.catalogue
    if catalogue is not None and own.fingerprint != asked.fingerprint:
        raise fail(
            f"the model was trained on catalogue {own.name!r} ({own.fingerprint}), "
            f"not on {catalogue} ({asked.fingerprint})"
        )
    return predictor
