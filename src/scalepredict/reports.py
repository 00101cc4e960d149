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

from scalepredict.catalogue import load_catalogue
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


def shap_summary_per_stage(result: FitResult, frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Beeswarm of exact tree SHAP (XGBoost's pred_contribs) per stage, on the log-odds."""
    import shap
    import xgboost as xgb

    paths = []
    for stage in load_catalogue().stages:
        part = frame[frame["stage"] == stage]
        if part.empty:
            continue
        x = make_features(part)
        contribs = result.bundle.booster.predict(
            xgb.DMatrix(x, enable_categorical=True), pred_contribs=True
        )[:, :-1]
        shown = x.copy()
        for c in shown:
            if isinstance(shown[c].dtype, pd.CategoricalDtype):
                shown[c] = shown[c].cat.codes.astype(float)
        plt.figure()
        shap.summary_plot(
            contribs,
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
        f"Search: {len(result.search.trials)} trials, best {result.search.params}, "
        f"{result.search.rounds} rounds (grouped CV log loss {result.search.cv_log_loss:.4f}).",
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
        *shap_summary_per_stage(result, result.split.test, out_dir),
    ]
