"""Status changes and tracking numbers made at the desk, sent to the dev store over real HTTP on
SQLite and PostgreSQL: the store's order gets the new status and the tracking in its meta data,
the local copy equals the store's, nothing is sent twice, and a change the store made meanwhile
becomes a conflict instead of being overwritten."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from backoffice.domain import Order, Shipment
from backoffice.domain.enums import OrderStatus, OutboxStatus
from backoffice.errors import UserFacingError
from backoffice.services import orders as orders_service
from backoffice.services import sync
from backoffice.services.store_mapping import TRACKING_META_KEY
from tests.integration.sync_helpers import (
    SYNC_ACTOR,
    FAST,
    assert_matches_store,
    connector,
    outbox_rows,
    visible_store_orders,
)


STORE = {"seed": 21, "customers": 15, "orders": 60, "products": 6}


@pytest.fixture
def conn(store):
    with connector(store) as c:
        yield c


def _sync(db, conn):
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    return summary


def _first_sync(db, conn):
    summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error


def _local_id(db, store_id: int) -> int:
    with db.read() as s:
        return s.execute(select(Order.id).where(Order.store_id == store_id)).scalar_one()


def _with_status(store, status: str) -> dict:
    return next(o for o in visible_store_orders(store) if o["status"] == status)


def _tracking(record: dict) -> list[dict]:
    values = [m["value"] for m in record["meta_data"] if m["key"] == TRACKING_META_KEY]
    return values[0] if values else []


def test_status_and_tracking_from_the_desk_reach_the_store_once(db, store, conn, staff):
    _first_sync(db, conn)
    target = _with_status(store, "processing")
    order_id = _local_id(db, target["id"])
    seen = orders_service.get_order(db, actor=staff, order_id=order_id)

    orders_service.change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.ON_HOLD,
                                       expected_version=seen.version)
    _sync(db, conn)
    assert store.get_order(target["id"])["status"] == "on-hold"

    orders_service.add_tracking(db, actor=staff, order_id=order_id, carrier="UPS",
                                tracking_number="1Z 999 AA1 0123 4567 84", mark_completed=True)
    summary = _sync(db, conn)
    assert summary.push_failed == 0 and summary.new_conflicts == 0
    there = store.get_order(target["id"])
    assert there["status"] == "completed"
    [parcel] = _tracking(there)
    assert parcel["tracking_number"] == "1Z999AA10123456784" and parcel["custom_tracking_provider"] == "UPS"
    assert all(m.status is OutboxStatus.SENT for m in outbox_rows(db))
    detail = orders_service.get_order(db, actor=staff, order_id=order_id)
    assert detail.status is OrderStatus.COMPLETED
    # Pulled back, the store's tracking does not become a second parcel here.
    assert [(s.carrier, s.tracking_number) for s in detail.shipments] == [("UPS", "1Z999AA10123456784")]
    assert_matches_store(db, store)

    # A second sync sends nothing: only reads.
    store.reset_stats()
    _sync(db, conn)
    assert [r for r in store.requests_log if r.method != "GET"] == []
    assert store.get_order(target["id"])["status"] == "completed"
    assert len(_tracking(store.get_order(target["id"]))) == 1
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(Shipment).where(Shipment.order_id == order_id)
                         ).scalar_one() == 1
    assert_matches_store(db, store)


def test_a_status_changed_on_the_store_meanwhile_is_not_overwritten(db, store, conn, staff):
    _first_sync(db, conn)
    target = _with_status(store, "processing")
    order_id = _local_id(db, target["id"])
    orders_service.change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.COMPLETED)
    store.update_order(target["id"], {"status": "cancelled"})

    summary = _sync(db, conn)
    assert summary.new_conflicts == 1
    assert store.get_order(target["id"])["status"] == "cancelled"
    [conflict] = sync.list_conflicts(db, actor=SYNC_ACTOR)
    assert (conflict.field, conflict.local_value, conflict.store_value) == ("status", "completed", "cancelled")


def test_an_order_saved_again_on_the_store_with_nothing_kept_here_changed_is_left_as_it_is(db, store, conn, staff):
    """The store saving an order with only what is not kept here changed (a line's tax class,
    its amounts as they were) moves its modified time there: the desk is not told the order
    changed on the store, and a person who opened it before changes its status without being
    told someone else changed it."""
    _first_sync(db, conn)
    same, other = [o for o in visible_store_orders(store) if o["status"] == "processing"][:2]
    order_id = _local_id(db, same["id"])
    opened = orders_service.get_order(db, actor=staff, order_id=order_id)
    with db.read() as s:
        seen_before = s.get(Order, order_id).store_modified_at
    line = same["line_items"][0]
    store.update_order(same["id"], {"line_items": [{"id": line["id"], "tax_class": "reduced-rate"}]})
    assert store.get_order(same["id"])["date_modified_gmt"] != same["date_modified_gmt"]
    store.update_order(other["id"], {"status": "on-hold"})

    summary = _sync(db, conn)
    assert summary.text.startswith("1 order,"), summary.text  # the one put on hold only
    with db.read() as s:
        assert s.get(Order, order_id).store_modified_at > seen_before  # the copy seen is noted
        assert s.get(Order, _local_id(db, other["id"])).status == OrderStatus.ON_HOLD
    assert _sync(db, conn).text.startswith("0 orders,")
    orders_service.change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.COMPLETED,
                                       expected_version=opened.version)
    _sync(db, conn)
    assert store.get_order(same["id"])["status"] == "completed"


def test_an_order_whose_lines_alone_changed_on_the_store_is_a_change_a_desk_is_told_of(db, store, conn, staff):
    """A line renamed on the store leaves the order's own fields as they were but its modified
    time: the change is counted, and a person who opened the order before is told of it."""
    _first_sync(db, conn)
    target = _with_status(store, "processing")
    order_id = _local_id(db, target["id"])
    opened = orders_service.get_order(db, actor=staff, order_id=order_id)
    line = target["line_items"][0]
    store.update_order(target["id"], {"line_items": [{"id": line["id"], "name": "Renamed on the store"}]})

    summary = _sync(db, conn)
    assert summary.text.startswith("1 order,"), summary.text
    assert "Renamed on the store" in [l.name for l in orders_service.get_order(db, actor=staff,
                                                                              order_id=order_id).lines]
    with pytest.raises(UserFacingError, match="Someone else changed this order"):
        orders_service.change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.COMPLETED,
                                           expected_version=opened.version)


def test_tracking_for_an_order_deleted_on_the_store_is_settled_not_sent(db, store, conn, staff):
    _first_sync(db, conn)
    target = _with_status(store, "processing")
    order_id = _local_id(db, target["id"])
    orders_service.add_tracking(db, actor=staff, order_id=order_id, carrier="DHL", tracking_number="1234567890")
    # Deleted on the store (to its trash, as its admin does) before the sync sends the tracking.
    answer = requests.delete(f"{store.api_url}/orders/{target['id']}",
                             auth=(store.consumer_key, store.consumer_secret), timeout=10)
    assert answer.status_code == 200 and answer.json()["status"] == "trash"

    _sync(db, conn)
    assert _tracking(store.get_order(target["id"])) == []
    detail = orders_service.get_order(db, actor=staff, order_id=order_id)
    assert detail.status is OrderStatus.TRASH and detail.next_statuses == () and not detail.can_add_tracking
    assert all(m.status is OutboxStatus.SENT for m in outbox_rows(db))
    with pytest.raises(UserFacingError, match="deleted on the web store: do not ship it"):
        orders_service.change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.COMPLETED)


def test_a_cancel_reaches_the_store_with_its_reason_as_a_note(db, store, conn, staff):
    _first_sync(db, conn)
    target = _with_status(store, "processing")
    order_id = _local_id(db, target["id"])
    orders_service.change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.CANCELLED,
                                       reason="The caller found it cheaper elsewhere")
    _sync(db, conn)
    assert store.get_order(target["id"])["status"] == "cancelled"
    notes = [n["note"] for n in conn.get_order_notes(target["id"])]
    assert notes.count("Cancelled at the desk: The caller found it cheaper elsewhere") == 1
    _sync(db, conn)  # nothing is sent twice
    assert len([n for n in conn.get_order_notes(target["id"]) if "cheaper" in n["note"]]) == 1
