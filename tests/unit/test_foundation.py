"""The database opens, migrates, keeps its promises about SQLite, and the audit chain holds."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from backoffice import migrations
from backoffice.db import open_database
from backoffice.domain import Customer, Order, OrderLine
from backoffice.domain.enums import OrderStatus
from backoffice.errors import DatabaseTooNew, UserFacingError
from backoffice.services import audit


def test_money_round_trips_as_exact_decimal(db):
    with db.begin() as s:
        c = Customer(first_name="Zoë", last_name="Ø")
        s.add(c)
        s.flush()
        o = Order(customer_id=c.id, status=OrderStatus.PROCESSING, total=Decimal("44.98"))
        o.lines.append(OrderLine(name="Tea", quantity=3, unit_price=Decimal("0.10"), total=Decimal("0.30")))
        s.add(o)
    with db.read() as s:
        o = s.scalars(select(Order)).one()
        assert o.total == Decimal("44.98")
        assert sum(l.total for l in o.lines) == Decimal("0.30")
        assert o.created_at.tzinfo is not None


def test_sqlite_pragmas_protect_data(sqlite_db):
    with sqlite_db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_first_open_creates_and_migrates_a_new_file(tmp_path):
    path = tmp_path / "new" / "shop.db"
    db = open_database(f"sqlite:///{path}")
    assert path.exists()
    assert migrations.current_revision(db) == migrations.head_revision()
    db.dispose()


def test_database_from_a_newer_app_is_refused_untouched(tmp_path):
    path = tmp_path / "shop.db"
    db = open_database(f"sqlite:///{path}")
    with db.engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    db.dispose()
    with pytest.raises(DatabaseTooNew, match="newer version"):
        open_database(f"sqlite:///{path}")
    con = sqlite3.connect(path)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "ffff_future"
    con.close()


def test_unreachable_database_is_a_sentence():
    with pytest.raises(UserFacingError, match="No database server answers at 127.0.0.1:1"):
        open_database("postgresql://nobody@127.0.0.1:1/none")


def test_upgrade_from_first_revision_keeps_data_and_backs_up(tmp_path):
    path = tmp_path / "old.db"
    from backoffice.db import Database, create_db_engine

    db = Database(url=f"sqlite:///{path}", engine=create_db_engine(f"sqlite:///{path}"))
    migrations.upgrade(db, "0001")
    with db.engine.begin() as c:
        c.execute(text("INSERT INTO customers (status, first_name, last_name, company, phone, sort_name, "
                       "restricted, objected, created_at, updated_at, version) VALUES "
                       "('active', 'Анна', 'Ёлкина', '', '+74951234567', 'елкина анна', 0, 0, "
                       "'2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"))
    db.dispose()
    db = open_database(f"sqlite:///{path}")
    assert migrations.current_revision(db) == migrations.head_revision()
    with db.read() as s:
        assert s.scalars(select(Customer.last_name)).one() == "Ёлкина"
    db.dispose()
    if migrations.head_revision() != "0001":
        assert list(tmp_path.glob("old.before-upgrade.*.db")), "no backup was made before upgrading"


def test_audit_chain_detects_a_changed_row(db, owner):
    with db.begin() as s:
        for i in range(5):
            audit.record(s, owner, "view_customer", entity_type="customer", entity_id=i, customer_id=i,
                         fields=["email"])
    with db.read() as s:
        assert audit.verify_chain(s).ok
    with db.engine.begin() as c:
        c.execute(text("UPDATE audit_events SET entity_id = 99 WHERE id = 3"))
    with db.read() as s:
        report = audit.verify_chain(s)
    assert not report.ok and report.first_bad_id == 3


def test_migrations_build_exactly_the_model(db):
    """A model change without its migration fails here, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from backoffice.domain import Base
    from backoffice.migrations.env_filters import include_name

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        assert compare_metadata(context, Base.metadata) == []
