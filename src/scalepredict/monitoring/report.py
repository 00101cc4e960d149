"""The monitor's report as one self-contained HTML page (plots as inline SVG: readable offline,
nothing fetched) and as JSON, the same figures in both."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
from jinja2 import Environment, FileSystemLoader, StrictUndefined

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from scalepredict.monitoring.report_types import (
    LEVELS,
    Band,
    MonitorReport,
    MonitorSummary,
    PlacementTest,
    Realized,
    Window,
    WindowLine,
)

EXIT_CODES = {"ok": 0, "watch": 3, "act": 4}  # 1 and 2: the CLI's own failures


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def performance_plot(report: MonitorReport) -> str | None:
    """Estimated AUC with its interval beside the realized AUC, per window."""
    rows = [(w, w.estimated.roc_auc) for w in report.windows if w.estimated and w.estimated.roc_auc]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(7, 3))
    x = range(len(rows))
    est = [e for _, e in rows]
    ax.errorbar(
        x,
        [e.estimate for e in est],
        yerr=[[e.estimate - e.low for e in est], [e.high - e.estimate for e in est]],
        fmt="o",
        label="estimated (90% interval)",
    )
    real = [
        (i, w.realized.roc_auc)
        for i, (w, _) in enumerate(rows)
        if w.realized and w.realized.roc_auc is not None
    ]
    if real:
        ax.plot([i for i, _ in real], [v for _, v in real], "s", color="C3", label="realized")
    ax.set_xticks(list(x), [f"{w.period} v{w.model_version}" for w, _ in rows], rotation=45)
    ax.set_ylabel("ROC AUC")
    ax.legend(loc="lower left", fontsize=8)
    return _svg(fig)


def calibration_plot(report: MonitorReport) -> str | None:
    """Observed rate against mean prediction, per window with outcomes."""
    rows = [(w, w.realized) for w in report.windows if w.realized]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], ":", color="grey")
    for w, real in rows:
        c = real.calibration_curve
        label = f"{w.period} v{w.model_version}"
        ax.plot([b.predicted for b in c], [b.observed for b in c], "o-", label=label)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.legend(fontsize=7)
    return _svg(fig)


def drift_plot(window: Window) -> str | None:
    """The effect size of every tested field of one window; flagged ones in red."""
    tests = [t for t in window.drift.tests if isinstance(t, PlacementTest)][:25]
    if not tests:
        return None
    fig, ax = plt.subplots(figsize=(6, 0.22 * len(tests) + 1))
    ax.barh(
        [t.field for t in tests],
        [t.effect for t in tests],
        color=["C3" if t.flagged else "C0" for t in tests],
    )
    ax.axvline(0, color="grey")
    ax.set_xlabel("mean placement - 1/2 (negative: lower than in training)")
    ax.invert_yaxis()
    return _svg(fig)


def _fmt(v: Band | float | None) -> str:
    if v is None:
        return "-"
    if isinstance(v, Band):
        return f"{v.estimate:.3f} [{v.low:.3f}, {v.high:.3f}]"
    return f"{v:.3f}"


def _real(w: Window, key: str) -> float | None:
    real: Realized | None = w.realized
    return None if real is None else getattr(real, key)


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


def render_html(report: MonitorReport) -> str:
    """The report as one HTML page (a Jinja2 template; every value escaped)."""
    windows = [
        [
            w.period,
            w.model_version,
            w.proposals,
            w.labelled,
            w.drift.status,
            ", ".join(w.drift.flagged[:5]) or "-",
            _fmt(w.estimated.roc_auc if w.estimated else None),
            _fmt(_real(w, "roc_auc")),
            _fmt(_real(w, "ece")),
            _fmt(_real(w, "coverage")),
            w.verdict,
        ]
        for w in report.windows
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
    tested = [w for w in report.windows if w.drift.tests]
    if tested and (svg := drift_plot(tested[-1])):
        drift = {"period": tested[-1].period, "model_version": tested[-1].model_version}
        drift["svg"] = svg
    fairness = [
        {
            "version": version,
            "field": fld,
            "groups": [
                [g, *("-" if (x := getattr(v, k)) is None else x for k in GROUP_FIGURES)]
                for g, v in res.groups.items()
            ],
            "tests": [[t.metric, t.gap, t.p_adjusted, t.flagged] for t in res.tests],
        }
        for version, fields in report.fairness.items()
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


def write_report(report: MonitorReport, out: Path) -> tuple[Path, Path]:
    """monitor.json and monitor.html in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    j, h = out / "monitor.json", out / "monitor.html"
    j.write_text(report.model_dump_json(indent=1))
    h.write_text(render_html(report))
    return j, h


def summary(report: MonitorReport) -> MonitorSummary:
    """The short form (the API's answer): verdict, reasons, one line per window."""
    return MonitorSummary(
        reasons=report.reasons,
        proposals=report.proposals,
        window=report.window,
        windows=[
            WindowLine(
                period=w.period,
                model_version=w.model_version,
                proposals=w.proposals,
                labelled=w.labelled,
                drift=w.drift.status,
                drifted_fields=w.drift.flagged,
                estimated_roc_auc=w.estimated.roc_auc if w.estimated else None,
                realized_roc_auc=_real(w, "roc_auc"),
                verdict=w.verdict,
            )
            for w in report.windows
        ],
    )


def headline(report: MonitorReport) -> tuple[str | None, dict[str, float], dict[str, str]]:
    """What the monitor's MLflow run carries: the version it watched (the newest one scored),
    that version's figures as metrics (realized AUC, log loss and ECE over all its outcomes,
    the latest window's estimated AUC, the verdict as 0 / 1 / 2) and the verdict, reasons and
    drifted fields as tags."""
    watched = list(report.versions)[-1] if report.versions else None
    metrics: dict[str, float] = {
        "proposals": float(report.proposals),
        "windows": float(len(report.windows)),
        "verdict_level": float(LEVELS.index(report.verdict)),
        "drifted_windows": float(sum(w.drift.status == "drift" for w in report.windows)),
    }
    drifted: list[str] = []
    if watched is not None:
        real = report.versions[watched].realized
        for key in ("roc_auc", "log_loss", "ece", "brier"):
            value = getattr(real, key) if real else None
            if value is not None:
                metrics[f"realized_{key}"] = float(value)
        if real is not None:
            metrics["labelled"] = float(real.n)
        mine = [w for w in report.windows if w.model_version == watched]
        est = [w.estimated.roc_auc for w in mine if w.estimated and w.estimated.roc_auc]
        if est:
            metrics["estimated_roc_auc"] = est[-1].estimate
        test_auc = report.versions[watched].test_metrics.get("roc_auc")
        if test_auc is not None:
            metrics["test_roc_auc"] = float(test_auc)
        drifted = sorted({f for w in mine for f in w.drift.flagged})
    tags = {
        "verdict": report.verdict,
        "catalogue": report.catalogue,
        "reasons": "\n".join(f"{r.level}: {r.reason}" for r in report.reasons)[:5000],
        "drifted_fields": ", ".join(drifted)[:5000] or "none",
        "model_versions": ", ".join(report.versions) or "none",
    }
    return watched, metrics, tags
