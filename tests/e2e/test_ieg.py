"""The real-data example end to end: the World Bank IEG ratings read as published, a small
model trained and registered under the catalogue's own name, a real `bentoml serve` answering
/score for an IEG project, a reload to a model of another catalogue refused, and the planner
page building the IEG form in real Chromium."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from scalepredict.data.synthetic import generate
from tests.conftest import ROOT
from tests.e2e.live_server import BIN, Server, trained_service_env
from tests.e2e.planner_page import open_page as _open

pytestmark = pytest.mark.service

EXAMPLE = ROOT / "examples" / "world-bank-ieg"
CATALOGUE = EXAMPLE / "catalogue.yaml"
DATA = EXAMPLE / "data" / "ieg_world_bank_project_performance_ratings_01-17-2026.csv"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "scalepredict"), *args],
        env={**os.environ, **{k: v for k, v in env.items() if not k.startswith("_")}},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    return trained_service_env(tmp_path_factory.mktemp("ieg"), CATALOGUE, DATA)


@pytest.fixture(scope="module")
def server(env) -> Iterator[Server]:
    with Server.started(env, "serve-ieg.log") as s:
        yield s


def _h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_raw_export_validates_as_published(env):
    out = _cli(env, "validate", "--catalogue", str(CATALOGUE), str(DATA))
    assert out.returncode == 0, out.stderr
    assert "12177 rows" in out.stdout and "151 row(s) with a not-rated outcome" in out.stdout


def test_the_model_is_registered_under_the_catalogues_name(server, env):
    model = httpx.get(f"{server.url}/model", headers=_h(env["_scorer"])).json()
    assert model["name"] == "ieg-projects" and model["version"] == "1"
    assert model["data"]["catalogue"] == "world-bank-ieg"
    assert model["data"]["not_rated"] == 151


def test_score_an_ieg_project_with_its_ratings_as_words(server, env):
    proposal = {
        "project_id": "P000001",
        "project_name": "A made-up water project",
        "region": "South Asia",
        "country": "Republic of India",
        "lending_group": "IBRD",
        "fcs_status": "non-FCS",
        "practice_group": "Sustainable Development",
        "global_practice": "Water",
        "agreement_type": "IBRD",
        "instrument": "IPF",
        "approval_fy": 2012,
        "closing_fy": 2019,
        "evaluation_type": "ICRR",
        "quality_at_entry": "Moderately Unsatisfactory",
        "quality_of_supervision": 5,
        "bank_performance": None,
        "me_quality": "Modest",
    }
    r = httpx.post(
        f"{server.url}/score", json={"proposals": [proposal]}, headers=_h(env["_scorer"])
    )
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["initiative_id"] == "P000001" and 0 < result["probability"] < 1
    assert result["uncertainty"].startswith(("90% confident it is rated", "uncertain"))
    dims = result["explanation"]["dimensions"]
    assert set(dims) == {"bank_performance", "monitoring_evaluation", "context"}
    margin = result["explanation"]["margin"] - result["explanation"]["base_value"]
    assert abs(sum(dims.values()) - margin) < 1e-3
    steps = result["plan"]["actions"]
    assert all(a["to"] == a["from"] + 1 for a in steps)  # every IEG factor: higher is better
    assert result["plan"]["answer_first"][0]["factor"] == "bank_performance"
    # the evaluator's overall verdict is asked about, explained, but never a step
    assert all(a["factor"] != "bank_performance" for a in steps)
    ex = result["explanation"]
    assert all(d["field"] != "bank_performance" for d in ex["actionable_drivers"])
    assert all(not d["actionable"] for d in ex["top_drivers"] if d["field"] == "bank_performance")
    bad = {**proposal, "quality_at_entry": "Rather good"}
    r = httpx.post(f"{server.url}/score", json={"proposals": [bad]}, headers=_h(env["_scorer"]))
    assert r.status_code == 422 and r.json()["problems"][0]["path"].endswith("quality_at_entry")


def test_a_reload_to_another_catalogues_model_is_refused(server, env, tmp_path):
    data = tmp_path / "smart-city.csv"
    generate(2000, seed=3, truth=True).to_csv(data, index=False, date_format="%Y-%m-%d")
    other = {**env, "SCALEPREDICT_MODEL_NAME": "ieg-projects"}
    other.pop("SCALEPREDICT_CATALOGUE")
    out = _cli(other, "train", "--data", str(data), "--config", env["_config"])
    assert out.returncode == 0, out.stderr
    r = httpx.post(f"{server.url}/admin/reload", headers=_h(env["_admin"]))
    assert r.status_code == 409 and "smart-city" in r.json()["problems"][0]["rule"]
    model = httpx.get(f"{server.url}/model", headers=_h(env["_scorer"])).json()
    assert model["version"] == "1"  # the IEG model keeps serving


@pytest.mark.browser
def test_the_planner_page_builds_the_ieg_form(browser, server, env):
    planner, context = _open(browser, server, "desktop")
    try:
        page = planner.page
        planner.sign_in(env["_scorer"])
        expect(page.locator("#model-info")).to_contain_text("ieg-projects")
        expect(page.locator("#tagline")).to_contain_text("World Bank IEG")
        expect(page.locator("fieldset.dimension")).to_have_count(2)
        expect(page.locator("select[data-factor]")).to_have_count(4)
        entry = page.locator("#f-quality_at_entry option")
        expect(entry).to_have_count(7)  # unknown + six levels
        expect(entry.nth(4)).to_have_text("4 \u2013 Moderately Satisfactory")
        expect(page.locator("#f-me_quality option")).to_have_count(5)  # unknown + four
        probability = planner.assess_example(1)  # its rating is written as a word
        assert 0 < probability < 1
        assert page.locator("#f-bank_performance").input_value() == "4"
        expect(page.locator("#drivers li").first).to_be_visible()
        planner.shot("ieg-result")
        assert planner.unexpected_errors() == []
    finally:
        context.close()
