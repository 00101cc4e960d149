"""A real `bentoml serve` process on a free port, with its own registry, database (keys, audit,
outcomes) and cache under a temporary directory: shared by the API tests and the planner page's
tests."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import yaml

from scalepredict.cli.serve import stop_tree
from scalepredict.data.synthetic import generate
from scalepredict.settings import Settings, get_settings
from scalepredict.store.keys import add_key
from tests.conftest import ROOT, SMALL_CONFIG

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def trained_service_env(
    root: Path, catalogue: Path | None = None, data: Path | None = None
) -> dict[str, str]:
    """Train and register a small champion under `root` (on `data` in `catalogue`, default: the
    built-in one on generated data); add a scorer and an admin key. Keys starting with `_` are
    for the tests (the keys themselves, paths), not the server."""
    env = {
        "MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow.db",
        "SCALEPREDICT_KEYS_FILE": str(root / "keys.json"),
        "SCALEPREDICT_DATABASE_URL": f"sqlite:///{root}/scalepredict.db",
        "SCALEPREDICT_MODEL_CACHE": str(root / "cache"),
        "SCALEPREDICT_MAX_BODY_BYTES": str(3_000_000),
        "BENTOML_HOME": str(root / "bentoml"),
    }
    if catalogue is not None:
        env["SCALEPREDICT_CATALOGUE"] = str(catalogue)
    if data is None:
        data = root / "train.csv"
        generate(2000, seed=21, truth=True).to_csv(data, index=False, date_format="%Y-%m-%d")
    config = root / "small.yaml"
    config.write_text(yaml.safe_dump(SMALL_CONFIG))
    subprocess.run(
        [str(BIN / "scalepredict"), "train", "--data", str(data), "--config", str(config)],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    database = env["SCALEPREDICT_DATABASE_URL"]
    env["_scorer"] = add_key("funder", "scorer", Settings(database_url=database))
    env["_admin"] = add_key("ops", "admin", Settings(database_url=database))
    env["_recorder"] = add_key("desk", "recorder", Settings(database_url=database))
    env["_root"], env["_data"], env["_config"] = str(root), str(data), str(config)
    return env


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen(
            [
                str(BIN / "bentoml"),
                "serve",
                "serving.service:ScalePredict",
                "--port",
                str(self.port),
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

    @classmethod
    @contextlib.contextmanager
    def started(cls, env: dict[str, str], log_name: str) -> Iterator[Server]:
        """A ready server for the test env (test-only `_` keys left out); stopped on exit."""
        server = cls(
            {k: v for k, v in env.items() if not k.startswith("_")}, Path(env["_root"]) / log_name
        )
        try:
            server.wait_ready()
            yield server
        finally:
            server.stop()

    def wait_ready(self, timeout: float = 120) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log.read_text()[-3000:]}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=2)
                if r.status_code == 200:
                    return r.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(self.log.read_text()[-3000:])

    def stop(self) -> None:
        """The server and every process it started (BentoML's workers have groups of their own)."""
        stop_tree(self.proc.pid)
        self.proc.wait(5)


def proposals_json(n: int, seed: int = 9) -> list[dict]:
    rows = generate(n, seed).drop(columns="scaled_up")
    rows["assessed_on"] = rows["assessed_on"].dt.strftime("%Y-%m-%d")
    return json.loads(rows.to_json(orient="records"))


def template_with_blanks(out_dir: Path, n: int, seed: int = 5) -> Path:
    """The catalogue's template (`write_template`) filled with `n` generated proposals, about a
    fifth of the factor cells left blank: the file an analyst reads with `pd.read_csv` (a
    score column with a blank becomes floats, 3.0)."""
    import numpy as np
    import pandas as pd

    from scalepredict.catalogue import load_catalogue
    from scalepredict.catalogue.template import write_template

    cat = load_catalogue(get_settings())
    path = write_template(out_dir, cat, labelled=False)[0]
    rows = generate(n, seed).drop(columns="scaled_up")
    blank = np.random.default_rng(seed).random((n, len(cat.factor_names))) < 0.2
    rows[cat.factor_names] = rows[cat.factor_names].astype("Float64").mask(blank)
    columns = pd.read_csv(path).columns
    rows[columns].to_csv(path, index=False, date_format="%Y-%m-%d")
    return path
