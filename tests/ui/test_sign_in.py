"""Signing in at a desk: the first owner, the sign-in dialog and its lockout, the idle lock."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QMainWindow, QMessageBox, QVBoxLayout, QWidget
from sqlalchemy import select

from backoffice.domain.audit import AuditEvent
from backoffice.domain.enums import Role
from backoffice.services import staff
from ui.shell.idle_lock import IdleLock, LockOverlay
from ui.shell.login_dialog import LoginDialog
from ui.setup.first_run_dialog import FirstRunDialog
from ui.shell.sign_in import sign_in
from ui.common.tasks import TaskManager

OWNER_PW = "owner-password-1"


pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def tasks(qtbot):
    manager = TaskManager()
    yield manager
    assert manager.wait_all(10_000), "a background task was left running"
    qtbot.wait(0)


@pytest.fixture
def owner(sqlite_db):
    return staff.create_first_owner(sqlite_db, login="boss", display_name="Shop Owner", password=OWNER_PW)


def actions(db) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def no_message_boxes() -> bool:
    return not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def drive_modal(qtbot, script):
    """Run `script(dialog)` on the modal dialog that the code under test opens.

    If the script fails, the dialog is rejected so the test ends instead of hanging;
    the failure is raised again after the dialog returned.
    """
    failures: list[BaseException] = []

    def step():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, step)
            return
        try:
            script(dialog)
        except BaseException as exc:  # reported after the modal loop returns
            failures.append(exc)
            dialog.reject()

    QTimer.singleShot(0, step)
    return failures


# --- first start and second start ------------------------------------------------------

def test_first_start_creates_the_owner_through_the_dialog(qtbot, sqlite_db):
    def script(dialog):
        assert isinstance(dialog, FirstRunDialog)
        # Keyboard only: Enter goes on, the cursor starts in each page's first field.
        qtbot.keyClick(dialog.focusWidget() or dialog, Qt.Key.Key_Return)
        assert dialog.currentPage() is dialog.shop_page
        qtbot.keyClicks(dialog.shop_page.shop_name, "Bayou Tea")
        qtbot.keyClick(dialog.shop_page.shop_name, Qt.Key.Key_Return)
        page = dialog.owner_page
        assert dialog.currentPage() is page
        qtbot.keyClicks(page.name, "Shop Owner")
        qtbot.keyClicks(page.login, "Boss")
        qtbot.keyClicks(page.password, "too-short")
        qtbot.keyClicks(page.repeat, "too-short")
        qtbot.keyClick(page.repeat, Qt.Key.Key_Return)
        # Said on the page, not in a message box; nothing was created.
        assert dialog.currentPage() is page
        assert page.problem.text() == "Use at least 10 characters."
        assert no_message_boxes() and staff.needs_first_owner(sqlite_db)
        page.password.clear()
        qtbot.keyClicks(page.password, OWNER_PW)
        qtbot.keyClick(page.repeat, Qt.Key.Key_Return)
        assert page.problem.text() == "The two passwords differ."
        page.repeat.clear()
        qtbot.keyClicks(page.repeat, OWNER_PW)
        qtbot.keyClick(page.repeat, Qt.Key.Key_Return)
        assert dialog.currentPage() is dialog.store_page
        # The web store can wait: Enter finishes.
        qtbot.keyClick(dialog.store_page.url, Qt.Key.Key_Return)

    failures = drive_modal(qtbot, script)
    actor = sign_in(sqlite_db, desk="front")
    assert not failures, failures
    assert actor is not None and actor.role is Role.OWNER and actor.login == "boss" and actor.desk == "front"
    assert not staff.needs_first_owner(sqlite_db)
    assert actions(sqlite_db) == ["staff_added", "login", "change_settings"]


def test_a_second_start_shows_the_sign_in_dialog(qtbot, sqlite_db, owner):
    def script(dialog):
        assert isinstance(dialog, LoginDialog)
        assert dialog.findChild(QWidget, "hint").text() == "Demo: boss"
        qtbot.keyClicks(dialog.login_edit, "boss")
        qtbot.keyClicks(dialog.password_edit, OWNER_PW)
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Enter)

    failures = drive_modal(qtbot, script)
    actor = sign_in(sqlite_db, desk="back", hint="Demo: boss")
    assert not failures, failures
    assert (actor.staff_id, actor.desk) == (owner.staff_id, "back")
    assert actions(sqlite_db)[-1] == "login"


def test_cancelling_the_sign_in_returns_nobody(qtbot, sqlite_db, owner):
    failures = drive_modal(qtbot, lambda dialog: qtbot.keyClick(dialog, Qt.Key.Key_Escape))
    assert sign_in(sqlite_db, desk="d") is None
    assert not failures, failures


# --- the sign-in dialog ----------------------------------------------------------------

def submit_and_wait(qtbot, dialog, password):
    dialog.password_edit.clear()
    qtbot.keyClicks(dialog.password_edit, password)
    before = dialog.message.text()
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled() and (
        dialog.result() or dialog.message.text() != before or dialog.message.isVisible()), timeout=5000)


def test_three_wrong_passwords_lock_the_account_and_the_dialog_says_until_when(qtbot, sqlite_db, owner,
                                                                              tasks):
    dialog = LoginDialog(sqlite_db, desk="d", tasks=tasks)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.login_edit, "boss")
    for _ in range(2):
        submit_and_wait(qtbot, dialog, "wrong-password")
        assert dialog.message.isVisible() and "password is wrong" in dialog.message.text()
        assert dialog.password_edit.text() == "" and dialog.result() == 0
    dialog.message.setText("")
    submit_and_wait(qtbot, dialog, "wrong-password")
    assert re.fullmatch(r"Too many wrong passwords; this account is locked until \d\d:\d\d\.",
                        dialog.message.text())
    dialog.message.setText("")
    submit_and_wait(qtbot, dialog, OWNER_PW)
    assert dialog.message.text().startswith("Too many wrong passwords")
    assert dialog.actor is None and dialog.isVisible()
    assert no_message_boxes()


def test_a_new_account_chooses_its_own_password_when_signing_in(qtbot, sqlite_db, owner, tasks):
    staff.add_staff(sqlite_db, actor=owner, login="clerk", display_name="Clerk", role=Role.ORDER_TAKER,
                    password="first-password")
    dialog = LoginDialog(sqlite_db, desk="d", tasks=tasks, login="clerk")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.password_edit, "first-password")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.changing_password, timeout=5000)
    qtbot.keyClicks(dialog.new_edit, "my-own-password")
    qtbot.keyClicks(dialog.repeat_edit, "my-own-passwort")
    qtbot.keyClick(dialog.repeat_edit, Qt.Key.Key_Return)
    assert dialog.change_form.error_label("repeat").isVisible()
    dialog.repeat_edit.clear()
    qtbot.keyClicks(dialog.repeat_edit, "my-own-password")
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        qtbot.keyClick(dialog.repeat_edit, Qt.Key.Key_Return)
    assert dialog.actor.login == "clerk"
    assert staff.authenticate(sqlite_db, login="clerk", password="my-own-password", desk="d")


# --- the idle lock ------------------------------------------------------------------------

@pytest.fixture
def order_window(qtbot):
    window = QMainWindow()
    page = QWidget()
    layout = QVBoxLayout(page)
    note = QLineEdit()
    note.setObjectName("orderNote")
    other = QLineEdit()
    layout.addWidget(note)
    layout.addWidget(other)
    window.setCentralWidget(page)
    window.triggered = []
    action = QAction("Lock desk", window)
    action.setShortcut(QKeySequence("Ctrl+K"))
    action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
    action.triggered.connect(lambda: window.triggered.append("ctrl+k"))
    window.addAction(action)
    window.resize(700, 500)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window, note


def unlock_with(qtbot, lock, password):
    overlay = lock.overlay
    overlay.password.clear()
    overlay.say("")
    qtbot.keyClicks(overlay.password, password)
    qtbot.keyClick(overlay.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not lock.is_locked() or (
        overlay.password.isEnabled() and bool(overlay.message.text())), timeout=5000)


def test_idle_lock_keeps_half_typed_text_and_unlocks_with_the_right_password(qtbot, sqlite_db, owner,
                                                                             tasks, order_window):
    window, note = order_window
    note.setFocus()
    qtbot.keyClicks(note, "Two boxes of Earl Gr")
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.triggered == ["ctrl+k"]  # the shortcut works while unlocked
    window.triggered.clear()
    lock = IdleLock(window, db=sqlite_db, actor=owner, minutes=10, tasks=tasks)
    with qtbot.waitSignal(lock.locked):
        lock.lock_now()
    overlay = lock.overlay
    assert overlay.isVisible() and overlay.parentWidget() is window
    assert overlay.geometry() == window.rect()
    # Nothing reaches the window underneath: keys, clicks, shortcuts, the title bar's close.
    qtbot.keyClicks(note, "ey, no milk")
    qtbot.mouseClick(note, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert note.text() == "Two boxes of Earl Gr"
    assert window.triggered == []
    window.resize(800, 600)
    assert overlay.geometry() == window.rect()

    unlock_with(qtbot, lock, "wrong-password")
    assert lock.is_locked() and overlay.message.text() == "That is not the password of boss."
    unlock_with(qtbot, lock, OWNER_PW)
    assert not lock.is_locked() and lock.overlay is None
    qtbot.waitUntil(lambda: not window.findChildren(LockOverlay))
    assert note.text() == "Two boxes of Earl Gr"
    qtbot.keyClicks(note, "ey")
    assert note.text() == "Two boxes of Earl Grey"
    assert actions(sqlite_db)[-2:] == ["unlock_failed", "unlock"]
    lock.stop()


def test_three_wrong_passwords_at_the_lock_lock_the_account(qtbot, sqlite_db, owner, tasks, order_window):
    window, note = order_window
    lock = IdleLock(window, db=sqlite_db, actor=owner, minutes=10, tasks=tasks)
    lock.lock_now()
    for _ in range(3):
        unlock_with(qtbot, lock, "wrong-password")
    assert lock.overlay.message.text().startswith("Too many wrong passwords; this account is locked")
    unlock_with(qtbot, lock, OWNER_PW)
    assert lock.is_locked()
    lock.stop()


def test_the_desk_locks_itself_after_the_idle_time(qtbot, sqlite_db, owner, tasks, order_window):
    window, note = order_window
    lock = IdleLock(window, db=sqlite_db, actor=owner, minutes=0.005, tasks=tasks)  # 0.3 seconds
    assert lock.minutes == 0.005
    with qtbot.waitSignal(lock.locked, timeout=3000):
        pass
    assert lock.is_locked() and lock.overlay.isVisible()
    lock.stop()


def test_signing_out_at_the_lock_tells_the_window(qtbot, sqlite_db, owner, tasks, order_window):
    window, note = order_window
    lock = IdleLock(window, db=sqlite_db, actor=owner, minutes=0, tasks=tasks)
    lock.lock_now()
    with qtbot.waitSignal(lock.signed_out, timeout=5000):
        qtbot.mouseClick(lock.overlay.sign_out_button, Qt.MouseButton.LeftButton)
    assert actions(sqlite_db)[-1] == "logout"
    lock.stop()


def test_a_lock_over_an_open_dialog_asks_there_and_covers_the_window(qtbot, sqlite_db, owner, tasks,
                                                                     order_window):
    from PySide6.QtWidgets import QDialog

    window, note = order_window
    dialog = QDialog(window)
    dialog.setModal(True)
    field = QLineEdit(dialog)
    dialog.resize(420, 260)
    dialog.show()
    qtbot.keyClicks(field, "refund 12.50")
    lock = IdleLock(window, db=sqlite_db, actor=owner, minutes=10, tasks=tasks)
    lock.lock_now()
    assert lock.overlay.parentWidget() is dialog
    covers = [w for w in window.findChildren(QWidget, "lockCover") if w.isVisible()]
    assert len(covers) == 1 and covers[0].geometry() == window.rect()
    qtbot.keyClicks(field, " and more")
    assert field.text() == "refund 12.50"
    unlock_with(qtbot, lock, OWNER_PW)
    assert not lock.is_locked()
    qtbot.waitUntil(lambda: not window.findChildren(QWidget, "lockCover"))
    assert dialog.isVisible() and field.text() == "refund 12.50"
    dialog.reject()
    lock.stop()
