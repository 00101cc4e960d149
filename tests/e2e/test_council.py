"""The council report and decisions on a batch, in real headless Chromium against the planner
page's live server (shared with test_web.py): the printed PDF read back page by page, with and
without a what-if; the budget's choice against brute force; the progress of a big file; the
phone's table cue; the chance in view after trying a step. Every new state is a screenshot
under the test's tmp dir (and test-artifacts/planner/), and axe-core finds nothing."""

from __future__ import annotations

import io
import itertools
import re
import shutil
import unicodedata

import pandas as pd
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from pypdf import PdfReader

from scalepredict.catalogue import load_catalogue
from scalepredict.data.synthetic import generate
from scalepredict.settings import get_settings
from tests.e2e.planner_page import SHOTS, VIEWPORTS, Planner

pytestmark = [pytest.mark.browser, pytest.mark.service]


@pytest.fixture(scope="module")
def env(planner_env) -> dict:
    return planner_env


def shot(planner: Planner, tmp_path, state: str) -> None:
    planner.shot(state)
    name = f"{state}-{planner.viewport}.png"
    (tmp_path / "shots").mkdir(exist_ok=True)
    shutil.copy(SHOTS / name, tmp_path / "shots" / name)


def no_violations(planner: Planner) -> None:
    result = Axe().run(planner.page)
    assert result.violations_count == 0, result.generate_report()


def pdf_pages(planner: Planner, tmp_path, name: str) -> list[str]:
    """The page printed to A4 as the browser prints it, each page's text on one line (NFKC:
    the PDF's ligatures, "ﬀ", read as the letters)."""
    pdf = planner.page.pdf(format="A4", print_background=True)
    (tmp_path / f"{name}-{planner.viewport}.pdf").write_bytes(pdf)
    pages = PdfReader(io.BytesIO(pdf)).pages
    return [" ".join(unicodedata.normalize("NFKC", p.extract_text()).split()) for p in pages]


def words(text: str) -> str:
    return " ".join(text.split())


def chance_of(text: str) -> str:
    """The chance the report's header says it shows."""
    m = re.search(r"chance shown: (\d+%|<1%)", text)
    assert m, text[:400]
    return m.group(1)


def test_the_council_report_prints_with_and_without_a_what_if(planner, env, tmp_path):
    page = planner.page
    planner.sign_in(env["_scorer"])
    planner.assess_example(0)
    cat = load_catalogue(get_settings())
    plan = page.evaluate("scalepredict.state.assessment.plan")
    proposal = page.evaluate("scalepredict.state.scored")
    model = page.evaluate("scalepredict.state.model")
    assert plan["actions"], "the example needs a plan to print"

    pages = pdf_pages(planner, tmp_path, "council")
    assert 1 <= len(pages) <= 2, len(pages)
    text = " ".join(pages)
    first = pages[0]
    headline = page.locator("#probability").inner_text()
    assert "Council report" in first and "Chance to reach the next stage" in first
    assert headline in first and chance_of(first) == headline
    assert "(as assessed)" in first and "What-if applied" not in text
    assert f"{model['name']} v{model['version']}" in first
    assert "labelled projects" in first  # the model card's data-size statement
    for field in ("city", "stage"):
        assert words(str(proposal[field])).replace("_", " ").lower() in first.lower()
    for a in plan["actions"]:  # each step: the catalogue's action, its effort in its unit, months
        assert words(a["action"]) in text, a["action"]
    assert re.search(r"Effort: (low|medium|high) \(\d+ person-months?\)", text)
    assert re.search(r"about \d+ months?", text) and "1 months" not in text
    for f in cat.factors:  # every answer with its rubric meaning, not a bare number
        level = proposal[f.name]
        if level is not None and f.rubric:
            assert words(f.rubric[level])[:60] in text, f.name
    assert "As assessed" in text and "Plan step 1" in text  # the scenarios compared
    assert "points" in first  # the reasons, in percentage points
    page.emulate_media(media="print")
    shot(planner, tmp_path, "council-report")
    page.emulate_media(media="no-override")  # page.pdf prints as print again

    # a what-if applied: printed as such, header and headline agree, the assessed chance beside
    step = page.locator("#plan-steps li").first.get_by_role("button")
    step.click()
    expect(page.locator("#whatif")).to_be_visible()
    tried = page.locator("#probability").inner_text()
    pages = pdf_pages(planner, tmp_path, "council-what-if")
    assert 1 <= len(pages) <= 2, len(pages)
    first, text = pages[0], " ".join(pages)
    assert "What-if applied" in first and "(what-if applied)" in first
    assert chance_of(first) == tried and tried in first
    assessed = f"{round(page.evaluate('scalepredict.state.assessment.probability') * 100)}%"
    assert f"Assessed: {assessed}" in first
    assert "The plan below is for the assessed answers" in first
    changed = plan["actions"][0]["factor"]
    f = cat.factor(changed)
    assert f"{words(f.rubric[plan['actions'][0]['to']])[:40]}" in text  # the answer as tried
    assert "what-if; assessed:" in text
    page.emulate_media(media="print")
    shot(planner, tmp_path, "council-report-what-if")
    page.emulate_media(media="no-override")  # page.pdf prints as print again
    no_violations(planner)


