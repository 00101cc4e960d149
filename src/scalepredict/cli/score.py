"""Scoring commands: explain a batch (global and per initiative) and score a batch offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from scalepredict.cli import dask_engine
from scalepredict.cli.common import CatalogueFile, ModelUri, fail, load_predictor, load_valid
from scalepredict.cli.dask_engine import (
    Engine,
    EngineOption,
    PartRowsOption,
    SchedulerOption,
    WorkersOption,
)
from scalepredict.cli.render import console, err, print_drivers, print_importance
from scalepredict.data.tables import write_table


def explain(
    data: Annotated[Path, typer.Option(help="Assessments (CSV/Parquet) to explain.")],
    out: Annotated[Path | None, typer.Option(help="Directory for plots and tables.")] = None,
    initiative: Annotated[str | None, typer.Option(help="initiative_id for a waterfall.")] = None,
    model_uri: ModelUri = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print {stage: {dimension: mean |SHAP|}}.")
    ] = False,
    catalogue: CatalogueFile = None,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    partition_rows: PartRowsOption = None,
) -> None:
    """Which dimensions and factors drive the predictions, per stage (mean |SHAP|, log-odds).
    With --engine dask: a large Parquet file in parts (the importance table and chart; the
    per-stage SHAP summaries and --initiative need the local engine)."""
    import pandas as pd

    if engine is Engine.dask:
        if initiative is not None:
            raise fail("--initiative explains one row: use the local engine")
        _explain_in_parts(
            data, out, as_json, model_uri, catalogue, scheduler, workers, partition_rows
        )
        return
    predictor = load_predictor(model_uri, catalogue)
    cat = predictor.bundle.catalogue
    frame = load_valid(data, cat)
    importance = predictor.importance(frame)
    row = None
    if initiative is not None:
        row = frame[frame[cat.id_column].astype(str) == initiative]
        if row.empty:
            raise fail(f"initiative {initiative!r} is not in {data}")
    if out is not None:
        from scalepredict.inference.plots import dimension_bars, shap_summary_per_stage, waterfall

        out.mkdir(parents=True, exist_ok=True)
        written = [
            *shap_summary_per_stage(predictor.bundle, frame, out),
            dimension_bars(importance, out / "dimensions_by_stage.png"),
        ]
        written.append(
            write_table(pd.DataFrame(importance_rows(importance)), out / "importance.csv")
        )
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
    print_importance(importance)
    if row is not None and initiative is not None:
        print_drivers(initiative, predictor.assess(row, plan=False)[0])


def _explain_in_parts(
    data: Path,
    out: Path | None,
    as_json: bool,
    model_uri: str | None,
    catalogue: Path | None,
    scheduler: str | None,
    workers: int | None,
    partition_rows: int | None,
) -> None:
    import pandas as pd

    from scalepredict.inference.cluster import importance_file

    dask_engine.parquet_input(data)
    predictor = load_predictor(model_uri, catalogue)
    with dask_engine.cluster(scheduler, workers) as client:
        importance = importance_file(
            client,
            predictor,
            data,
            dask_engine.part_rows(partition_rows),
            dask_engine.watch,
            limits=dask_engine.file_limits(),
        )
    if out is not None:
        from scalepredict.inference.plots import dimension_bars

        out.mkdir(parents=True, exist_ok=True)
        for path in (
            dimension_bars(importance, out / "dimensions_by_stage.png"),
            write_table(pd.DataFrame(importance_rows(importance)), out / "importance.csv"),
        ):
            err.print(f"wrote {path}")
    if as_json:
        console.print_json(json.dumps({s: imp["dimensions"] for s, imp in importance.items()}))
        return
    print_importance(importance)


def importance_rows(importance: dict[str, dict]) -> list[dict]:
    return [
        {"stage": s, "level": level, "name": k, "mean_abs_shap": v}
        for s, imp in importance.items()
        for level in ("dimensions", "factors")
        for k, v in imp[level].items()
    ]


def score(
    file: Annotated[Path, typer.Argument(help="Assessments (CSV/Parquet) to score.")],
    out: Annotated[
        Path,
        typer.Option(
            help="Output .json (records) or .csv / .parquet (one flat row each); with "
            "--engine dask a directory of Parquet parts."
        ),
    ],
    with_explain: Annotated[bool, typer.Option("--explain", help="Add explanations.")] = False,
    with_plan: Annotated[bool, typer.Option("--plan", help="Add mitigation plans.")] = False,
    target: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Plan target probability.")
    ] = None,
    max_effort: Annotated[float | None, typer.Option(min=0.0, help="Plan effort budget.")] = None,
    model_uri: ModelUri = None,
    catalogue: CatalogueFile = None,
    engine: EngineOption = Engine.local,
    scheduler: SchedulerOption = None,
    workers: WorkersOption = None,
    partition_rows: PartRowsOption = None,
) -> None:
    """Score a batch offline: probability, risk band, 90% statement; optionally why and what.
    With --engine dask, a large Parquet file in parts into the directory --out."""
    from scalepredict.inference.batch import ScoreOptions, score_frame

    if out.resolve() == file.resolve():
        raise fail(f"{out}: refusing to overwrite the input file")
    options = ScoreOptions(with_explain, with_plan, target, max_effort)
    if engine is Engine.dask:
        from scalepredict.inference.cluster import SUCCESS, score_file

        dask_engine.parquet_input(file)
        predictor = load_predictor(model_uri, catalogue)
        rows = dask_engine.part_rows(partition_rows)
        with dask_engine.cluster(scheduler, workers) as client:
            n = score_file(
                client,
                predictor,
                file,
                out,
                options,
                rows,
                dask_engine.watch,
                limits=dask_engine.file_limits(),
            )
        err.print(f"scored {n} initiative(s) -> {out}/ (Parquet parts, then {SUCCESS})")
        return
    predictor = load_predictor(model_uri, catalogue)
    frame = load_valid(file, predictor.bundle.catalogue)
    if out.suffix.lower() == ".json":
        records = predictor.assess(
            frame, explain=with_explain, plan=with_plan, target=target, max_effort=max_effort
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(records, indent=1, default=str))
    else:
        records = score_frame(predictor, frame, options)
        write_table(records, out, for_people=True)
    err.print(f"scored {len(records)} initiative(s) -> {out}")
