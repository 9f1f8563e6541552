"""The outbox index the sync's lookups of a record's waiting messages use (migration 0003)."""

from __future__ import annotations

from sqlalchemy.dialects import sqlite

from backoffice.domain.base import utcnow
from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.domain.sync import OutboxMessage
from backoffice.services.sync_pull import _waiting_order_messages, waiting_customer_changes


def _plan(conn, statement) -> str:
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    return " ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").fetchall())


def test_a_records_waiting_messages_are_found_through_the_index(sqlite_db):
    from sqlalchemy import select

    outbox = OutboxMessage.__table__
    with sqlite_db.begin() as s:
        for i in range(300):
            s.add(OutboxMessage(kind=OutboxKind.UPDATE_ORDER_STATUS, entity_type="order", entity_id=i,
                                reference=f"ref-{i}", status=OutboxStatus.SENT if i % 3 else OutboxStatus.PENDING,
                                created_at=utcnow()))
        s.add(OutboxMessage(kind=OutboxKind.UPDATE_CUSTOMER, entity_type="customer", entity_id=7,
                            reference="ref-c", status=OutboxStatus.PENDING, created_at=utcnow()))
    with sqlite_db.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        plan = _plan(conn, select(outbox.c.id).where(
            outbox.c.entity_type == "order", outbox.c.entity_id.in_([3, 4, 6]),
            outbox.c.status.in_([OutboxStatus.PENDING, OutboxStatus.CONFLICT])))
    assert "ix_outbox_entity_status" in plan, plan
    with sqlite_db.read() as s:
        assert sorted(_waiting_order_messages(s, [3, 4, 6])) == [3, 6]
        assert list(waiting_customer_changes(s, [7, 8])) == [7]


def test_migration_0003_goes_down_and_up_again(sqlite_db):
    from alembic import command

    from backoffice import migrations

    def indexes() -> set[str]:
        with sqlite_db.engine.connect() as conn:
            return {r[0] for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'").fetchall()}

    assert "ix_outbox_entity_status" in indexes()
    with sqlite_db.engine.connect() as conn:
        command.downgrade(migrations.config(conn), "0002")
        conn.commit()
    assert "ix_outbox_entity_status" not in indexes()
    assert migrations.upgrade(sqlite_db)
    assert "ix_outbox_entity_status" in indexes()
