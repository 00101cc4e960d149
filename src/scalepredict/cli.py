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


DEFAULT_CONFIG = Path("training/default.yaml")


@app.command()
def train(
    data: Annotated[
        Path | None, typer.Option(help="Labelled CSV/Parquet (default: the config's).")
    ] = None,
    config: Annotated[Path, typer.Option(help="Training configuration YAML.")] = DEFAULT_CONFIG,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing if a champion is already registered.")
    ] = False,
) -> None:
    """Train, calibrate and test a model; track it in MLflow; register it as champion or challenger.

    The new version becomes `champion` only if, on the same held-out test set, it is not worse
    than the current champion and beats logistic regression and the checklist score."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from scalepredict.pipeline import TrainingDataError, train_and_register
    from scalepredict.train import InsufficientDataError, TrainConfig

    try:
        cfg = TrainConfig.from_yaml(config)
    except (OSError, ValueError, TypeError) as e:
        raise fail(f"{config}: {e}") from None
    data = data or Path(cfg.data)
    if if_missing:
        from scalepredict import registry

        current = registry.version_by_alias(registry.connect(), registry.CHAMPION)
        if current is not None:
            console.print(f"champion is version {current.version}; nothing to train (--if-missing)")
            return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, object] = {}

        def progress(step: str, i: int, n: int) -> None:
            if n == 0:
                err.print(step)
                return
            if step not in tasks:
                tasks[step] = bar.add_task(
                    {"search": "hyperparameter search", "fit": "calibrate + test"}.get(step, step),
                    total=n,
                )
            bar.update(tasks[step], completed=i)

        try:
            record = train_and_register(data, cfg, config, progress)
        except (DataFileError, InsufficientDataError) as e:
            raise fail(str(e)) from None
        except TrainingDataError as e:
            print_problems(e.result.problems, 50)
            raise fail(
                f"{e} (set on_bad_rows: quarantine in the config to train on the valid rows)",
                EXIT_PROBLEMS,
            ) from None
    _print_training_summary(record)


def _print_training_summary(record) -> None:
    m, fitted = record.fit.test_metrics, record.fit
    t = Table(title=f"Test set ({int(m['n'])} initiatives, cities unseen in training)")
    for col in ("model", "ROC AUC", "log loss", "Brier", "ECE"):
        t.add_column(col, justify="right" if col != "model" else "left")
    rows = {
        "XGBoost (calibrated)": m,
        **{k.replace("_", " "): v for k, v in fitted.baselines.items()},
    }
    if record.champion_metrics:
        rows["current champion"] = record.champion_metrics
    for name, r in rows.items():
        t.add_row(
            name,
            f"{r['roc_auc']:.4f}",
            f"{r['log_loss']:.4f}",
            f"{r['brier']:.4f}",
            f"{r['ece']:.4f}",
        )
    if "bayes_roc_auc" in m:
        t.add_row(
            "true probability (Bayes limit)",
            f"{m['bayes_roc_auc']:.4f}",
            f"{m['bayes_log_loss']:.4f}",
            "",
            "",
        )
    console.print(t)
    console.print(
        f"calibration: {fitted.bundle.calibrator.method}; 90% conformal sets cover "
        f"{m['conformal_coverage']:.1%} of the test set "
        f"(mean size {m['conformal_mean_set_size']:.2f}); "
        f"{fitted.seconds:.1f} s"
    )
    colour = "green" if record.alias == "champion" else "yellow"
    console.print(
        f"registered scalepredict version {record.version} as [{colour}]{record.alias}[/]"
    )
    for reason in record.decision.reasons:
        console.print(f"  - {reason}")


@app.command()
def evaluate(
    data: Annotated[Path, typer.Option(help="Labelled CSV/Parquet to evaluate on.")],
    model_uri: Annotated[
        str, typer.Option(help="MLflow URI or local bundle directory.")
    ] = "models:/scalepredict@champion",
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
) -> None:
    """Metrics of a model on labelled data, per stage and per city group (small/poor cities)."""
    from scalepredict.bundle import BundleError
    from scalepredict.pipeline import evaluate as evaluate_model
    from scalepredict.registry import load_bundle
    from scalepredict.validation import validate_file

    try:
        result = validate_file(data, labelled=True)
    except DataFileError as e:
        raise fail(str(e)) from None
    if not result.valid:
        print_problems(result.problems, 50)
        raise fail(
            f"{data}: {len(result.problems)} problem(s); fix or quarantine them first",
            EXIT_PROBLEMS,
        )
    try:
        bundle = load_bundle(model_uri)
    except BundleError as e:
        raise fail(str(e)) from None
    metrics = evaluate_model(bundle, result.frame)
    if as_json:
        console.print_json(json.dumps(metrics))
        return
    t = Table(title=f"{model_uri} on {data}")
    for col in ("group", "n", "ROC AUC", "log loss", "Brier", "ECE", "Bayes AUC"):
        t.add_column(col, justify="left" if col == "group" else "right")
    for name, r in {"all": metrics, **metrics["by_group"]}.items():
        t.add_row(
            name,
            str(int(r["n"])),
            f"{r['roc_auc']:.4f}",
            f"{r['log_loss']:.4f}",
            f"{r['brier']:.4f}",
            f"{r['ece']:.4f}",
            f"{r['bayes_roc_auc']:.4f}" if "bayes_roc_auc" in r else "",
        )
    console.print(t)


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="Registered model version to make champion.")],
    reason: Annotated[
        str, typer.Option(help="Why the gate is overridden (logged).")
    ] = "manual override",
) -> None:
    """Make VERSION the champion deliberately, bypassing the gate; logged as an MLflow run."""
    from mlflow.exceptions import MlflowException

    from scalepredict.pipeline import promote as promote_version

    try:
        previous = promote_version(version, reason)
    except MlflowException as e:
        raise fail(f"cannot promote version {version}: {e.message}") from None
    console.print(
        f"version {version} is now champion (was {previous or 'none'}); reason logged: {reason}"
    )


if __name__ == "__main__":
    app()
