"""Changing an order at the desk on both databases: its status and a parcel's tracking number,
each saved with its outbox message in one transaction, refused for the wrong role, for a
transition the desk does not make and for an order deleted on the web store."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.domain.base import utcnow
from backoffice.domain import AuditEvent, Order, OrderLine, OutboxMessage, Shipment
from backoffice.domain.enums import OrderStatus, OutboxKind, OutboxStatus
from backoffice.errors import ConflictError, NotFound, PermissionDenied, UserFacingError, ValidationError
from backoffice.services import audit
from backoffice.services import orders as orders_service
from backoffice.services.orders import add_tracking, change_order_status, next_statuses

CARD = "4111 1111 1111 1111"


def add_order(db, *, status=OrderStatus.PROCESSING, store_id: int | None = 501, number="1001",
              paid: bool = True) -> int:
    # Paid unless said otherwise: an unpaid order is never completed.
    with db.begin() as s:
        order = Order(number=number, store_id=store_id, status=status, subtotal=Decimal("12.50"),
                      total=Decimal("12.50"), paid_at=utcnow() if paid else None)
        s.add(order)
        s.flush()
        s.add(OrderLine(order_id=order.id, sku="MUG-1", name="Mug", quantity=1, unit_price=Decimal("12.50"),
                        total=Decimal("12.50")))
        return order.id


def status_of(db, order_id) -> OrderStatus:
    with db.read() as s:
        return s.get(Order, order_id).status


def messages(db, kind=None) -> list[OutboxMessage]:
    with db.read() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            stmt = stmt.where(OutboxMessage.kind == kind)
        rows = list(s.scalars(stmt))
        s.expunge_all()
        return rows


def shipments(db, order_id) -> list[Shipment]:
    with db.read() as s:
        rows = list(s.scalars(select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)))
        s.expunge_all()
        return rows


def audit_rows(db, action) -> list[AuditEvent]:
    with db.read() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))
        s.expunge_all()
        return rows


# --- status ------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "target"), [
    (OrderStatus.PENDING, OrderStatus.PROCESSING),
    (OrderStatus.PENDING, OrderStatus.CANCELLED),
    (OrderStatus.ON_HOLD, OrderStatus.PROCESSING),
    (OrderStatus.PROCESSING, OrderStatus.ON_HOLD),
    (OrderStatus.PROCESSING, OrderStatus.COMPLETED),
    (OrderStatus.FAILED, OrderStatus.PENDING),
    (OrderStatus.COMPLETED, OrderStatus.PROCESSING),
])
def test_an_allowed_change_is_saved_with_the_message_the_push_expects(db, staff, start, target):
    order_id = add_order(db, status=start)
    reason = "The caller changed her mind" if target is OrderStatus.CANCELLED else ""
    changes = change_order_status(db, actor=staff, order_id=order_id, status=target, reason=reason)
    assert changes.orders == {order_id} and changes.outbox
    assert status_of(db, order_id) is target
    [message] = messages(db)
    assert (message.kind, message.entity_type, message.entity_id) == (OutboxKind.UPDATE_ORDER_STATUS, "order",
                                                                      order_id)
    assert message.status is OutboxStatus.PENDING
    # The status it had goes along, so a change made on the store meanwhile becomes a conflict.
    assert json.loads(message.payload) == {"from": start.value}
    [event] = audit_rows(db, "change_order_status")
    assert (event.entity_type, event.entity_id, event.staff_id) == ("order", order_id, staff.staff_id)
    assert json.loads(event.fields) == ["status"]


def test_completing_an_order_records_when(db, owner):
    order_id = add_order(db, status=OrderStatus.PROCESSING)
    change_order_status(db, actor=owner, order_id=order_id, status="completed")
    with db.read() as s:
        assert s.get(Order, order_id).completed_at is not None


@pytest.mark.parametrize(("start", "target", "words"), [
    (OrderStatus.COMPLETED, OrderStatus.REFUNDED, "Refunds are made on the web store"),
    (OrderStatus.PROCESSING, OrderStatus.REFUNDED, "Refunds are made on the web store"),
    (OrderStatus.CANCELLED, OrderStatus.PROCESSING, "take a new order instead"),
    (OrderStatus.REFUNDED, OrderStatus.COMPLETED, "stays as it is"),
    (OrderStatus.DRAFT, OrderStatus.PROCESSING, "cannot be changed here"),
    (OrderStatus.COMPLETED, OrderStatus.CANCELLED, "From here it can go to processing."),
    (OrderStatus.PROCESSING, OrderStatus.FAILED, "on hold, completed or cancelled"),
    (OrderStatus.PROCESSING, OrderStatus.PROCESSING, "already processing"),
])
def test_a_change_the_desk_does_not_make_is_refused_and_nothing_is_written(db, staff, start, target, words):
    order_id = add_order(db, status=start)
    with pytest.raises(ValidationError) as refused:
        change_order_status(db, actor=staff, order_id=order_id, status=target)
    assert words in refused.value.message and "status" in refused.value.fields
    assert status_of(db, order_id) is start
    assert messages(db) == [] and audit_rows(db, "change_order_status") == []


def test_an_order_deleted_on_the_web_store_is_not_changed(db, staff):
    order_id = add_order(db, status=OrderStatus.TRASH)
    assert next_statuses(OrderStatus.TRASH) == ()
    with pytest.raises(UserFacingError, match="deleted on the web store: do not ship it"):
        change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.CANCELLED)
    assert status_of(db, order_id) is OrderStatus.TRASH and messages(db) == []
    detail = orders_service.get_order(db, actor=staff, order_id=order_id)
    assert detail.next_statuses == () and not detail.can_add_tracking


def test_an_order_taker_may_not_change_an_order_and_the_refusal_is_audited(db, order_taker):
    order_id = add_order(db, status=OrderStatus.PROCESSING)
    with pytest.raises(PermissionDenied, match="may not change orders"):
        change_order_status(db, actor=order_taker, order_id=order_id, status=OrderStatus.COMPLETED)
    with pytest.raises(PermissionDenied):
        add_tracking(db, actor=order_taker, order_id=order_id, carrier="UPS", tracking_number="1Z999AA10123456784")
    assert status_of(db, order_id) is OrderStatus.PROCESSING
    assert messages(db) == [] and shipments(db, order_id) == []
    denied = audit_rows(db, "denied:edit_orders")
    assert len(denied) == 2 and all(e.staff_id == order_taker.staff_id for e in denied)


def test_a_change_made_elsewhere_since_the_page_was_loaded_is_not_overwritten(db, staff, owner):
    order_id = add_order(db, status=OrderStatus.PROCESSING)
    seen = orders_service.get_order(db, actor=staff, order_id=order_id)
    assert OrderStatus.COMPLETED in seen.next_statuses and OrderStatus.REFUNDED not in seen.next_statuses
    change_order_status(db, actor=owner, order_id=order_id, status=OrderStatus.ON_HOLD,
                        expected_version=seen.version)
    with pytest.raises(ConflictError, match="Someone else changed this order"):
        change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.COMPLETED,
                            expected_version=seen.version)
    assert status_of(db, order_id) is OrderStatus.ON_HOLD
    assert len(messages(db)) == 1


def test_an_order_not_on_the_store_yet_goes_with_its_new_status(db, staff):
    from backoffice.services.outbox import queue_message

    order_id = add_order(db, status=OrderStatus.PENDING, store_id=None, number=None)
    with db.begin() as s:
        queue_message(s, OutboxKind.CREATE_ORDER, "order", order_id)
    change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.ON_HOLD)
    assert status_of(db, order_id) is OrderStatus.ON_HOLD
    # The waiting create sends the order with the status it has then: no second message.
    assert [m.kind for m in messages(db)] == [OutboxKind.CREATE_ORDER]


def test_status_and_message_are_one_transaction(db, staff, monkeypatch):
    order_id = add_order(db, status=OrderStatus.PROCESSING)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.COMPLETED)
    monkeypatch.undo()
    assert status_of(db, order_id) is OrderStatus.PROCESSING
    assert messages(db) == []


def test_unknown_order_and_unknown_status(db, staff):
    with pytest.raises(NotFound):
        change_order_status(db, actor=staff, order_id=999_999, status=OrderStatus.COMPLETED)
    order_id = add_order(db)
    with pytest.raises(ValidationError, match="not an order status"):
        change_order_status(db, actor=staff, order_id=order_id, status="shipped")


# --- tracking ----------------------------------------------------------------------------


def test_tracking_is_saved_with_its_message_and_the_order_can_be_completed_with_it(db, staff):
    order_id = add_order(db, status=OrderStatus.PROCESSING)
    changes = add_tracking(db, actor=staff, order_id=order_id, carrier=" Royal  Mail ",
                           tracking_number=" ab 1234 5678 9gb ", mark_completed=True)
    assert changes.orders == {order_id} and changes.outbox
    [parcel] = shipments(db, order_id)
    assert (parcel.carrier, parcel.tracking_number, parcel.recorded_by) == ("Royal Mail", "AB123456789GB",
                                                                           staff.staff_id)
    assert status_of(db, order_id) is OrderStatus.COMPLETED
    # The tracking goes first, so the store's "completed" email can carry it.
    tracking, status = messages(db)
    assert (tracking.kind, tracking.entity_type, tracking.entity_id) == (OutboxKind.ADD_TRACKING, "shipment",
                                                                         parcel.id)
    assert status.kind is OutboxKind.UPDATE_ORDER_STATUS and json.loads(status.payload) == {"from": "processing"}
    [event] = audit_rows(db, "add_tracking")
    assert json.loads(event.fields) == ["carrier", "tracking_number"]
    assert "AB123456789GB" not in (event.fields or "")
    assert len(audit_rows(db, "change_order_status")) == 1


def test_tracking_without_completing_leaves_the_status(db, staff):
    order_id = add_order(db, status=OrderStatus.PROCESSING)
    add_tracking(db, actor=staff, order_id=order_id, carrier="UPS", tracking_number="1Z999AA10123456784")
    assert status_of(db, order_id) is OrderStatus.PROCESSING
    assert [m.kind for m in messages(db)] == [OutboxKind.ADD_TRACKING]
    # A completed order takes a second parcel, with nothing to complete.
    change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.COMPLETED)
    add_tracking(db, actor=staff, order_id=order_id, carrier="UPS", tracking_number="1Z999AA10123456785",
                 mark_completed=True)
    assert [s.tracking_number for s in shipments(db, order_id)] == ["1Z999AA10123456784", "1Z999AA10123456785"]
    assert [m.kind for m in messages(db)] == [OutboxKind.ADD_TRACKING, OutboxKind.UPDATE_ORDER_STATUS,
                                              OutboxKind.ADD_TRACKING]


def test_a_card_number_typed_as_a_tracking_number_is_refused_and_kept_nowhere(db, staff):
    order_id = add_order(db, status=OrderStatus.PROCESSING)
    with pytest.raises(ValidationError) as refused:
        add_tracking(db, actor=staff, order_id=order_id, carrier="UPS", tracking_number=CARD,
                     mark_completed=True)
    sentence = refused.value.fields["tracking_number"]
    assert "card number (ending 1111)" in sentence
    assert "4111" not in refused.value.message.replace("ending 1111", "")
    assert shipments(db, order_id) == [] and messages(db) == []
    assert status_of(db, order_id) is OrderStatus.PROCESSING
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.in_(["add_tracking", "change_order_status"]))).scalar_one() == 0


@pytest.mark.parametrize(("carrier", "number", "field", "words"), [
    ("UPS", "   ", "tracking_number", "Type the tracking number"),
    ("UPS", "12345", "tracking_number", "6 to 40"),
    ("UPS", "1Z" + "9" * 60, "tracking_number", "6 to 40"),
    ("UPS", "1Z999/AA1#0123", "tracking_number", "only letters and digits"),
    ("", "1Z999AA10123456784", "carrier", "Choose or type the carrier"),
    ("X" * 41, "1Z999AA10123456784", "carrier", "too long"),
])
def test_a_tracking_number_that_cannot_be_one_is_refused_by_field(db, staff, carrier, number, field, words):
    order_id = add_order(db)
    with pytest.raises(ValidationError) as refused:
        add_tracking(db, actor=staff, order_id=order_id, carrier=carrier, tracking_number=number)
    assert words in refused.value.fields[field]
    assert shipments(db, order_id) == [] and messages(db) == []


def test_the_same_tracking_number_twice_is_refused(db, staff):
    order_id = add_order(db)
    add_tracking(db, actor=staff, order_id=order_id, carrier="DHL", tracking_number="1234567890")
    with pytest.raises(ValidationError, match="already on this order"):
        add_tracking(db, actor=staff, order_id=order_id, carrier="DHL", tracking_number="12 3456 7890")
    assert len(shipments(db, order_id)) == 1 and len(messages(db)) == 1


@pytest.mark.parametrize("status", [OrderStatus.TRASH, OrderStatus.CANCELLED, OrderStatus.REFUNDED,
                                    OrderStatus.FAILED, OrderStatus.DRAFT])
def test_no_parcel_for_an_order_that_is_not_shipped(db, staff, status):
    order_id = add_order(db, status=status)
    with pytest.raises(UserFacingError) as refused:
        add_tracking(db, actor=staff, order_id=order_id, carrier="UPS", tracking_number="1Z999AA10123456784")
    if status is OrderStatus.TRASH:
        assert "deleted on the web store: do not ship it" in refused.value.message
    assert shipments(db, order_id) == [] and messages(db) == []
    assert status_of(db, order_id) is status


def test_parcel_message_and_status_are_one_transaction(db, staff, monkeypatch):
    order_id = add_order(db, status=OrderStatus.PROCESSING)

    def broken(*args, **kwargs):
        raise RuntimeError("connection lost")

    monkeypatch.setattr(orders_service, "queue_status_change", broken)
    with pytest.raises(RuntimeError):
        add_tracking(db, actor=staff, order_id=order_id, carrier="UPS", tracking_number="1Z999AA10123456784",
                     mark_completed=True)
    monkeypatch.undo()
    assert shipments(db, order_id) == [] and messages(db) == []
    assert status_of(db, order_id) is OrderStatus.PROCESSING

