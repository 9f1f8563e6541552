"""The order taker on a customer's page: she meets no control that does nothing, and is told why."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from backoffice.domain import Order
from backoffice.domain.enums import Role
from backoffice.services import customers as customers_service
from tests.conftest import make_staff
from tests.ui.conftest import open_page
from ui.customers.customer_page import CustomerPage
from ui.orders.order_page import OrderPage

WAIT_MS = 10_000


@pytest.fixture
def desk(sqlite_db):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    taker = make_staff(sqlite_db, Role.ORDER_TAKER, "tina")
    carol = customers_service.create_customer(sqlite_db, actor=owner, first_name="Carol", last_name="Adams",
                                              email="carol@example.com").customer.id
    with sqlite_db.begin() as s:
        web = Order(number="4268", customer_id=carol)  # a web order: nobody at the desk took it
        hers = Order(number="4300", customer_id=carol, created_by_staff_id=taker.staff_id)
        s.add_all([web, hers])
        s.flush()
        ids = {"web": web.id, "hers": hers.id}
    return owner, taker, carol, ids


def _row_of(page, number):
    return [page.orders.item(r, 0).text() for r in range(page.orders.rowCount())].index(number)


def test_orders_she_may_not_open_are_greyed_with_the_reason(qtbot, sqlite_db, desk, ctx_for):
    _owner, taker, carol, ids = desk
    ctx = ctx_for(sqlite_db, taker)
    page = open_page(qtbot, ctx, CustomerPage, carol, size=(1024, 700))
    page.tabs.setCurrentIndex(2)
    assert page.orders_hint.isVisible() and "taken by someone else" in page.orders_hint.text()
    refused, mine = _row_of(page, "4268"), _row_of(page, "4300")
    assert "open only the orders they took" in page.orders.item(refused, 0).toolTip()
    assert page.orders.item(mine, 0).toolTip() == ""
    assert page.orders.item(refused, 0).foreground().color() != page.orders.item(mine, 0).foreground().color()

    opened = []
    page.order_opened.connect(opened.append)
    page._open_order(page.orders.model().index(refused, 0))
    assert opened == []
    assert page.message.isVisible() and "Order 4268 cannot be opened" in page.message.text()
    assert str(ids["web"]) not in page.message.text().replace("4268", "")
    page._open_order(page.orders.model().index(mine, 0))
    assert opened == [ids["hers"]]


def test_a_refused_order_page_says_why_instead_of_loading_for_ever(qtbot, sqlite_db, desk, ctx_for):
    _owner, taker, _carol, ids = desk
    ctx = ctx_for(sqlite_db, taker)
    page = OrderPage(ctx, ids["web"])
    ctx.pages.append(page)
    qtbot.addWidget(page)
    page.resize(1024, 700)
    page.show()
    qtbot.waitUntil(lambda: page.heading.text() != "Loading order…", timeout=WAIT_MS)
    assert page.heading.text() == "This order could not be opened."
    assert "Order 4268 was taken by someone else" in page.state.text()
    assert page.tab_title == "Order not opened"
    assert not page.lines.isVisible()


def test_she_adds_a_delivery_note_and_is_told_why_she_cannot_edit(qtbot, sqlite_db, desk, ctx_for):
    _owner, taker, carol, _ids = desk
    ctx = ctx_for(sqlite_db, taker)
    page = open_page(qtbot, ctx, CustomerPage, carol, size=(1024, 700))
    assert not page.edit_button.isEnabled()
    assert "Order taker accounts may not change" in page.edit_button.toolTip()
    assert page.edit_hint.isVisible() and page.edit_hint.text() == page.edit_button.toolTip()

    page.tabs.setCurrentIndex(page.tabs.indexOf(page.notes.parentWidget()))
    assert page.note_button.isEnabled() and not page.note_hint.isVisible()
    page.note_text.setPlainText("Leave parcels with the neighbour at 12")
    qtbot.mouseClick(page.note_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.notes.count() == 1, timeout=WAIT_MS)
    assert "neighbour" in page.notes.item(0).text()


def test_the_customer_name_is_shown_in_the_heading(qtbot, sqlite_db, desk, ctx_for):
    _owner, taker, carol, _ids = desk
    ctx = ctx_for(sqlite_db, taker)
    page = open_page(qtbot, ctx, CustomerPage, carol, size=(1024, 700))
    qtbot.wait(50)
    assert page.heading.text() == "Carol Adams"
    # Laid out wide enough to read, not squeezed to nothing beside the status.
    assert page.heading.width() >= page.heading.fontMetrics().horizontalAdvance("Carol Adams")
