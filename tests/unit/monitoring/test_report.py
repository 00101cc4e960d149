"""The report: one offline HTML page and the same figures as JSON; the summary and the
scheduler's exit codes; retraining's matured rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from scalepredict.cli.monitor import matured_rows
from scalepredict.monitoring.monitor import Reference, monitor
from scalepredict.monitoring.report import EXIT_CODES, render_html, summary, write_report
from scalepredict.monitoring.report_types import LEVELS, MonitorReport, Reason, worst
from tests.unit.monitoring.conftest import scorings, window


@pytest.fixture(scope="module")
def report(small_fit, cat) -> MonitorReport:
    bundle = small_fit[1].bundle
    frames = [window("covariate", 0.75, 7000), window(None, 0, 7001)]
    ref = {"1": Reference(bundle.meta["profile"], bundle.conformal, small_fit[1].test_metrics)}
    return monitor(scorings(bundle, frames), cat, ref)


def test_html_is_self_contained_with_plots(report, tmp_path):
    page = render_html(report)
    assert page.count("<svg") >= 3  # performance, calibration, drift
    # nothing loaded from elsewhere (XML namespace names are names, not fetches)
    for fetch in ("<script", "<link", "src=", 'href="http', "url(http", "@import"):
        assert fetch not in page, fetch
    j, h = write_report(report, tmp_path)
    assert json.loads(j.read_text())["verdict"] == report.verdict
    assert MonitorReport.model_validate_json(j.read_text()).windows == report.windows
    assert h.read_text().startswith("<!doctype html>")


def test_every_value_on_the_page_is_escaped(report):
    """A period, a model version, a reason or a group name is text, never markup."""
    hostile = "<script>alert(1)</script>"
    bad = report.model_copy(deep=True)
    for w in bad.windows:
        w.period, w.model_version = hostile, hostile
    bad.reasons.append(Reason(level="watch", reason=hostile))
    fields = next(iter(bad.fairness.values()))
    groups = next(iter(fields.values())).groups
    groups[hostile] = next(iter(groups.values()))
    page = render_html(bad)
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2 * len(bad.windows) + 2


def test_summary_and_exit_codes(report):
    s = summary(report).model_dump(mode="json")
    assert s["verdict"] == report.verdict and s["verdict"] in EXIT_CODES
    assert len(s["windows"]) == 2
    assert s["windows"][0]["drift"] == "drift" and s["windows"][0]["drifted_fields"]
    assert EXIT_CODES == {"ok": 0, "watch": 3, "act": 4}


def test_empty_scorings_are_ok(cat):
    empty = pd.DataFrame(columns=["initiative_id", "scored_at", "model_version", "probability"])
    assert monitor(empty, cat, {}).verdict == "ok"


def test_matured_rows_for_retraining(cat):
    frame = window(None, 0, 9, rows=4).drop(columns=["scaled_up", "true_probability"])
    frame["status"] = ["recorded", "expired", "pending", "recorded"]
    frame["outcome"] = [1, None, None, 1]
    frame["funded"] = [True, True, None, False]
    rows, counts = matured_rows(frame, cat, funded_only=False)
    codes = [cat.outcome_map.code(v) for v in rows["scaled_up"]]
    assert codes == [1, 0, 1] and counts == {"pending": 1, "not_funded": 0}
    rows, counts = matured_rows(frame, cat, funded_only=True)
    assert len(rows) == 2 and counts == {"pending": 1, "not_funded": 1}


def test_the_verdict_is_the_worst_reason(report):
    """No verdict is stored beside its reasons: adding a reason can only raise it."""
    assert report.verdict == max((r.level for r in report.reasons), key=LEVELS.index)
    raised = report.model_copy(deep=True)
    raised.reasons.append(Reason(level="act", reason="a test reason"))
    assert raised.verdict == "act" and raised.model_dump()["verdict"] == "act"
    for w in report.windows:
        assert w.verdict == worst([r.level for r in w.reasons])
