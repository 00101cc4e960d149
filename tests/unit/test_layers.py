"""The package's layers import one way: catalogue -> data -> model -> inference ->
tracking / monitoring / store -> api / cli. The client is apart: it talks HTTP, imports nothing
of the package and nothing imports it. Checked on the source (every import, lazy ones
included) and on what a process actually loads."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "src" / "scalepredict"
# Rank of each layer: a module may import its own layer and lower ranks, never a sibling of
# the same rank (tracking, monitoring and store, api and cli stay independent of each other).
RANK = {
    "settings": 0,
    "catalogue": 1,
    "data": 2,
    "model": 3,
    "inference": 4,
    "tracking": 5,
    "store": 5,
    "monitoring": 5,
    "api": 6,
    "cli": 6,
    "client": -1,  # a leaf apart: below everything, so it may import nothing of ours
}


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "scalepredict":  # from scalepredict import tracking
                names += [f"scalepredict.{a.name}" for a in node.names]
            else:
                names.append(node.module)
    return names


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "scalepredict" and len(parts) > 1 else None


def test_every_module_belongs_to_a_known_layer():
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        layer = rel.parts[0].removesuffix(".py")
        assert layer in RANK or rel == Path("__init__.py"), f"{rel}: not in any layer"


def test_imports_point_down_only():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        own = rel.parts[0].removesuffix(".py")
        if own not in RANK:
            continue
        for module in _imports(path):
            target = _layer(module)
            if target is None or target == own:
                continue
            if target not in RANK or RANK[target] >= RANK[own]:
                wrong.append(f"{rel} imports {module}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


# Below the edges (api, cli) the settings arrive as arguments, read by the command or the
# service that runs: a lower module that read the environment itself would hide what it
# depends on, and its callers (a test, a Dask worker, another catalogue) could not choose.
BELOW_THE_EDGES = ("catalogue", "data", "model", "inference", "tracking", "store", "monitoring")
# Modules below the edges allowed to read the settings themselves, each with the reason: none.
MAY_READ_SETTINGS: dict[str, str] = {}


def _settings_reads(path: Path) -> list[str]:
    """Each place a module reads the environment's settings: `get_settings` imported, called or
    referenced (any spelling: `settings.get_settings()` too), or a `Settings()` made."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and any(a.name == "get_settings" for a in node.names):
            out.append(f"line {node.lineno}: imports get_settings")
        elif isinstance(node, ast.Name | ast.Attribute):
            name = node.id if isinstance(node, ast.Name) else node.attr
            if name == "get_settings":
                out.append(f"line {node.lineno}: uses get_settings")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            made = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if made == "Settings":
                out.append(f"line {node.lineno}: makes Settings()")
    return out


def test_settings_are_passed_in_from_the_edges_not_read_below_them():
    reads = [
        f"{path.relative_to(PACKAGE)} {where}"
        for layer in BELOW_THE_EDGES
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        if str(path.relative_to(PACKAGE)) not in MAY_READ_SETTINGS
        for where in _settings_reads(path)
    ]
    assert not reads, "settings read below api/ and cli/ (pass them in):\n" + "\n".join(reads)


def test_no_source_file_over_350_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 350
    }
    assert not long, long
    assert len((ROOT / "serving" / "service.py").read_text().splitlines()) < 40


def _loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


@pytest.mark.parametrize(
    ("statement", "forbidden"),
    [
        ("import serving.service", "scalepredict.data.synthetic"),
        # BentoML's supervisor imports the service too: the app is made in the worker only
        ("import serving.service", "pandas"),
        ("import serving.service", "xgboost"),
        ("import serving.service", "mlflow"),
        ("import scalepredict.inference.predictor", "mlflow"),
        ("import scalepredict.inference.plots", "mlflow"),
        ("import scalepredict.model.fit", "mlflow"),
        ("import scalepredict.monitoring.monitor", "mlflow"),
        ("import scalepredict.api.app", "scalepredict.cli"),
        # workers load the partition functions: no registry client in them
        ("import scalepredict.inference.cluster", "mlflow"),
        # Dask is loaded by the commands that run on it, not by every command
        ("import scalepredict.cli", "distributed"),
        ("import scalepredict.client", "scalepredict.settings"),
        ("import scalepredict.client", "xgboost"),
        ("import scalepredict.client", "mlflow"),
    ],
)
def test_a_process_never_loads_what_its_layer_must_not_know(statement, forbidden):
    assert forbidden not in _loaded_by(statement)


def test_nothing_imports_the_client():
    users = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "client.py" and "scalepredict.client" in _imports(path)
    ]
    assert not users, users
