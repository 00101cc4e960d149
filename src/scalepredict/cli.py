"""The `scalepredict` command line: an edge that parses arguments, calls the package, and formats.

Exit codes: 0 success; 1 the data has row-level problems (the report lists them); 2 the file or
the command cannot be used at all (one line says why)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from scalepredict.synthetic import DEFAULT_ROWS, DEFAULT_SEED
from scalepredict.tableio import DataFileError, write_table

app = typer.Typer(
    name="scalepredict",
    help=(
        "ScalePredict: predict whether a smart-city AI+IoT initiative scales past its pilot, "
        "explain why, and say what to do about it."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
console = Console()
err = Console(stderr=True)

EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2


def fail(message: str, code: int = EXIT_UNUSABLE) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _print_summary(summary: dict) -> None:
    t = Table(title=f"{summary['rows']} rows, {summary['cities']} cities", show_header=True)
    t.add_column("stage")
    t.add_column("rows", justify="right")
    rates = summary.get("scaled_up_rate_by_stage", {})
    if rates:
        t.add_column("scaled up", justify="right")
    for stage, n in summary["per_stage"].items():
        t.add_row(stage, str(n), *([f"{rates.get(stage, float('nan')):.1%}"] if rates else []))
    console.print(t)
    top = list(summary["missing_by_factor"].items())[:5]
    console.print(
        f"unknown answers: {summary['missing_answer_rate']:.1%} of factor cells; most often "
        + ", ".join(f"{k} {v:.1%}" for k, v in top)
    )


def print_problems(problems, limit: int) -> None:
    t = Table(title=f"{len(problems)} problem(s)", show_lines=False)
    for col in ("row", "initiative_id", "column", "rule", "value"):
        t.add_column(col, overflow="fold")
    for rec in problems.head(limit).astype("string").fillna("").itertuples(index=False):
        t.add_row(*rec)
    err.print(t)
    if len(problems) > limit:
        err.print(f"... and {len(problems) - limit} more (use --report FILE to write them all)")


@app.command()
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
    from scalepredict.validation import summarize, validate_file

    for target in (quarantine, out, report):
        if target is not None and target.resolve() == file.resolve():
            raise fail(f"{target}: refusing to overwrite the input file")
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
        _print_summary(summary)


@app.command()
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
    from scalepredict import synthetic

    if describe:
        console.print_json(json.dumps(synthetic.describe()))
        return
    if out is None:
        raise fail("--out FILE is required (or use --describe)")
    df = synthetic.generate(rows, seed, truth=truth, complete=complete)
    write_table(df, out)
    err.print(f"wrote {len(df)} rows ({df['city'].nunique()} cities) to {out}")


@app.command()
def template(
    out: Annotated[Path, typer.Option(help="Directory for assessments.csv and rubric.md.")],
) -> None:
    """Write an empty assessment CSV (header only) and the scoring rubric as Markdown."""
    from scalepredict.template import write_template

    for path in write_template(out):
        console.print(f"wrote {path}")


if __name__ == "__main__":
    app()
