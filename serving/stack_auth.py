"""The tracking server's credentials on `make stack`: MLflow's own basic-auth app
(`mlflow server --app-name basic-auth`), its users kept in a database of their own.

Three identities, each with a random password in a file of mode 600 under the stack's
`secrets/`: `admin` (creates the others and grants them; only `stack.py` reads its password),
`trainer` (the operator's commands: trains, registers versions, moves aliases; MLflow makes it
the manager of what it creates) and `replica` (the server's default permission, READ: it can
read every experiment and registered model and change none). A request without credentials
gets 401 everywhere but /health. (With NO_PERMISSIONS by default, the registry answers 403
instead of "does not exist" for a model not yet created, which reads as an error.)"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException, RestException
from mlflow.server.auth.client import AuthServiceClient

from scalepredict.settings import project_root
from scalepredict.store.local_postgres import write_secret

ADMIN, TRAINER, READER = "admin", "trainer", "replica"
CREDENTIALS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


def write_auth_config(path: Path, database_uri: str, admin_password: str) -> None:
    """The auth app's ini (MLFLOW_AUTH_CONFIG_PATH): its user database, the admin it creates
    the first time, and READ (only) for every identity by default. The credential cache is
    off by name, not by MLflow's default: it lives in each server worker, so with it a
    changed password or a removed user would still get in on the other workers until it
    expired."""
    write_secret(
        path,
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {database_uri}\n"
        f"admin_username = {ADMIN}\n"
        f"admin_password = {admin_password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = false\n"
        "auth_cache_ttl_seconds = 0\n",
    )


def credentials(user: str, password: str) -> dict[str, str]:
    """What an MLflow client reads from its environment to log in."""
    return dict(zip(CREDENTIALS, (user, password), strict=True))


@contextlib.contextmanager
def logged_in(user: str, password: str) -> Iterator[None]:
    """MLflow's clients take credentials from the environment only: set them for a block."""
    before = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(credentials(user, password))
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def ensure_users(tracking_uri: str, admin_password: str, passwords: dict[str, str]) -> None:
    """Create each user, or set its password to the one on file (a stack brought up again)."""
    with logged_in(ADMIN, admin_password):
        client = AuthServiceClient(tracking_uri)
        for user, password in passwords.items():
            try:
                client.create_user(user, password)
            except RestException as e:
                if e.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                client.update_user_password(user, password)


def prepare_registry(tracking_uri: str, admin_password: str, experiment: str, model: str) -> None:
    """The experiment and the registered model, made by the admin and managed by the trainer.
    (The auth app answers 403, not "does not exist", for a model nobody has made yet.)"""
    with logged_in(ADMIN, admin_password):
        client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        found = client.get_experiment_by_name(experiment)
        exp_id = found.experiment_id if found else client.create_experiment(experiment)
        with _unless_done():
            client.create_registered_model(model)
        auth = AuthServiceClient(tracking_uri)
        for kind, resource in (("experiment", exp_id), ("registered_model", model)):
            with _unless_done():
                auth.grant_user_permission(TRAINER, kind, resource, "MANAGE")


@contextlib.contextmanager
def _unless_done() -> Iterator[None]:
    """Ignore "already exists" (a stack brought up again); anything else is raised."""
    try:
        yield
    except MlflowException as e:
        if e.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def registry_names(env: dict[str, str]) -> tuple[str, str]:
    """The experiment and the registered model the stack's settings name."""
    code = (
        "from scalepredict.catalogue import load_catalogue; "
        "from scalepredict.settings import get_settings; "
        "from scalepredict.tracking.registry import model_name; "
        "s = get_settings(); print(s.experiment); print(model_name(s, load_catalogue(s)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project_root(),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[-2], out[-1]
