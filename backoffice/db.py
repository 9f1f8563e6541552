"""Opening the shop's database: SQLite by default, PostgreSQL by URL, migrated on start.

SQLite lives in the platform's user data folder, with WAL, foreign keys,
`secure_delete` (erased data does not linger in free pages), memory-mapped reads
and a busy timeout.
PostgreSQL takes its password from the keyring and, for any host other than this
machine, requires TLS. Its pooled connections are not pinged before every use (a
round trip as long as a search): a connection is checked only after it sat idle,
or after another one was found cut off, and read-only work that meets a cut-off
connection runs once more on a fresh one (`Database.run_read`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import backoffice.domain.model  # noqa: F401  (every mapped class is known before the first query)
from backoffice.errors import ConflictError, UserFacingError
# Where a desk keeps its database; read before the database layer loads, named here as well.
from backoffice.places import ENV_DATABASE_URL, data_dir, default_database_url  # noqa: F401

log = logging.getLogger(__name__)
T = TypeVar("T")

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


def parse_url(url: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for PostgreSQL; raise a sentence if unreadable."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UserFacingError(f"The database address “{url}” could not be read.") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise UserFacingError(
            f"The database “{parsed.get_backend_name()}” is not supported; use SQLite or PostgreSQL."
        )
    return parsed


def safe_url(url: str | URL) -> str:
    """The URL with any password hidden, for messages and logs."""
    parsed = url if isinstance(url, URL) else parse_url(url)
    return parsed.render_as_string(hide_password=True)


def _sqlite_path(parsed: URL) -> Path | None:
    db = parsed.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


SQLITE_MMAP_SIZE = 1 << 30
SQLITE_BEGIN_OPTION = "backoffice_sqlite_begin"


def _on_sqlite_connect(dbapi_conn: sqlite3.Connection, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Read pages straight from the operating system's file cache instead of copying
    # each into SQLite's small page cache: random lookups and long trigram lists
    # (customer search) read many pages per query.
    cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_SIZE}")
    cur.close()


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`, configured for the back office's needs."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = _sqlite_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, echo=echo, connect_args={"timeout": 10})

        # Let SQLAlchemy issue BEGIN itself, so transactions behave the same on both databases.
        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, record):
            dbapi_conn.isolation_level = None
            _on_sqlite_connect(dbapi_conn, record)

        # A transaction that may write begins as a writer (BEGIN IMMEDIATE, through the
        # execution option that Database.begin sets), so it waits its turn for the
        # busy timeout. A deferred one that reads first and then writes is refused at
        # once ("database is locked") when another connection wrote meanwhile: SQLite
        # cannot upgrade a reader that saw an older snapshot.
        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(SQLITE_BEGIN_OPTION, '')}".rstrip())

        return engine

    # PostgreSQL.
    if parsed.password is None:
        # Only here: the keyring's libraries are not needed to open a SQLite file.
        from backoffice import secrets

        password = secrets.database_password(safe_url(parsed))
        if password:
            parsed = parsed.set(password=password)
    query = dict(parsed.query)
    if (parsed.host or "") not in LOOPBACK_HOSTS and query.get("sslmode") not in (
        "require",
        "verify-ca",
        "verify-full",
    ):
        query["sslmode"] = "require"
        parsed = parsed.set(query=query)
    # Server settings given in the URL are kept, ours added after them.
    options = " ".join(filter(None, (query.get("options", ""), NO_PARALLEL_WORKERS)))
    parsed = parsed.difference_update_query(["options"])
    # Last in, first out: the connection used last serves the next search, with its
    # server process warm and its prepared statements planned; the others stay idle.
    # A desk's statements read a few hundred rows for a screen: starting parallel workers
    # for them costs more than it saves (a newsletter list's first rows 129 ms with two
    # workers, 57 ms without; 500,000 rows skipped along an index 170 ms against 107 ms).
    engine = create_engine(
        parsed, echo=echo, pool_recycle=POOL_RECYCLE, pool_use_lifo=True,
        connect_args={"connect_timeout": 10, "options": options, **TCP_KEEPALIVE},
    )
    _check_idle_connections(engine)
    return engine


# --- Cut-off PostgreSQL connections -------------------------------------------------------
#
# A server restart or a killed backend leaves dead connections in the pool. Pinging
# each one before every checkout would cost a round trip per search; instead:
# * a connection that sat unused for IDLE_CHECK_AFTER seconds is pinged at checkout
#   (a desk left alone while the server restarted);
# * once one connection is found cut off, every other pooled connection is pinged at
#   its next checkout, and replaced if it is dead too;
# * connections are replaced after POOL_RECYCLE seconds, and TCP keepalives notice a
#   peer that vanished without closing the connection;
# * read-only work that meets a cut-off connection runs once more (`Database.run_read`);
#   SQLAlchemy itself invalidates the pool when a statement fails on one.

NO_PARALLEL_WORKERS = "-c max_parallel_workers_per_gather=0"
IDLE_CHECK_AFTER = 10.0
POOL_RECYCLE = 1800
TCP_KEEPALIVE = {"keepalives": 1, "keepalives_idle": 60, "keepalives_interval": 10,
                 "keepalives_count": 3}

# engine -> monotonic time of the last connection found cut off
_cut_off_at: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def _check_idle_connections(engine: Engine) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn, record, _proxy) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None:  # a fresh connection
            return
        if (time.monotonic() - idle_since < IDLE_CHECK_AFTER
                and idle_since > _cut_off_at.get(engine, float("-inf"))):
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as exc:
            if not dialect.is_disconnect(exc, dbapi_conn, None):
                raise
            _cut_off_at[engine] = time.monotonic()
            # The pool replaces this connection and tries again.
            raise DisconnectionError("The database connection was cut off.") from exc

    @event.listens_for(engine, "handle_error")
    def _handle_error(context) -> None:
        if context.is_disconnect:
            _cut_off_at[engine] = time.monotonic()


def is_lock_conflict(exc: BaseException) -> bool:
    """A deadlock, a serialization failure or a lock wait that ran out: the work collided
    with another desk's and was rolled back whole, so it may simply be tried again."""
    # Wrapped by SQLAlchemy, or as the driver raised it (work on a raw cursor: COPY).
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(orig, "sqlstate", None) in ("40P01", "40001", "55P03"):
        return True
    return isinstance(orig, sqlite3.OperationalError) and "database is locked" in str(orig)


