"""The order page's rules a person meets: an unpaid order is not completed, a cancel says why."""

from __future__ import annotations

import pytest

from backoffice.domain import Order
from backoffice.domain.base import utcnow
from backoffice.domain.enums import OrderStatus, Role
from backoffice.errors import ValidationError
from backoffice.services import orders as orders_service
from tests.conftest import make_staff
from tests.ui.conftest import open_page
from ui.orders.order_page import OrderPage


def _order(db, *, paid: bool, status=OrderStatus.PROCESSING) -> int:
    with db.begin() as s:
        order = Order(number="4268", status=status, paid_at=utcnow() if paid else None)
        s.add(order)
        s.flush()
        return order.id


def test_an_unpaid_order_cannot_be_completed_and_the_page_says_why(qtbot, sqlite_db, ctx_for):
    staff = make_staff(sqlite_db, Role.STAFF, "sam")
    unpaid = _order(sqlite_db, paid=False)
    ctx = ctx_for(sqlite_db, staff)
    page = open_page(qtbot, ctx, OrderPage, unpaid, size=(1024, 700))
    statuses = [page.next_status.itemData(i) for i in range(page.next_status.count())]
    assert OrderStatus.COMPLETED not in statuses and OrderStatus.CANCELLED in statuses
    assert page.mark_completed.isVisible() and not page.mark_completed.isChecked()
    assert not page.mark_completed.isEnabled() and "not paid yet" in page.mark_completed.toolTip()
    assert page.complete_hint.isVisible()
    with pytest.raises(ValidationError, match="not paid yet"):
        orders_service.change_order_status(sqlite_db, actor=staff, order_id=unpaid, status=OrderStatus.COMPLETED)
    with pytest.raises(ValidationError, match="not paid yet"):
        orders_service.add_tracking(sqlite_db, actor=staff, order_id=unpaid, carrier="UPS",
                                    tracking_number="1Z999AA10123456784", mark_completed=True)


def test_a_paid_order_may_be_completed_as_its_parcel_goes_but_is_not_ticked_for_the_person(
        qtbot, sqlite_db, ctx_for):
    staff = make_staff(sqlite_db, Role.STAFF, "sam")
    paid = _order(sqlite_db, paid=True)
    ctx = ctx_for(sqlite_db, staff)
    page = open_page(qtbot, ctx, OrderPage, paid, size=(1024, 700))
    assert page.mark_completed.isEnabled() and not page.mark_completed.isChecked()
    assert not page.complete_hint.isVisible()
    # Ticked by the person, it stays ticked when the page refreshes.
    page.mark_completed.setChecked(True)
    page.reload()
    qtbot.waitUntil(lambda: not ctx.tasks.busy(), timeout=10_000)
    assert page.mark_completed.isChecked()


def test_a_cancel_asks_why_and_keeps_the_reason_for_the_store(qtbot, sqlite_db, ctx_for):
    import json

    from sqlalchemy import select

    from backoffice.domain import OutboxMessage
    from PySide6.QtCore import Qt

    staff = make_staff(sqlite_db, Role.STAFF, "sam")
    order_id = _order(sqlite_db, paid=False)
    ctx = ctx_for(sqlite_db, staff)
    page = open_page(qtbot, ctx, OrderPage, order_id, size=(1024, 700))
    assert not page.cancel_reason.isVisible()
    page.next_status.setCurrentIndex(page.next_status.findData(OrderStatus.CANCELLED))
    assert page.cancel_reason.isVisible()
    qtbot.mouseClick(page.apply_status_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.status_error.isVisible(), timeout=10_000)
    assert "Say why" in page.status_error.text()
    qtbot.keyClicks(page.cancel_reason, "Caller found it cheaper elsewhere")
    qtbot.mouseClick(page.apply_status_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.status == OrderStatus.CANCELLED, timeout=10_000)
    with sqlite_db.read() as s:
        order = s.get(Order, order_id)
        assert order.cancel_reason == "Caller found it cheaper elsewhere"
        payloads = [m.payload for m in s.scalars(select(OutboxMessage))]
    assert "cheaper" not in " ".join(payloads)  # the outbox holds no words of it; it is read when sent

    with pytest.raises(ValidationError, match="card number"):
        orders_service.change_order_status(sqlite_db, actor=staff, order_id=_order(sqlite_db, paid=True),
                                           status=OrderStatus.CANCELLED, reason="card 4111 1111 1111 1111")
