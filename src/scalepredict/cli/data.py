"""Data commands: validate a file, generate synthetic data, write the empty template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scalepredict.cli.common import EXIT_PROBLEMS, CatalogueFile, catalogue_or_fail, fail
from scalepredict.cli.render import console, err, print_left_out, print_problems, print_summary
from scalepredict.data.synthetic import DEFAULT_ROWS, DEFAULT_SEED
from scalepredict.data.tables import DataFileError, FileLimits, write_table
from scalepredict.settings import get_settings


def validate(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file of assessments.")],
    quarantine: Annotated[
        Path | None, typer.Option(help="Write rows with problems here (same format as input).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write rows without problems here.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write every problem to this CSV.")] = None,
    limit: Annotated[int, typer.Option(help="Problems shown on screen.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    catalogue: CatalogueFile = None,
) -> None:
    """Check a file against the catalogue's schema; report every problem by row and column.

    A file with the outcome column is checked as labelled history, otherwise as proposals.
    With --quarantine/--out the rows are split (good + bad = input); the input is never touched.
    Exit 0: valid. Exit 1: row problems (reported). Exit 2: the file is unusable."""
    from scalepredict.data.quarantine import left_out
    from scalepredict.data.validation import summarize, validate_file

    cat = catalogue_or_fail(catalogue)
    for target in (quarantine, out, report):
        if target is not None and target.resolve() == file.resolve():
            raise fail(f"{target}: refusing to overwrite the input file")
    if out is not None and quarantine is not None and out.resolve() == quarantine.resolve():
        raise fail("--out and --quarantine must be different files")
    try:
        result = validate_file(file, None, cat, limits=FileLimits.of(get_settings()))
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
    left = left_out(result, cat)
    if not result.valid:
        print_problems(result.problems, limit)
        print_left_out(left.lines())
        n_bad = int(result.bad_mask.sum())
        raise fail(f"{file}: {len(result.problems)} problem(s) in {n_bad} row(s)", EXIT_PROBLEMS)
    print_left_out(left.lines(not_rated=False))  # the summary counts the not-rated rows
    summary = summarize(result.good(), cat, int(result.not_rated.sum()))
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
    scenario: Annotated[
        str | None,
        typer.Option(help="Drift scenario: covariate, stage-mix or concept (see --describe)."),
    ] = None,
    shift: Annotated[float, typer.Option(help="Size of the scenario's shift.")] = 0.5,
    catalogue: CatalogueFile = None,
) -> None:
    """Generate synthetic labelled initiatives from a documented causal model: the built-in
    smart-city generator, or for another catalogue the generic one (a dry run of a framework).
    A --scenario shifts the built-in generator (covariate, stage-mix or concept drift) so a
    monitor's figures can be checked against the truth."""
    from scalepredict.catalogue import builtin_catalogue
    from scalepredict.data import synthetic
    from scalepredict.data.generic import describe_for, generate_for
    from scalepredict.data.synthetic_parameters import scenario_parameters

    cat = catalogue_or_fail(catalogue)
    builtin = cat.fingerprint == builtin_catalogue().fingerprint
    if scenario is not None and not builtin:
        raise fail("drift scenarios belong to the built-in generator (no --catalogue)")
    try:
        params = scenario_parameters(scenario, shift)
    except ValueError as e:
        raise fail(str(e)) from None
    if describe:
        params_out = synthetic.describe(params) if builtin else describe_for(cat, seed)
        if scenario is not None:
            params_out["scenario"] = {"name": scenario, "shift": shift}
        console.print_json(json.dumps(params_out))
        return
    if out is None:
        raise fail("--out FILE is required (or use --describe)")
    if builtin:
        df = synthetic.generate(rows, seed, truth=truth, complete=complete, params=params)
    else:
        df = generate_for(cat, rows, seed, truth=truth, complete=complete)
    write_table(df, out)
    group = cat.context_field(cat.group) if cat.group else None
    groups = f" ({df[group.column or group.name].nunique()} {group.name} values)" if group else ""
    err.print(f"wrote {len(df)} rows{groups} to {out}")


def template(
    out: Annotated[Path, typer.Option(help="Directory for assessments.csv and rubric.md.")],
    catalogue: CatalogueFile = None,
) -> None:
    """Write an empty assessment CSV (header only, the file's own column names) and the
    scoring rubric as Markdown."""
    from scalepredict.catalogue.template import write_template

    for path in write_template(out, catalogue_or_fail(catalogue)):
        console.print(f"wrote {path}")
