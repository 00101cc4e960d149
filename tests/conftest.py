"""Shared fixtures: small seeded data sets and an in-process CLI runner."""

from __future__ import annotations

import os

# Before XGBoost starts OpenMP: two test workers on two cores, each XGBoost spinning while it
# waits for its threads, ran a small fit 15-40x slower (1.6 s alone, 61 s side by side; 4.5 s
# with passive waiting).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Bundles trained by the tests are signed with this key, not a key file in the checkout.
os.environ.setdefault("SCALEPREDICT_SIGNING_KEY", "tests-signing-key")

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scalepredict.catalogue import Catalogue, load_catalogue
from scalepredict.data.synthetic import generate
from scalepredict.data.tables import FileLimits, write_table
from scalepredict.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]


def file_limits() -> FileLimits:
    """The settings' bounds on a file, read now (as a command does): a test may have set them."""
    return FileLimits.of(get_settings())


# Small, fast training settings shared by the tests that need a model.
SMALL_CONFIG = {
    "seed": 3,
    "split": {"test": 0.2, "calibration": 0.2},
    "search": {"trials": 2, "cv_folds": 3, "max_rounds": 400, "early_stopping_rounds": 30},
    # the tree family, which most tests of explanations, plans and compiled trees are about;
    # tests/unit/model/test_families.py takes every family through the same paths
    "families": ["xgboost"],
}


@pytest.fixture(scope="session")
def small_fit():
    """A model fitted (no MLflow) on 1,500 generated rows: (frame, FitResult)."""
    from scalepredict.model.config import TrainConfig
    from scalepredict.model.fit import fit

    frame = generate(1500, seed=8, truth=True)
    return frame, fit(frame, TrainConfig(**SMALL_CONFIG))


@pytest.fixture(scope="session")
def cat() -> Catalogue:
    return load_catalogue(get_settings())


@pytest.fixture(scope="session")
def small_frame() -> pd.DataFrame:
    return generate(400, seed=11, truth=True)


@pytest.fixture()
def small_csv(tmp_path: Path, small_frame: pd.DataFrame) -> Path:
    return write_table(small_frame, tmp_path / "small.csv")


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session (see tests/postgres.py)."""
    from tests.postgres import binaries, running

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed: run `make postgres` (Debian package postgresql)")
    with running() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path, monkeypatch) -> str:
    """A fresh, empty database of each kind, set as the database; keys_file points at a file
    of the test's own (never the developer's key file)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/scalepredict.db"
    else:
        url = request.getfixturevalue("postgres").new_database()
    monkeypatch.setenv("SCALEPREDICT_DATABASE_URL", url)
    monkeypatch.setenv("SCALEPREDICT_KEYS_FILE", str(tmp_path / "api_keys.json"))
    return url
