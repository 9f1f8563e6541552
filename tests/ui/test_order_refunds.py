"""A refund at the order page: staff choose the items (the amount follows), say why, and the page
shows the refund waiting to be sent; too much is refused under the field; an unpaid order says why
it has nothing to refund; order takers never meet the control."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from sqlalchemy import select

from backoffice.domain import AuditEvent, Order, OrderLine, OrderRefund, OutboxMessage
from backoffice.domain.base import utcnow
from backoffice.domain.enums import OrderStatus, OutboxKind
from tests.ui.conftest import open_page
from ui.orders.order_page import OrderPage
from ui.orders.refund_dialog import RefundDialog

WAIT_MS = 10_000


def add_order(db, *, paid: bool = True, taken_by: int | None = None) -> int:
    with db.begin() as s:
        order = Order(number="4268", status=OrderStatus.COMPLETED if paid else OrderStatus.PENDING,
                      subtotal=Decimal("55.00"), shipping_total=Decimal("5.00"), total=Decimal("60.00"),
                      paid_at=utcnow() if paid else None, created_by_staff_id=taken_by)
        s.add(order)
        s.flush()
        s.add_all([OrderLine(order_id=order.id, sku="MUG", name="Blue Mug", quantity=2,
                             unit_price=Decimal("12.50"), total=Decimal("25.00")),
                   OrderLine(order_id=order.id, sku="POT", name="Teapot", quantity=1,
                             unit_price=Decimal("30.00"), total=Decimal("30.00"))])
        return order.id


def open_refund(qtbot, page) -> RefundDialog:
    assert page.refund_button.isEnabled()
    qtbot.mouseClick(page.refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.refund_dialog is not None and page.refund_dialog.isVisible(), timeout=WAIT_MS)
    return page.refund_dialog


def test_staff_refund_an_item_and_the_page_shows_it_waiting_to_be_sent(qtbot, db, staff, ctx_for):
    order_id = add_order(db)
    ctx = ctx_for(db, staff)
    page = open_page(qtbot, ctx, OrderPage, order_id, size=(1024, 700))
    assert page.refund_hint.text() == "Up to 60.00 USD may be refunded."
    dialog = open_refund(qtbot, page)
    mug = next(l.id for l in page.detail.lines if l.name == "Blue Mug")
    dialog.spins[mug].setValue(1)
    assert dialog.amount.text() == "12.50"

    qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.reason_error.isVisible, timeout=WAIT_MS)
    assert "Say why" in dialog.reason_error.text()
    qtbot.keyClicks(dialog.reason, "Arrived broken")
    with qtbot.waitSignal(ctx.bus.changed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.refund_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Arrived broken" in page.totals.text(), timeout=WAIT_MS)
    assert page.refund_dialog is None  # closed once saved
    text = page.totals.text()
    assert "Refunded −12.50 USD (Arrived broken)" in text and "waiting to send to the web store" in text
    assert "1 × Blue Mug (12.50)" in text and "Refunded in all 12.50 USD" in text
    assert page.refund_hint.text() == "Up to 47.50 USD may be refunded."
    with db.read() as s:
        assert s.scalars(select(OutboxMessage.kind)).all() == [OutboxKind.CREATE_REFUND]
        assert s.scalars(select(AuditEvent.action).where(AuditEvent.action == "record_refund")).all()

    # The mug refunded is no longer offered twice over; too much is refused under the amount.
    dialog = open_refund(qtbot, page)
    assert dialog.spins[mug].maximum() == 1
    qtbot.keyClicks(dialog.amount, "50")
    qtbot.keyClicks(dialog.reason, "Goodwill")
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(dialog.amount_error.isVisible, timeout=WAIT_MS)
    assert "At most 47.50 USD can be refunded" in dialog.amount_error.text()
    qtbot.wait(50)
    # The sentence is shown whole: the dialog makes room for it.
    label = dialog.amount_error
    assert label.height() >= label.heightForWidth(label.width())
    # Escape leaves it without a refund.
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: page.refund_dialog is None, timeout=WAIT_MS)
    with db.read() as s:
        assert len(s.scalars(select(OrderRefund)).all()) == 1


def test_an_unpaid_order_greys_refund_and_says_why(qtbot, db, staff, ctx_for):
    order_id = add_order(db, paid=False)
    ctx = ctx_for(db, staff)
    page = open_page(qtbot, ctx, OrderPage, order_id, size=(1024, 700))
    assert page.refund_button.isVisible() and not page.refund_button.isEnabled()
    assert "not paid" in page.refund_button.toolTip() and "not paid" in page.refund_hint.text()


def test_order_takers_never_meet_the_refund_control(qtbot, db, order_taker, ctx_for):
    order_id = add_order(db, taken_by=order_taker.staff_id)
    ctx = ctx_for(db, order_taker)
    page = open_page(qtbot, ctx, OrderPage, order_id, size=(1024, 700))
    assert page.refund_button is None
    assert not [b for b in page.findChildren(QPushButton) if "refund" in b.text().lower()]
    QApplication.processEvents()
