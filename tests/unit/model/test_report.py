"""model_report.md carries the rows `train` prints: the served model, the baselines and, when
there is one, the current champion on the same held-out rows."""

from __future__ import annotations

from scalepredict.model.reports import model_report
from scalepredict.tracking.registry import data_fingerprint


def _metrics_rows(report: str) -> dict[str, list[str]]:
    lines = report.split("## Held-out metrics")[1].strip().splitlines()
    return {
        cells[0]: cells[1:]
        for cells in ([c.strip() for c in ln.strip("|").split("|")] for ln in lines)
        if len(cells) > 1 and not cells[0].startswith("---") and cells[0]
    }


def test_the_report_keeps_the_champion_row_the_cli_prints(small_fit, cat):
    frame, fit = small_fit
    info = data_fingerprint(None, frame, cat)
    champion = {"roc_auc": 0.8123, "pr_auc": 0.7, "log_loss": 0.4567, "brier": 0.15, "ece": 0.02}
    report = model_report(fit, info, ["worse than the champion: ..."], "2", champion)
    rows = _metrics_rows(report)
    assert rows["current champion"] == ["0.8123", "0.7000", "0.4567", "0.1500", "0.0200"]
    assert "current champion" not in _metrics_rows(model_report(fit, info, [], "1"))
