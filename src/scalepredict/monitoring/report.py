"""The monitor's report as one self-contained HTML page (plots as inline SVG: readable offline,
nothing fetched) and as JSON, the same figures in both."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import matplotlib
from jinja2 import Environment, FileSystemLoader, StrictUndefined

matplotlib.use("Agg")
import matplotlib.pyplot as plt

EXIT_CODES = {"ok": 0, "watch": 3, "act": 4}  # 1 and 2: the CLI's own failures


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def performance_plot(report: dict[str, Any]) -> str | None:
    """Estimated AUC with its interval beside the realized AUC, per window."""
    rows = [w for w in report["windows"] if "estimated" in w and "roc_auc" in w["estimated"]]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 3))
    x = range(len(rows))
    est = [w["estimated"]["roc_auc"] for w in rows]
    ax.errorbar(
        x,
        [e["estimate"] for e in est],
        yerr=[[e["estimate"] - e["low"] for e in est], [e["high"] - e["estimate"] for e in est]],
        fmt="o",
        label="estimated (90% interval)",
    )
    real = [(i, w["realized"]["roc_auc"]) for i, w in enumerate(rows) if w.get("realized")]
    if real:
        ax.plot([i for i, _ in real], [v for _, v in real], "s", color="C3", label="realized")
    ax.set_xticks(list(x), [f"{w['period']} v{w['model_version']}" for w in rows], rotation=45)
    ax.set_ylabel("ROC AUC")
    ax.legend(loc="lower left", fontsize=8)
    return _svg(fig)


def calibration_plot(report: dict[str, Any]) -> str | None:
    """Observed rate against mean prediction, per window with outcomes."""
    rows = [w for w in report["windows"] if w.get("realized")]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], ":", color="grey")
    for w in rows:
        c = w["realized"]["calibration_curve"]
        label = f"{w['period']} v{w['model_version']}"
        ax.plot([b["predicted"] for b in c], [b["observed"] for b in c], "o-", label=label)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.legend(fontsize=7)
    return _svg(fig)


def drift_plot(window: dict[str, Any]) -> str | None:
    """The effect size of every tested field of one window; flagged ones in red."""
    tests = [t for t in window["drift"]["tests"] if t["test"] == "placement"][:25]
    if not tests:
        return None
    fig, ax = plt.subplots(figsize=(6, 0.22 * len(tests) + 1))
    ax.barh(
        [t["field"] for t in tests],
        [t["effect"] for t in tests],
        color=["C3" if t["flagged"] else "C0" for t in tests],
    )
    ax.axvline(0, color="grey")
    ax.set_xlabel("mean placement - 1/2 (negative: lower than in training)")
    ax.invert_yaxis()
    return _svg(fig)


def _fmt(block: dict | None, key: str) -> str:
    if not block or key not in block or block[key] is None:
        return "-"
    v = block[key]
    if isinstance(v, dict):
        return f"{v['estimate']:.3f} [{v['low']:.3f}, {v['high']:.3f}]"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


WINDOW_HEAD = [
    "window",
    "version",
    "proposals",
    "with outcome",
    "drift",
    "drifted fields",
    "estimated AUC",
    "realized AUC",
    "ECE",
    "90% coverage",
    "verdict",
]
GROUP_HEAD = [
    "group",
    "proposals",
    "with outcome",
    "AUC",
    "calibration (pred - obs)",
    "mean plan effort",
]
GROUP_FIGURES = ("proposals", "labelled", "roc_auc", "calibration", "mean_plan_effort")
TEST_HEAD = ["gap in", "largest - smallest", "p (Holm)", "flagged"]
_pages = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
)


def render_html(report: dict[str, Any]) -> str:
    """The report as one HTML page (a Jinja2 template; every value escaped)."""
    windows = [
        [
            w["period"],
            w["model_version"],
            w["proposals"],
            w["labelled"],
            w["drift"]["status"],
            ", ".join(w["drift"]["flagged"][:5]) or "-",
            _fmt(w.get("estimated"), "roc_auc"),
            _fmt(w.get("realized"), "roc_auc"),
            _fmt(w.get("realized"), "ece"),
            _fmt(w.get("realized"), "coverage"),
            w["verdict"],
        ]
        for w in report["windows"]
    ]
    plots = [
        (title, svg)
        for title, svg in (
            ("Estimated and realized AUC", performance_plot(report)),
            ("Calibration", calibration_plot(report)),
        )
        if svg
    ]
    drift = None
    tested = [w for w in report["windows"] if w["drift"]["tests"]]
    if tested and (svg := drift_plot(tested[-1])):
        drift = {"period": tested[-1]["period"], "model_version": tested[-1]["model_version"]}
        drift["svg"] = svg
    fairness = [
        {
            "version": version,
            "field": fld,
            "groups": [
                [g, *(v.get(k, "-") for k in GROUP_FIGURES)] for g, v in res["groups"].items()
            ],
            "tests": [
                [t["metric"], t["gap"], t["p_adjusted"], t["flagged"]] for t in res.get("tests", [])
            ],
        }
        for version, fields in report["fairness"].items()
        for fld, res in fields.items()
    ]
    return _pages.get_template("monitor.html").render(
        report=report,
        windows=windows,
        window_head=WINDOW_HEAD,
        plots=plots,
        drift=drift,
        fairness=fairness,
        group_head=GROUP_HEAD,
        test_head=TEST_HEAD,
    )


def write_report(report: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """monitor.json and monitor.html in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    j, h = out / "monitor.json", out / "monitor.html"
    j.write_text(json.dumps(report, indent=1, default=str))
    h.write_text(render_html(report))
    return j, h


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """The short form (the API's answer): verdict, reasons, one line per window."""
    return {
        "verdict": report["verdict"],
        "reasons": report["reasons"],
        "proposals": report["proposals"],
        "window": report["window"],
        "windows": [
            {
                "period": w["period"],
                "model_version": w["model_version"],
                "proposals": w["proposals"],
                "labelled": w["labelled"],
                "drift": w["drift"]["status"],
                "drifted_fields": w["drift"]["flagged"],
                "estimated_roc_auc": (w.get("estimated") or {}).get("roc_auc"),
                "realized_roc_auc": (w.get("realized") or {}).get("roc_auc"),
                "verdict": w["verdict"],
            }
            for w in report["windows"]
        ],
    }
