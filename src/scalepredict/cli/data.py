"""Data commands: validate a file, generate synthetic data, write the empty template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scalepredict.cli.common import EXIT_PROBLEMS, fail
from scalepredict.cli.render import console, err, print_problems, print_summary
from scalepredict.data.synthetic import DEFAULT_ROWS, DEFAULT_SEED
from scalepredict.data.tables import DataFileError, write_table


def validate(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file of assessments.")],
    quarantine: Annotated[
        Path | None, typer.Option(help="Write rows with problems here (same format as input).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write rows without problems here.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write every problem to this CSV.")] = None,
    limit: Annotated[int, typer.Option(help="Problems shown on screen.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Check a file against the catalogue's schema; report every problem by row and column.

    A file with an `scaled_up` column is checked as labelled history, otherwise as proposals.
    With --quarantine/--out the rows are split (good + bad = input); the input is never touched.
    Exit 0: valid. Exit 1: row problems (reported). Exit 2: the file is unusable."""
    from scalepredict.data.validation import summarize, validate_file

    for target in (quarantine, out, report):
        if target is not None and target.resolve() == file.resolve():
            raise fail(f"{target}: refusing to overwrite the input file")
    if out is not None and quarantine is not None and out.resolve() == quarantine.resolve():
        raise fail("--out and --quarantine must be different files")
    try:
        result = validate_file(file)
    except DataFileError as e:
        raise fail(str(e)) from None
    if out is not None or quarantine is not None:
        bad = result.bad_mask
        if out is not None:
            write_table(result.raw.frame.loc[~bad], out)
        if quarantine is not None:
            write_table(result.raw.frame.loc[bad], quarantine)
        err.print(
            f"{int((~bad).sum())} good row(s) -> {out or '-'}; "
            f"{int(bad.sum())} bad row(s) -> {quarantine or '-'}"
        )
    if report is not None:
        write_table(result.problems, report)
    if not result.valid:
        print_problems(result.problems, limit)
        n_bad = int(result.bad_mask.sum())
        raise fail(f"{file}: {len(result.problems)} problem(s) in {n_bad} row(s)", EXIT_PROBLEMS)
    summary = summarize(result.frame)
    if as_json:
        console.print_json(json.dumps(summary))
    else:
        console.print(f"[green]valid[/]: {file} ({'labelled' if result.labelled else 'proposals'})")
        print_summary(summary)


def generate(
    rows: Annotated[int, typer.Option(min=1, help="Number of initiatives.")] = DEFAULT_ROWS,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same file.")] = DEFAULT_SEED,
    out: Annotated[Path | None, typer.Option(help="Output CSV or Parquet file.")] = None,
    truth: Annotated[bool, typer.Option(help="Add the true_probability column.")] = False,
    complete: Annotated[bool, typer.Option(help="No unknown answers.")] = False,
    describe: Annotated[
        bool, typer.Option("--describe", help="Print the generator's parameters as JSON and exit.")
    ] = False,
) -> None:
    """Generate synthetic labelled initiatives from the documented causal model."""
    from scalepredict.data import synthetic

    if describe:
        console.print_json(json.dumps(synthetic.describe()))
        return
    if out is None:
        raise fail("--out FILE is required (or use --describe)")
    df = synthetic.generate(rows, seed, truth=truth, complete=complete)
    write_table(df, out)
    err.print(f"wrote {len(df)} rows ({df['city'].nunique()} cities) to {out}")


def template(
    out: Annotated[Path, typer.Option(help="Directory for assessments.csv and rubric.md.")],
) -> None:
    """Write an empty assessment CSV (header only) and the scoring rubric as Markdown."""
    from scalepredict.catalogue.template import write_template

    for path in write_template(out):
        console.print(f"wrote {path}")
