"""Model commands: train (and register), evaluate, promote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scalepredict.cli.common import (
    EXIT_NOT_PROMOTED,
    EXIT_PROBLEMS,
    CatalogueFile,
    ModelUri,
    catalogue_or_fail,
    fail,
    load_rated,
    model_uri_or_champion,
)
from scalepredict.cli.progress import progress
from scalepredict.cli.render import (
    console,
    err,
    print_evaluation,
    print_problems,
    print_training_summary,
)
from scalepredict.data.tables import DataFileError


def train(
    data: Annotated[
        Path | None, typer.Option(help="Labelled CSV/Parquet (default: the config's).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="Training configuration YAML [default: the training_config setting]."),
    ] = None,
    if_missing: Annotated[
        bool,
        typer.Option("--if-missing", help="Do nothing if a usable champion is already registered."),
    ] = False,
    require_promotion: Annotated[
        bool,
        typer.Option(
            "--require-promotion",
            help=f"Exit {EXIT_NOT_PROMOTED} when the new version is not promoted to champion "
            "(for schedulers).",
        ),
    ] = False,
    catalogue: CatalogueFile = None,
) -> None:
    """Train, calibrate and test a model; track it in MLflow; register it as champion or challenger.

    The new version becomes `champion` only if, on the same held-out test set, it is not worse
    than the current champion and beats logistic regression and the checklist score.
    Exit 3 with --require-promotion when it does not."""
    import os

    from scalepredict.settings import get_settings, project_root

    # Before XGBoost loads OpenMP (below), which reads it once: idle threads that spin made a
    # training on a busy 2-core machine several times slower (benchmarks/training.py).
    settings = get_settings()
    os.environ["OMP_WAIT_POLICY"] = settings.omp_wait_policy
    from scalepredict.data.quarantine import QuarantineError
    from scalepredict.model.config import TrainConfig
    from scalepredict.model.split import InsufficientDataError
    from scalepredict.tracking.registry import CHAMPION, usable_champion
    from scalepredict.tracking.run import TrainingDataError, train_and_register

    cat = catalogue_or_fail(catalogue)
    config = config or settings.training_config
    try:
        cfg = TrainConfig.from_yaml(config)
    except (OSError, ValueError, TypeError) as e:
        raise fail(f"{config}: {e}") from None
    if data is None:  # the config's data path is relative to the project
        data = Path(cfg.data) if Path(cfg.data).is_absolute() else project_root() / cfg.data
    if if_missing:
        version, problem = usable_champion(settings, cat)
        if version is not None and problem is None:
            console.print(f"champion is version {version}; nothing to train (--if-missing)")
            return
        if version is not None:
            err.print(f"champion v{version} cannot be used ({problem}); training a new one")
    with progress(err) as report:
        try:
            record = train_and_register(settings, data, cfg, config, report, cat)
        except QuarantineError as e:  # row problems, too many of them: exit 1 as for problems
            raise fail(str(e), EXIT_PROBLEMS) from None
        except (DataFileError, InsufficientDataError) as e:
            raise fail(str(e)) from None
        except TrainingDataError as e:
            print_problems(e.result.problems, 50)
            raise fail(
                f"{e} (set on_bad_rows: quarantine in the config to train on the valid rows)",
                EXIT_PROBLEMS,
            ) from None
    print_training_summary(record)
    if require_promotion and record.alias != CHAMPION:
        raise fail(
            f"version {record.version} was not promoted (--require-promotion)", EXIT_NOT_PROMOTED
        )


def evaluate(
    data: Annotated[Path, typer.Option(help="Labelled CSV/Parquet to evaluate on.")],
    model_uri: ModelUri = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print metrics as JSON.")] = False,
    catalogue: CatalogueFile = None,
) -> None:
    """Metrics of a model on labelled data, per stage and per subgroup (small/poor cities)."""
    from scalepredict.cli.common import load_predictor
    from scalepredict.data.row_hashes import overlap
    from scalepredict.model.fit import evaluate as evaluate_model
    from scalepredict.settings import get_settings
    from scalepredict.tracking.registry import file_sha256, resolve_version
    from scalepredict.tracking.run import TRAINING_ROWS

    uri = model_uri_or_champion(model_uri, catalogue_or_fail(catalogue))
    bundle = load_predictor(uri, catalogue).bundle
    frame, left = load_rated(data, bundle.catalogue)
    if frame.empty:
        raise fail(f"{data}: no row with a rated outcome to evaluate on")
    version = resolve_version(uri, get_settings())
    named = f"{uri} (version {version})" if version else uri
    metrics = evaluate_model(bundle, frame)
    metrics["model"] = {"uri": uri, "version": version, "run_id": bundle.meta.get("run_id")}
    metrics["file_rows"], metrics["not_rated_skipped"] = left.rows, left.not_rated
    seen = (
        overlap(frame, bundle.meta[TRAINING_ROWS], bundle.catalogue)
        if TRAINING_ROWS in bundle.meta
        else None
    )
    same_file = bundle.meta.get("data", {}).get("sha256") == file_sha256(data)
    metrics["training_overlap_rows"] = seen
    if seen or same_file:
        what = (
            "is the file it was trained on"
            if same_file
            else f"shares {seen} of its {len(frame)} rows with the rows it was trained on"
        )
        err.print(
            f"[bold yellow]warning:[/] {data} {what}: these metrics flatter {named}; "
            "evaluate on data it has not seen",
            highlight=False,
            soft_wrap=True,
        )
    if as_json:
        console.print_json(json.dumps(metrics))
        return
    print_evaluation(f"{named} on {data}", metrics)


def promote(
    version: Annotated[str, typer.Argument(help="Registered model version to make champion.")],
    reason: Annotated[
        str, typer.Option(help="Why the gate is overridden (logged).")
    ] = "manual override",
    catalogue: CatalogueFile = None,
) -> None:
    """Make VERSION the champion deliberately, bypassing the gate; logged as an MLflow run.
    VERSION stops being the challenger (one alias per version); its training run's `promoted`
    tag becomes true and the previous champion's false."""
    from mlflow.exceptions import MlflowException

    from scalepredict.settings import get_settings
    from scalepredict.tracking.champion import promote as promote_version
    from scalepredict.tracking.champion import settle_promotion
    from scalepredict.tracking.registry import model_name

    settings = get_settings()
    name = model_name(settings, catalogue_or_fail(catalogue))
    try:
        previous = promote_version(settings, version, reason, name)
        settle_promotion(settings, version, previous, name)
    except MlflowException as e:
        raise fail(f"cannot promote version {version}: {e.message}") from None
    console.print(
        f"version {version} is now champion (was {previous or 'none'}); reason logged: {reason}"
    )
