"""Create the async engine and session factory: SQLite (WAL, BEGIN IMMEDIATE) or PostgreSQL (asyncpg)."""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session

__all__ = ["create_engine", "create_session_factory", "is_sqlite", "read_only"]

# Execution option of the engine copy that read-only sessions use (``read_only``): on SQLite it makes their
# transactions deferred.
_READS_ONLY = "ocpi_sandbox_reads_only"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create the engine for ``url``; SQLite gets WAL and writer-first transactions.

    Deferred SQLite transactions that later write fail at once with "database is locked" under WAL, whatever
    the busy timeout (measured: 445 of 500 read-modify-write transactions failed), so every transaction is
    ``BEGIN IMMEDIATE`` and takes the write lock up front. SQLAlchemy owns BEGIN: the driver's own is off.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_pre_ping=True)
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI connection
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_READS_ONLY) else "BEGIN IMMEDIATE")

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: services return ORM rows after committing, controllers read them afterwards.
    return async_sessionmaker(engine, expire_on_commit=False)


class _ReadOnlySession(Session):
    """A session that refuses to write (``read_only``)."""


@event.listens_for(_ReadOnlySession, "before_flush")
def _refuse_flush(session: Session, *_: Any) -> None:
    raise RuntimeError("a read-only session cannot write: open this work in a session of the factory itself")


@event.listens_for(_ReadOnlySession, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:  # a text() SELECT is not is_select: let it read
        raise RuntimeError("a read-only session cannot write: open this work in a session of the factory itself")


_reading_engines: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def read_only(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session of ``sessions`` for work that only reads, which refuses to write.

    On SQLite its transaction is deferred, not ``BEGIN IMMEDIATE``: it neither waits for the write lock nor holds
    it, and in WAL mode it reads the last commit while a writer works. A transaction that holds the write lock
    makes all the others wait, for as long as the event loop takes to come back to it between statements; token
    checks, one or two per charger start, need not be among them (docs/performance.md, session 5). On PostgreSQL
    nothing changes but the refusal.
    """
    engine = sessions.kw["bind"]
    reading = _reading_engines.get(engine)
    if reading is None:
        reading = _reading_engines[engine] = engine.execution_options(**{_READS_ONLY: True})
    return sessions(bind=reading, sync_session_class=_ReadOnlySession)