def test_trying_a_step_brings_the_new_chance_into_view(planner, env, tmp_path):
    page = planner.page
    planner.sign_in(env["_scorer"])
    planner.assess_example(0)
    step = page.locator("#plan-steps li").last.get_by_role("button")
    step.scroll_into_view_if_needed()
    step.click()
    expect(page.locator("#whatif")).to_be_visible()
    page.wait_for_function(
        "() => { const r = document.getElementById('headline').getBoundingClientRect();"
        " return r.top >= -2 && r.top < window.innerHeight - 60; }"
    )
    expect(step).to_be_focused()  # the view moved, the focus did not
    shot(planner, tmp_path, "step-tried-in-view")


def best_set(p: list[float], c: list[float], budget: float) -> set[int]:
    """Brute force: every subset within the budget, the one of most expected successes."""
    subsets = (
        {i for i, m in enumerate(mask) if m} for mask in itertools.product((0, 1), repeat=len(p))
    )
    return max(
        (s for s in subsets if sum(c[i] for i in s) <= budget),
        key=lambda s: sum(p[i] for i in s),
    )


def test_choosing_within_a_budget_and_printing_the_portfolio(planner, env, tmp_path):
    page = planner.page
    planner.sign_in(env["_scorer"])
    rows = generate(10, seed=406).drop(columns="scaled_up")
    rows["budget_eur"] = [400_000, 900_000, 250_000, 1_200_000, 700_000, 300_000, 50_000,
                          2_000_000, 650_000, 800_000]  # fmt: skip
    upload = tmp_path / "budgeted.csv"
    rows.to_csv(upload, index=False, date_format="%Y-%m-%d")
    page.get_by_role("tab", name="Portfolio").click()
    page.get_by_label("CSV file of proposals").set_input_files(upload)
    page.get_by_label("Budget", exact=True).fill("2500000")
    expect(page.get_by_label("Each proposal's cost")).to_have_value("budget_eur")
    page.get_by_role("button", name="Score the portfolio").click()
    table = page.locator("#portfolio-table tbody tr")
    expect(table).to_have_count(10)
    shown = page.evaluate(
        "scalepredict.state.portfolio.map(r => [r.initiative_id, r.probability, r.decision])"
    )
    cost = dict(zip(rows["initiative_id"], rows["budget_eur"], strict=True))
    ids = [s[0] for s in shown]
    best = best_set([s[1] for s in shown], [cost[i] for i in ids], 2_500_000)
    assert {ids[i] for i in best} == {s[0] for s in shown if s[2] == "fund"}
    decisions = page.locator("#portfolio-table tbody td.decision").all_inner_texts()
    assert decisions.count("Fund") == len(best) and len(decisions) == 10
    summary = page.locator("#portfolio-budget")
    expect(summary).to_contain_text(f"fund {len(best)} of 10 proposals")
    expect(summary).to_contain_text("expected successes")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[planner.viewport][0]
    cue = page.locator("#table-cue")
    if planner.viewport == "phone":  # the wide table scrolls in its own region, and says so
        expect(cue).to_be_visible()
        wrap = page.locator("#portfolio-wrap")
        assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
        assert wrap.get_attribute("tabindex") == "0"
    else:
        expect(cue).to_be_hidden()
    shot(planner, tmp_path, "portfolio-budget")
    no_violations(planner)

    with page.expect_download() as download:
        page.get_by_role("button", name="Export as CSV").click()
    exported = pd.read_csv(download.value.path())
    assert set(exported.loc[exported["decision"] == "fund", "initiative_id"]) == {
        ids[i] for i in best
    }

    # the portfolio report: counts, charts, the ranked list, funded first
    page.evaluate("window.print = () => {}")  # the button's own print dialog is not wanted here
    page.get_by_role("button", name="Print the portfolio report").click()
    pages = pdf_pages(planner, tmp_path, "portfolio-report")
    text = " ".join(pages)
    assert "Portfolio report" in pages[0] and "Proposals by risk band" in text
    funded_first = page.evaluate("scalepredict.state.portfolio.map(r => r.decision)")
    assert funded_first == sorted(funded_first, key=lambda d: d != "fund")
    top = ids[max(best, key=lambda i: shown[i][1])]  # the funded proposal of highest chance
    assert top in pages[0]
    page.emulate_media(media="print")
    shot(planner, tmp_path, "portfolio-report")
    page.emulate_media(media="no-override")  # page.pdf prints as print again


