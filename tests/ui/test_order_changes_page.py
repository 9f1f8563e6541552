"""Changing an order from its page: staff move it to another status and add a tracking number,
problems show under the fields, an order taker gets no such controls, and an order deleted on
the web store says not to ship it."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QMessageBox, QPushButton
from sqlalchemy import select

from backoffice.domain.base import utcnow
from backoffice.domain import Order, OrderLine, OutboxMessage, Shipment
from backoffice.domain.enums import OrderStatus, OutboxKind
from ui.common.guarded_line_edit import GuardedLineEdit
from ui.orders.order_page import DELETED_NOTICE, OrderPage
from tests.ui.conftest import open_page

WAIT_MS = 10_000


def add_order(db, *, status=OrderStatus.PROCESSING, taken_by=None, paid: bool = True) -> int:
    # Paid unless said otherwise: an unpaid order is never completed.
    with db.begin() as s:
        order = Order(number="4264", store_id=4264, status=status, subtotal=Decimal("25.00"),
                      total=Decimal("25.00"), created_by_staff_id=taken_by, paid_at=utcnow() if paid else None)
        s.add(order)
        s.flush()
        s.add(OrderLine(order_id=order.id, sku="MUG-1", name="Coffee Mug", quantity=2, unit_price=Decimal("12.50"),
                        total=Decimal("25.00")))
        return order.id


def open_order_page(qtbot, ctx, order_id) -> OrderPage:
    return open_page(qtbot, ctx, OrderPage, order_id, size=(1100, 860))


def combo_texts(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def test_staff_complete_an_order_and_add_its_tracking_number(qtbot, db, staff, ctx_for):
    order_id = add_order(db, status=OrderStatus.PROCESSING)
    ctx = ctx_for(db, staff)
    page = open_order_page(qtbot, ctx, order_id)
    assert page.changes_box.isVisible()
    assert combo_texts(page.next_status) == ["On hold", "Completed", "Cancelled"]
    # Nothing is chosen yet, so Apply does nothing by accident.
    assert page.next_status.currentIndex() == -1 and not page.apply_status_button.isEnabled()
    assert page.tracking.text() == "Not shipped yet"

    page.next_status.setCurrentIndex(page.next_status.findText("Completed"))
    with qtbot.waitSignal(ctx.bus.changed, timeout=WAIT_MS):
        qtbot.mouseClick(page.apply_status_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.status is OrderStatus.COMPLETED, timeout=WAIT_MS)
    assert page.state.text().startswith("Completed")
    # A completed order may only be reopened, and needs no "Mark completed" with its parcel.
    assert combo_texts(page.next_status) == ["Processing"]
    assert not page.mark_completed.isVisible()

    assert combo_texts(page.carrier)[:5] == ["USPS", "UPS", "FedEx", "DHL", "Royal Mail"]
    page.carrier.setCurrentIndex(page.carrier.findText("UPS"))
    qtbot.keyClicks(page.tracking_number, "1Z 999 AA1 0123 4567 84")
    with qtbot.waitSignal(ctx.bus.changed, timeout=WAIT_MS):
        qtbot.mouseClick(page.add_tracking_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "1Z999AA10123456784" in page.tracking.text(), timeout=WAIT_MS)
    assert page.tracking.text() == "UPS 1Z999AA10123456784"
    assert page.tracking_number.text() == ""
    assert not page.tracking_error.isVisible() and not page.status_error.isVisible()
    with db.read() as s:
        kinds = list(s.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))
    assert kinds == [OutboxKind.UPDATE_ORDER_STATUS, OutboxKind.ADD_TRACKING]


def test_adding_tracking_can_complete_the_order_at_once(qtbot, db, staff, ctx_for):
    order_id = add_order(db, status=OrderStatus.PROCESSING)
    ctx = ctx_for(db, staff)
    page = open_order_page(qtbot, ctx, order_id)
    # Never ticked for the person: completing emails the customer.
    assert page.mark_completed.isVisible() and not page.mark_completed.isChecked()
    page.mark_completed.setChecked(True)
    page.carrier.setEditText("Evri")
    qtbot.keyClicks(page.tracking_number, "H01HYA0012345678")
    qtbot.keyClick(page.tracking_number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.detail.status is OrderStatus.COMPLETED, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: page.tracking.text() == "Evri H01HYA0012345678", timeout=WAIT_MS)


def test_problems_show_under_the_fields_and_nothing_is_saved(qtbot, db, staff, ctx_for):
    order_id = add_order(db, status=OrderStatus.PROCESSING)
    ctx = ctx_for(db, staff)
    page = open_order_page(qtbot, ctx, order_id)
    qtbot.keyClicks(page.tracking_number, "12")
    qtbot.mouseClick(page.add_tracking_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(page.tracking_error.isVisible, timeout=WAIT_MS)
    assert "6 to 40" in page.tracking_error.text()

    # A card number typed as the tracking number is masked in the field and never saved.
    page.tracking_number.clear()
    qtbot.keyClicks(page.tracking_number, "4111 1111 1111 1111")
    assert "4111 1111" not in page.tracking_number.text()
    assert page.tracking_number.notice.isVisible() and "1111" in page.tracking_number.notice.text()
    qtbot.mouseClick(page.add_tracking_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.tracking_error.isVisible() and page.add_tracking_button.isEnabled(),
                    timeout=WAIT_MS)
    assert ctx.tasks.wait_all(WAIT_MS)
    with db.read() as s:
        assert list(s.scalars(select(Shipment.tracking_number))) == []
        assert list(s.scalars(select(OutboxMessage.id))) == []
        assert s.get(Order, order_id).status is OrderStatus.PROCESSING


def test_a_status_changed_elsewhere_meanwhile_is_told_under_the_status(qtbot, db, staff, owner, ctx_for):
    from backoffice.services.orders import change_order_status

    order_id = add_order(db, status=OrderStatus.PROCESSING)
    ctx = ctx_for(db, staff)
    page = open_order_page(qtbot, ctx, order_id)
    change_order_status(db, actor=owner, order_id=order_id, status=OrderStatus.CANCELLED, reason="Out of stock")
    page.next_status.setCurrentIndex(page.next_status.findText("Completed"))
    qtbot.mouseClick(page.apply_status_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.findChild(QMessageBox, "errorBox") is not None, timeout=WAIT_MS)
    assert "Someone else changed this order" in page.findChild(QMessageBox, "errorBox").text()
    # The page shows the order as it is now: cancelled, with nothing to move it to or ship.
    qtbot.waitUntil(lambda: page.detail.status is OrderStatus.CANCELLED, timeout=WAIT_MS)
    assert page.state.text().startswith("Cancelled")
    assert not page.changes_box.isVisible()
    with db.read() as s:
        assert s.get(Order, order_id).status is OrderStatus.CANCELLED


def test_an_order_taker_gets_no_controls(qtbot, db, order_taker, ctx_for):
    order_id = add_order(db, status=OrderStatus.PROCESSING, taken_by=order_taker.staff_id)
    page = open_order_page(qtbot, ctx_for(db, order_taker), order_id)
    assert page.changes_box is None
    names = {b.objectName() for b in page.findChildren(QPushButton)}
    assert not names & {"applyStatusButton", "addTrackingButton"}
    assert page.findChild(GuardedLineEdit, "trackingNumber") is None
    assert page.findChild(QComboBox, "nextStatus") is None


def test_an_order_deleted_on_the_web_store_says_not_to_ship_and_offers_nothing(qtbot, db, staff, ctx_for):
    order_id = add_order(db, status=OrderStatus.TRASH)
    page = open_order_page(qtbot, ctx_for(db, staff), order_id)
    assert page.deleted_notice.isVisible() and page.deleted_notice.text() == DELETED_NOTICE
    assert DELETED_NOTICE == "Deleted on the web store: do not ship."
    assert not page.changes_box.isVisible()
    assert not page.apply_status_button.isVisible() and not page.add_tracking_button.isVisible()
