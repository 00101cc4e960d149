"""Training artifacts for people: the calibration plot, ROC curves against the baselines and a
Markdown model report, written to files that `tracking.run` logs to MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_curve

if TYPE_CHECKING:
    from scalepredict.model.fit import FitResult


def calibration_plot(y: np.ndarray, p: np.ndarray, path: Path, bins: int = 10) -> Path:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    mean_p = [p[idx == b].mean() for b in range(bins) if (idx == b).any()]
    rate = [y[idx == b].mean() for b in range(bins) if (idx == b).any()]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], ls="--", color="#999999", label="perfect")
    ax.plot(mean_p, rate, marker="o", color="#0072B2", label="model (test)")
    ax.set(
        xlabel="predicted probability of scaling up", ylabel="observed rate", title="Calibration"
    )
    ax.legend()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def roc_plot(y: np.ndarray, curves: dict[str, np.ndarray], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5, 5))
    colors = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9"]  # colour-blind safe
    for (name, p), color in zip(curves.items(), colors, strict=False):
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=name, color=color)
    ax.plot([0, 1], [0, 1], ls="--", color="#999999")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)")
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _table(rows: dict[str, dict[str, float]], keys: list[str]) -> list[str]:
    lines = ["| | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, m in rows.items():
        lines.append(
            f"| {name} | " + " | ".join(f"{m.get(k, float('nan')):.4f}" for k in keys) + " |"
        )
    return lines


def _evaluation_words(result: FitResult) -> str:
    ev = result.evaluation
    if ev is None or ev.method == "holdout":
        return f"a grouped holdout, split by city: {result.split.sizes()}"
    return (
        f"repeated grouped cross-validation ({ev.repeats} x {ev.folds} folds over all "
        f"{len(ev.y)} rows; each fold predicted by the family the other folds chose)"
    )


def model_report(
    result: FitResult,
    data_info: dict,
    gate_text: list[str],
    version: str,
    champion: dict[str, float] | None = None,
) -> str:
    """The run's model_report.md: `champion` is the current champion's figures on the same
    held-out rows, the row `train` prints beside the new model's."""
    m = result.test_metrics
    keys = ["roc_auc", "pr_auc", "log_loss", "brier", "ece"]
    card = result.bundle.meta.get("card", {})
    rows = {f"served: {result.bundle.kind}": m, **result.baselines}
    if champion:
        rows["current champion"] = champion
    if "bayes_roc_auc" in m:
        rows["true probability (Bayes)"] = {
            "roc_auc": m["bayes_roc_auc"],
            "log_loss": m["bayes_log_loss"],
        }
    lines = [
        f"# ScalePredict model report (version {version})",
        "",
        f"Data: {data_info['rows']} rows, sha256 {data_info['sha256'][:12]}..., "
        f"per stage {data_info['per_stage']}.",
        f"Model card: {card.get('summary', '')}.",
        *(f"**Warning:** {w}" for w in card.get("warnings", [])),
        f"Evaluation: {_evaluation_words(result)}.",
        f"Family chosen by calibrated held-out log loss: "
        f"{ {k: round(v, 4) for k, v in card.get('choice_log_loss', {}).items()} }"
        + (f"; not fitted: {card['excluded_families']}" if card.get("excluded_families") else "")
        + ".",
        *(
            f"- against {k}: log-loss difference {v['difference']:+.4f} "
            f"[{v['low']:+.4f}, {v['high']:+.4f}]: {v['verdict']}"
            for k, v in card.get("versus", {}).items()
        ),
        "Tree search, one booster per stage:",
        *(
            f"- {stage}: {len(found.trials)} trials, best {found.params}, {found.rounds} rounds "
            f"(grouped CV log loss {found.cv_log_loss:.4f})."
            for stage, found in result.search.items()
        ),
        f"Calibration: {result.bundle.calibrator.method} (cross-fitted log loss "
        f"{ {k: round(v, 4) for k, v in result.calibration_scores.items()} }).",
        f"Conformal: {1 - result.bundle.conformal.alpha:.0%} sets, threshold "
        f"{result.bundle.conformal.q:.4f}; test coverage {m['conformal_coverage']:.3f}, "
        f"mean set size {m['conformal_mean_set_size']:.2f}.",
        "",
        "## Held-out metrics",
        "",
        *_table(rows, keys),
        "",
        "95% intervals (bootstrap over groups): "
        + ", ".join(
            f"{k} [{m.get(k + '_low', float('nan')):.4f}, {m.get(k + '_high', float('nan')):.4f}]"
            for k in ("roc_auc", "log_loss", "ece", "conformal_coverage")
        )
        + ".",
        "",
        "## Promotion gate",
        "",
        *[f"- {r}" for r in gate_text],
        "",
    ]
    return "\n".join(lines)
