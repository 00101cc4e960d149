"""API keys (moved from the JSON key file), outcomes with their history, and an index to find
an initiative's latest scoring.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _outcome_columns() -> list[sa.Column]:
    return [
        sa.Column("outcome", sa.String(128), nullable=False),
        sa.Column("outcome_code", sa.Float, nullable=True),
        sa.Column("observed_on", sa.Date, nullable=False),
        sa.Column("funded", sa.Boolean, nullable=True),
        sa.Column("scoring_id", sa.Integer, nullable=False),
        sa.Column("key_name", sa.String(128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_index("ix_scored_proposals_initiative_id", "scored_proposals", ["initiative_id"])
    op.create_table(
        "api_keys",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "key_imports",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("keys", sa.Integer, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "outcomes",
        sa.Column("initiative_id", sa.String(128), primary_key=True),
        *_outcome_columns(),
    )
    op.create_table(
        "outcome_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("initiative_id", sa.String(128), nullable=False),
        *_outcome_columns(),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_outcome_history_initiative_id", "outcome_history", ["initiative_id"])


def downgrade() -> None:
    op.drop_table("outcome_history")
    op.drop_table("outcomes")
    op.drop_table("key_imports")
    op.drop_table("api_keys")
    op.drop_index("ix_scored_proposals_initiative_id", "scored_proposals")
