"""Rich tables for people: validation summaries and problems, training and evaluation results,
dimension importance. Formatting only; every figure comes from the package."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd

    from scalepredict.tracking.run import TrainingRecord

console = Console()
err = Console(stderr=True)
METRIC_COLUMNS = ("roc_auc", "log_loss", "brier", "ece")


def count(n: int, one: str, many: str | None = None) -> str:
    """A number with its noun in agreement: '1 row', '2 rows', '1 history row'."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def print_summary(summary: dict) -> None:
    groups = f"{summary['groups']} distinct {summary['group_field']}"
    t = Table(title=f"{summary['rows']} rows, {groups}", show_header=True)
    t.add_column("stage")
    t.add_column("rows", justify="right")
    rates: dict[str, float] = next(
        (v for k, v in summary.items() if k.endswith("_rate_by_stage")), {}
    )
    if rates:
        t.add_column("success rate", justify="right")
    for stage, n in summary["per_stage"].items():
        t.add_row(stage, str(n), *([f"{rates.get(stage, float('nan')):.1%}"] if rates else []))
    console.print(t)
    if summary.get("not_rated"):
        console.print(f"{summary['not_rated']} row(s) with a not-rated outcome are left out")
    top = list(summary["missing_by_factor"].items())[:5]
    console.print(
        f"unknown answers: {summary['missing_answer_rate']:.1%} of factor cells; most often "
        + ", ".join(f"{k} {v:.1%}" for k, v in top)
    )


def print_problems(problems: pd.DataFrame, limit: int) -> None:
    t = Table(title=f"{len(problems)} problem(s)", show_lines=False)
    for col in ("row", "initiative_id", "column", "rule", "value"):
        t.add_column(col, overflow="fold")
    for rec in problems.head(limit).astype("string").fillna("").itertuples(index=False):
        t.add_row(*rec)
    err.print(t)
    if len(problems) > limit:
        err.print(f"... and {len(problems) - limit} more (use --report FILE to write them all)")


def _metric_cells(r: dict[str, Any]) -> list[str]:
    return [f"{r[k]:.4f}" for k in METRIC_COLUMNS]


def print_training_summary(record: TrainingRecord) -> None:
    from scalepredict.model.families import FAMILY_WORDS  # here: it loads every family's code

    m, fitted = record.fit.test_metrics, record.fit
    ev = fitted.evaluation
    how = (
        record.split_note
        if ev is None or ev.method == "holdout"
        else f"out of fold, {ev.repeats} x {ev.folds}-fold grouped cross-validation"
    )
    t = Table(title=f"Held-out figures ({int(m['n'])} rows, {how})")
    for col in ("model", "ROC AUC", "log loss", "Brier", "ECE"):
        t.add_column(col, justify="right" if col != "model" else "left")
    rows = {
        # the family in words, as the card and `/model` name it, not its short kind
        f"served, calibrated: {FAMILY_WORDS[fitted.bundle.kind]}": m,
        **{k.replace("_", " "): v for k, v in fitted.baselines.items()},
    }
    if record.champion_metrics:
        rows["current champion"] = record.champion_metrics
    for name, r in rows.items():
        t.add_row(name, *_metric_cells(r))
    if "bayes_roc_auc" in m:
        t.add_row(
            "true probability (Bayes limit)",
            f"{m['bayes_roc_auc']:.4f}",
            f"{m['bayes_log_loss']:.4f}",
            "",
            "",
        )
    console.print(t)
    data = record.data_info
    if data.get("quarantined") or data.get("not_rated"):  # said again where the figures are
        console.print(
            f"[yellow]trained on {data['rows']} of {data.get('file_rows', '?')} row(s):[/] "
            + "; ".join(data.get("left_out", [])),
            highlight=False,
        )
    card = fitted.bundle.meta.get("card", {})
    console.print(
        f"{card.get('summary', '')}; log loss [{m['log_loss_low']:.3f}, {m['log_loss_high']:.3f}]"
        " (95% intervals, bootstrap over groups)"
    )
    for warning in card.get("warnings", []):
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(
        f"calibration: {fitted.bundle.calibrator.method}; 90% conformal sets cover "
        f"{m['conformal_coverage']:.1%} of the test set "
        f"(mean size {m['conformal_mean_set_size']:.2f}); "
        f"{fitted.seconds:.1f} s"
    )
    colour = "green" if record.alias == "champion" else "yellow"
    console.print(
        f"registered {record.model_name} version {record.version} as [{colour}]{record.alias}[/]"
    )
    for reason in record.decision.reasons:
        console.print(f"  - {reason}")


def print_evaluation(title: str, metrics: dict[str, Any]) -> None:
    t = Table(title=title)
    for col in ("group", "n", "ROC AUC", "log loss", "Brier", "ECE", "Bayes AUC"):
        t.add_column(col, justify="left" if col == "group" else "right")
    for name, r in {"all": metrics, **metrics["by_group"]}.items():
        t.add_row(
            name,
            str(int(r["n"])),
            *_metric_cells(r),
            f"{r['bayes_roc_auc']:.4f}" if "bayes_roc_auc" in r else "",
        )
    console.print(t)
    if "roc_auc_low" in metrics:
        console.print(
            f"{metrics.get('family', 'model')}: AUC {metrics['roc_auc']:.3f} "
            f"[{metrics['roc_auc_low']:.3f}, {metrics['roc_auc_high']:.3f}], log loss "
            f"{metrics['log_loss']:.3f} [{metrics['log_loss_low']:.3f}, "
            f"{metrics['log_loss_high']:.3f}] (95% intervals, bootstrap over "
            f"{metrics['groups']} groups)"
        )


def print_importance(importance: dict[str, dict]) -> None:
    t = Table(title="Mean |SHAP| per dimension (log-odds), by stage")
    t.add_column("dimension")
    for s in importance:
        t.add_column(f"{s} (n={importance[s]['n']})", justify="right")
    for d in next(iter(importance.values()))["dimensions"]:
        t.add_row(d, *[f"{importance[s]['dimensions'][d]:.3f}" for s in importance])
    console.print(t)


def print_drivers(initiative: str, assessed: dict[str, Any]) -> None:
    console.print(
        f"{initiative}: probability {assessed['probability']:.1%} ({assessed['risk_band']} risk)"
    )
    for drv in assessed["explanation"]["top_drivers"]:
        console.print(
            f"  {drv['field']} = {drv['value']}: {drv['direction']} ({drv['strength']}, "
            f"{drv['points']:+.1f} points)"
        )


def print_left_out(lines: list[str]) -> None:
    """Rows a command leaves out (quarantined, not rated, repeated ids), on stderr."""
    for line in lines:
        err.print(f"[yellow]note:[/] {line}", highlight=False, soft_wrap=True)
