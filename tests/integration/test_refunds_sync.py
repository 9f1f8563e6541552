"""Refunds recorded at the desk reach the dev store over real HTTP on SQLite and PostgreSQL: once,
with their reason, amount and lines, as a record only (`api_refund` false); a lost answer is looked
for instead of refunded twice; and the dev store refuses what a WooCommerce store refuses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from backoffice.domain import Order
from backoffice.domain.base import utcnow
from backoffice.domain.sync import OutboxMessage
from backoffice.domain.enums import OrderStatus, OutboxStatus
from backoffice.errors import StoreError
from backoffice.services import orders as orders_service
from backoffice.services import sync
from backoffice.services.refunds import RefundLine, record_refund
from backoffice.store.connector import ORDER_REFERENCE_META_KEY
from backoffice.store.devstore import DevStore
from tests.integration.sync_helpers import FAST, SYNC_ACTOR, connector, outbox_rows, visible_store_orders


@pytest.fixture
def store():
    with DevStore(seed=23) as devstore:
        devstore.populate(customers=10, orders=40, products=6)
        yield devstore


@pytest.fixture
def conn(store):
    with connector(store) as c:
        yield c


def _sync(db, conn, **kwargs):
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR, **kwargs)
    assert summary.ok, summary.error
    return summary


def _paid_order(store) -> dict:
    return next(o for o in visible_store_orders(store)
                if o["status"] in ("completed", "processing") and not o["refunds"] and o["line_items"])


def _local(db, store_id: int) -> int:
    with db.read() as s:
        return s.execute(select(Order.id).where(Order.store_id == store_id)).scalar_one()


def test_the_dev_store_records_a_refund_as_woocommerce_does(store, conn):
    target = _paid_order(store)
    store.update_order(target["id"], {"payment_method": "bacs"})
    line = target["line_items"][0]
    # A stock store pays back through the gateway unless told not to; bank transfer cannot.
    with pytest.raises(StoreError, match="does not support automatic refunds") as refused:
        conn._http.request("POST", f"/orders/{target['id']}/refunds", _op(target),
                           json={"amount": "1.00", "reason": "x"})
    assert not refused.value.retryable
    assert store.refunds_of(target["id"]) == []

    record = conn.create_refund(target["id"], {"amount": "1.00", "reason": "Chipped", "line_items": [
        {"id": line["id"], "quantity": 1, "refund_total": "1.00"}]}, reference="bo-refund-1")
    assert record["reason"] == "Chipped" and record["refunded_payment"] is False
    assert conn.find_refund_by_reference(target["id"], "bo-refund-1")["id"] == record["id"]
    assert conn.find_refund_by_reference(target["id"], "bo-other") is None
    with pytest.raises(StoreError, match="Invalid refund amount") as too_much:
        conn.create_refund(target["id"], {"amount": target["total"], "reason": "All"}, reference="bo-refund-2")
    assert not too_much.value.retryable and "Nothing was changed there" in too_much.value.message


def _op(target):
    from backoffice.store.http import Operation

    return Operation(f"record a refund of order {target['id']}", "the order")


def test_a_refund_from_the_desk_reaches_the_store_once_and_shows_as_sent(db, store, conn, staff):
    _sync(db, conn, full_customer_scan=True)
    target = _paid_order(store)
    order_id = _local(db, target["id"])
    detail = orders_service.get_order(db, actor=staff, order_id=order_id)
    line = detail.lines[0]
    record_refund(db, actor=staff, order_id=order_id, amount=line.unit_price, reason="Arrived broken",
                  lines=[RefundLine(line.id, 1)])
    assert orders_service.get_order(db, actor=staff, order_id=order_id).refunds[0].waiting

    _sync(db, conn)
    _sync(db, conn)  # nothing is sent twice
    (refund,) = store.refunds_of(target["id"])
    assert (Decimal(refund["amount"]), refund["reason"]) == (line.unit_price, "Arrived broken")
    assert refund["refunded_payment"] is False
    assert [(i["quantity"], i["name"]) for i in refund["line_items"]] == [(-1, line.name)]
    assert any(m["key"] == ORDER_REFERENCE_META_KEY for m in refund["meta_data"])
    after = orders_service.get_order(db, actor=staff, order_id=order_id)
    (mine,) = after.refunds
    assert not mine.waiting and mine.reason == "Arrived broken"
    assert after.refunded_total == line.unit_price
    assert all(m.status is OutboxStatus.SENT for m in outbox_rows(db))


def test_a_full_refund_makes_the_order_refunded_and_a_lost_answer_refunds_once(db, store, conn, staff):
    _sync(db, conn, full_customer_scan=True)
    target = _paid_order(store)
    order_id = _local(db, target["id"])
    detail = orders_service.get_order(db, actor=staff, order_id=order_id)
    record_refund(db, actor=staff, order_id=order_id, amount=detail.refundable, reason="Never arrived")
    store.faults.limit_to("/refunds")
    store.faults.drop_after_commit_next(1)

    _sync(db, conn)
    assert store.faults.pending == {}, "the fault was never met"
    assert len(store.refunds_of(target["id"])) == 1
    assert store.get_order(target["id"])["status"] == "refunded"
    after = orders_service.get_order(db, actor=staff, order_id=order_id)
    assert after.status is OrderStatus.REFUNDED and after.refundable == 0
    assert [r.waiting for r in after.refunds] == [False]


def test_a_refund_on_a_phone_order_not_on_the_store_yet_follows_it_there(db, store, conn, staff):
    from tests.integration.sync_helpers import new_customer, phone_order, some_skus

    _sync(db, conn, full_customer_scan=True)
    customer = new_customer(db, email="caller@example.com")
    sku = some_skus(db, 1)[0]
    order_id, _reference = phone_order(db, customer_id=customer, skus={sku: 2}, paid_txn="ch_refund_1")
    detail = orders_service.get_order(db, actor=staff, order_id=order_id)
    (line,) = detail.lines
    record_refund(db, actor=staff, order_id=order_id, amount=line.unit_price, reason="One came broken",
                  lines=[RefundLine(line.id, 1)])

    _sync(db, conn)
    after = orders_service.get_order(db, actor=staff, order_id=order_id)
    (refund,) = store.refunds_of(after.store_id)
    assert refund["reason"] == "One came broken" and Decimal(refund["amount"]) == line.unit_price
    assert [i["quantity"] for i in refund["line_items"]] == [-1]  # the item too, by the store's line id
    assert [r.waiting for r in after.refunds] == [False]
    assert all(m.status is OutboxStatus.SENT for m in outbox_rows(db))


def test_send_now_on_an_order_sends_its_refunds_too(db, store, conn, staff):
    _sync(db, conn, full_customer_scan=True)
    target = _paid_order(store)
    order_id = _local(db, target["id"])
    line = orders_service.get_order(db, actor=staff, order_id=order_id).lines[0]
    record_refund(db, actor=staff, order_id=order_id, amount=line.unit_price, reason="Wrong size",
                  lines=[RefundLine(line.id, 1)])

    sync.push_order_now(db, conn, order_id, actor=staff, options=FAST)
    (refund,) = store.refunds_of(target["id"])
    assert refund["reason"] == "Wrong size"
    assert [r.waiting for r in orders_service.get_order(db, actor=staff, order_id=order_id).refunds] == [False]


def _refunded(db, staff, order_id: int) -> list[tuple[str, int, int]]:
    order = orders_service.get_order(db, actor=staff, order_id=order_id)
    return [(line.sku, line.quantity, line.refunded_quantity) for line in order.lines]


def test_items_refunded_on_the_store_count_as_refunded_here_once(db, store, conn, staff):
    """Someone refunds an item in the store's own admin: the desk no longer packs it."""
    _sync(db, conn, full_customer_scan=True)
    target = next(o for o in visible_store_orders(store)
                  if o["status"] in ("processing", "completed") and not o["refunds"] and len(o["line_items"]) >= 2)
    store.update_order(target["id"], {"payment_method": "bacs"})
    order_id = _local(db, target["id"])
    before = _refunded(db, staff, order_id)
    assert all(refunded == 0 for _sku, _quantity, refunded in before)
    first, second = target["line_items"][0], target["line_items"][1]
    store.refund_order(target["id"], {"amount": "3.00", "reason": "One broke", "api_refund": False, "line_items": [
        {"id": first["id"], "quantity": 1, "refund_total": "2.00"},
        {"id": second["id"], "quantity": second["quantity"], "refund_total": "1.00"}]})
    store.refund_order(target["id"], {"amount": "1.00", "reason": "Goodwill", "api_refund": False})

    _sync(db, conn)
    expected = [(sku, quantity, 1 if i == 0 else quantity if i == 1 else 0)
                for i, (sku, quantity, _refunded_before) in enumerate(before)]
    assert _refunded(db, staff, order_id) == expected
    _sync(db, conn)  # read again: counted once
    assert _refunded(db, staff, order_id) == expected


