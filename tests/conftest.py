"""Shared fixtures: small seeded data sets and an in-process CLI runner."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from scalepredict.catalogue import Catalogue, load_catalogue
from scalepredict.synthetic import generate
from scalepredict.tableio import write_table

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="session")
def small_frame() -> pd.DataFrame:
    return generate(400, seed=11, truth=True)


@pytest.fixture()
def small_csv(tmp_path: Path, small_frame: pd.DataFrame) -> Path:
    return write_table(small_frame, tmp_path / "small.csv")


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()
