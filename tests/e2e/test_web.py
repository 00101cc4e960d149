"""The planner page, end to end: real headless Chromium (Debian's, driven by Playwright) against
a real `bentoml serve` process. Every state is saved as a screenshot under
test-artifacts/planner/; after every test, the browser console must hold no errors and every
API request the page made must carry the signed-in key."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from scalepredict.catalogue import load_catalogue
from scalepredict.data.synthetic import generate
from scalepredict.settings import Settings, get_settings
from tests.e2e.planner_page import VIEWPORTS
from tests.e2e.planner_page import open_page as _open

pytestmark = [pytest.mark.browser, pytest.mark.service]


@pytest.fixture(scope="module")
def env(planner_env) -> dict:
    return planner_env


@pytest.fixture(scope="module")
def server(planner_server):
    return planner_server


def test_wrong_key_is_refused_with_a_clear_message(browser, server, env):
    planner, context = _open(browser, server, "desktop")
    try:
        planner.sign_in("wrong-key")
        alert = planner.page.get_by_role("alert")
        expect(alert).to_have_text(re.compile("not accepted"))
        expect(planner.page.locator("#app")).to_be_hidden()
        planner.shot("wrong-key")
        planner.refusals.add(401)
        assert planner.unexpected_errors() == []
        assert planner.page.evaluate("sessionStorage.length") == 0
        planner.sign_in(env["_scorer"])
        expect(planner.page.locator("#app")).to_be_visible()
        expect(alert).to_be_hidden()
    finally:
        context.close()


def test_sign_in_score_read_the_plan_and_try_changes(planner, env):
    page = planner.page
    planner.shot("signed-out")
    planner.sign_in(env["_scorer"])
    expect(page.locator("#model-info")).to_contain_text("scalepredict v1")
    # the form is the catalogue: five dimension sections, 20 factors, each with its rubric
    expect(page.locator("fieldset.dimension")).to_have_count(5)
    expect(page.locator("select[data-factor]")).to_have_count(20)
    page.locator("details summary").first.click()
    expect(page.locator(".rubric").first).to_contain_text("Score 5")
    planner.shot("form")

    before = planner.assess_example(0)
    assert 0 < before < 1
    expect(page.locator("#risk-band")).to_contain_text("risk")
    expect(page.locator("#uncertainty")).to_contain_text("90%")
    expect(page.locator("#waterfall svg rect.up, #waterfall svg rect.down")).to_have_count(6)
    expect(page.locator("#drivers li")).to_have_count(5)
    inside = "[...document.querySelectorAll('#waterfall text')].every(t => t.getBBox().x >= -2)"
    assert page.evaluate(inside), "a waterfall label is cut off"
    steps = page.locator("#plan-steps li")
    assert steps.count() >= 1
    # one chance per step: the chance to expect (none on a step that counts with the next)
    per_step = [steps.nth(i).inner_text() for i in range(steps.count())]
    assert all(t.count("%") <= 1 and "(expect about" not in t for t in per_step)
    found = [re.search(r"expected chance after this step: ([\d.]+)%", t) for t in per_step]
    assert all(m or "no gain by itself" in t for m, t in zip(found, per_step, strict=True))
    after_step = [float(m.group(1)) / 100 for m in found if m]
    assert after_step == sorted(after_step) and after_step[-1] >= before  # each step helps
    # a what-if of the steps shows the model's own chance, at least the one to expect
    models = page.evaluate(
        "scalepredict.state.assessment.plan.actions.map((a) => a.model_probability)"
    )
    for m, model in zip(found, models, strict=True):
        assert m is None or model >= float(m.group(1)) / 100 - 0.0005
    themes = page.locator("#plan-steps .theme").all_inner_texts()
    assert len(themes) == steps.count()
    assert set(themes) <= {"Proof of value", "Data as a key asset", "Commitment at all levels"}
    assert re.search(r"Effort: (low|medium|high)", steps.first.inner_text())
    planner.shot("result")

    # what-if: trying the plan's first step gives the model's own chance for those answers
    steps.first.get_by_role("button").click()
    expect(page.locator("#whatif")).to_be_visible()
    expect(page.locator("#probability")).to_have_text(f"{round(models[0] * 100)}%")
    # and by hand: the factor of the first step, at its worst and at its best answer
    title = steps.first.locator("h3").inner_text()
    name = re.match(r"Raise (.+) from \d to \d", title).group(1)
    factor = page.get_by_label(name, exact=True)
    stepped = planner.probability()
    low = planner.after_change(factor, "1", stepped)
    high = planner.after_change(factor, "5", low)
    assert low < stepped <= high  # monotone in every factor
    sticky = page.locator("#sticky-score")  # the headline stays in sight below the form
    if planner.viewport == "phone":
        expect(sticky).to_contain_text(f"{round(high * 100)}%")
    else:
        expect(sticky).to_be_hidden()  # the result sits beside the form
    assert page.locator("select.changed").count() >= 1
    planner.shot("what-if")
    # trying step 1 after steps 1-2 shows step 1 alone, from the assessed answers
    if steps.count() >= 2:
        steps.nth(1).get_by_role("button").click()
        expect(page.locator("#probability")).to_have_text(f"{round(models[1] * 100)}%")
        steps.first.get_by_role("button").click()
        expect(page.locator("#probability")).to_have_text(f"{round(models[0] * 100)}%")
        expect(page.locator("select.changed")).to_have_count(1)
        expect(steps.first.get_by_role("button")).to_be_focused()  # the plan is not rebuilt
    page.get_by_role("button", name="Undo the changes").click()
    expect(page.locator("#probability")).to_have_text(f"{round(before * 100)}%")
    expect(page.locator("#whatif")).to_be_hidden()
    expect(page.locator("#headline")).to_have_attribute("aria-busy", "false")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[planner.viewport][0]


def test_portfolio_upload_sort_and_export(planner, env, tmp_path):
    page = planner.page
    planner.sign_in(env["_scorer"])
    rows = generate(20, seed=404).drop(columns="scaled_up")
    rows.loc[0, "city"] = 'Quoted, "odd" city'
    rows.loc[1, "initiative_id"] = "=1+2"  # must not become a formula in a spreadsheet
    upload = tmp_path / "portfolio.csv"
    # as a spreadsheet saves it: byte-order mark, CRLF, quotes, a blank history column
    rows.assign(scaled_up="").to_csv(
        upload, index=False, date_format="%Y-%m-%d", encoding="utf-8-sig", lineterminator="\r\n"
    )
    page.get_by_role("tab", name="Portfolio").click()
    page.get_by_label("CSV file of proposals").set_input_files(upload)
    page.get_by_role("button", name="Score the portfolio").click()
    body = page.locator("#portfolio-table tbody tr")
    expect(body).to_have_count(20)
    expect(page.locator("#portfolio-summary")).to_contain_text("20 proposals from portfolio.csv")

    def shown() -> list[float]:
        cells = page.locator("#portfolio-table td[data-probability]")
        return [float(v) for v in cells.evaluate_all("cs => cs.map(c => c.dataset.probability)")]

    page.get_by_role("button", name="Chance").click()
    assert shown() == sorted(shown())
    expect(page.locator("th", has=page.get_by_role("button", name="Chance"))).to_have_attribute(
        "aria-sort", "ascending"
    )
    page.get_by_role("button", name="Chance").click()
    descending = shown()
    assert descending == sorted(descending, reverse=True) and len(set(descending)) > 1
    dims = set(page.locator("#portfolio-table tbody td:nth-child(4)").all_inner_texts())
    # in percentage points, as the waterfall and the drivers (not the model's log-odds)
    assert dims and all(
        re.match(r"^[A-Z][\w &]+ \([+\u2212\u00b1]\d+\.\d points\)$", d) for d in dims
    )
    planner.shot("portfolio")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export as CSV").click()
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(exported) == 20
    assert [float(r["probability"]) for r in exported] == descending  # the order on screen
    assert {r["initiative_id"] for r in exported} == set(rows["initiative_id"]) - {"=1+2"} | {
        "'=1+2"
    }

    planner.refusals.add(422)
    bad = rows.copy()
    bad.loc[3, "city_resources"] = 7
    bad.to_csv(upload, index=False, date_format="%Y-%m-%d")
    page.get_by_label("CSV file of proposals").set_input_files(upload)
    page.get_by_role("button", name="Score the portfolio").click()
    errors = page.locator("#portfolio-errors")
    expect(errors).to_contain_text(f"Row 5 ({bad.loc[3, 'initiative_id']}), city_resources")
    expect(errors).to_be_focused()
    expect(page.locator("#portfolio-result")).to_be_hidden()
    planner.shot("portfolio-error")


def test_form_problems_point_at_the_field(planner, env):
    page = planner.page
    planner.sign_in(env["_scorer"])
    planner.assess_example(1)
    planner.refusals.add(422)
    page.get_by_label("City population").fill("12")
    page.get_by_role("button", name="Assess").click()
    summary = page.locator("#form-errors")
    expect(summary).to_contain_text("City population")
    expect(page.get_by_label("City population")).to_have_attribute("aria-invalid", "true")
    planner.shot("form-error")


def test_accessible_to_keyboard_and_screen_readers(planner, env):
    page = planner.page
    axe = Axe()
    assert axe.run(page).violations_count == 0, axe.run(page).generate_report()
    planner.sign_in(env["_scorer"])
    planner.assess_example(2)
    result = axe.run(page)
    assert result.violations_count == 0, result.generate_report()
    tab = page.get_by_role("tab", name="Assess an initiative")
    tab.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Portfolio")).to_be_focused()
    expect(page.locator("#panel-portfolio")).to_be_visible()
    result = axe.run(page)
    assert result.violations_count == 0, result.generate_report()


def test_the_key_lives_in_this_tab_only(planner, env, browser, server):
    page = planner.page
    planner.sign_in(env["_scorer"])
    expect(page.locator("#app")).to_be_visible()
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    page.reload()  # same tab: still signed in
    expect(page.locator("#app")).to_be_visible()
    tab = page.context.new_page()  # another tab of the same browser: not signed in
    tab.goto(f"{planner.url}/")
    expect(tab.get_by_label("API key")).to_be_visible()
    expect(tab.locator("#app")).to_be_hidden()
    tab.close()
    planner.assess_example(0)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Signed out.")
    assert page.evaluate("sessionStorage.length") == 0
    planner.sign_in(env["_scorer"])  # the next person sees nothing of the last one's work
    expect(page.locator("#result-body")).to_be_hidden()
    assert page.get_by_label("Initiative ID").input_value() == ""


def test_a_key_revoked_mid_session_signs_the_page_out(planner, env):
    from scalepredict.store.keys import add_key, revoke_key

    database = env["SCALEPREDICT_DATABASE_URL"]
    key = add_key(f"temp-{planner.viewport}", "scorer", Settings(database_url=database))
    env["_temp"] = key  # for the teardown's authentication check
    planner.sign_in(key)
    before = planner.assess_example(0)
    revoke_key(f"temp-{planner.viewport}", Settings(database_url=database))
    time.sleep(1.2)  # the server trusts a key lookup for key_cache_seconds (1 s by default)
    planner.refusals.add(401)
    page = planner.page
    page.locator("select[data-factor]").first.select_option("5" if before < 0.5 else "1")
    expect(page.get_by_role("alert")).to_have_text(re.compile("no longer accepted"))
    expect(page.locator("#app")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0
    planner.shot("key-revoked")


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_points_add_up_scenarios_survive_a_reload_and_the_report_prints(planner, env, tmp_path):
    page = planner.page
    planner.sign_in(env["_scorer"])
    planner.assess_example(0)
    # the waterfall in percentage points adds up on screen: typical + shares = this chance
    values = page.locator("#waterfall svg text").evaluate_all("ts => ts.map(t => t.textContent)")
    typical, end = float(values[1].rstrip("%")), float(values[-1].rstrip("%"))
    shares = [
        float(m.group(1).replace("\u2212", "-").replace("\u00b1", ""))
        for v in values
        if (m := re.search(r"([+\u2212\u00b1][\d.]+) pts$", v))
    ]
    assert len(shares) == 6
    assert abs(typical + sum(shares) - end) < 0.051
    exact = planner.probability() * 100
    assert abs(end - exact) <= 0.051
    expect(page.locator("#context-drivers li").first).to_be_visible()
    expect(page.locator("#drivers li").first).to_contain_text("points")
    planner.shot("points")

    # a what-if saved as a named scenario, beside the assessment and each plan step
    factor = page.locator("select[data-factor]").first
    before = planner.probability()
    planner.after_change(factor, "5" if factor.input_value() != "5" else "1", before)
    page.get_by_label("Name of this what-if").fill("Best value case")
    page.get_by_role("button", name="Save as a scenario").click()
    rows = page.locator("#scenario-table tbody tr")
    steps = page.locator("#plan-steps li").count()
    expect(rows).to_have_count(1 + steps + 1)
    expect(rows.last).to_contain_text("Best value case")
    chances = page.locator("#scenario-table tbody td:nth-child(2)").all_inner_texts()
    assert all(re.match(r"^\d+\.\d%$", c) for c in chances)
    planner.shot("scenarios")

    page.reload()  # the assessment and its scenarios survive, in this tab only
    expect(page.locator("#result-body")).to_be_visible()
    expect(page.locator("#scenario-table tbody tr")).to_have_count(1 + steps + 1)
    expect(page.locator("#scenario-table")).to_contain_text("Best value case")
    planner.shot("after-reload")

    # the report for the council: at most two A4 pages, the headline, plan and model on page 1
    page.get_by_role("button", name="Undo the changes").click()
    expect(page.get_by_role("button", name="Download PDF")).to_be_visible()
    pdf = page.pdf(format="A4", print_background=True)
    (tmp_path / "report.pdf").write_bytes(pdf)
    assert 1 <= _pdf_pages(pdf) <= 2
    page.emulate_media(media="print")
    first_page = 297 / 25.4 * 96 - 2 * 14 / 25.4 * 96  # A4 height less the margins, in px
    for sel in ("#headline", "#plan-steps", "#report-meta"):
        box = page.locator(sel).bounding_box()
        assert box is not None and box["y"] < first_page, sel
    expect(page.locator("#report-head")).to_contain_text("scalepredict v1")
    expect(page.locator("#assess-form")).to_be_hidden()
    planner.shot("print")
    page.emulate_media(media="screen")


def test_the_api_reference_is_served_from_here(browser, server):
    planner, context = _open(browser, server, "desktop")
    try:
        page = planner.page
        page.get_by_role("link", name="API documentation").click()
        expect(page).to_have_url(f"{server.url}/docs")
        score = page.locator(
            "section.operation", has=page.get_by_role("heading", name="POST /score")
        )
        expect(score).to_be_visible()
        expect(score.get_by_role("row", name=re.compile(r"^proposals list"))).to_be_visible()
        expect(score.get_by_role("row", name=re.compile(r"^proposals\[\]\.stage"))).to_contain_text(
            "One of:"
        )
        expect(score).to_contain_text("422")
        expect(page.get_by_role("status")).to_contain_text("operations")
        planner.shot("api-reference")
        axe = Axe().run(page)
        assert axe.violations_count == 0, axe.generate_report()
        origin = urlparse(server.url).netloc
        assert planner.requests and all(urlparse(r.url).netloc == origin for r in planner.requests)
        assert planner.unexpected_errors() == []
    finally:
        context.close()


def test_a_semicolon_portfolio_and_its_overview(planner, env, tmp_path):
    page = planner.page
    planner.sign_in(env["_scorer"])
    upload = tmp_path / "semicolons.csv"
    frame = generate(30, seed=405).drop(columns="scaled_up")
    # as pandas writes a score column with blanks once read back: 2.0, not 2
    scores = [c for c in frame.columns if str(frame[c].dtype) == "Int64"]
    frame[scores] = frame[scores].astype("float64")
    frame.to_csv(upload, sep=";", index=False, date_format="%Y-%m-%d")
    page.get_by_role("tab", name="Portfolio").click()
    page.get_by_label("CSV file of proposals").set_input_files(upload)
    page.get_by_role("button", name="Score the portfolio").click()
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(30)
    chances = page.locator("#portfolio-table td[data-probability]")
    for p, text in zip(
        chances.evaluate_all("cs => cs.map(c => Number(c.dataset.probability))"),
        chances.all_inner_texts(),
        strict=True,
    ):
        assert text == "<1%" if p < 0.005 else text == f"{round(p * 100)}%"
    bands = page.locator("#portfolio-table tbody .band").all_inner_texts()
    for chart in ("by-band", "by-weakest"):
        drawn = page.locator(f"#{chart} svg text.count")
        listed = page.locator(f"#{chart}-table td")
        keys = drawn.evaluate_all("ts => ts.map(t => t.dataset.key + '=' + t.textContent)")
        assert keys == listed.evaluate_all("ts => ts.map(t => t.dataset.key + '=' + t.textContent)")
        assert sum(int(k.split("=")[1]) for k in keys) == 30
    names = page.locator("#by-band-table tbody th").all_inner_texts()
    counts = [int(n) for n in page.locator("#by-band-table td").all_inner_texts()]
    assert {n: c for n, c in zip(names, counts, strict=True) if c} == {
        b: bands.count(b) for b in set(bands)
    }
    result = Axe().run(page)
    assert result.violations_count == 0, result.generate_report()
    planner.shot("portfolio-overview")

    # a row opens in the assessment view, with its explanation and plan; the export keeps it
    rows = page.locator("#portfolio-table tbody tr")
    opened = []
    for k, how in ((2, "click"), (3, "Enter")):
        row = rows.nth(k)
        ident = row.get_attribute("data-id")
        chance = float(row.locator("td[data-probability]").get_attribute("data-probability"))
        if how == "click":
            row.locator("td").nth(1).click()  # anywhere on the row
        else:
            row.get_by_role("button").press("Enter")
        page.wait_for_function(
            "id => scalepredict.state.assessment?.initiative_id === id",
            arg=ident,
        )
        expect(page.locator("#panel-assess")).to_be_visible()
        expect(page.get_by_label("Initiative ID")).to_have_value(ident)
        # every answer the file gives is in the form (2.0 is the answer 2, not a blank)
        given = frame.set_index("initiative_id").loc[ident]
        for name in load_catalogue(get_settings()).factor_names:
            value = given[name]
            shown = page.locator(f"[name='{name}']").input_value()
            assert shown == ("" if pd.isna(value) else str(int(value))), name
        assert abs(planner.probability() - chance) < 1e-6
        expect(page.locator("#plan-summary")).not_to_be_empty()
        opened.append((ident, page.locator("#plan-summary").inner_text()))
        planner.shot(f"portfolio-opened-{how.lower()}")
        page.get_by_role("tab", name="Portfolio").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export as CSV").click()
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    summaries = {r["initiative_id"]: r["plan_summary"] for r in exported if r["plan_summary"]}
    assert summaries == dict(opened)

    # filters by the catalogue's category fields and its grouping field
    for name in ("Stage", "Domain", "City"):
        expect(page.locator("#portfolio-filters").get_by_label(name, exact=True)).to_be_visible()
    stage = frame["stage"].mode()[0]
    page.locator("#filter-stage").select_option(stage)
    expected = int((frame["stage"] == stage).sum())
    expect(rows).to_have_count(expected)
    expect(page.locator("#portfolio-filter-status")).to_have_text(
        f"Showing {expected} of 30 proposals."
    )
    for chart in ("by-band", "by-weakest"):
        counts = page.locator(f"#{chart} svg text.count").all_text_contents()
        assert sum(int(c) for c in counts) == expected
    planner.shot("portfolio-filtered")
    result = Axe().run(page)
    assert result.violations_count == 0, result.generate_report()


def test_a_top_factor_at_one_gets_into_the_plan_and_blanks_are_capped(planner, env, tmp_path):
    """The operational-handover case: it scores 1 of 5 and is among the factors moving the
    chance most; its plan raises it. The same proposal with five questions left blank says
    that the policy capped its chance."""
    from tests.unit.inference.test_explain_plan import HANDOVER_AT_ONE

    blanks = ("value_case", "data_quality", "leadership_commitment", "security", "interoperability")
    upload = tmp_path / "handover.csv"
    pd.DataFrame(
        [
            HANDOVER_AT_ONE,
            {**HANDOVER_AT_ONE, "initiative_id": "INI-BLANKS", **dict.fromkeys(blanks)},
        ]
    ).astype(dict.fromkeys(blanks, "Int64")).to_csv(upload, index=False)  # 2, not 2.0
    page = planner.page
    planner.sign_in(env["_scorer"])
    page.get_by_role("tab", name="Portfolio").click()
    page.get_by_label("CSV file of proposals").set_input_files(upload)
    page.get_by_role("button", name="Score the portfolio").click()
    rows = page.locator("#portfolio-table tbody tr")
    expect(rows).to_have_count(2)
    for ident in ("INI-HANDOVER", "INI-BLANKS"):
        page.get_by_role("tab", name="Portfolio").click()
        page.locator(f"#portfolio-table tbody tr[data-id='{ident}'] td").nth(1).click()
        page.wait_for_function(
            "id => scalepredict.state.assessment?.initiative_id === id",
            arg=ident,
        )
        if ident == "INI-HANDOVER":
            expect(page.locator("#drivers")).to_contain_text("Operational handover")
            expect(page.locator("#plan-steps")).to_contain_text(
                "Raise Operational handover from 1 to 2"
            )
            expect(page.locator("#policy-note")).to_be_hidden()
            planner.shot("plan-raises-handover")
        else:
            note = page.locator("#policy-note")
            expect(note).to_be_visible()
            expect(note).to_contain_text("never scores better than the middle of the scale")
            expect(note).to_contain_text("lowered the chance")
            planner.shot("blank-answers-capped")


def test_a_saved_file_opens_first_and_the_page_speaks_in_units(
    planner, env, tmp_path, browser, server
):
    """Before any assessment a saved file can be opened; the date hint says how the box reads;
    efforts carry their unit, counts agree with their nouns; /docs shows code, not backticks."""
    page = planner.page
    planner.sign_in(env["_scorer"])
    opener = page.get_by_label("Open a saved file (JSON)")
    expect(opener).to_be_visible()
    expect(page.locator("#result-body")).to_be_hidden()
    shown = page.evaluate(
        "new Intl.DateTimeFormat(navigator.language, {year: 'numeric', month: '2-digit', "
        "day: '2-digit'}).format(new Date(2001, 10, 22))"
    )
    order = shown.replace("2001", "yyyy").replace("11", "mm").replace("22", "dd")
    expect(page.locator("#hint-assessed_on")).to_contain_text(f"type it as {order}")
    proposal = load_catalogue(get_settings()).examples[0].proposal
    saved = tmp_path / "saved.json"
    saved.write_text(
        json.dumps({"format": "scalepredict-assessment", "version": 1, "proposal": proposal})
    )
    opener.set_input_files(saved)
    expect(page.locator("#result-body")).to_be_visible()
    expect(page.locator("#import-status")).to_contain_text("Opened saved.json")
    planner.shot("opened-before-assessing")

    steps = page.locator("#plan-steps").inner_text()
    assert re.search(r"Effort: (low|medium|high) \(\d+ person-months?\)", steps), steps
    assert not re.search(
        r"\b1 months|\b1 person-months|[+\u2212]1 points",
        steps + page.locator("#result-body").inner_text(),
    )
    months = re.findall(r"about (\d+) (months?)", steps)
    assert months and all((n == "1") == (word == "month") for n, word in months), months
    summary = page.locator("#plan-summary").inner_text()
    assert "effort unit" not in summary, summary  # the catalogue's unit: person-months
    assert re.search(r"\d+ person-months?\b", summary) or "no plan needed" in summary, summary

    # the API reference (open, no key: in a context of its own) renders Markdown's code spans
    docs, context = _open(browser, server, planner.viewport)
    try:
        docs.page.goto(f"{server.url}/docs")
        score = docs.page.locator(
            "section.operation", has=docs.page.get_by_role("heading", name="POST /score")
        )
        expect(score).to_be_visible()
        assert "`" not in docs.page.locator("main").inner_text()
        assert docs.page.locator("section.operation td code, section.operation p code").count()
        docs.shot("docs-code")
    finally:
        context.close()
