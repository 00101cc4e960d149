"""Fixtures of the browser tests: one headless Debian Chromium per module, and the planner
page's live server shared by the page's test modules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.live_server import Server, trained_service_env
from tests.e2e.planner_page import VIEWPORTS, Planner, open_page

CHROMIUM = os.environ.get("SCALEPREDICT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: run `make browser` (Debian package chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


# The planner page's live server, trained once for every module of browser tests of the page.
@pytest.fixture(scope="package")
def planner_env(tmp_path_factory) -> dict:
    return trained_service_env(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="package")
def planner_server(planner_env) -> Iterator[Server]:
    with Server.started(planner_env, "serve.log") as s:
        yield s


@pytest.fixture(params=list(VIEWPORTS))
def planner(request, browser, planner_server, planner_env) -> Iterator[Planner]:
    """The page at each viewport; afterwards no console error, and every API request carried
    a known key and went to the service only."""
    server, env = planner_server, planner_env
    planner, context = open_page(browser, server, request.param)
    yield planner
    try:
        assert planner.unexpected_errors() == []
        calls = planner.api_requests()
        for r in calls:
            assert urlparse(r.url).netloc == urlparse(server.url).netloc, r.url  # no third party
            auth = r.headers.get("authorization", "")
            known = (env["_scorer"], env.get("_temp"), "wrong-key")
            assert auth.startswith("Bearer ") and auth[7:] in known, r.url
    finally:
        context.close()
