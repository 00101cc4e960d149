"""Alembic migrations of the database (applied by `scalepredict.store.database.upgrade`)."""
