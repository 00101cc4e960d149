"""The one database (keys, audit, outcomes) on SQLite and on a real PostgreSQL: the same
behaviour on both, migrations applied on first use, an audit file made before migrations
adopted with its rows, keys moved from the former JSON file once."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid

import pytest
from sqlalchemy import inspect

from scalepredict.settings import Settings, get_settings
from scalepredict.store import database, keys
from scalepredict.store.audit import AuditLog
from scalepredict.store.keys import ApiKeyError, KeyFileError, KeyStore


def test_first_use_creates_every_table_at_the_newest_revision(database_url):
    eng = database.engine(Settings(database_url=database_url))
    tables = set(inspect(eng).get_table_names())
    assert {"scored_proposals", "api_keys", "outcomes", "outcome_history"} <= tables
    assert database.head_revision(eng) == "0003"


def test_an_audit_file_made_before_migrations_is_adopted_with_its_rows(tmp_path):
    path = tmp_path / "audit.db"
    with sqlite3.connect(path) as conn:  # the table exactly as the first versions made it
        conn.execute(
            "CREATE TABLE scored_proposals (id INTEGER NOT NULL PRIMARY KEY, request_id "
            "VARCHAR(64) NOT NULL, endpoint VARCHAR(32) NOT NULL, key_name VARCHAR(128) NOT "
            "NULL, scored_at DATETIME NOT NULL, initiative_id VARCHAR(128) NOT NULL, "
            "model_version VARCHAR(32) NOT NULL, input TEXT NOT NULL, output TEXT NOT NULL)"
        )
        conn.execute("CREATE INDEX ix_scored_proposals_request_id ON scored_proposals (request_id)")
        conn.execute(
            "INSERT INTO scored_proposals VALUES (1, 'r1', 'score', 'funder', "
            "'2026-01-05 10:00:00.000000', 'SC-1', '3', '{}', '{\"probability\": 0.4}')"
        )
    audit = AuditLog(Settings(database_url=f"sqlite:///{path}"))
    assert audit.count() == 1
    assert database.head_revision(audit.engine) == "0003"
    audit.record("r2", "score", "funder", "3", [("SC-2", {}, {"probability": 0.5})])
    assert audit.count() == 2


def test_the_default_file_takes_over_an_audit_kept_in_var_audit_db(tmp_path, monkeypatch):
    monkeypatch.setattr(database, "project_root", lambda: tmp_path)
    old = AuditLog(Settings(database_url=f"sqlite:///{tmp_path}/var/audit.db"))
    old.record("r1", "score", "funder", "3", [("SC-1", {}, {"probability": 0.4})])
    old.engine.dispose()
    moved = AuditLog(Settings(database_url=f"sqlite:///{tmp_path}/var/scalepredict.db"))
    assert moved.count() == 1 and not (tmp_path / "var" / "audit.db").exists()


def test_keys_are_added_listed_verified_and_revoked(database_url):
    settings = get_settings()
    key = keys.add_key("funder", "scorer", settings)
    rec = keys.add_key("ieg-desk", "recorder", settings)
    assert set(keys.list_keys(settings)) == {"funder", "ieg-desk"}
    assert keys.list_keys(settings)["ieg-desk"]["role"] == "recorder"
    store = KeyStore(settings, ttl=0)
    assert store.identify(key) == keys.Identity("funder", "scorer")
    assert store.identify(rec).role == "recorder"
    assert store.identify("sp_not-a-key") is None
    with pytest.raises(ApiKeyError, match="exists"):
        keys.add_key("funder", "admin", settings)
    with pytest.raises(ApiKeyError, match="role"):
        keys.add_key("x", "superuser", settings)
    assert keys.revoke_key("funder", settings) and not keys.revoke_key("funder", settings)
    assert store.identify(key) is None
    assert key not in json.dumps(keys.list_keys(settings))  # never the key itself


def test_a_key_revoked_through_one_replica_is_refused_by_another_within_5_s(database_url):
    settings = get_settings()
    key = keys.add_key("funder", "scorer", settings)
    replicas = [KeyStore(settings), KeyStore(settings)]  # each with the default cache (at most 2 s)
    assert all(r.identify(key) for r in replicas)
    keys.revoke_key("funder", settings)
    revoked, deadline = time.monotonic(), time.monotonic() + 5
    while any(r.identify(key) for r in replicas):
        assert time.monotonic() < deadline, "a revoked key still accepted after 5 s"
        time.sleep(0.1)
    assert time.monotonic() - revoked <= 5


def test_a_stream_of_random_keys_does_not_push_a_key_in_use_out_of_the_cache(
    database_url, monkeypatch
):
    settings = get_settings()
    monkeypatch.setattr(keys, "CACHE_ENTRIES", 50)  # the bound, small enough to pass quickly
    key = keys.add_key("funder", "scorer", settings)
    store = KeyStore(settings, ttl=60)
    assert store.identify(key)
    for _ in range(200):
        assert store.identify(f"sp_{uuid.uuid4().hex}") is None
    keys.revoke_key("funder", settings)  # the database no longer knows it: only the cache does
    assert store.cached(key) == keys.Identity("funder", "scorer")
    assert len(store._unknown) == 50  # and the unknown keys stay within the bound


def test_the_digest_snapshot_knows_real_keys_only(database_url):
    settings = get_settings()
    key = keys.add_key("funder", "scorer", settings)
    store = KeyStore(settings, ttl=0)
    assert store.is_key(key) is None  # never read: the caller must refresh first
    store.refresh()
    assert store.is_key(key) is True and store.is_key("sp_guess") is False


def test_a_former_key_file_is_imported_once_with_a_message(database_url, tmp_path, caplog):
    settings = get_settings()
    old = tmp_path / "api_keys.json"
    digest = keys._digest("sp_old-key")
    old.write_text(
        json.dumps(
            {"legacy": {"sha256": digest, "role": "admin", "created": "2026-01-02T03:04:05+00:00"}}
        )
    )
    with caplog.at_level(logging.WARNING, logger="scalepredict.store"):
        assert KeyStore(settings, ttl=0).identify("sp_old-key") == keys.Identity("legacy", "admin")
    assert "imported 1 API key(s)" in caplog.text and str(old) in caplog.text
    keys.revoke_key("legacy", settings)
    keys._imported.clear()  # a new process: the file is not imported again
    assert KeyStore(settings, ttl=0).identify("sp_old-key") is None
    assert "legacy" not in keys.list_keys(settings)


def test_an_unreadable_former_key_file_is_named_and_imports_nothing(database_url, tmp_path):
    settings = get_settings()
    (tmp_path / "api_keys.json").write_text("{ not json")
    with pytest.raises(KeyFileError, match=r"api_keys\.json"):
        keys.list_keys(settings)
    (tmp_path / "api_keys.json").unlink()
    assert keys.list_keys(settings) == {}


def test_every_value_a_request_can_carry_is_audited_as_json_it_reads_back(database_url):
    """orjson writes the rows; what it refuses (an integer past 64 bits, a lone surrogate) is
    still recorded, by `json`, and numpy numbers are numbers."""
    import numpy as np
    import pandas as pd

    from scalepredict.store.schema import scored_proposals

    audit = AuditLog(Settings(database_url=database_url))
    items = [
        ("a", {"history": 10**30, "name": "Zürich"}, {"probability": np.float32(0.25)}),
        ("b", {"name": "\ud800"}, {"points": {"stage": np.int64(3)}, "gap": float("nan")}),
        ("c", {"assessed_on": pd.Timestamp("2024-01-02")}, {"probability": 0.5}),
    ]
    audit.record("r1", "score", "k", "1", items)
    with audit.engine.connect() as conn:
        rows = conn.execute(scored_proposals.select().order_by(scored_proposals.c.id)).all()
    got = [(json.loads(r.input), json.loads(r.output)) for r in rows]
    assert got[0] == ({"history": 10**30, "name": "Zürich"}, {"probability": 0.25})
    assert got[1][0] == {"name": "\ud800"} and got[1][1] == {"points": {"stage": 3}, "gap": None}
    assert got[2][0] == {"assessed_on": "2024-01-02 00:00:00"}
