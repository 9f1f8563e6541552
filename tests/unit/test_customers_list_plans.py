"""How SQLite reads the customers list filtered on a status (migration 0020): a status few
customers have is laid out from an index alone, already in the list's order; a status most
have is sampled by primary key, not by reading all of its customers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, insert

from backoffice.domain.base import utcnow
from backoffice.domain.customers import Customer
from backoffice.domain.enums import CustomerStatus, Role
from backoffice.services import customers as svc
from tests.conftest import make_staff


@pytest.fixture
def listed(sqlite_db):
    now = utcnow()
    with sqlite_db.begin() as s:
        s.execute(insert(Customer), [
            {"first_name": f"F{i}", "last_name": f"L{(i * 7919) % 4001:04d}", "sort_name": f"l{(i * 7919) % 4001:04d}",
             "status": CustomerStatus.DEACTIVATED if i % 40 == 0 else CustomerStatus.ACTIVE,
             "created_at": now - timedelta(minutes=(i * 7907) % 4013)}
            for i in range(4000)])
    with sqlite_db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    return sqlite_db


@pytest.fixture
def owner(listed):
    return make_staff(listed, Role.OWNER, "owner")


def _plans(db, work) -> list[str]:
    """The query plan of each statement `work` runs, as SQLite words it."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    with db.engine.connect() as conn:
        return [" / ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                        parameters).fetchall())
                for statement, parameters in seen]


def test_a_status_few_customers_have_is_laid_out_from_an_index_alone(listed, owner):
    for sort, index in ((svc.CustomerSort.NEWEST, "ix_customers_status_by_created"),
                        (svc.CustomerSort.NAME, "ix_customers_status_by_name")):
        layout = None

        def lay_out():
            nonlocal layout
            layout = svc.customer_list_layout(listed, actor=owner, sort=sort, status=CustomerStatus.DEACTIVATED)

        plans = _plans(listed, lay_out)
        whole = [r.id for r in svc.list_customers_page(listed, actor=owner, sort=svc.ascending_sort(sort),
                                                       status=CustomerStatus.DEACTIVATED, limit=1000).rows]
        assert list(layout.ids) == whole and len(whole) == 100
        read = [p for p in plans if "ORDER BY" in p or index in p]
        assert read and all(f"COVERING INDEX {index}" in p for p in read), plans


def test_a_status_most_customers_have_is_sampled_by_primary_key(listed, owner):
    sample = ()

    def take():
        nonlocal sample
        sample = svc.sample_customer_list(listed, actor=owner, sort=svc.CustomerSort.NEWEST,
                                          status=CustomerStatus.ACTIVE, probes=400)
    plans = _plans(listed, take)
    assert len(sample) >= svc.SAMPLE_LEAST
    probed = [p for p in plans if "json_each" in p or "PRIMARY KEY" in p]
    assert probed and not any("ix_customers_status" in p for p in probed), plans


def test_migration_0020_goes_down_and_up_again(listed):
    from alembic import command

    from backoffice import migrations

    def indexes() -> set[str]:
        with listed.engine.connect() as conn:
            return {r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'customers'").fetchall()}

    ours = {"ix_customers_status_by_name", "ix_customers_status_by_created"}
    assert ours <= indexes() and "ix_customers_status" not in indexes()
    with listed.engine.connect() as conn:
        command.downgrade(migrations.config(conn), "0019")
        conn.commit()
    assert not ours & indexes() and "ix_customers_status" in indexes()
    assert migrations.upgrade(listed)
    assert ours <= indexes() and "ix_customers_status" not in indexes()
    assert svc.count_customers(listed, actor=make_staff(listed, Role.OWNER, "owner"),
                               status=CustomerStatus.DEACTIVATED) == 100
