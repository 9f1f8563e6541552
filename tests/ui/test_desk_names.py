"""Staff read order numbers and customer names, never the desk's internal ids."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from PySide6.QtCore import Qt

from backoffice.domain.customers import Customer
from backoffice.domain.enums import OutboxKind, Role
from backoffice.domain.orders import Order, Shipment
from backoffice.errors import PermissionDenied
from backoffice.services import access, audit
from backoffice.services.search_index import rebuild_search_index
from tests.conftest import make_staff
from tests.integration.sync_helpers import add_message, new_customer
from ui.staff.audit_screen import AuditScreen
from ui.sync.sync_screen import SyncScreen

WAIT_MS = 10_000


@pytest.fixture
def shop(sqlite_db):
    """An owner; Carol Adams with order 4268 (internal id far from it) and a shipment of it;
    an erased customer; and an order the desk took that the store has not numbered yet."""
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    carol = new_customer(sqlite_db, email="carol@example.com", first_name="Carol", last_name="Adams",
                         with_message=False)
    gone = new_customer(sqlite_db, email="gone@example.com", first_name="Gone", last_name="Person",
                        with_message=False)
    with sqlite_db.begin() as s:
        s.get(Customer, gone).erased_at = datetime.now(timezone.utc)
        for i in range(5):  # push the ids away from the numbers
            s.add(Order(number=f"9{i}", customer_id=carol))
        s.flush()
        numbered = Order(number="4268", customer_id=carol)
        local = Order(customer_id=carol)
        s.add_all([numbered, local])
        s.flush()
        shipment = Shipment(order_id=numbered.id, tracking_number="1Z999")
        s.add(shipment)
        s.flush()
        add_message(s, OutboxKind.UPDATE_ORDER_STATUS, "order", numbered.id)
        add_message(s, OutboxKind.ADD_TRACKING, "shipment", shipment.id)
        add_message(s, OutboxKind.UPDATE_CUSTOMER, "customer", carol)
        audit.record(s, owner, "view_order", entity_type="order", entity_id=numbered.id, customer_id=carol)
        audit.record(s, owner, "view_order", entity_type="order", entity_id=local.id, customer_id=carol)
        audit.record(s, owner, "view_customer", entity_type="customer", entity_id=gone, customer_id=gone)
        ids = {"numbered": numbered.id, "local": local.id, "shipment": shipment.id}
    rebuild_search_index(sqlite_db)
    return owner, carol, gone, ids


def _column(model, name):
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    col = headers.index(name)
    return [model.index(r, col).data() for r in range(model.rowCount())]


def test_changes_to_send_name_the_order_number_and_the_customer(qtbot, sqlite_db, shop, ctx_for):
    owner, carol, _gone, ids = shop
    ctx = ctx_for(sqlite_db, owner)
    screen = SyncScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(lambda: screen.outbox_model.rowCount() == 3, timeout=WAIT_MS)
    records = _column(screen.outbox_model, "Record")
    assert set(records) == {"order 4268", "shipment of order 4268", "Carol Adams"}
    screen.controller.shutdown() if hasattr(screen.controller, "shutdown") else None


def test_the_audit_trail_names_orders_and_customers_and_filters_by_name(qtbot, sqlite_db, shop, ctx_for):
    owner, carol, gone, ids = shop
    ctx = ctx_for(sqlite_db, owner)
    screen = AuditScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1024, 600)
    screen.show()
    qtbot.waitUntil(lambda: screen.model.rowCount() >= 3 and not screen.model.is_loading(), timeout=WAIT_MS)
    records = _column(screen.model, "Record")
    customers = _column(screen.model, "Customer")
    assert "order 4268" in records and f"order (local {ids['local']})" in records
    assert f"order {ids['numbered']}" not in records
    assert "Carol Adams" in customers and "erased customer" in customers
    assert "Gone Person" not in customers and str(carol) not in customers
    # Nothing personal is written into the trail itself.
    with sqlite_db.read() as s:
        from backoffice.domain.audit import AuditEvent
        from sqlalchemy import select
        stored = " ".join(str(v) for ev in s.execute(select(AuditEvent)).scalars()
                          for v in (ev.entity_type, ev.action, ev.fields))
    assert "Carol" not in stored and "4268" not in stored

    assert "id" not in screen.customer_edit.placeholderText().lower()
    screen.customer_edit.setFocus()
    qtbot.keyClicks(screen.customer_edit, "carol@example.com")
    qtbot.waitUntil(lambda: screen.filters()["customer_id"] == carol, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not screen.model.is_loading() and screen.model.rowCount() == 2, timeout=WAIT_MS)
    assert screen.customer_edit.text() == "Carol Adams"
    assert set(_column(screen.model, "Customer")) == {"Carol Adams"}


def test_a_refusal_names_the_order_by_its_number(sqlite_db, shop):
    _owner, _carol, _gone, ids = shop
    taker = make_staff(sqlite_db, Role.ORDER_TAKER, "taker")
    with pytest.raises(PermissionDenied) as refused:
        access.require_own_order(sqlite_db, taker, ids["numbered"])
    assert "4268" in str(refused.value) and str(ids["numbered"]) not in str(refused.value).replace("4268", "")


@pytest.mark.parametrize("width", [1024, 1600])
def test_audit_columns_fit_their_action_names(qtbot, sqlite_db, shop, ctx_for, width):
    owner, carol, _gone, ids = shop
    with sqlite_db.begin() as s:
        audit.record(s, owner, "denied:export_personal_data", entity_type="customer", entity_id=carol,
                     customer_id=carol)
    ctx = ctx_for(sqlite_db, owner)
    screen = AuditScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(width, 700)
    screen.show()
    qtbot.waitExposed(screen)
    qtbot.waitUntil(lambda: screen.model.rowCount() >= 4 and not screen.model.is_loading(), timeout=WAIT_MS)
    qtbot.wait(50)
    metrics = screen.table.fontMetrics()
    header = screen.table.horizontalHeader()
    for column in (3, 4):  # Action, Record
        for row in range(screen.model.rowCount()):
            index = screen.model.index(row, column)
            text = index.data()
            fits = metrics.horizontalAdvance(text) + 8 <= header.sectionSize(column)
            assert fits or index.data(Qt.ItemDataRole.ToolTipRole).startswith(text), (column, text)
    # The longest action names are not cut at either width.
    action = screen.model.index(0, 3).data()
    assert metrics.horizontalAdvance(action) + 8 <= header.sectionSize(3), action


def test_a_refund_waiting_to_be_sent_is_named_by_its_order_number(qtbot, sqlite_db, shop, ctx_for):
    from decimal import Decimal

    from backoffice.domain.base import utcnow
    from backoffice.services.refunds import record_refund

    owner, _carol, _gone, ids = shop
    with sqlite_db.begin() as s:
        order = s.get(Order, ids["numbered"])
        order.total, order.paid_at = Decimal("20.00"), utcnow()
    record_refund(sqlite_db, actor=owner, order_id=ids["numbered"], amount="5.00", reason="Late")
    ctx = ctx_for(sqlite_db, owner)
    screen = SyncScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(lambda: screen.outbox_model.rowCount() == 4, timeout=WAIT_MS)
    assert "refund on order 4268" in _column(screen.outbox_model, "Record")


def test_an_order_or_customer_not_found_is_said_without_its_internal_id(qtbot, sqlite_db, shop, ctx_for):
    from backoffice.errors import NotFound
    from backoffice.services import customers, orders
    from ui.orders.order_page import OrderPage

    owner, _carol, _gone, _ids = shop
    for call in (lambda: orders.get_order(sqlite_db, actor=owner, order_id=987654),
                 lambda: customers.get_customer(sqlite_db, actor=owner, customer_id=987654)):
        with pytest.raises(NotFound) as missing:
            call()
        assert "987654" not in missing.value.message and "no" in missing.value.message
    ctx = ctx_for(sqlite_db, owner)
    page = OrderPage(ctx, 987654)
    ctx.pages.append(page)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.tab_title == "Order not opened", timeout=WAIT_MS)
    assert "not found" in page.state.text() and "987654" not in page.state.text()
