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
DEFAULT_MODEL = "models:/scalepredict@champion"
ModelUri = Annotated[str, typer.Option(help="MLflow model URI or a local bundle directory.")]


@app.command()
def train(
    data: Annotated[
        Path | None, typer.Option(help="Labelled CSV/Parquet (default: the config's).")
    ] = None,
    config: Annotated[Path, typer.Option(help="Training configuration YAML.")] = DEFAULT_CONFIG,
    if_missing: Annotated[
        bool,
        typer.Option("--if-missing", help="Do nothing if a usable champion is already registered."),
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
        from scalepredict.bundle import BundleError

        current = registry.version_by_alias(registry.connect(), registry.CHAMPION)
        if current is not None:
            try:  # a champion this version cannot load (an older bundle layout) is not usable
                registry.load_bundle(registry.model_uri(registry.CHAMPION))
            except BundleError as e:
                err.print(f"champion v{current.version} cannot be used ({e}); training a new one")
            else:
                console.print(
                    f"champion is version {current.version}; nothing to train (--if-missing)"
                )
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
    model_uri: ModelUri = DEFAULT_MODEL,
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
) -> None:
    """Metrics of a model on labelled data, per stage and per city group (small/poor cities)."""
    from scalepredict.bundle import BundleError
    from scalepredict.pipeline import evaluate as evaluate_model
    from scalepredict.registry import load_bundle

    frame = _load_valid(data, labelled=True)
    try:
        bundle = load_bundle(model_uri)
    except BundleError as e:
        raise fail(str(e)) from None
    metrics = evaluate_model(bundle, frame)
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


def _load_valid(path: Path, labelled: bool | None = None):
    """Validated typed frame of a file, or the problem report and exit 1 / one line and exit 2."""
    from scalepredict.validation import validate_file

    try:
        result = validate_file(path, labelled)
    except DataFileError as e:
        raise fail(str(e)) from None
    if not result.valid:
        print_problems(result.problems, 50)
        raise fail(f"{path}: {len(result.problems)} problem(s); fix them first", EXIT_PROBLEMS)
    return result.frame


def _load_predictor(uri: str):
    from scalepredict.bundle import BundleError
    from scalepredict.predictor import Predictor

    try:
        return Predictor.from_uri(uri)
    except BundleError as e:
        raise fail(str(e)) from None


@app.command()
def explain(
    data: Annotated[Path, typer.Option(help="Assessments (CSV/Parquet) to explain.")],
    out: Annotated[Path | None, typer.Option(help="Directory for plots and tables.")] = None,
    initiative: Annotated[str | None, typer.Option(help="initiative_id for a waterfall.")] = None,
    model_uri: ModelUri = DEFAULT_MODEL,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {stage: {dimension: mean |SHAP|}}.")
    ] = False,
) -> None:
    """Which dimensions and factors drive the predictions, per stage (mean |SHAP|, log-odds)."""
    import pandas as pd

    frame = _load_valid(data)
    predictor = _load_predictor(model_uri)
    importance = predictor.importance(frame)
    row = None
    if initiative is not None:
        row = frame[frame["initiative_id"] == initiative]
        if row.empty:
            raise fail(f"initiative {initiative!r} is not in {data}")
    if out is not None:
        from scalepredict.reports import dimension_bars, shap_summary_per_stage, waterfall

        out.mkdir(parents=True, exist_ok=True)
        written = [
            *shap_summary_per_stage(predictor.bundle, frame, out),
            dimension_bars(importance, out / "dimensions_by_stage.png"),
        ]
        table = [
            {"stage": s, "level": level, "name": k, "mean_abs_shap": v}
            for s, imp in importance.items()
            for level in ("dimensions", "factors")
            for k, v in imp[level].items()
        ]
        written.append(write_table(pd.DataFrame(table), out / "importance.csv"))
        if row is not None:
            written.append(waterfall(predictor.bundle, row, out / f"waterfall_{initiative}.png"))
            (out / f"explanation_{initiative}.json").write_text(
                json.dumps(predictor.assess(row)[0], indent=2, default=str)
            )
        for path in written:
            err.print(f"wrote {path}")
    if as_json:
        console.print_json(json.dumps({s: imp["dimensions"] for s, imp in importance.items()}))
        return
    t = Table(title="Mean |SHAP| per dimension (log-odds), by stage")
    t.add_column("dimension")
    for s in importance:
        t.add_column(f"{s} (n={importance[s]['n']})", justify="right")
    for d in next(iter(importance.values()))["dimensions"]:
        t.add_row(d, *[f"{importance[s]['dimensions'][d]:.3f}" for s in importance])
    console.print(t)
    if row is not None:
        ex = predictor.assess(row, plan=False)[0]
        console.print(f"{initiative}: probability {ex['probability']:.1%} ({ex['risk_band']} risk)")
        for drv in ex["explanation"]["top_drivers"]:
            console.print(
                f"  {drv['field']} = {drv['value']}: {drv['direction']} ({drv['strength']}, "
                f"{drv['probability_points']:+.1f} points)"
            )


