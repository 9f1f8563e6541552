"""The orders screen a desk lives in: typing an order number, a name or a phone narrows the
list and its count; filters combine; paging still works."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt

from backoffice.domain import Order
from backoffice.domain.enums import OrderOrigin, OrderStatus
from backoffice.services import customers as customers_service
from ui.orders.orders_screen import OrdersScreen

WAIT_MS = 10_000


def test_search_and_filters_narrow_the_list_and_the_count(qtbot, ctx_for, db, staff, order_taker):
    maria = customers_service.create_customer(db, actor=staff, first_name="María", last_name="García",
                                              email="maria@example.com", phone="+1 (713) 555-0199").customer.id
    now = datetime.now(timezone.utc)
    with db.begin() as s:
        for i in range(250):
            s.add(Order(number=str(5000 + i), status=OrderStatus.PROCESSING, created_at=now - timedelta(hours=i),
                        paid_at=now if i % 2 else None))
        s.add(Order(number="7001", customer_id=maria, status=OrderStatus.PROCESSING, paid_at=now,
                    origin=OrderOrigin.PHONE, created_by_staff_id=order_taker.staff_id, created_at=now))
    ctx = ctx_for(db, staff)
    screen = OrdersScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1024, 700)
    screen.show()
    qtbot.waitUntil(lambda: screen.count_label.text() == "251 orders", timeout=WAIT_MS)
    assert screen.model.rowCount() == 200

    qtbot.keyClicks(screen.search, "713 555 0199")
    qtbot.waitUntil(lambda: screen.count_label.text() == "1 order", timeout=WAIT_MS)
    assert screen.model.index(0, 0).data() == "7001"
    screen.search.clear()
    qtbot.keyClicks(screen.search, "#51")
    qtbot.waitUntil(lambda: screen.count_label.text() == "100 orders", timeout=WAIT_MS)
    screen.paid_filter.setCurrentIndex(screen.paid_filter.findText("Not paid"))
    qtbot.waitUntil(lambda: screen.count_label.text() == "50 orders", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 50, timeout=WAIT_MS)
    assert all(screen.model.index(r, 4).data() == "" for r in range(50))
    screen.search.clear()
    screen.paid_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: screen.taken_by_filter.count() == 2, timeout=WAIT_MS)
    screen.taken_by_filter.setCurrentIndex(1)
    qtbot.waitUntil(lambda: screen.count_label.text() == "1 order", timeout=WAIT_MS)
    screen.taken_by_filter.setCurrentIndex(0)
    screen.origin_filter.setCurrentIndex(screen.origin_filter.findText("Web"))
    qtbot.waitUntil(lambda: screen.count_label.text() == "250 orders", timeout=WAIT_MS)
    screen.dates.setChecked(True)
    screen.date_from.setDate(screen.date_to.date())
    qtbot.waitUntil(lambda: screen.count_label.text() != "250 orders" and screen.count_label.text() != "Counting…",
                    timeout=WAIT_MS)
    shown = int(screen.count_label.text().split()[0])
    assert 0 < shown < 250
    qtbot.mouseClick(screen.dates, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.count_label.text() == "250 orders", timeout=WAIT_MS)
