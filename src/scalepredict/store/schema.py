"""The database's tables as the code reads and writes them. Alembic's migrations
(`store/migrations`) create and change them; a change here needs a migration there."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

scored_proposals = Table(
    "scored_proposals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False, index=True),
    Column("endpoint", String(32), nullable=False),
    Column("key_name", String(128), nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    Column("initiative_id", String(128), nullable=False, index=True),
    Column("model_version", String(32), nullable=False),
    Column("input", Text, nullable=False),
    Column("output", Text, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

# Key files already imported (by the SHA-256 of their content): imported once, never again.
key_imports = Table(
    "key_imports",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("keys", Integer, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
)


def _outcome_columns() -> list[Column]:
    return [
        Column("outcome", String(128), nullable=False),  # the catalogue's value, as text
        Column("outcome_code", Float, nullable=True),  # 1 success, 0 failure, NULL not rated
        Column("observed_on", Date, nullable=False),
        Column("funded", Boolean, nullable=True),
        Column("scoring_id", Integer, nullable=False),  # scored_proposals.id it was matched to
        Column("key_name", String(128), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
    ]


outcomes = Table(
    "outcomes",
    metadata,
    Column("initiative_id", String(128), primary_key=True),
    *_outcome_columns(),
)

# Every outcome that was replaced, with who replaced it and when.
outcome_history = Table(
    "outcome_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("initiative_id", String(128), nullable=False, index=True),
    *_outcome_columns(),
    Column("replaced_at", DateTime(timezone=True), nullable=False),
    Column("replaced_by", String(128), nullable=False),
)
