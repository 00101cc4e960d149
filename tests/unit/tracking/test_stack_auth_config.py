"""The production stack's MLflow auth ini, as MLflow itself reads it: what the registry's
logins rest on, checked without starting the stack."""

from __future__ import annotations

import stat

import pytest
from mlflow.server.auth.config import read_auth_config

from serving.stack_auth import write_auth_config


def test_the_auth_ini_grants_read_only_caches_no_credential_and_is_private(tmp_path, monkeypatch):
    ini = tmp_path / "auth.ini"
    write_auth_config(ini, f"sqlite:///{tmp_path}/auth.db", "not-a-real-password")
    monkeypatch.setenv("MLFLOW_AUTH_CONFIG_PATH", str(ini))
    config = read_auth_config()
    assert config.default_permission == "READ"
    # a per-worker cache would let a changed password or a removed user in until it expired
    assert config.auth_cache_ttl_seconds == 0
    assert config.admin_username == "admin"
    assert stat.S_IMODE(ini.stat().st_mode) == 0o600


@pytest.mark.parametrize("line", ["auth_cache_ttl_seconds = 0", "default_permission = READ"])
def test_the_settings_are_written_by_name_not_left_to_mlflow_defaults(tmp_path, line):
    ini = tmp_path / "auth.ini"
    write_auth_config(ini, f"sqlite:///{tmp_path}/auth.db", "not-a-real-password")
    assert line in ini.read_text().splitlines()