def _flat_record(rec: dict) -> dict:
    flat = {k: rec[k] for k in ("initiative_id", "probability", "risk_band", "uncertainty")}
    flat["prediction_set"] = "|".join(map(str, rec["prediction_set"]))
    if "explanation" in rec:
        dims = rec["explanation"]["dimensions"]
        flat["weakest_dimension"] = min((d for d in dims if d != "context"), key=dims.get)
        flat["top_drivers"] = "; ".join(
            f"{d['field']} {d['direction']} ({d['strength']})"
            for d in rec["explanation"]["top_drivers"]
        )
    if "plan" in rec:
        plan = rec["plan"]
        flat["plan_actions"] = "; ".join(
            f"{a['factor']} {a['from']}->{a['to']}" for a in plan["actions"]
        )
        flat["plan_expected_probability"] = plan["expected_probability"]
        flat["plan_reached_target"] = plan["reached"]
        flat["plan_total_effort"] = plan["total_effort"]
    return flat


@app.command()
def score(
    file: Annotated[Path, typer.Argument(help="Assessments (CSV/Parquet) to score.")],
    out: Annotated[Path, typer.Option(help="Output .json (records) or .csv (one flat row each).")],
    with_explain: Annotated[bool, typer.Option("--explain", help="Add explanations.")] = False,
    with_plan: Annotated[bool, typer.Option("--plan", help="Add mitigation plans.")] = False,
    target: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Plan target probability.")
    ] = None,
    max_effort: Annotated[float | None, typer.Option(min=0.0, help="Plan effort budget.")] = None,
    model_uri: ModelUri = DEFAULT_MODEL,
) -> None:
    """Score a batch offline: probability, risk band, 90% statement; optionally why and what."""
    import pandas as pd

    if out.resolve() == file.resolve():
        raise fail(f"{out}: refusing to overwrite the input file")
    frame = _load_valid(file)
    predictor = _load_predictor(model_uri)
    records = predictor.assess(
        frame, explain=with_explain, plan=with_plan, target=target, max_effort=max_effort
    )
    if out.suffix.lower() == ".json":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(records, indent=1, default=str))
    else:
        write_table(pd.DataFrame([_flat_record(r) for r in records]), out)
    err.print(f"scored {len(records)} initiative(s) -> {out}")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port on localhost.")] = 3000,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
) -> None:
    """Start the scoring API (`bentoml serve serving.service:ScalePredict`) with the champion."""
    import os
    import shutil
    import subprocess
    import sys

    bentoml_bin = shutil.which("bentoml") or str(Path(sys.executable).parent / "bentoml")
    root = Path(__file__).resolve().parents[2]
    cmd = [
        bentoml_bin,
        "serve",
        "serving.service:ScalePredict",
        "--host",
        host,
        "--port",
        str(port),
    ]
    err.print(f"starting: {' '.join(cmd)} (in {root})")
    raise typer.Exit(subprocess.call(cmd, cwd=root, env=os.environ.copy()))


keys_app = typer.Typer(
    help="API keys for the scoring service (only hashes are stored).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="Who holds the key (letters, digits, - or _).")],
    role: Annotated[str, typer.Option(help="scorer or admin.")] = "scorer",
) -> None:
    """Create a key and print it once; only its SHA-256 hash is stored."""
    from scalepredict.auth import ApiKeyError, add_key, keys_file

    try:
        key = add_key(name, role)
    except ApiKeyError as e:
        raise fail(str(e)) from None
    err.print(f"key for {name} ({role}) stored as a hash in {keys_file()}; it is shown only now:")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """Names, roles and creation times (never keys)."""
    from scalepredict.auth import list_keys

    for name, k in list_keys().items():
        console.print(f"{name}\t{k['role']}\t{k['created']}")


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument()]) -> None:
    """Delete a key; requests with it get 401 from then on."""
    from scalepredict.auth import revoke_key

    if not revoke_key(name):
        raise fail(f"no key named {name!r}")
    console.print(f"revoked {name}")


audit_app = typer.Typer(help="The audit trail of scored proposals.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("export")
def audit_export(out: Annotated[Path, typer.Option(help="CSV file to write.")]) -> None:
    """Write every audit record (request id, key name, time, input, output, model) to CSV."""
    from scalepredict.audit import AuditLog, audit_url

    n = AuditLog().export(out)
    console.print(f"wrote {n} record(s) from {audit_url()} to {out}")


if __name__ == "__main__":
    app()
