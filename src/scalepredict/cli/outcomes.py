"""`scalepredict outcomes`: record what happened to scored initiatives."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from scalepredict.cli.common import (
    EXIT_PROBLEMS,
    CatalogueFile,
    catalogue_or_fail,
    fail,
    store_errors,
)
from scalepredict.cli.render import console, print_problems

outcomes_app = typer.Typer(
    help="Outcomes of scored initiatives, for monitoring and retraining.", no_args_is_help=True
)


@outcomes_app.command("import")
def outcomes_import(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file of outcomes.")],
    replace: Annotated[
        bool,
        typer.Option(help="Replace outcomes already recorded that differ (kept in history)."),
    ] = False,
    catalogue: CatalogueFile = None,
) -> None:
    """Record outcomes: columns `initiative_id`, the catalogue's outcome column (`scaled_up`
    for the built-in catalogue), `observed_on` (YYYY-MM-DD) and optionally `funded`. Each is
    matched to the latest scoring of its id in the audit. Every bad row is reported and
    nothing is stored unless all rows are good (exit 1); the same outcome again is a no-op."""
    import pandas as pd

    from scalepredict.data.tables import DataFileError, FileLimits, read_table
    from scalepredict.data.validation import in_catalogue_names
    from scalepredict.settings import get_settings
    from scalepredict.store import database, outcome_rows, outcomes

    settings = get_settings()
    cat = catalogue_or_fail(catalogue)
    try:
        raw = in_catalogue_names(read_table(file, FileLimits.of(settings)), cat)
    except DataFileError as e:
        raise fail(str(e)) from None
    frame = raw.frame.astype(object).where(raw.frame.notna(), None)
    if cat.id_column != outcome_rows.ID and cat.id_column in frame.columns:
        frame = frame.rename(columns={cat.id_column: outcome_rows.ID})
    problem = outcome_rows.columns_problem(frame.columns, cat)
    if problem is not None:
        raise fail(f"{file}: {problem}")
    try:
        with store_errors():
            done = outcomes.record(
                database.engine(settings),
                frame.to_dict("records"),
                cat,
                f"cli:{getpass.getuser()}",
                replace,
            )
    except outcomes.OutcomesRejected as e:
        print_problems(
            pd.DataFrame(
                [
                    {
                        "row": raw.row_number(frame.index[p.index]),
                        "initiative_id": p.initiative_id,
                        "column": p.field,
                        "rule": p.rule,
                        "value": p.value,
                    }
                    for p in e.problems
                ]
            ),
            50,
        )
        raise fail(
            f"{file}: {len(e.problems)} problem(s); nothing was recorded", EXIT_PROBLEMS
        ) from None
    console.print(
        f"{file}: {done.recorded} recorded, {done.replaced} replaced, "
        f"{done.unchanged} unchanged (already recorded)"
    )
