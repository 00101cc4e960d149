"""The whole HTTP layer in process: a guarded app over the small fit's bundle."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scalepredict.api.app import asgi
from scalepredict.api.state import ServiceState
from scalepredict.inference.predictor import Predictor
from scalepredict.settings import get_settings
from scalepredict.store.keys import add_key


@pytest.fixture()
def service(small_fit, tmp_path: Path, monkeypatch) -> Iterator[tuple[TestClient, dict, Path]]:
    """A guarded app over the small fit's bundle, with its own keys, audit and (empty) store."""
    monkeypatch.setenv("SCALEPREDICT_KEYS_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("SCALEPREDICT_AUDIT_URL", f"sqlite:///{tmp_path}/audit.db")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("SCALEPREDICT_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("SCALEPREDICT_MAX_BODY_BYTES", "200000")
    keys = {
        "scorer": {"Authorization": f"Bearer {add_key('funder', 'scorer', get_settings())}"},
        "admin": {"Authorization": f"Bearer {add_key('ops', 'admin', get_settings())}"},
        "recorder": {"Authorization": f"Bearer {add_key('desk', 'recorder', get_settings())}"},
    }
    state = ServiceState(small_fit[1].bundle.catalogue)
    state.predictor = Predictor(
        small_fit[1].bundle, {"name": "scalepredict", "version": "7", "source": "registry"}
    )
    with TestClient(asgi(state)) as client:
        yield client, keys, tmp_path
