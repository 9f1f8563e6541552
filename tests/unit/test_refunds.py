"""Refunds recorded at the desk on both databases: never more than was paid less earlier refunds,
lines never past what is left of them, each refusal a sentence, the refund kept with its outbox
message and audit entry, and order takers refused."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.domain import AuditEvent, Order, OrderLine, OrderRefund, OutboxMessage, Payment
from backoffice.domain.base import utcnow
from backoffice.domain.enums import OrderStatus, OutboxKind, PaymentMethod, PaymentStatus
from backoffice.errors import ConflictError, PermissionDenied, ValidationError
from backoffice.services import orders as orders_service
from backoffice.services.refunds import RefundLine, record_refund

CARD = "4111 1111 1111 1111"


def add_order(db, *, paid: bool = True, status=OrderStatus.COMPLETED, earlier_refund: str | None = None):
    """An order of 2 mugs at 12.50 and 1 teapot at 30.00 plus 5.00 shipping: 60.00."""
    with db.begin() as s:
        order = Order(number="4268", store_id=9001, status=status, subtotal=Decimal("55.00"),
                      shipping_total=Decimal("5.00"), total=Decimal("60.00"), paid_at=utcnow() if paid else None)
        s.add(order)
        s.flush()
        mug = OrderLine(order_id=order.id, sku="MUG", name="Blue Mug", quantity=2, unit_price=Decimal("12.50"),
                        total=Decimal("25.00"), store_line_id=71)
        pot = OrderLine(order_id=order.id, sku="POT", name="Teapot", quantity=1, unit_price=Decimal("30.00"),
                        total=Decimal("30.00"), store_line_id=72)
        s.add_all([mug, pot])
        if earlier_refund:
            s.add(OrderRefund(order_id=order.id, store_id=9100, amount=Decimal(earlier_refund), reason="Late",
                              lines=""))
        s.flush()
        return order.id, mug.id, pot.id


def test_a_refund_is_kept_with_its_lines_waits_to_be_sent_and_is_audited(db, staff):
    order_id, mug, _pot = add_order(db)
    record_refund(db, actor=staff, order_id=order_id, amount="12.50", reason="  Arrived  broken ",
                  lines=[RefundLine(mug, 1)])

    detail = orders_service.get_order(db, actor=staff, order_id=order_id)
    (refund,) = detail.refunds
    assert (refund.amount, refund.reason, refund.lines) == (Decimal("12.50"), "Arrived broken", "1 × Blue Mug (12.50)")
    assert refund.waiting and refund.refunded_at is not None
    assert detail.refunded_total == Decimal("12.50") and detail.refundable == Decimal("47.50")
    assert next(l for l in detail.lines if l.id == mug).refunded_quantity == 1
    with db.read() as s:
        (message,) = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.CREATE_REFUND)).all()
        assert message.entity_type == "refund"
        assert json.loads(message.payload)["lines"] == [{"line_id": mug, "quantity": 1, "sku": "MUG"}]
        assert "broken" not in message.payload  # the reason is read from the refund when sent
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "record_refund")).one()
        assert (event.staff_id, event.entity_id) == (staff.staff_id, order_id)


def test_no_more_than_was_paid_less_earlier_refunds(db, staff):
    order_id, _mug, _pot = add_order(db, earlier_refund="20.00")
    with pytest.raises(ValidationError, match=r"At most 40.00 USD can be refunded: 60.00 was paid and 20.00"):
        record_refund(db, actor=staff, order_id=order_id, amount="40.01", reason="Too much")
    record_refund(db, actor=staff, order_id=order_id, amount="40.00", reason="The rest")
    with pytest.raises(ValidationError, match="All that was paid has been refunded already") as refused:
        record_refund(db, actor=staff, order_id=order_id, amount="0.01", reason="More")
    assert refused.value.fields["amount"]
    assert orders_service.get_order(db, actor=staff, order_id=order_id).why_not_refund.startswith("All that was paid")


def test_an_unpaid_order_has_nothing_to_refund_unless_part_was_paid(db, staff):
    order_id, _mug, _pot = add_order(db, paid=False, status=OrderStatus.PENDING)
    detail = orders_service.get_order(db, actor=staff, order_id=order_id)
    assert detail.refundable == 0 and "not paid" in detail.why_not_refund
    with pytest.raises(ValidationError, match="not paid, so there is nothing to refund"):
        record_refund(db, actor=staff, order_id=order_id, amount="1.00", reason="Goodwill")
    with db.begin() as s:
        s.add(Payment(order_id=order_id, method=PaymentMethod.TERMINAL, status=PaymentStatus.PAID,
                      amount=Decimal("10.00"), recorded_at=utcnow()))
    with pytest.raises(ValidationError, match="At most 10.00"):
        record_refund(db, actor=staff, order_id=order_id, amount="10.50", reason="Goodwill")


def test_lines_never_past_what_is_left_of_them(db, staff):
    order_id, mug, pot = add_order(db)
    record_refund(db, actor=staff, order_id=order_id, amount="25.00", reason="Both mugs chipped",
                  lines=[RefundLine(mug, 2)])
    with pytest.raises(ValidationError, match="“Blue Mug” was ordered 2 times and 2 were refunded already") as e:
        record_refund(db, actor=staff, order_id=order_id, amount="12.50", reason="Again", lines=[RefundLine(mug, 1)])
    assert "lines" in e.value.fields
    record_refund(db, actor=staff, order_id=order_id, amount="30.00", reason="Teapot lid", lines=[{"line_id": pot,
                                                                                                   "quantity": 1}])


@pytest.mark.parametrize(("amount", "reason", "field", "words"), [
    ("", "Broken", "amount", "Type the amount"),
    ("twelve", "Broken", "amount", "Type the amount"),
    ("-5", "Broken", "amount", "more than zero"),
    ("1.005", "Broken", "amount", "two decimals"),
    ("5.00", "   ", "reason", "Say why"),
    ("5.00", f"card {CARD}", "reason", "card number"),
])
def test_what_cannot_be_refunded_is_said_in_words_and_nothing_is_kept(db, staff, amount, reason, field, words):
    order_id, _mug, _pot = add_order(db)
    with pytest.raises(ValidationError, match=words) as refused:
        record_refund(db, actor=staff, order_id=order_id, amount=amount, reason=reason)
    assert field in refused.value.fields and "nothing was refunded" in refused.value.message.lower()
    with db.read() as s:
        assert s.scalars(select(OrderRefund)).all() == []
        assert s.scalars(select(OutboxMessage)).all() == []


def test_an_order_taker_may_not_refund_and_a_stale_page_refunds_nothing(db, staff, order_taker):
    order_id, _mug, _pot = add_order(db)
    with pytest.raises(PermissionDenied, match="Order taker accounts may not refund orders"):
        record_refund(db, actor=order_taker, order_id=order_id, amount="5.00", reason="Broken")
    seen = orders_service.get_order(db, actor=staff, order_id=order_id)
    orders_service.change_order_status(db, actor=staff, order_id=order_id, status=OrderStatus.PROCESSING)
    with pytest.raises(ConflictError, match="nothing was refunded"):
        record_refund(db, actor=staff, order_id=order_id, amount="5.00", reason="Broken",
                      expected_version=seen.version)
    with db.read() as s:
        assert s.scalars(select(OrderRefund)).all() == []
