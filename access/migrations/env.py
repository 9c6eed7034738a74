"""Alembic environment of the application database. Run by access.db.AppDB.upgrade with the connection in
config.attributes["connection"] (no alembic.ini). Developers writing a new revision may still run the
`alembic` command with `-x url=…`."""

from __future__ import annotations

from alembic import context

from access.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        from access.db import normalise_url

        url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("access migrations: run through access.db.open_appdb, or pass -x url=…")
        with create_engine(normalise_url(url)).connect() as conn:
            _run(conn)
            conn.commit()
        return
    _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("access migrations: offline (SQL script) mode is not supported")
run_migrations_online()
