"""Every screen by keyboard alone: reached with its shortcut and with Ctrl+Tab, entered with Tab,
and fitting a 1024×700 window (so a 1366×768 screen with its taskbar)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from backoffice.domain.enums import Role
from backoffice.services import customers as customers_service
from tests.conftest import make_staff
from ui.shell.app import build_window

WAIT_MS = 10_000


def _settle(qtbot, window) -> None:
    """Let a newly built screen settle; the offscreen test platform drops the window's
    activation when a screen makes a hidden top-level helper, which a desktop does not."""
    window.ctx.tasks.wait_all(WAIT_MS)
    qtbot.wait(60)
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitActive(window)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=WAIT_MS)


def _press(qtbot, window, sequence) -> None:
    _settle(qtbot, window)
    combo = sequence[0]
    qtbot.keyClick(QApplication.focusWidget() or window, combo.key(), combo.keyboardModifiers())


def _inside(widget: QWidget | None, screen: QWidget) -> bool:
    while widget is not None:
        if widget is screen:
            return True
        widget = widget.parentWidget()
    return False


def _walk(qtbot, sqlite_db, role, login):
    actor = make_staff(sqlite_db, role, login)
    customers_service.create_customer(sqlite_db, actor=make_staff(sqlite_db, Role.OWNER, f"{login}-boss"),
                                      first_name="María", last_name="García", email="maria.garcia@example.com")
    window = build_window(sqlite_db, actor)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=WAIT_MS)
    names = list(window.screens)
    for name in names:
        _press(qtbot, window, window.navigation.screen_actions[name].shortcut())
        assert window.current_screen_name() == name
        screen = window.screens[name]
        _settle(qtbot, window)
        # The keyboard is in the screen at once, and Tab moves on inside it.
        qtbot.waitUntil(lambda: _inside(QApplication.focusWidget(), screen)
                        or QApplication.focusWidget() is window.tabs.currentWidget(), timeout=WAIT_MS)
        before = QApplication.focusWidget()
        qtbot.keyClick(before, Qt.Key.Key_Tab)
        after = QApplication.focusWidget()
        assert after is not None and after is not before, (name, before)
        window.ctx.tasks.wait_all(WAIT_MS)
        qtbot.wait(20)
        # Nothing on the screen asks for more room than a small laptop gives.
        hint = window.minimumSizeHint()
        assert hint.width() <= 1024 and hint.height() <= 700, (name, hint)
        assert window.width() <= 1024, name
    # Ctrl+Tab goes round every open page and back to the first.
    window.show_screen(names[0])
    seen = []
    for _ in names:
        seen.append(window.current_screen_name())
        _press(qtbot, window, window.navigation.next_action.shortcut())
    assert seen == names and window.current_screen_name() == names[0]
    window.ctx.tasks.wait_all(WAIT_MS)
    window.close()
    return names


def test_the_owner_walks_every_screen_by_keyboard(qtbot, sqlite_db):
    names = _walk(qtbot, sqlite_db, Role.OWNER, "boss")
    assert {"HomeScreen", "CustomersScreen", "OrdersScreen", "PhoneOrderScreen", "PrivacyScreen", "SyncScreen",
            "AuditScreen", "StaffScreen", "ShopSettingsScreen"} <= set(names)


def test_an_order_taker_walks_the_screens_of_the_role(qtbot, sqlite_db):
    names = _walk(qtbot, sqlite_db, Role.ORDER_TAKER, "taker")
    assert names == ["HomeScreen", "CustomersScreen", "OrdersScreen", "PhoneOrderScreen"]
