"""Orders deleted (moved to the trash) on the web store, against the dev store over real HTTP on
SQLite and PostgreSQL: the incremental sync marks them deleted here and no longer open, never
imports one it had not read, brings a restored one back with its status, and settles the changes
waiting for them instead of sending them."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import select

from backoffice.domain import Order, OutboxMessage, Payment, Shipment, SyncConflict, SyncRun
from backoffice.domain.base import utcnow
from backoffice.domain.enums import OrderStatus, OutboxKind, OutboxStatus, PaymentStatus
from backoffice.domain.orders import OPEN_STATUSES
from backoffice.domain.sync import PayLinkOutcome
from backoffice.services import orders as orders_service
from backoffice.services import sync
from backoffice.services.store_mapping import TRACKING_META_KEY
from backoffice.services.sync_pull import ORDER_GONE_NOTE
from backoffice.store.devstore import DevStore
from tests.integration.sync_helpers import SYNC_ACTOR, FAST, add_message, assert_matches_store, connector, visible_store_orders

GONE = "deleted on the web store"


STORE = {"seed": 13, "customers": 20, "orders": 90, "products": 8, "clock": "moving"}


@pytest.fixture
def conn(store):
    with connector(store) as c:
        yield c


def _trash(store, order_id: int) -> dict:
    """Delete an order the way the store's admin does: to the trash (no `force`)."""
    answer = requests.delete(f"{store.api_url}/orders/{order_id}", auth=(store.consumer_key, store.consumer_secret),
                             timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "trash"
    return answer.json()


def _first_sync(db, conn):
    summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.trashed_orders == 0 and GONE not in summary.text
    return summary


def _sync(db, conn):
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    return summary


def _local(db, store_id: int) -> Order:
    with db.read() as s:
        row = s.execute(select(Order).where(Order.store_id == store_id)).scalar_one()
        s.expunge(row)
        return row


def _held(db, store_id: int) -> bool:
    with db.read() as s:
        return s.execute(select(Order.id).where(Order.store_id == store_id)).first() is not None


def _message(db, message_id: int) -> OutboxMessage:
    with db.read() as s:
        row = s.get(OutboxMessage, message_id)
        s.expunge(row)
        return row


def _with_status(store, status: str, skip: int = 0) -> dict:
    return [o for o in visible_store_orders(store) if o["status"] == status][skip]


def _open_ids(db, staff) -> set[int]:
    """The orders the desk lists to pay, pack or ship, as the orders screen asks for them."""
    ids = set()
    for status in OPEN_STATUSES:
        ids |= {r.id for r in orders_service.list_orders_page(db, actor=staff, status=status, limit=1000).rows}
    return ids


def test_the_dev_store_bumps_date_modified_on_trash_and_restore_and_lists_the_trash_apart():
    now = [1_790_000_000.0]
    with DevStore(seed=5, clock=lambda: now[0]) as store:
        store.populate(customers=3, orders=20, products=3)
        target = _with_status(store, "processing")
        before = store.get_order(target["id"])["date_modified_gmt"]
        with connector(store) as conn:
            now[0] += 60
            trashed = _trash(store, target["id"])
            assert trashed["date_modified_gmt"] > before
            listed = [o["id"] for page in conn.iter_orders() for o in page]
            in_trash = [o for page in conn.iter_trashed_orders() for o in page]
            assert target["id"] not in listed
            assert in_trash == [{"id": target["id"], "status": "trash",
                                 "date_modified_gmt": trashed["date_modified_gmt"]}]
            # Trashed again: the store says it is already there.
            again = requests.delete(f"{store.api_url}/orders/{target['id']}",
                                    auth=(store.consumer_key, store.consumer_secret), timeout=10)
            assert again.status_code == 410 and again.json()["code"] == "woocommerce_rest_already_trashed"

            # The store restores an order by updating its status.
            now[0] += 60
            restored = conn.update_order(target["id"], {"status": "processing"})
            assert restored["status"] == "processing"
            assert restored["date_modified_gmt"] > trashed["date_modified_gmt"]
            assert target["id"] in [o["id"] for page in conn.iter_orders() for o in page]
            assert [o for page in conn.iter_trashed_orders() for o in page] == []


def test_an_order_trashed_on_the_store_is_kept_here_as_deleted_there_and_is_no_longer_open(db, store, conn, staff):
    _first_sync(db, conn)
    target = _with_status(store, "processing")
    kept = _local(db, target["id"])
    assert kept.is_open() and kept.id in _open_ids(db, staff)
    _trash(store, target["id"])

    summary = _sync(db, conn)
    assert summary.trashed_orders == 1
    assert "1 order deleted on the web store is marked so here" in summary.text
    assert kept.id in summary.changes.orders
    with db.read() as s:
        assert s.get(SyncRun, summary.run_id).summary == summary.text

    gone = _local(db, target["id"])
    assert gone.status == OrderStatus.TRASH and gone.is_deleted_on_store()
    assert not gone.is_open() and not gone.can_record_payment() and not gone.can_add_tracking()
    # Kept with everything it had: number, total, lines.
    assert (gone.number, gone.total, gone.customer_id) == (kept.number, kept.total, kept.customer_id)
    detail = orders_service.get_order(db, actor=staff, order_id=kept.id)
    assert detail.status == OrderStatus.TRASH and len(detail.lines) == len(target["line_items"])
    # Left out of every list of orders to pay, pack or ship; found under its own status.
    assert kept.id not in _open_ids(db, staff)
    assert [r.id for r in orders_service.list_orders_page(db, actor=staff, status=OrderStatus.TRASH).rows] == [kept.id]

    again = _sync(db, conn)
    assert again.trashed_orders == 0 and GONE not in again.text
    assert kept.id not in again.changes.orders
    assert _local(db, target["id"]).version == gone.version


def test_an_order_trashed_before_the_back_office_read_it_is_never_imported(db, store, conn):
    early = _with_status(store, "processing")
    _trash(store, early["id"])
    _first_sync(db, conn)
    assert not _held(db, early["id"])

    # Placed and deleted between two syncs: the trash lists it, but it was never read here.
    product = store.list_products()[0]
    brief = conn.create_order({"status": "processing", "line_items": [{"product_id": product["id"], "quantity": 1}],
                               "billing": {"first_name": "Brief", "last_name": "Fraud"}},
                              reference="bo-test-brief").record
    _trash(store, brief["id"])
    summary = _sync(db, conn)
    assert summary.trashed_orders == 0 and summary.pulled_orders == 0
    assert not _held(db, early["id"]) and not _held(db, brief["id"])
    assert_matches_store(db, store)


def test_an_order_restored_on_the_store_comes_back_with_its_status(db, store, conn, staff):
    _first_sync(db, conn)
    target = _with_status(store, "on-hold")
    local_id = _local(db, target["id"]).id
    trashed = _trash(store, target["id"])
    assert _sync(db, conn).trashed_orders == 1
    assert _local(db, target["id"]).status == OrderStatus.TRASH

    # Restored a second later (the store keeps whole seconds), as the admin's "Restore" does.
    store.clock.advance(1)
    restored = conn.update_order(target["id"], {"status": "on-hold"})
    assert restored["date_modified_gmt"] > trashed["date_modified_gmt"]
    summary = _sync(db, conn)
    assert summary.trashed_orders == 0 and summary.pulled_orders == 1
    assert local_id in summary.changes.orders
    back = _local(db, target["id"])
    assert back.status == OrderStatus.ON_HOLD and back.is_open()
    assert local_id in _open_ids(db, staff)
    assert_matches_store(db, store)


def test_a_waiting_status_change_for_a_trashed_order_is_settled_not_sent(db, store, conn):
    _first_sync(db, conn)
    target = _with_status(store, "processing")
    with db.begin() as s:
        order = s.execute(select(Order).where(Order.store_id == target["id"])).scalar_one()
        order.status = OrderStatus.COMPLETED
        change = add_message(s, OutboxKind.UPDATE_ORDER_STATUS, "order", order.id, {"from": "processing"}).id
    _trash(store, target["id"])

    summary = _sync(db, conn)
    assert summary.push_failed == 0 and summary.new_conflicts == 0
    assert summary.trashed_orders == 1
    message = _message(db, change)
    assert (message.status, message.last_error) == (OutboxStatus.SENT, ORDER_GONE_NOTE)
    # The store's order stays in the trash, not completed.
    assert store.get_order(target["id"])["status"] == "trash"
    assert _local(db, target["id"]).status == OrderStatus.TRASH
    assert sync.list_conflicts(db, actor=SYNC_ACTOR) == []
    assert sync.sync_status(db, actor=SYNC_ACTOR).waiting == 0 and sync.sync_status(db, actor=SYNC_ACTOR).failed == 0


def test_tracking_payment_and_pay_link_waiting_for_a_trashed_order_are_settled_not_sent(db, store, conn):
    _first_sync(db, conn)
    shipped = _with_status(store, "processing")
    unpaid = _with_status(store, "pending")
    with db.begin() as s:
        order = s.execute(select(Order).where(Order.store_id == shipped["id"])).scalar_one()
        parcel = Shipment(order_id=order.id, carrier="UPS", tracking_number="1Z999AA10123456784")
        s.add(parcel)
        s.flush()
        tracking = add_message(s, OutboxKind.ADD_TRACKING, "shipment", parcel.id).id
        pending = s.execute(select(Order).where(Order.store_id == unpaid["id"])).scalar_one()
        pay_link = add_message(s, OutboxKind.SEND_PAY_LINK, "order", pending.id).id
        pending.paid_at = utcnow()
        pending.status = OrderStatus.PROCESSING
        s.add(Payment(order_id=pending.id, method="terminal", status=PaymentStatus.PAID, gateway="stripe",
                      transaction_id="ch_after_delete", amount=pending.total, paid_at=pending.paid_at))
        paid = add_message(s, OutboxKind.MARK_ORDER_PAID, "order", pending.id).id
    for order in (shipped, unpaid):
        _trash(store, order["id"])
    emails = len(store.sent_emails())

    store.reset_stats()
    summary = _sync(db, conn)
    assert summary.push_failed == 0 and summary.trashed_orders == 2
    assert "2 orders deleted on the web store are marked so here" in summary.text
    for message_id in (tracking, pay_link, paid):
        message = _message(db, message_id)
        assert (message.status, message.last_error) == (OutboxStatus.SENT, ORDER_GONE_NOTE), message.kind
    assert json.loads(_message(db, pay_link).payload)["outcome"] == PayLinkOutcome.NOT_NEEDED
    # Nothing reached the store: no tracking, no payment, no email, both still in the trash.
    there = store.get_order(shipped["id"])
    assert there["status"] == "trash" and not [m for m in there["meta_data"] if m["key"] == TRACKING_META_KEY]
    there = store.get_order(unpaid["id"])
    assert there["status"] == "trash" and not there["date_paid_gmt"] and there["transaction_id"] != "ch_after_delete"
    assert len(store.sent_emails()) == emails
    assert not [r for r in store.requests_log if r.method != "GET"]
    # One question about the trash before sending, for both orders.
    asked = [r for r in store.requests_log if r.query.get("status") == "trash" and "include" in r.query]
    assert len(asked) == 1
    assert set(asked[0].query["include"].split(",")) == {str(shipped["id"]), str(unpaid["id"])}


def test_changes_left_failed_or_in_conflict_for_a_trashed_order_are_settled_by_the_pull(db, store, conn):
    _first_sync(db, conn)
    target = _with_status(store, "processing")
    with db.begin() as s:
        order = s.execute(select(Order).where(Order.store_id == target["id"])).scalar_one()
        failed = add_message(s, OutboxKind.UPDATE_ORDER_STATUS, "order", order.id, {"from": "processing"})
        failed.status = OutboxStatus.FAILED
        failed.last_error = "The web store refused the change."
        held = add_message(s, OutboxKind.UPDATE_ORDER_STATUS, "order", order.id, {"from": "processing"})
        held.status = OutboxStatus.CONFLICT
        s.add(SyncConflict(entity_type="order", entity_id=order.id, customer_id=order.customer_id, field="status",
                           local_value="completed", store_value="on-hold", outbox_id=held.id, resolved=False,
                           resolution=""))
        ids = (failed.id, held.id)
    _trash(store, target["id"])
    summary = _sync(db, conn)
    assert summary.trashed_orders == 1
    for message_id in ids:
        message = _message(db, message_id)
        assert (message.status, message.last_error) == (OutboxStatus.SENT, ORDER_GONE_NOTE)
    assert sync.list_conflicts(db, actor=SYNC_ACTOR) == []
    assert store.get_order(target["id"])["status"] == "trash"


def test_reading_a_trashed_order_from_the_store_marks_it_deleted_here(db, store, conn):
    _first_sync(db, conn)
    target = _with_status(store, "pending")
    local_id = _local(db, target["id"]).id
    _trash(store, target["id"])
    state = sync.refresh_order_from_store(db, conn, local_id, actor=SYNC_ACTOR)
    assert state.status == OrderStatus.TRASH and state.waiting == 0


def test_incremental_sync_with_nothing_changed_makes_at_most_five_requests_with_the_trash_read(db, store, conn):
    _first_sync(db, conn)
    _trash(store, _with_status(store, "processing")["id"])
    assert _sync(db, conn).trashed_orders == 1
    store.reset_stats()
    summary = _sync(db, conn)
    assert summary.trashed_orders == 0 and summary.pulled_orders == 0
    assert store.request_count <= 5
    assert summary.requests == store.request_count
    listings = [r.query.get("status", "any") for r in store.requests_log if r.path.endswith("/orders")]
    assert sorted(listings) == ["any", "trash"]
