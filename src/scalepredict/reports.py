"""Training artifacts for people: calibration plot, ROC curves, SHAP summary per stage and a
Markdown model report. Written to a directory that `registry.py` logs to MLflow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from scalepredict.bundle import ModelBundle
from scalepredict.catalogue import load_catalogue
from scalepredict.explain import contributions
from scalepredict.features import make_features

if TYPE_CHECKING:
    from scalepredict.train import FitResult


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


def shap_summary_per_stage(bundle: ModelBundle, frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Beeswarm of exact tree SHAP (XGBoost's pred_contribs) per stage, on the log-odds."""
    import shap

    paths = []
    for stage in load_catalogue().stages:
        part = frame[frame["stage"] == stage]
        if part.empty:
            continue
        values = contributions(bundle, part).values
        shown = make_features(part)[list(values.columns)]
        for c in shown:
            if isinstance(shown[c].dtype, pd.CategoricalDtype):
                shown[c] = shown[c].cat.codes.astype(float)
        plt.figure()
        shap.summary_plot(
            values.to_numpy(),
            shown,
            show=False,
            max_display=15,
            plot_size=(8, 6),
            rng=np.random.default_rng(0),
        )
        plt.title(f"SHAP (log-odds), stage = {stage}")
        path = out_dir / f"shap_summary_{stage}.png"
        plt.savefig(path, dpi=100, bbox_inches="tight")
        plt.close("all")
        paths.append(path)
    return paths


def dimension_bars(importance: dict[str, dict], path: Path) -> Path:
    """Mean |SHAP| per dimension, grouped by stage."""
    cat = load_catalogue()
    stages = [s for s in cat.stages if s in importance]
    dims = cat.dimension_names
    colors = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9"]  # colour-blind safe
    fig, ax = plt.subplots(figsize=(8, 4.5))
    width = 0.8 / len(dims)
    for k, (d, color) in enumerate(zip(dims, colors, strict=False)):
        heights = [importance[s]["dimensions"][d] for s in stages]
        ax.bar(np.arange(len(stages)) + k * width, heights, width, label=d, color=color)
    ax.set_xticks(np.arange(len(stages)) + width * (len(dims) - 1) / 2, stages)
    ax.set(ylabel="mean |SHAP| (log-odds)", title="What drives the prediction, by stage")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def waterfall(bundle: ModelBundle, row: pd.DataFrame, path: Path) -> Path:
    """SHAP waterfall of one initiative (log-odds), fields named as in the catalogue."""
    import shap

    c = contributions(bundle, row)
    shown = make_features(row)[list(c.values.columns)].iloc[0]
    data = np.array([v if not isinstance(v, str) else np.nan for v in shown.astype(object)])
    exp = shap.Explanation(
        values=c.values.iloc[0].to_numpy(),
        base_values=float(c.base[0]),
        data=data,
        feature_names=list(c.values.columns),
    )
    plt.figure()
    shap.plots.waterfall(exp, max_display=12, show=False)
    plt.title(f"{row.iloc[0][load_catalogue().id_column]} (log-odds)")
    plt.savefig(path, dpi=100, bbox_inches="tight")
    plt.close("all")
    return path


def _table(rows: dict[str, dict[str, float]], keys: list[str]) -> list[str]:
    lines = ["| | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, m in rows.items():
        lines.append(
            f"| {name} | " + " | ".join(f"{m.get(k, float('nan')):.4f}" for k in keys) + " |"
        )
    return lines


def model_report(result: FitResult, data_info: dict, gate_text: list[str], version: str) -> str:
    m = result.test_metrics
    keys = ["roc_auc", "pr_auc", "log_loss", "brier", "ece"]
    rows = {"model": m, **result.baselines}
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
        f"Split by city: {result.split.sizes()}.",
        "Search, one booster per stage:",
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
        "## Test metrics",
        "",
        *_table(rows, keys),
        "",
        "## Promotion gate",
        "",
        *[f"- {r}" for r in gate_text],
        "",
    ]
    return "\n".join(lines)


def write_artifacts(result: FitResult, out_dir: Path, curves: dict[str, np.ndarray]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    y = result.split.test["scaled_up"].astype(int).to_numpy()
    p = result.bundle.probability(result.split.test)
    return [
        calibration_plot(y, p, out_dir / "calibration.png"),
        roc_plot(y, {"model": p, **curves}, out_dir / "roc.png"),
        *shap_summary_per_stage(result.bundle, result.split.test, out_dir),
    ]