#: What a person is told when their work collided with another desk's or the sync's.
LOCK_CONFLICT_MESSAGE = ("Another desk or the store's sync was changing the same records at that moment, so "
                         "this change was undone before it was saved. Try it again.")


def as_user_facing(exc: BaseException) -> BaseException:
    """`exc`, or a `ConflictError` saying so in words when it is a lock conflict
    (`is_lock_conflict`): the work was rolled back whole and may simply be tried again.
    For where failures reach people (the app's background work, the command line)."""
    if not isinstance(exc, UserFacingError) and is_lock_conflict(exc):
        error = ConflictError(LOCK_CONFLICT_MESSAGE, details=f"{type(exc).__name__}: {exc}")
        error.__cause__ = exc
        return error
    return exc


def is_cut_off(exc: BaseException) -> bool:
    """True when `exc` says the connection to the database server was lost."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def cut_off_error(db: "Database", exc: Exception, dbapi_conn: Any) -> Exception | None:
    """For work on a raw DBAPI connection: `exc` wrapped as SQLAlchemy wraps a lost
    connection's error, or None when `exc` is not about a lost connection."""
    dialect = db.engine.dialect
    dbapi = dialect.loaded_dbapi
    if not isinstance(exc, dbapi.Error) or not dialect.is_disconnect(exc, dbapi_conn, None):
        return None
    return DBAPIError.instance(None, None, exc, dbapi.Error, connection_invalidated=True,
                               dialect=dialect)


def connection_cut_off(db: "Database") -> None:
    """Note that a connection was found cut off: the others are checked before their next use."""
    _cut_off_at[db.engine] = time.monotonic()


