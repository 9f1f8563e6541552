"""Shared fixtures: an in-memory keyring, and a fresh migrated database per test on
SQLite and on PostgreSQL.

`db` runs each test that uses it once per backend listed in
BACKOFFICE_TEST_DATABASES (default "sqlite,postgresql"). Without a reachable
PostgreSQL server those runs are skipped, unless BACKOFFICE_REQUIRE_POSTGRES=1
(set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import logging
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
_SESSION_TMP = Path(tempfile.mkdtemp(prefix="backoffice-tests-"))
os.environ["BACKOFFICE_DATA_DIR"] = str(_SESSION_TMP / "data")
os.environ.setdefault("BACKOFFICE_LOG_DIR", str(_SESSION_TMP / "log"))
os.environ.pop("BACKOFFICE_DATABASE_URL", None)
os.environ.pop("BACKOFFICE_WC_KEY", None)
os.environ.pop("BACKOFFICE_WC_SECRET", None)

import keyring  # noqa: E402
import keyring.backend  # noqa: E402
import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from backoffice.db import Database, create_db_engine, open_database  # noqa: E402
from backoffice.domain.base import Base  # noqa: E402
from backoffice.domain.enums import Role  # noqa: E402
from backoffice.domain.staff import Actor, StaffUser  # noqa: E402
from backoffice.services import staff as staff_service  # noqa: E402

PG_URL = os.environ.get("BACKOFFICE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("BACKOFFICE_TEST_DATABASES", "sqlite,postgresql").split(",") if b.strip()]
REQUIRE_PG = os.environ.get("BACKOFFICE_REQUIRE_POSTGRES") == "1"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that forgets everything at the end of the test."""

    priority = -1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


@pytest.fixture(autouse=True)
def desk_data_folder(tmp_path_factory, monkeypatch):
    """A data folder of its own for each test: the audit trail's checkpoints, backups' register
    and logs of one test (a PostgreSQL database is reused, emptied, by the next) stay there."""
    folder = tmp_path_factory.mktemp("desk-data")
    monkeypatch.setenv("BACKOFFICE_DATA_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_log_file_left_behind():
    """A command a test runs sends the root logger to the desk's log file; the next test starts
    without it (its redaction rewrites records, which tests of logging read as they come)."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "backoffice-file":
            root.removeHandler(handler)
            handler.close()


@pytest.fixture(autouse=True)
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    from backoffice import secrets

    secrets._memory.clear()
    yield backend
    keyring.set_keyring(previous)
    secrets._memory.clear()


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_SESSION_TMP, ignore_errors=True)


# --- SQLite: migrate once into a template file, copy it for each test -----------------

@pytest.fixture(scope="session")
def sqlite_template() -> Path:
    path = _SESSION_TMP / "template.db"
    db = open_database(f"sqlite:///{path}")
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


# --- PostgreSQL: one migrated database per test run, emptied between tests ------------

def _pg_available() -> bool:
    try:
        eng = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"),
                            connect_args={"connect_timeout": 3})
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_database_url():
    if not _pg_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required for this run but {PG_URL} does not answer")
        pytest.skip(f"PostgreSQL at {PG_URL} does not answer")
    name = f"bo_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    db = open_database(url)
    db.dispose()
    yield url
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(db: Database) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as c:
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path) -> Database:
    """A fresh, migrated, empty database: SQLite file or PostgreSQL."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "shop.db"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
        database = Database(url=url, engine=create_db_engine(url))
    elif request.param == "postgresql":
        url = request.getfixturevalue("pg_database_url")
        database = Database(url=url, engine=create_db_engine(url))
        _truncate_all(database)
    else:
        raise ValueError(request.param)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template) -> Database:
    """A fresh SQLite database only (for tests about the file itself)."""
    path = tmp_path / "shop.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    database = Database(url=url, engine=create_db_engine(url))
    yield database
    database.dispose()


@pytest.fixture
def fast_hashing():
    """Passwords hashed with minimal work for this test (signing in many times stays quick);
    the app's own hashing comes back afterwards. Use with `pytest.mark.usefixtures`."""
    saved = staff_service._hasher
    staff_service.use_fast_hashing_for_tests()
    yield
    staff_service._hasher = saved


def make_staff(db: Database, role: Role, login: str | None = None) -> Actor:
    """Insert a staff account directly (tests of other features need one)."""
    login = login or f"{role.value}-{uuid.uuid4().hex[:6]}"
    with db.begin() as s:
        user = StaffUser(login=login, display_name=login.title(), role=role, password_hash="!")
        s.add(user)
        s.flush()
        return user.actor(desk="test-desk")


@pytest.fixture
def owner(db) -> Actor:
    return make_staff(db, Role.OWNER, "owner")


@pytest.fixture
def staff(db) -> Actor:
    return make_staff(db, Role.STAFF, "staff")


@pytest.fixture
def order_taker(db) -> Actor:
    return make_staff(db, Role.ORDER_TAKER, "taker")