def test_a_big_file_shows_its_progress(planner, env, tmp_path):
    page = planner.page
    planner.sign_in(env["_scorer"])
    upload = tmp_path / "big.csv"
    generate(260, seed=407).drop(columns="scaled_up").to_csv(
        upload, index=False, date_format="%Y-%m-%d"
    )
    page.get_by_role("tab", name="Portfolio").click()
    page.get_by_label("CSV file of proposals").set_input_files(upload)
    page.get_by_role("button", name="Score the portfolio").click()
    bar = page.locator("#portfolio-progress")
    expect(bar).to_be_visible()
    expect(page.locator("#portfolio-progress-text")).to_contain_text("Explaining", timeout=60_000)
    shot(planner, tmp_path, "portfolio-progress")
    expect(page.locator("#portfolio-table tbody tr")).to_have_count(260, timeout=120_000)
    expect(bar).to_be_hidden()
    weakest = page.locator("#portfolio-table tbody td:nth-child(4)").all_inner_texts()
    assert len(weakest) == 260 and all("points" in w for w in weakest)  # every part explained
    requests = [r.url for r in planner.api_requests() if "/portfolio" in r.url]
    assert len(requests) == 1 + 3  # the whole file, then three parts of at most 100


def test_every_example_prints_on_two_pages_with_its_whole_plan_tried(planner, env, tmp_path):
    """The longest report: each example with every step of its plan tried as a what-if (the
    changed answers, the plan, the scenarios). Loading the next example afterwards leaves no
    what-if pending (the planner fixture fails on any console error)."""
    page = planner.page
    planner.sign_in(env["_scorer"])
    options = page.get_by_label("Example").locator("option")
    expect(options).not_to_have_count(0)
    for i in range(options.count()):
        planner.assess_example(i)
        assert 1 <= len(pdf_pages(planner, tmp_path, f"example-{i}")) <= 2
        steps = page.locator("#plan-steps li")
        if steps.count() == 0:
            continue
        steps.last.get_by_role("button").click()
        expect(page.locator("#whatif")).to_be_visible()
        pages = pdf_pages(planner, tmp_path, f"example-{i}-tried")
        assert 1 <= len(pages) <= 2, (i, steps.count(), len(pages))
        assert "What-if applied" in pages[0]
