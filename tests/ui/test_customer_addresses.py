"""Adding and changing a customer's addresses on the customer page, as the desk would."""

from __future__ import annotations

from PySide6.QtCore import Qt

from backoffice.domain.enums import Role
from backoffice.services import customers as customers_service
from tests.conftest import make_staff
from tests.ui.conftest import open_page
from ui.customers.customer_page import CustomerPage

WAIT_MS = 10_000


def _carol(db, owner) -> int:
    return customers_service.create_customer(
        db, actor=owner, first_name="Carol", last_name="Adams", email="carol@example.com",
        address={"address_1": "1 Main St", "city": "Houston", "postcode": "77002"}).customer.id


def _texts(table):
    return [" | ".join(table.item(r, c).text() for c in range(table.columnCount())) for r in range(table.rowCount())]


def test_staff_add_a_shipping_address_then_change_it(qtbot, sqlite_db, ctx_for):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    carol = _carol(sqlite_db, owner)
    ctx = ctx_for(sqlite_db, owner)
    page = open_page(qtbot, ctx, CustomerPage, carol, size=(1024, 700))
    page.tabs.setCurrentWidget(page.address_panel)
    assert page.address_panel.add_button.isEnabled() and not page.address_panel.hint.isVisible()

    qtbot.mouseClick(page.address_panel.add_button, Qt.MouseButton.LeftButton)
    dialog = page.address_panel.dialog
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.form.fields["address_1"], "500 Office Park")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.errors["city"].isVisible(), timeout=WAIT_MS)
    assert dialog.form.errors["postcode"].text() == "Enter the postcode."
    qtbot.keyClicks(dialog.form.fields["city"], "Austin")
    qtbot.keyClicks(dialog.form.fields["postcode"], "78701")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.addresses.rowCount() == 2, timeout=WAIT_MS)
    assert any(t.startswith("Shipping (default)") and "500 Office Park" in t for t in _texts(page.addresses))

    row = next(i for i, t in enumerate(_texts(page.addresses)) if "500 Office Park" in t)
    page.addresses.selectRow(row)
    assert page.address_panel.edit_button.isEnabled()
    qtbot.mouseClick(page.address_panel.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.address_panel.dialog is not dialog and page.address_panel.dialog is not None,
                    timeout=WAIT_MS)
    edit = page.address_panel.dialog
    qtbot.waitExposed(edit)
    assert edit.form.fields["city"].text() == "Austin"
    edit.form.fields["city"].setText("Dallas")
    qtbot.mouseClick(edit.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any("Dallas" in t for t in _texts(page.addresses)), timeout=WAIT_MS)


def test_an_order_taker_is_told_why_addresses_are_not_hers_to_change(qtbot, sqlite_db, ctx_for):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    taker = make_staff(sqlite_db, Role.ORDER_TAKER, "tina")
    carol = _carol(sqlite_db, owner)
    ctx = ctx_for(sqlite_db, taker)
    page = open_page(qtbot, ctx, CustomerPage, carol, size=(1024, 700))
    page.tabs.setCurrentWidget(page.address_panel)
    panel = page.address_panel
    assert not panel.add_button.isEnabled() and "may not change" in panel.add_button.toolTip()
    assert panel.hint.isVisible() and panel.hint.text() == panel.add_button.toolTip()
