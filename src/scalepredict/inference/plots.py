"""Explanation plots: the SHAP beeswarm per stage, mean |SHAP| by dimension and stage, and one
initiative's waterfall (log-odds), fields named as in the catalogue."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from scalepredict.data.validation import stage_of
from scalepredict.inference.explain import contributions
from scalepredict.model.bundle import ModelBundle
from scalepredict.model.features import make_features


def shap_summary_per_stage(bundle: ModelBundle, frame: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Beeswarm of exact tree SHAP (XGBoost's pred_contribs) per stage, on the log-odds."""
    import shap

    cat = bundle.catalogue
    stages = stage_of(frame, cat)
    paths = []
    for stage in cat.booster_keys:
        part = frame[(stages == stage).to_numpy()]
        if part.empty:
            continue
        values = contributions(bundle, part).values
        shown = make_features(part, cat)[list(values.columns)]
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
    stages = list(importance)
    dims = list(next(iter(importance.values()))["dimensions"]) if importance else []
    # Okabe-Ito, colour-blind safe; repeats beyond eight dimensions
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
    colors = [palette[k % len(palette)] for k in range(len(dims))]
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
    shown = make_features(row, bundle.catalogue)[list(c.values.columns)].iloc[0]
    data = np.array([v if not isinstance(v, str) else np.nan for v in shown.astype(object)])
    exp = shap.Explanation(
        values=c.values.iloc[0].to_numpy(),
        base_values=float(c.base[0]),
        data=data,
        feature_names=list(c.values.columns),
    )
    plt.figure()
    shap.plots.waterfall(exp, max_display=12, show=False)
    plt.title(f"{row.iloc[0][bundle.catalogue.id_column]} (log-odds)")
    plt.savefig(path, dpi=100, bbox_inches="tight")
    plt.close("all")
    return path