@dataclass
class Database:
    """An open database: its engine and a factory of sessions (one per user action)."""

    url: str
    engine: Engine
    session_factory: sessionmaker[Session] = field(init=False)
    # The same pool; on SQLite its transactions begin as writers (see create_db_engine).
    write_engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        if self.engine.dialect.name == "sqlite":
            self.write_engine = self.engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        else:
            self.write_engine = self.engine
        self._write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @property
    def sqlite_path(self) -> Path | None:
        if self.backend != "sqlite":
            return None
        return _sqlite_path(self.engine.url)

    @property
    def shown_url(self) -> str:
        """The address with any password hidden, for messages and logs."""
        return safe_url(self.url)

    def backup_sqlite(self, *, reason: str = "before-upgrade") -> Path | None:
        """Copy the SQLite file beside itself (see `backup_sqlite`); None for other databases."""
        return backup_sqlite(self, reason=reason)

    def begin(self):
        """A session in a transaction that commits at the end of the `with` block.

        On SQLite the transaction holds the write lock from its start, so work that
        reads and then writes waits for another desk's write instead of failing.
        Use `read()` for work that only reads.
        """
        return self._write_sessions.begin()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading only; rolled back at the end."""
        with self.session_factory() as session:
            try:
                yield session
            finally:
                session.rollback()

    def run_read(self, work: Callable[[], T]) -> T:
        """Run read-only `work`; run it once more if the server connection was cut off.

        `work` must change nothing (it may run twice). Raises what `work` raises, or
        the second failure when the database is really gone.
        """
        try:
            return work()
        except Exception as exc:
            if not is_cut_off(exc):
                raise
            log.info("The database connection was cut off; reading again on a new one")
            connection_cut_off(self)
        return work()

    def dispose(self) -> None:
        self.engine.dispose()


def require_existing_database(url: str) -> None:
    """Refuse, creating nothing, a SQLite file that is not there yet.

    A PostgreSQL database that does not exist is refused by the server when opened.
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    path = _sqlite_path(parsed)
    if path is not None and not path.exists():
        raise UserFacingError(
            f"There is no shop database at {path}. Nothing was created; open the app or run "
            f"`backoffice db upgrade --db {safe_url(parsed)}` to create one."
        )


def _why_unreachable(url: str, exc: OperationalError) -> str:
    """What a person can do about a database that could not be opened, in words."""
    reason = str(getattr(exc, "orig", None) or exc).strip()
    low = reason.lower()
    parsed = parse_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    if parsed.get_backend_name() == "postgresql":
        if "password authentication failed" in low or "no password supplied" in low:
            return (f"The database server at {where} refused the user “{parsed.username}”: the "
                    "password is wrong or missing. Set it in the desk's database settings (it is "
                    "kept in the system keyring).")
        if "does not exist" in low and "database" in low:
            return (f"The database server at {where} has no database “{parsed.database}”. "
                    f"Create it (createdb {parsed.database}) or check the name.")
        if "role" in low and "does not exist" in low:
            return f"The database server at {where} has no user “{parsed.username}”."
        if any(w in low for w in ("connection refused", "could not connect", "timeout expired",
                                  "name or service not known", "no route to host",
                                  "could not translate host name", "connection timed out")):
            return (f"No database server answers at {where}: it is not running, or the address "
                    "or port is wrong, or a firewall is in the way.")
        if "ssl" in low:
            return (f"The database server at {where} does not offer an encrypted (TLS) connection, "
                    "which the app requires for a server on another machine.")
    else:
        if "unable to open database file" in low:
            path = _sqlite_path(parsed)
            return (f"The database file {path} could not be opened: its folder is missing or "
                    "not writable.")
    return f"The database at {safe_url(url)} could not be opened."


def open_database(url: str | None = None, *, upgrade: bool = True, echo: bool = False) -> Database:
    """Open (and by default create or migrate) the database at `url`.

    Raises UserFacingError with a sentence when the database cannot be reached, and
    DatabaseTooNew when it was written by a newer version of the app.
    """
    from backoffice import migrations  # late: Alembic is only needed here

    url = url or default_database_url()
    engine = create_db_engine(url, echo=echo)
    db = Database(url=url, engine=engine)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        raise UserFacingError(
            f"{_why_unreachable(url, exc)} Nothing was changed.",
            details=str(exc.orig) if exc.orig else str(exc),
        ) from exc
    if upgrade:
        try:
            migrations.upgrade(db)
        except Exception:
            engine.dispose()
            raise
    else:
        migrations.check_not_newer(db)
    return db


def backup_sqlite(db: Database, *, reason: str = "before-upgrade") -> Path | None:
    """Copy the SQLite file (consistently, with the online backup API) beside itself."""
    path = db.sqlite_path
    if path is None or not path.exists() or path.stat().st_size == 0:
        return None
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.{reason}.{stamp}{path.suffix}")
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    log.info("Backed up the database to %s", target)
    return target


