"""The owner's shop settings screen: the shipping methods are edited in a table, saved together,
refused with the reason next to the table, and offered on the phone-order screen at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import QThreadPool, Qt
from PySide6.QtWidgets import QApplication

from backoffice.domain.settings import DEFAULT_SHIPPING_METHODS, ShippingMethod
from backoffice.services.settings import get_setting
from ui.context import AppContext
from ui.main_window import MainWindow
from ui.phone_order_screen import PhoneOrderScreen
from ui.shop_settings_screen import ShopSettingsScreen
from ui.tasks import TaskManager

WAIT_MS = 10_000


@pytest.fixture
def screen(qtbot, db, owner):
    ctx = AppContext(db=db, actor=owner, tasks=TaskManager())
    widget = ShopSettingsScreen(ctx)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: widget.table.rowCount() == len(DEFAULT_SHIPPING_METHODS), timeout=WAIT_MS)
    yield widget
    assert ctx.tasks.wait_all(WAIT_MS)
    QApplication.processEvents()
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def cell(screen, row, column) -> str:
    return screen.table.item(row, column).text()


def type_into(qtbot, screen, row, column, text) -> None:
    """Go to a cell and type over it, as the keyboard does: the first key opens the editor."""
    screen.table.setFocus()
    screen.table.setCurrentCell(row, column)
    qtbot.keyClick(screen.table, text[0])
    editor = QApplication.focusWidget()
    assert editor is not screen.table and screen.table.isAncestorOf(editor), "no editor opened"
    qtbot.keyClicks(editor, text[1:])
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # The table takes the typed text once the editor closes (a queued step).
    qtbot.waitUntil(lambda: cell(screen, row, column) == text, timeout=WAIT_MS)


def test_shows_the_store_methods_until_the_owner_changes_them(screen):
    rows = [(cell(screen, r, 0), cell(screen, r, 1), cell(screen, r, 2)) for r in range(screen.table.rowCount())]
    assert rows == [("Flat rate", "flat_rate", "0.00"), ("Free shipping", "free_shipping", "0.00"),
                    ("Local pickup", "local_pickup", "0.00")]
    assert not screen.save_button.isEnabled() and not screen.revert_button.isEnabled()


def test_add_edit_move_remove_and_save(qtbot, db, screen):
    type_into(qtbot, screen, 0, 2, "5.95")
    assert screen.save_button.isEnabled()
    screen.add_button.click()
    row = screen.table.rowCount() - 1
    assert screen.table.currentRow() == row and cell(screen, row, 1) == "flat_rate"
    type_into(qtbot, screen, row, 0, "Courier (next day)")
    type_into(qtbot, screen, row, 2, "9.5")
    screen.move_method(-1)
    assert cell(screen, row - 1, 0) == "Courier (next day)"
    screen.table.setCurrentCell(1, 0)  # Free shipping
    screen.remove_button.click()
    screen.save_button.click()
    qtbot.waitUntil(lambda: screen.message.isVisible(), timeout=WAIT_MS)
    assert screen.message.text().startswith("Saved."), screen.message.text()
    assert not screen.save_button.isEnabled()
    assert get_setting(db, "shipping.methods") == (
        ShippingMethod("Flat rate", "flat_rate", Decimal("5.95")),
        ShippingMethod("Courier (next day)", "flat_rate", Decimal("9.50")),
        ShippingMethod("Local pickup", "local_pickup", Decimal("0.00")),
    )


def test_a_bad_row_is_named_and_nothing_is_saved(qtbot, db, screen):
    screen.add_button.click()
    row = screen.table.rowCount() - 1
    type_into(qtbot, screen, row, 1, "Express Post")
    screen.save_button.click()
    qtbot.waitUntil(lambda: screen.message.isVisible(), timeout=WAIT_MS)
    assert "Shipping method 4: enter a title." in screen.message.text()
    assert "small letters, digits" in screen.message.text()
    assert (screen.table.currentRow(), screen.table.currentColumn()) == (row, 0)
    assert get_setting(db, "shipping.methods") == DEFAULT_SHIPPING_METHODS
    # Revert drops the edits.
    screen.revert_button.click()
    qtbot.waitUntil(lambda: screen.table.rowCount() == 3 and not screen.message.isVisible(), timeout=WAIT_MS)


def test_the_phone_order_screen_offers_what_was_saved(qtbot, db, owner, screen):
    phone = PhoneOrderScreen(screen.ctx)
    qtbot.addWidget(phone)
    qtbot.waitUntil(lambda: phone.shipping_combo.count() == 3, timeout=WAIT_MS)
    type_into(qtbot, screen, 2, 0, "Pick up at the shop")
    screen.save_button.click()
    qtbot.waitUntil(lambda: phone.shipping_combo.count() == 3
                    and phone.shipping_combo.itemData(2).title == "Pick up at the shop", timeout=WAIT_MS)
    phone.stop_watching()


def test_only_the_owner_sees_the_screen(qtbot, db, owner, order_taker):
    for actor, shown in ((owner, True), (order_taker, False)):
        window = MainWindow(AppContext(db=db, actor=actor, tasks=TaskManager()))
        qtbot.addWidget(window)
        assert ("ShopSettingsScreen" in window.screens) is shown
        window.sync.shutdown(WAIT_MS)
        assert window.ctx.tasks.wait_all(WAIT_MS)
