"""The monitor's report as one self-contained HTML page (plots as inline SVG: readable offline,
nothing fetched) and as JSON, the same figures in both."""

from __future__ import annotations

import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

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


def _table(rows: list[list[Any]], head: list[str]) -> str:
    h = "".join(f"<th>{html.escape(str(c))}</th>" for c in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><tr>{h}</tr>{body}</table>"


def _fmt(block: dict | None, key: str) -> str:
    if not block or key not in block or block[key] is None:
        return "-"
    v = block[key]
    if isinstance(v, dict):
        return f"{v['estimate']:.3f} [{v['low']:.3f}, {v['high']:.3f}]"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def render_html(report: dict[str, Any]) -> str:
    """The report as one HTML page."""
    parts = [
        f"<h1>Model monitor: {html.escape(report['verdict'].upper())}</h1>",
        f"<p>{report['proposals']} scored proposals, windows by {report['window']}, "
        f"generated {html.escape(report['generated_at'])}.</p>",
        "<h2>Reasons</h2><ul>"
        + "".join(
            f"<li><b>{html.escape(r['level'])}</b>: {html.escape(r['reason'])}</li>"
            for r in report["reasons"]
        )
        + "</ul>",
        "<h2>Windows</h2>",
        _table(
            [
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
            ],
            [
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
            ],
        ),
    ]
    for title, svg in (
        ("Estimated and realized AUC", performance_plot(report)),
        ("Calibration", calibration_plot(report)),
    ):
        if svg:
            parts.append(f"<h2>{title}</h2>{svg}")
    tested = [w for w in report["windows"] if w["drift"]["tests"]]
    if tested:
        last = tested[-1]
        svg = drift_plot(last)
        if svg:
            parts.append(f"<h2>Input drift, {last['period']} v{last['model_version']}</h2>{svg}")
    for version, fields in report["fairness"].items():
        for fld, res in fields.items():
            rows = [
                [
                    g,
                    *(
                        v.get(k, "-")
                        for k in (
                            "proposals",
                            "labelled",
                            "roc_auc",
                            "calibration",
                            "mean_plan_effort",
                        )
                    ),
                ]
                for g, v in res["groups"].items()
            ]
            parts.append(f"<h2>Fairness by {html.escape(fld)}, v{html.escape(version)}</h2>")
            parts.append(
                _table(
                    rows,
                    [
                        "group",
                        "proposals",
                        "with outcome",
                        "AUC",
                        "calibration (pred - obs)",
                        "mean plan effort",
                    ],
                )
            )
            tests = [
                [t["metric"], t["gap"], t["p_adjusted"], t["flagged"]] for t in res.get("tests", [])
            ]
            if tests:
                parts.append(_table(tests, ["gap in", "largest - smallest", "p (Holm)", "flagged"]))
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 6px}"
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>ScalePredict monitor</title><style>{style}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
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
