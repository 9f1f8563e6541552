"""The first windows paint and take typing before the database is open.

The database opens on a thread of its own (`DatabaseOpening`); here its opening is held back
until the test lets it go, so what a person sees meanwhile can be looked at.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from backoffice.db import open_database
from backoffice.domain.enums import Role
from backoffice.errors import UserFacingError
from backoffice.services import customers as customers_service
from backoffice.services import staff
from tests.conftest import make_staff
from ui.common.opening import DatabaseOpening
from ui.setup.first_run_dialog import FirstRunDialog
from ui.shell.app import build_window
from ui.shell.login_dialog import LoginDialog
from ui.shell.sign_in import sign_in

ROOT = Path(__file__).resolve().parents[2]
OWNER_PW = "owner-password-1"
WAIT_MS = 10_000


class HeldOpening:
    """An opener that waits for `release()` before opening the database for real."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.gate = threading.Event()
        self.fail = fail

    def __call__(self, url: str):
        assert self.gate.wait(30), "the test never let the database open"
        if self.fail is not None:
            raise self.fail
        return open_database(url)

    def release(self) -> None:
        self.gate.set()


@pytest.fixture
def held():
    opener = HeldOpening()
    yield opener
    opener.release()


def modal_steps(qtbot, steps):
    """Run each of `steps` on the next modal dialog shown (a new one each time); failures are kept."""
    failures: list[BaseException] = []
    seen: list[object] = []

    def step():
        dialog = QApplication.activeModalWidget()
        if dialog is None or (seen and dialog is seen[-1]) or not steps:
            if steps:
                QTimer.singleShot(10, step)
            return
        seen.append(dialog)
        try:
            steps.pop(0)(dialog)
        except BaseException as exc:  # reported after the modal loop returns
            failures.append(exc)
            dialog.done(0)
            return
        if steps:
            QTimer.singleShot(10, step)

    QTimer.singleShot(0, step)
    return failures


def test_the_sign_in_window_takes_a_password_before_the_database_is_open(qtbot, sqlite_db, held):
    owner = staff.create_first_owner(sqlite_db, login="boss", display_name="Shop Owner", password=OWNER_PW)
    opening = DatabaseOpening(str(sqlite_db.url), opener=held).start()

    def type_and_release(dialog):
        assert isinstance(dialog, LoginDialog)
        assert not opening.ready
        qtbot.keyClicks(dialog.login_edit, "boss")
        qtbot.keyClicks(dialog.password_edit, OWNER_PW)
        qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Enter)
        # Waiting for the database: the dialog says nothing is wrong and stays open.
        qtbot.wait(50)
        assert dialog.isVisible() and not dialog.ok_button.isEnabled()
        assert not dialog.message.isVisible()
        held.release()

    failures = modal_steps(qtbot, [type_and_release])
    actor = sign_in(opening, desk="front")
    assert not failures, failures
    assert actor is not None and actor.staff_id == owner.staff_id and actor.desk == "front"
    opening.result().dispose()


def test_a_database_that_cannot_be_opened_closes_the_sign_in_window_and_says_why(qtbot, sqlite_db):
    opener = HeldOpening(fail=UserFacingError("The database server at db.example does not answer."))
    opening = DatabaseOpening(str(sqlite_db.url), opener=opener).start()

    def release(dialog):
        assert isinstance(dialog, LoginDialog)
        opener.release()

    failures = modal_steps(qtbot, [release])
    assert sign_in(opening, desk="front") is None
    assert not failures, failures
    assert opening.error.message == "The database server at db.example does not answer."


def test_a_database_without_staff_turns_the_sign_in_into_the_first_run_setup(qtbot, sqlite_db, held):
    opening = DatabaseOpening(str(sqlite_db.url), opener=held).start()
    shown = []

    def login_first(dialog):
        shown.append(type(dialog).__name__)
        held.release()

    def then_setup(dialog):
        shown.append(type(dialog).__name__)
        dialog.reject()

    failures = modal_steps(qtbot, [login_first, then_setup])
    assert sign_in(opening, desk="front") is None
    assert not failures, failures
    assert shown == [LoginDialog.__name__, FirstRunDialog.__name__]
    opening.result().dispose()


def test_the_main_window_paints_before_the_database_is_open_and_keeps_what_is_typed(qtbot, sqlite_db, held):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    customers_service.create_customer(sqlite_db, actor=owner, first_name="María", last_name="García",
                                      email="maria@example.com")
    opening = DatabaseOpening(str(sqlite_db.url), opener=held)
    window = build_window(None, owner, opening=opening)
    qtbot.addWidget(window)
    window.show()
    opening.start()
    qtbot.waitExposed(window)
    home = window.screens["HomeScreen"]
    # Painted, figures still to come, and the status bar says what it waits for.
    assert home.tiles["phoneOrdersTile"].value == "…"
    assert "opening the database" in window.db_label.text()
    qtbot.keyClicks(home.find, "garc")
    qtbot.wait(50)
    assert home.find.text() == "garc" and window.current_screen_name() == "HomeScreen"
    held.release()
    # Once it is open: the figures, the database's place, and the search goes on from what was typed.
    qtbot.waitUntil(lambda: home.summary is not None, timeout=WAIT_MS)
    assert home.tiles["phoneOrdersTile"].value == "0"
    assert "opening" not in window.db_label.text()
    qtbot.waitUntil(lambda: window.current_screen_name() == "CustomersScreen", timeout=WAIT_MS)
    customers = window.screens["CustomersScreen"]
    assert customers.search.text() == "garc"
    qtbot.waitUntil(lambda: window.is_settled, timeout=WAIT_MS)
    window.ctx.tasks.wait_all()
    window.close()
    opening.result().dispose()


def test_the_first_windows_load_no_database_layer_before_they_paint():
    """What the sign-in window and the main window import before painting leaves SQLAlchemy,
    the data model and the phone and email libraries to the opening thread."""
    code = (
        "import sys\n"
        "import ui.shell.app, ui.shell.sign_in, ui.shell.main_window, ui.home.home_screen\n"
        "heavy = [m for m in ('sqlalchemy', 'phonenumbers', 'email_validator', 'argon2', 'requests',"
        " 'backoffice.domain.model') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
