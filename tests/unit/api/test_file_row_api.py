"""A catalogue whose rows are named by their file row, through the HTTP layer: proposals sent
without the field are named by their number (JSON) or their row (CSV), and outcomes, which no
file row can name for long, are refused with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from scalepredict.api.app import asgi
from scalepredict.api.state import ServiceState
from scalepredict.data.generic import generate_for
from scalepredict.data.tables import RawTable
from scalepredict.data.validation import validate_table
from scalepredict.inference.predictor import Predictor
from scalepredict.model.config import TrainConfig
from scalepredict.model.fit import fit
from scalepredict.settings import get_settings
from scalepredict.store.keys import add_key
from tests.unit.data.test_exports import _cat

PROPOSAL = {"project": "A", "year": 2020, "lending": "IDA", "f1": 1, "f2": 4}


@pytest.fixture()
def by_row(tmp_path: Path, monkeypatch) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    monkeypatch.setenv("SCALEPREDICT_KEYS_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("SCALEPREDICT_AUDIT_URL", f"sqlite:///{tmp_path}/audit.db")
    monkeypatch.setenv("SCALEPREDICT_DATABASE_URL", f"sqlite:///{tmp_path}/store.db")
    cat = _cat(identifier="file_row")
    raw = RawTable(generate_for(cat, 200, seed=4), Path("export.csv"), first_row=2)
    config = TrainConfig(
        seed=1,
        families=("checklist",),
        evaluation={"repeats": 1, "folds": 3},
        split={"test": 0.2, "calibration": 0.2},
    )
    bundle = fit(validate_table(raw, True, cat).good(), config, cat=cat).bundle
    state = ServiceState(cat)
    state.predictor = Predictor(bundle, {"name": "rows", "version": "1", "source": "registry"})
    settings = get_settings()
    keys = {
        role: {"Authorization": f"Bearer {add_key(role, role, settings)}"}
        for role in ("scorer", "recorder")
    }
    with TestClient(asgi(state)) as client:
        yield client, keys


def test_proposals_without_the_field_are_named_by_their_number_or_row(by_row):
    client, keys = by_row
    r = client.post("/score", json={"proposals": [PROPOSAL, PROPOSAL]}, headers=keys["scorer"])
    assert r.status_code == 200, r.text
    assert [a["initiative_id"] for a in r.json()["results"]] == ["1", "2"]
    csv = pd.DataFrame([PROPOSAL] * 3).to_csv(index=False).encode()
    r = client.post(
        "/portfolio", content=csv, headers={**keys["scorer"], "content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    assert [a["initiative_id"] for a in r.json()["results"]] == ["2", "3", "4"]  # file rows


def test_outcomes_are_refused_with_the_reason(by_row):
    client, keys = by_row
    client.post("/score", json={"proposals": [PROPOSAL]}, headers=keys["scorer"])
    outcome = {"file_row": 1, "ok": "Yes", "observed_on": pd.Timestamp.now().strftime("%Y-%m-%d")}
    r = client.post("/outcomes", json={"outcomes": [outcome]}, headers=keys["recorder"])
    assert r.status_code == 422, r.text
    assert "an identifier field that stays with the project" in r.json()["problems"][0]["rule"]
