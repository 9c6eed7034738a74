"""The application database (issue 10): users, sign-in sessions, API tokens, the audit log.

SQLite (a file beside the warehouse, the default) or PostgreSQL (R57_APP_DB=postgresql://…). Never the
DuckDB warehouse: that one has a single writer; this one is written by every web worker.

    db = open_appdb(settings=settings)      # runs the migrations (Alembic `upgrade head`) unless upgrade=False
    with db.session() as s:                 # commit on success, rollback on error
        s.add(...)

SQLite runs in WAL mode with busy_timeout=5000 and foreign keys on, on every connection. A write
transaction begins with BEGIN IMMEDIATE (it takes the write lock at once, so two writers queue behind the
busy timeout instead of failing on a lock upgrade); `session(readonly=True)` begins a plain (deferred)
transaction for reads. First start of several workers at once: the migrations run under a file lock beside
the SQLite file, or under a PostgreSQL advisory lock.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 570_010_001  # pg_advisory_lock key for the migrations (any constant of this application)


def normalise_url(url: str) -> str:
    """postgresql:// (and postgres://) -> the psycopg 3 driver; other urls as given."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class AppDB:
    """One engine on the application database; `session()` for a unit of work."""

    def __init__(self, url: str):
        self.url = normalise_url(url)
        u = make_url(self.url)
        self.dialect: str = u.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"application database: expected a sqlite:// or postgresql:// url, not {u.drivername}")
        self.sqlite_path: Path | None = None
        if self.dialect == "sqlite":
            memory = u.database in (None, "", ":memory:")
            if not memory:
                self.sqlite_path = Path(u.database).expanduser().resolve()
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 5}}
            if memory:
                kwargs["poolclass"] = StaticPool
            else:
                kwargs.update(pool_size=8, max_overflow=8, pool_timeout=30)
            self.engine: Engine = create_engine(self.url, **kwargs)
            _sqlite_events(self.engine)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=10)

    @contextmanager
    def session(self, readonly: bool = False) -> Iterator[Session]:
        """A unit of work: commit on success, rollback on error; objects stay usable after commit."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn.info["r57_begin"] = "BEGIN" if readonly else "BEGIN IMMEDIATE"
            with Session(bind=conn, expire_on_commit=False) as s:
                try:
                    yield s
                    s.commit()
                except BaseException:
                    s.rollback()
                    raise

    def upgrade(self) -> None:
        """Alembic `upgrade head`, once at a time across processes; a no-op when already at head."""
        quiet = logging.getLogger("alembic")
        if quiet.level == logging.NOTSET:  # Alembic's INFO lines are noise on every start
            quiet.setLevel(logging.WARNING)
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        if self.dialect == "sqlite" and self.sqlite_path is not None:
            from filelock import FileLock

            with FileLock(str(self.sqlite_path) + ".migrate.lock", timeout=120):
                self._run(cfg, command)
        elif self.dialect == "postgresql":
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
                try:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                    conn.commit()
                finally:
                    conn.rollback()
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                    conn.commit()
        else:
            self._run(cfg, command)

    def _run(self, cfg, command) -> None:
        with self.engine.connect() as conn:
            conn.info["r57_begin"] = "BEGIN IMMEDIATE"
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()

    def revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            conn.info["r57_begin"] = "BEGIN"
            return MigrationContext.configure(conn).get_current_revision()

    def close(self) -> None:
        self.engine.dispose()
        with _lock:
            for key, db in list(_cache.items()):
                if db is self:
                    del _cache[key]

    def __repr__(self) -> str:
        return f"AppDB({make_url(self.url).render_as_string(hide_password=True)!r})"


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # the driver leaves transactions to us (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=5000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # set by session() for its first transaction; any other transaction takes the write lock at once
        conn.exec_driver_sql(conn.info.pop("r57_begin", None) or "BEGIN IMMEDIATE")


def open_appdb(url: str | None = None, *, settings=None, upgrade: bool = True) -> AppDB:
    """A new AppDB on `url` (default settings.app_db_url), migrated to head unless upgrade=False."""
    if url is None:
        if settings is None:
            import config

            settings = config.load_settings()
        url = settings.app_db_url
    db = AppDB(url)
    if upgrade:
        try:
            db.upgrade()
        except BaseException:
            db.engine.dispose()
            raise
    return db


_cache: dict[str, AppDB] = {}
_lock = threading.Lock()


def get_appdb(settings=None) -> AppDB:
    """The process's AppDB for settings.app_db_url (opened and migrated on first use)."""
    if settings is None:
        import config

        settings = config.load_settings()
    url = normalise_url(settings.app_db_url)
    with _lock:
        db = _cache.get(url)
        if db is None:
            db = _cache[url] = open_appdb(url)
        return db


def _after_fork_in_child() -> None:
    # a forked worker (gunicorn --preload) must not share the parent's pooled connections
    for db in list(_cache.values()):
        db.engine.dispose(close=False)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
