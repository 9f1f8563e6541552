"""Signing out or quitting never throws away a half-taken order unasked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from backoffice.domain.enums import Role
from tests.conftest import make_staff
from ui.shell.app import build_window
from ui.shell.idle_lock import IdleLock

WAIT_MS = 10_000


@pytest.fixture
def window(qtbot, sqlite_db):
    taker = make_staff(sqlite_db, Role.ORDER_TAKER, "taker")
    win = build_window(sqlite_db, taker)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.ctx.tasks.wait_all(WAIT_MS)


def _half_take_an_order(qtbot, win):
    screen = win.show_screen("PhoneOrderScreen")
    qtbot.keyClicks(screen.note_edit, "Leave at the back door")
    assert win.unsaved_work() == ["a phone order being taken"]
    return screen


def test_sign_out_at_the_lock_screen_first_says_what_would_be_lost(qtbot, sqlite_db, window):
    _half_take_an_order(qtbot, window)
    lock = IdleLock(window, db=sqlite_db, actor=window.ctx.actor, minutes=0, tasks=window.ctx.tasks)
    signed_out = []
    lock.signed_out.connect(lambda: signed_out.append(True))
    lock.lock_now()
    qtbot.mouseClick(lock.overlay.sign_out_button, Qt.MouseButton.LeftButton)
    qtbot.wait(200)
    assert signed_out == []
    assert "Not saved yet: a phone order being taken" in lock.overlay.message.text()
    with qtbot.waitSignal(lock.signed_out, timeout=WAIT_MS):
        qtbot.mouseClick(lock.overlay.sign_out_button, Qt.MouseButton.LeftButton)
    lock.stop()


def test_sign_out_from_the_menu_asks_and_cancel_keeps_the_order(qtbot, window, monkeypatch):
    screen = _half_take_an_order(qtbot, window)
    asked = []

    def answer(choice):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return choice
        return question

    requested = []
    window.sign_out_requested.connect(lambda: requested.append(True))
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    window.sign_out_action.trigger()
    assert requested == [] and "a phone order being taken" in asked[0]
    assert screen.note_edit.toPlainText() == "Leave at the back door"
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Discard))
    window.sign_out_action.trigger()
    assert requested == [True]


def test_nothing_to_lose_signs_out_without_a_question(qtbot, window, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked for nothing"))
    requested = []
    window.sign_out_requested.connect(lambda: requested.append(True))
    window.sign_out_action.trigger()
    assert requested == [True]


def test_after_sign_in_the_cursor_waits_in_the_search_box(qtbot, sqlite_db):
    from PySide6.QtWidgets import QApplication

    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    win = build_window(sqlite_db, owner)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitExposed(win)
    home = win.screens["HomeScreen"]
    qtbot.waitUntil(lambda: QApplication.focusWidget() is home.find, timeout=WAIT_MS)
    # The first key typed on the home screen carries on in the customers screen's search box.
    for key in "garc":
        qtbot.keyClicks(QApplication.focusWidget(), key)
    screen = win.screens["CustomersScreen"]
    assert win.current_screen_name() == "CustomersScreen"
    assert QApplication.focusWidget() is screen.search
    assert screen.search.text() == "garc"
    win.ctx.tasks.wait_all(WAIT_MS)
