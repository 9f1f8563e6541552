"""Going between screens by menu and keyboard, the shortcut list, and the window remembered per desk."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from backoffice.domain.enums import Role
from tests.conftest import make_staff
from ui.settings import desk_settings
from ui.shell.app import build_window
from ui.shell.main_window import _ScreenSlot
from ui.shell import window_state
from ui.shell.shortcuts_dialog import ShortcutsDialog, window_shortcuts

WAIT_MS = 10_000


def _window(qtbot, db, role=Role.OWNER, login="boss"):
    actor = make_staff(db, role, login)
    window = build_window(db, actor)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    # The first screen puts the cursor in its first control once the window is active.
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=WAIT_MS)
    return window


def press(qtbot, window, sequence) -> None:
    """Type a shortcut where the keyboard focus is, as a person would."""
    combo = sequence[0]
    target = QApplication.focusWidget() or window
    qtbot.keyClick(target, combo.key(), combo.keyboardModifiers())


def _close(window):
    window.ctx.tasks.wait_all()
    window.close()


def _front(window) -> str:
    return window.current_screen_name() or type(window.tabs.currentWidget()).__name__


def test_every_screen_has_a_shortcut_and_a_menu_entry(qtbot, sqlite_db):
    window = _window(qtbot, sqlite_db)
    names = list(window.screens)
    assert names[0] == "HomeScreen"
    for want in ("CustomersScreen", "OrdersScreen", "PhoneOrderScreen", "PrivacyScreen", "SyncScreen",
                 "AuditScreen", "StaffScreen", "ShopSettingsScreen"):
        assert want in names
    keys = [window.navigation.screen_actions[n].shortcut().toString() for n in names]
    assert all(keys) and len(set(keys)) == len(keys), keys
    for name in names:
        action = window.navigation.screen_actions[name]
        press(qtbot, window, action.shortcut())
        assert _front(window) == name
    _close(window)


def test_an_order_taker_sees_only_the_screens_of_the_role(qtbot, sqlite_db):
    window = _window(qtbot, sqlite_db, Role.ORDER_TAKER, "taker")
    assert "AuditScreen" not in window.navigation.screen_actions
    assert "ShopSettingsScreen" not in window.navigation.screen_actions
    assert "PhoneOrderScreen" in window.navigation.screen_actions
    _close(window)


def test_ctrl_tab_and_ctrl_page_keys_go_round_the_open_pages(qtbot, sqlite_db):
    window = _window(qtbot, sqlite_db)
    count = window.tabs.count()
    assert window.tabs.currentIndex() == 0
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 1
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 2
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 1
    window.navigation.step(-1)
    window.navigation.step(-1)
    assert window.tabs.currentIndex() == count - 1
    _close(window)


def test_the_shortcut_list_is_made_from_the_actions_themselves(qtbot, sqlite_db):
    window = _window(qtbot, sqlite_db)
    shown = {s.action: s.keys for s in window_shortcuts(window)}
    assert shown["Customers"] == window.navigation.screen_actions["CustomersScreen"].shortcut().toString()
    assert "Sign out" in shown and "Quit" in shown and "Next page" in shown
    # A shortcut changed on the action shows changed in the list: nothing is written down twice.
    window.navigation.screen_actions["OrdersScreen"].setShortcut("Ctrl+Shift+O")
    dialog = ShortcutsDialog(window)
    qtbot.addWidget(dialog)
    assert dialog.keys_for("Orders") == "Ctrl+Shift+O"
    assert dialog.table.rowCount() == len(dialog.shortcuts) >= len(window.screens) + 4
    _close(window)


def test_window_state_is_remembered_per_desk(qtbot, sqlite_db, tmp_path, monkeypatch):
    store = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    monkeypatch.setattr(desk_settings, "settings", lambda: store)
    window = _window(qtbot, sqlite_db)
    window.show_screen("SyncScreen")
    window.resize(780, 520)
    window_state.remember(window, "front desk")
    _close(window)

    again = _window(qtbot, sqlite_db, login="boss2")
    window_state.restore(again, "front desk")
    assert _front(again) == "SyncScreen"
    assert (again.width(), again.height()) == (780, 520)
    window_state.restore(again, "back room")  # another desk has nothing saved: nothing changes
    assert _front(again) == "SyncScreen"
    _close(again)


def test_the_window_fits_a_small_laptop_screen_and_names_who_is_signed_in_once(qtbot, sqlite_db):
    window = _window(qtbot, sqlite_db)
    available = QApplication.primaryScreen().availableGeometry()
    # The test screen is smaller than the window's preferred size: the window shrinks to fit.
    assert window.width() <= available.width() and window.height() <= available.height()
    assert window.windowTitle().count("boss") == 1
    assert isinstance(window.tabs.widget(0), _ScreenSlot)
    _close(window)


def test_on_a_narrow_window_the_screen_tabs_keep_to_their_icons_and_none_is_pushed_off(qtbot, sqlite_db):
    window = _window(qtbot, sqlite_db)
    window.resize(1600, 700)
    qtbot.waitUntil(lambda: not window.navigation.compact(), timeout=WAIT_MS)
    customers = window.tabs.indexOf(window.screens.slot("CustomersScreen"))
    assert window.tabs.tabText(customers) == "Customers"
    window.resize(760, 560)
    qtbot.waitUntil(window.navigation.compact, timeout=WAIT_MS)
    bar = window.tabs.tabBar()
    assert bar.sizeHint().width() <= window.tabs.width()
    assert window.tabs.tabText(customers) == ""
    assert "Customers" in window.tabs.tabToolTip(customers)
    # The screen in front keeps its name.
    window.show_screen("CustomersScreen")
    assert window.tabs.tabText(customers) == "Customers"
    _close(window)


def test_a_page_opened_on_a_1024_pixel_window_pushes_no_tab_off_and_shows_its_heading(qtbot, sqlite_db):
    from backoffice.services import customers as customers_service

    window = _window(qtbot, sqlite_db)
    cid = customers_service.create_customer(sqlite_db, actor=window.ctx.actor, first_name="Bartholomew",
                                            last_name="Featherstonehaugh-Montgomery").customer.id
    window.resize(1024, 700)
    page = window.open_customer(cid)
    qtbot.waitUntil(lambda: page.detail is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.tabs.tabBar().sizeHint().width() <= window.tabs.width(), timeout=WAIT_MS)
    assert window.width() <= 1024
    assert page.heading.isVisible() and page.heading.width() > 200
    _close(window)
