"""The model supply chain against a real MLflow store: registered models are loaded from their
signed data files only, so a version registered by someone without the signing key (unsigned,
signed with another key, or a genuine bundle edited) is refused by the CLI and by a service,
which keeps serving its model and says why, and no code stored with a model ever runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow.pyfunc import PythonModel
from typer.testing import CliRunner

from scalepredict.api.guard import readyz
from scalepredict.api.state import ReloadRefused, ServiceState
from scalepredict.catalogue import load_catalogue
from scalepredict.cli import app
from scalepredict.data.synthetic import generate
from scalepredict.data.tables import write_table
from scalepredict.model.bundle import META_FILE, BundleError
from scalepredict.model.signing import MANIFEST, sign
from scalepredict.settings import get_settings
from scalepredict.tracking import registry
from tests.conftest import SMALL_CONFIG

pytestmark = pytest.mark.slow
NAME = "scalepredict"


class Hostile(PythonModel):
    """What an attacker registers: code that runs wherever MLflow loads the model."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def load_context(self, context) -> None:
        Path(self.marker).write_text("code from the registry ran")

    def predict(self, context, model_input, params=None):
        return [0.99] * len(model_input)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> dict:
    """A private MLflow store with one champion trained and signed with the tests' key."""
    root = tmp_path_factory.mktemp("signed")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root}/mlflow.db")
    mp.setenv("SCALEPREDICT_MODEL_CACHE", str(root / "cache"))
    mp.setenv("SCALEPREDICT_DATABASE_URL", f"sqlite:///{root}/audit.db")
    mp.setenv("SCALEPREDICT_CHAMPION_POLL_SECONDS", "0")
    data = write_table(generate(1200, seed=5, truth=True), root / "train.csv")
    config = root / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL_CONFIG))
    res = CliRunner().invoke(app, ["train", "--data", str(data), "--config", str(config)])
    assert res.exit_code == 0, res.output
    client = registry.connect(get_settings())
    genuine = client.get_model_version_by_alias(NAME, registry.CHAMPION)
    (root / "g").mkdir()
    bundle = registry.download_bundle(
        f"models:/{NAME}/{genuine.version}", str(root / "g"), get_settings()
    )
    yield {"root": root, "data": data, "genuine": str(genuine.version), "bundle": bundle}
    mp.undo()


def _register(root: Path, bundle: Path, tag: str) -> tuple[str, Path]:
    """A version logged the way an attacker can: a pyfunc whose code writes a marker file when
    loaded, carrying `bundle` as its data. Returns (version, marker path)."""
    marker = root / f"marker-{tag}"
    with mlflow.start_run(
        experiment_id=registry.experiment_id(
            registry.connect(get_settings()), get_settings().experiment
        )
    ):
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=Hostile(str(marker)),
            artifacts={"bundle": str(bundle)},
            registered_model_name=NAME,
            pip_requirements=["mlflow"],  # no inference: it would load the model to find them
        )
    return str(info.registered_model_version), marker


def _copy(src: Path, root: Path, tag: str) -> Path:
    return Path(shutil.copytree(src, root / tag / "bundle"))  # logged as artifacts/bundle


def test_the_trained_model_is_signed_and_loads_end_to_end(store, tmp_path):
    client = registry.connect(get_settings())
    version = client.get_model_version(NAME, store["genuine"])
    manifest = json.loads((store["bundle"] / MANIFEST).read_text())
    assert version.tags["bundle_sha256"] == manifest["digest"]  # for people, not trusted
    assert client.get_run(version.run_id).data.tags["bundle_sha256"] == manifest["digest"]
    assert registry.load_bundle(f"models:/{NAME}@champion", get_settings()).catalogue.fingerprint
    rows = generate(20, seed=9).drop(columns=["scaled_up"])
    out = tmp_path / "scores.json"
    res = CliRunner().invoke(
        app, ["score", str(write_table(rows, tmp_path / "in.csv")), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert len(json.loads(out.read_text())) == 20


def test_code_stored_with_a_model_never_runs_when_we_load_it(store):
    # genuine signed files inside a hostile pyfunc: our path reads the data, never the code
    version, marker = _register(store["root"], _copy(store["bundle"], store["root"], "ok"), "ok")
    bundle = registry.load_bundle(f"models:/{NAME}/{version}", get_settings())
    assert bundle.catalogue.fingerprint == load_catalogue(get_settings()).fingerprint
    assert not marker.exists()
    mlflow.pyfunc.load_model(f"models:/{NAME}/{version}")  # what loading through MLflow does
    assert marker.exists()


@pytest.mark.parametrize("how", ["unsigned", "other key", "edited"])
def test_a_version_registered_without_the_key_is_refused_everywhere(store, how, tmp_path):
    root = store["root"]
    bundle = _copy(store["bundle"], root, how.replace(" ", "-"))
    if how == "unsigned":
        (bundle / MANIFEST).unlink()
    elif how == "other key":
        sign(bundle, b"an attacker's own key")
    else:  # every score pushed up, the genuine manifest kept
        meta = json.loads((bundle / META_FILE).read_text())
        meta["calibrator"]["method"] = "none"
        (bundle / META_FILE).write_text(json.dumps(meta))
    version, marker = _register(root, bundle, how.replace(" ", "-"))
    client = registry.connect(get_settings())
    client.set_registered_model_alias(NAME, registry.CHAMPION, store["genuine"])
    state = ServiceState(load_catalogue(get_settings()))
    state.start()
    assert state.predictor is not None and state.predictor.info["version"] == store["genuine"]
    try:
        with pytest.raises(BundleError, match="refused"):
            registry.load_bundle(f"models:/{NAME}/{version}", get_settings())
        # the CLI: a readable refusal, non-zero exit
        rows = write_table(generate(5, seed=1).drop(columns=["scaled_up"]), tmp_path / "in.csv")
        uri = f"models:/{NAME}/{version}"
        res = CliRunner().invoke(
            app, ["score", str(rows), "--out", str(tmp_path / "o.json"), "--model-uri", uri]
        )
        assert res.exit_code != 0 and "refused" in res.output, res.output
        # the service: the alias moves, the reload is refused, the current model serves
        client.set_registered_model_alias(NAME, registry.CHAMPION, version)
        with pytest.raises(ReloadRefused):
            state.reload()
        assert state.predictor.info["version"] == store["genuine"]
        body = json.loads(bytes(readyz(state).body))
        assert body["ready"] is True and body["model_version"] == store["genuine"]
        assert "refused" in body["refused"]
        assert not marker.exists()
    finally:
        state.stop()
        client.set_registered_model_alias(NAME, registry.CHAMPION, store["genuine"])


def test_training_creates_a_private_key_file_when_no_key_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv("SCALEPREDICT_SIGNING_KEY")
    monkeypatch.setenv("SCALEPREDICT_SIGNING_KEY_FILE", str(tmp_path / "var" / "signing.key"))
    with pytest.raises(BundleError, match="no signing key"):
        registry.signing_key(get_settings())  # a reader never creates one
    key = registry.signing_key(get_settings(), create=True)
    assert len(key) == 64 and registry.signing_key(get_settings()) == key
    assert (tmp_path / "var" / "signing.key").stat().st_mode & 0o777 == 0o600
