"""The planner page in a fresh browser context, with what it logged and requested: shared by
the page's browser tests (test_web.py, test_council.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlparse

from playwright.sync_api import Browser, Page, Request, expect

from tests.conftest import ROOT
from tests.e2e.live_server import Server

SHOTS = ROOT / "test-artifacts" / "planner"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
PUBLIC = re.compile(r"^/($|static/)")  # the page and its own files; everything else is API


@dataclass
class Planner:
    """A page in a fresh browser context, with what it logged and requested."""

    page: Page
    viewport: str
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    refusals: set[int] = field(default_factory=set)  # statuses a test provokes on purpose

    def unexpected_errors(self) -> list[str]:
        """Console errors, less Chromium's own line for each response a test meant to provoke
        (it logs every 4xx fetch as "Failed to load resource")."""
        logged = re.compile(r"^Failed to load resource: .* status of (\d+)")
        return [
            e
            for e in self.errors
            if not ((m := logged.match(e)) and int(m.group(1)) in self.refusals)
        ]

    def shot(self, state: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=SHOTS / f"{state}-{self.viewport}.png", full_page=True)

    def sign_in(self, key: str) -> None:
        self.page.get_by_label("API key").fill(key)
        self.page.get_by_label("API key").press("Enter")  # the keyboard is enough

    def assess_example(self, index: int = 0) -> float:
        self.page.get_by_label("Example").select_option(index=index)
        self.page.get_by_role("button", name="Load example").click()
        self.page.get_by_role("button", name="Assess").click()
        expect(self.page.locator("#result-body")).to_be_visible()
        return self.probability()

    def probability(self) -> float:
        """The probability on screen, unrounded (the page keeps what it shows in its state, which
        it lets tests read as `scalepredict.state`)."""
        shown = float(self.page.locator("#probability").inner_text().rstrip("%")) / 100
        exact = self.page.evaluate("scalepredict.state.shown.assessment.probability")
        assert round(exact * 100) == round(shown * 100)
        return exact

    def after_change(self, control, value: str, previous: float) -> float:
        """Set a control, wait until the page shows another probability, return it."""
        control.select_option(value)
        self.page.wait_for_function(
            "p => { const s = scalepredict.state.shown;"
            " return Boolean(s) && s.assessment.probability !== p; }",
            arg=previous,
        )
        return self.probability()

    def api_requests(self) -> list[Request]:
        return [r for r in self.requests if not PUBLIC.match(urlparse(r.url).path)]


def open_page(browser: Browser, server: Server, viewport: str) -> tuple[Planner, object]:
    w, h = VIEWPORTS[viewport]
    context = browser.new_context(viewport={"width": w, "height": h}, accept_downloads=True)
    page = context.new_page()
    planner = Planner(page, viewport, server.url)
    page.on("console", lambda m: m.type == "error" and planner.errors.append(m.text))
    page.on("pageerror", lambda e: planner.errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: planner.requests.append(r))
    page.goto(f"{server.url}/")
    return planner, context