def test_a_refund_from_the_desk_is_not_counted_again_when_a_sync_reads_it_first(db, store, conn, staff):
    """The desk's refund reached the store but its answer was lost, and its next try is not due
    yet: a sync reads the store's copy first. Its item was counted when it was recorded here."""
    _sync(db, conn, full_customer_scan=True)
    target = next(o for o in visible_store_orders(store)  # two of an item: one refunded, one left
                  if o["status"] in ("processing", "completed") and not o["refunds"]
                  and o["line_items"] and o["line_items"][0]["quantity"] >= 2)
    store.update_order(target["id"], {"payment_method": "bacs"})
    order_id = _local(db, target["id"])
    line = orders_service.get_order(db, actor=staff, order_id=order_id).lines[0]
    store_line = next(x for x in target["line_items"] if x["sku"] == line.sku and x["name"] == line.name)
    record_refund(db, actor=staff, order_id=order_id, amount=line.unit_price, reason="Wrong size",
                  lines=[RefundLine(line.id, 1)])
    (row,) = [r for r in outbox_rows(db) if r.entity_type == "refund"]
    amount = f"{line.unit_price:.2f}"
    store.refund_order(target["id"], {
        "amount": amount, "reason": "Wrong size", "api_refund": False,
        "line_items": [{"id": store_line["id"], "quantity": 1, "refund_total": amount}],
        "meta_data": [{"key": ORDER_REFERENCE_META_KEY, "value": row.reference}]})
    with db.begin() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
            attempts=1, next_attempt_at=utcnow() + timedelta(hours=1)))
    _sync(db, conn)
    assert {sku: refunded for sku, _quantity, refunded in _refunded(db, staff, order_id)}[line.sku] == 1


