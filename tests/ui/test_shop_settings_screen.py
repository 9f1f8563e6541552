"""The owner's shop settings screen: the shipping methods are edited in a table, saved together,
refused with the reason next to the table, and offered on the phone-order screen at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import QThreadPool, Qt
from PySide6.QtWidgets import QApplication

from backoffice.domain.settings import DEFAULT_SHIPPING_METHODS, ShippingMethod
from backoffice.services.settings import get_setting
from ui.common.context import AppContext
from ui.shell.main_window import MainWindow
from ui.orders.phone_order_screen import PhoneOrderScreen
from ui.settings.settings_form import SettingsForm
from ui.settings.shop_settings_screen import ShopSettingsScreen
from ui.common.tasks import TaskManager

WAIT_MS = 10_000


@pytest.fixture
def screen(qtbot, db, owner):
    ctx = AppContext(db=db, actor=owner, tasks=TaskManager())
    widget = ShopSettingsScreen(ctx)
    qtbot.addWidget(widget)
    widget.tabs.setCurrentWidget(widget.shipping)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is widget, timeout=WAIT_MS)
    page = widget.shipping
    qtbot.waitUntil(lambda: page.table.rowCount() == len(DEFAULT_SHIPPING_METHODS), timeout=WAIT_MS)
    yield page
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


# --- the general settings and the web store ----------------------------------------------------


@pytest.fixture
def settings_screen(qtbot, db, owner):
    ctx = AppContext(db=db, actor=owner, tasks=TaskManager())
    widget = ShopSettingsScreen(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.general.fields["shop.currency"].text() == "USD", timeout=WAIT_MS)
    yield widget
    assert ctx.tasks.wait_all(WAIT_MS)
    QApplication.processEvents()


def test_the_owner_changes_the_shop_and_a_wrong_value_is_named_under_its_field(qtbot, db, settings_screen):
    form = settings_screen.general
    assert not form.save_button.isEnabled()
    currency, days = form.fields["shop.currency"], form.fields["privacy.response_days"]
    assert (days.minimum(), days.maximum()) == (1, 90)  # the spin box keeps to the allowed range
    qtbot.keyClick(form.fields["shop.name"], Qt.Key.Key_End)
    qtbot.keyClicks(form.fields["shop.name"], " & Sons")
    currency.selectAll()
    qtbot.keyClicks(currency, "eu")  # two letters: not a currency code
    assert form.save_button.isEnabled()
    form.save_button.click()
    problem = form.problems["shop.currency"]
    qtbot.waitUntil(problem.isVisible, timeout=WAIT_MS)
    assert "three-letter code" in problem.text() and "Nothing was saved." in form.message.text()
    assert get_setting(db, "shop.name") == "My Shop" and get_setting(db, "shop.currency") == "USD"
    assert QApplication.focusWidget() is currency

    qtbot.keyClicks(currency, "r")
    form.save_button.click()
    qtbot.waitUntil(lambda: get_setting(db, "shop.currency") == "EUR", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: currency.text() == "EUR" and form.message.text() == "Saved.", timeout=WAIT_MS)
    assert get_setting(db, "shop.name") == "My Shop & Sons"
    assert not problem.isVisible() and not form.save_button.isEnabled()


def test_store_keys_are_typed_hidden_saved_to_the_keyring_and_the_connection_checked(qtbot, db, owner,
                                                                                    settings_screen):
    from backoffice import secrets
    from backoffice.store.devstore import DevStore

    store = DevStore(seed=3)
    store.start()
    try:
        page = settings_screen.web_store
        settings_screen.tabs.setCurrentWidget(page)
        url = page.form.fields["store.url"]
        qtbot.keyClicks(url, store.base_url + "/")
        page.form.save_button.click()
        qtbot.waitUntil(lambda: get_setting(db, "store.url") == store.base_url, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: "No API keys are saved" in page.keys_state.text(), timeout=WAIT_MS)
        assert not page.check_button.isEnabled()

        assert page.key_field.echoMode() == page.key_field.EchoMode.Password
        qtbot.keyClicks(page.key_field, store.consumer_key)
        qtbot.keyClicks(page.secret_field, store.consumer_secret)
        page.save_keys_button.click()
        qtbot.waitUntil(lambda: "are kept in this computer's keyring" in page.keys_state.text(), timeout=WAIT_MS)
        assert page.key_field.text() == "" and page.secret_field.text() == ""
        assert secrets.store_credentials(store.base_url) == (store.consumer_key, store.consumer_secret)

        assert page.check_button.isEnabled()
        page.check_button.click()
        qtbot.waitUntil(lambda: "accepted the keys" in page.check_result.text(), timeout=WAIT_MS)
    finally:
        store.close()


def test_a_plain_http_store_elsewhere_is_refused_with_the_reason(qtbot, db, settings_screen):
    page = settings_screen.web_store
    settings_screen.tabs.setCurrentWidget(page)
    qtbot.keyClicks(page.form.fields["store.url"], "http://shop.example.com")
    page.form.save_button.click()
    problem = page.form.problems["store.url"]
    qtbot.waitUntil(problem.isVisible, timeout=WAIT_MS)
    assert "https://" in problem.text()
    assert get_setting(db, "store.url") == ""


def test_the_owner_turns_the_retention_job_on_with_a_tick(qtbot, db, owner, ctx_for):
    screen = ShopSettingsScreen(ctx_for(db, owner))
    qtbot.addWidget(screen)
    screen.show()
    form = next(f for f in screen.findChildren(SettingsForm) if "retention.job_enabled" in f.fields)
    qtbot.waitUntil(lambda: form._loaded, timeout=WAIT_MS)
    box = form.fields["retention.job_enabled"]
    assert not box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert form.save_button.isEnabled()
    qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: get_setting(db, "retention.job_enabled") is True, timeout=WAIT_MS)
