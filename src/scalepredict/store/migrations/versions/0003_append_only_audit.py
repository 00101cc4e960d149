"""PostgreSQL: the audit (scored proposals) and the outcome history are append-only for every
role, their owner included (a trigger refuses UPDATE, DELETE and TRUNCATE), and the service's
role `scalepredict_service` gets only what the service does: read and insert those two, read,
insert and update outcomes, read, insert and delete API keys. The role is created (without
login) when missing and the migrating role may create roles; `make stack` gives it a password.
SQLite has no roles: nothing changes there.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SERVICE_ROLE = "scalepredict_service"
APPEND_ONLY = ("scored_proposals", "outcome_history")
GRANTS = {
    "scored_proposals": "SELECT, INSERT",
    "outcome_history": "SELECT, INSERT",
    "outcomes": "SELECT, INSERT, UPDATE",
    "api_keys": "SELECT, INSERT, DELETE",
    "key_imports": "SELECT, INSERT",
    "alembic_version": "SELECT",
}


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    op.execute(
        """CREATE FUNCTION scalepredict_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$"""
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION scalepredict_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION scalepredict_append_only()"
        )
    grants = "\n".join(
        f"        REVOKE ALL ON {t} FROM {SERVICE_ROLE}; GRANT {g} ON {t} TO {SERVICE_ROLE};"
        for t, g in GRANTS.items()
    )
    op.execute(
        f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}')
           AND (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user) THEN
            CREATE ROLE {SERVICE_ROLE} NOLOGIN;
        END IF;
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
{grants}
        GRANT USAGE ON SEQUENCE scored_proposals_id_seq, outcome_history_id_seq
            TO {SERVICE_ROLE};
        END IF;
        END $$"""
    )


def downgrade() -> None:
    if not _postgres():
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS scalepredict_append_only()")