def test_a_first_sync_reads_past_refunds_lines_for_the_orders_still_to_go_out(db, store, conn, staff):
    """A shop's first sync: an item refunded earlier on an order still to be shipped is not
    packed; a finished order keeps its refund's amount and reason, without a request for its lines."""
    open_order, done_order = (next(o for o in visible_store_orders(store)
                                   if o["status"] == status and not o["refunds"] and o["line_items"])
                              for status in ("processing", "completed"))
    for order in (open_order, done_order):
        store.update_order(order["id"], {"payment_method": "bacs"})
        line = order["line_items"][0]
        store.refund_order(order["id"], {"amount": "1.00", "reason": "One broke", "api_refund": False,
                                         "line_items": [{"id": line["id"], "quantity": 1, "refund_total": "1.00"}]})
    store.reset_stats()
    _sync(db, conn, full_customer_scan=True)

    asked = {path for _method, path, _query, _status in store.requests_log}
    assert f"/wp-json/wc/v3/orders/{open_order['id']}/refunds" in asked
    assert f"/wp-json/wc/v3/orders/{done_order['id']}/refunds" not in asked
    to_pack = _refunded(db, staff, _local(db, open_order["id"]))
    assert [refunded for _sku, _quantity, refunded in to_pack] == [1] + [0] * (len(to_pack) - 1)
    assert all(refunded == 0 for _sku, _quantity, refunded in _refunded(db, staff, _local(db, done_order["id"])))
    for order in (open_order, done_order):
        refunds = orders_service.get_order(db, actor=staff, order_id=_local(db, order["id"])).refunds
        assert [(r.amount, r.reason) for r in refunds] == [(Decimal("1.00"), "One broke")]
    _sync(db, conn)  # read again: counted once
    assert [refunded for _sku, _quantity, refunded in _refunded(db, staff, _local(db, open_order["id"]))] == \
        [1] + [0] * (len(to_pack) - 1)
