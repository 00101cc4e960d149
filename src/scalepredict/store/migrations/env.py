"""Alembic's entry point: runs on the connection `store.database.upgrade` hands it (there is no
alembic.ini; the URL is the `database_url` setting)."""

from alembic import context

from scalepredict.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
)
with context.begin_transaction():
    context.run_migrations()
