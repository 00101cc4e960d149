"""Life-after-launch commands: `monitor` (drift, estimated and realized performance, fairness,
a verdict), and the matured outcomes that `retrain` (cli/retrain.py) adds to the history.

`monitor` exit codes, for schedulers: 0 ok, 3 watch, 4 act; 2 the command could not run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from scalepredict.cli.common import CatalogueFile, catalogue_or_fail, fail
from scalepredict.cli.render import console, err

if TYPE_CHECKING:
    import pandas as pd

    from scalepredict.catalogue import Catalogue
    from scalepredict.monitoring.monitor import Reference
    from scalepredict.settings import Settings

When = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])]


def _scorings(
    settings: Settings, cat: Catalogue, since: datetime | None, until: datetime | None
) -> pd.DataFrame:
    from scalepredict.store.database import engine
    from scalepredict.store.scorings import scorings

    utc = [d.replace(tzinfo=UTC) if d and d.tzinfo is None else d for d in (since, until)]
    try:
        return scorings(engine(settings), cat, settings.outcome_horizon_months, utc[0], utc[1])
    except Exception as e:  # an unreachable store: one line, exit 2
        raise fail(f"cannot read the scorings: {type(e).__name__}: {e}") from None


def _references(
    settings: Settings, versions: list[str], cat: Catalogue
) -> dict[str, Reference | None]:
    """Each scored version's reference (None when its bundle cannot be loaded)."""
    from scalepredict.monitoring.monitor import Reference
    from scalepredict.tracking.registry import load_bundle, model_name

    out: dict[str, Reference | None] = {}
    for v in versions:
        try:
            uri = f"models:/{model_name(settings, cat)}/{v}"
            out[v] = Reference.of(load_bundle(uri, settings))
        except Exception as e:  # an old or deleted version: reported, not fatal
            err.print(f"model version {v} cannot be loaded ({type(e).__name__}); no reference")
            out[v] = None
    return out


def monitor(
    since: When = None,
    until: When = None,
    out: Annotated[Path | None, typer.Option(help="Directory for monitor.html/.json.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    window: Annotated[
        str | None, typer.Option(help="month or quarter [default: the monitor_window setting].")
    ] = None,
    mlflow_run: Annotated[
        bool, typer.Option("--mlflow/--no-mlflow", help="Log the reports as an MLflow run.")
    ] = True,
    catalogue: CatalogueFile = None,
) -> None:
    """Check the scored proposals in [--since, --until): input drift against the training
    data's profile, estimated and realized performance, fairness by groups of cities.

    Exit 0: ok. Exit 3: watch. Exit 4: act (the reasons say why). Exit 2: could not run."""
    from scalepredict.monitoring.monitor import MonitorRules
    from scalepredict.monitoring.monitor import monitor as run_monitor
    from scalepredict.monitoring.report import EXIT_CODES, headline, write_report
    from scalepredict.monitoring.report_types import Range
    from scalepredict.settings import get_settings

    settings = get_settings()
    cat = catalogue_or_fail(catalogue)
    window = window or settings.monitor_window
    if window not in ("month", "quarter"):
        raise fail(f"--window must be month or quarter, not {window!r}")
    if since and until and since >= until:
        raise fail("--since must be before --until")
    frame = _scorings(settings, cat, since, until)
    versions = sorted(frame["model_version"].astype(str).unique())
    rules = MonitorRules(window=window, min_window=settings.monitor_min_proposals)  # type: ignore[arg-type]
    report = run_monitor(frame, cat, _references(settings, versions, cat), rules)
    report.range = Range(since=str(since) if since else None, until=str(until) if until else None)
    paths = write_report(report, out or settings.monitor_dir)
    if mlflow_run:
        from scalepredict.tracking.monitor_run import log_monitor_run
        from scalepredict.tracking.registry import model_name

        watched, metrics, tags = headline(report)
        model = None if watched is None else (model_name(settings, cat), watched)
        try:
            report.mlflow_run_id = log_monitor_run(
                settings, paths, metrics, tags, settings.monitor_experiment, model
            )
        except Exception as e:  # the report is written; a tracking outage must not hide it
            err.print(f"MLflow run not logged ({type(e).__name__}: {e})")
    if as_json:
        console.print_json(report.model_dump_json())
    else:
        console.print(f"verdict: [bold]{report.verdict}[/] ({report.proposals} proposals)")
        for r in report.reasons:
            console.print(f"  {r.level}: {r.reason}", highlight=False)
        err.print(f"report: {paths[1]} and {paths[0]}")
    raise typer.Exit(EXIT_CODES[report.verdict])


def matured_rows(
    scored: pd.DataFrame, cat: Catalogue, funded_only: bool
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Scorings whose outcome is known (recorded, or expired: past the horizon, counted as
    the catalogue's failure) as labelled rows, and the counts of what was left out."""
    status = scored["status"].astype(str)
    counts = {"pending": int((status == "pending").sum()), "not_funded": 0}
    rows = scored[status.isin(["recorded", "expired"])]
    if funded_only:
        funded = rows["funded"].map(lambda v: v is True or str(v).lower() in ("true", "1"))
        counts["not_funded"] = int((~funded).sum())
        rows = rows[funded]
    failure = cat.outcome_map.failure[0]
    labelled = rows[[c for c in cat.assessment_columns() if c in rows]].copy()
    labelled[cat.outcome.name] = [
        v if s == "recorded" else failure
        for s, v in zip(rows["status"], rows["outcome"], strict=True)
    ]
    return labelled, counts
