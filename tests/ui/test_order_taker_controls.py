"""The order taker's whole desk at 1024x700: every screen she has, her order's page and a
customer's page. No control she meets is greyed without a tooltip saying why."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QAbstractSpinBox, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit

from backoffice.domain import Order, OrderLine
from backoffice.domain.base import utcnow
from backoffice.domain.enums import OrderStatus, Role
from backoffice.services import customers as customers_service
from tests.conftest import make_staff
from ui.shell.app import build_window

WAIT_MS = 10_000
CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


def greyed_without_a_reason(root) -> list[str]:
    found = []
    for kind in CONTROLS:
        for w in root.findChildren(kind):
            if not w.isVisible() or w.isEnabled() or w.toolTip().strip():
                continue
            parent = w.parentWidget()
            if parent is not None and not parent.isEnabled() and parent.toolTip().strip():
                continue  # the inside of a greyed control that says why (a date field's text)
            found.append(f"{type(w).__name__} {w.objectName() or ''} {getattr(w, 'text', lambda: '')()}".strip())
    return sorted(set(found))


def test_no_control_an_order_taker_meets_is_greyed_without_saying_why(qtbot, sqlite_db):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    taker = make_staff(sqlite_db, Role.ORDER_TAKER, "tina")
    carol = customers_service.create_customer(sqlite_db, actor=owner, first_name="Carol", last_name="Adams",
                                              email="carol@example.com", phone="713-555-0100").customer.id
    with sqlite_db.begin() as s:
        hers = Order(number="4300", customer_id=carol, created_by_staff_id=taker.staff_id,
                     status=OrderStatus.PROCESSING, total=Decimal("10.00"), paid_at=utcnow())
        s.add(hers)
        s.flush()
        s.add(OrderLine(order_id=hers.id, name="Mug", quantity=1, unit_price=Decimal("10.00"),
                        total=Decimal("10.00")))
        order_id = hers.id
    # Not handed to qtbot: the test deletes it itself once its work is over.
    window = build_window(sqlite_db, taker)
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    found = {}
    for name, action in window.navigation.screen_actions.items():
        action.trigger()
        qtbot.waitUntil(lambda: not window.ctx.tasks.busy(), timeout=WAIT_MS)
        qtbot.wait(100)
        found[name] = greyed_without_a_reason(window)
    page = window.open_order(order_id)
    qtbot.waitUntil(lambda: page.detail is not None and not window.ctx.tasks.busy(), timeout=WAIT_MS)
    found["order page"] = greyed_without_a_reason(window)
    page = window.open_customer(carol)
    qtbot.waitUntil(lambda: page.detail is not None and not window.ctx.tasks.busy(), timeout=WAIT_MS)
    qtbot.wait(100)
    found["customer page"] = greyed_without_a_reason(window)
    # Closed and deleted here, its work over, so none of its lists loads into a later test.
    window.ctx.tasks.wait_all(WAIT_MS)
    window.close()
    assert window.ctx.tasks.wait_all(WAIT_MS)
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    assert {k: v for k, v in found.items() if v} == {}
