"""Signing in at a desk: who is here, their password, and a new password when one is due."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.passwords import MIN_PASSWORD_LENGTH, password_problem
from backoffice.domain.roles import Actor
from backoffice.errors import UserFacingError, ValidationError
from ui.common.errors import show_error
from ui.common.inline_form import InlineForm, grow_to_fit
from ui.common.styles import ERROR_STYLE
from ui.common.opening import DatabaseOpening
from ui.common.tasks import TaskManager

if TYPE_CHECKING:
    from backoffice.db import Database


def _message_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.hide()
    return label


class LoginDialog(QDialog):
    """Asks who is at the desk and their password; Enter signs in.

    Wrong passwords and a locked account are said in the dialog, which stays open.
    When the owner has reset the password (or the account is new), a second page
    asks for a new one before the dialog accepts. `actor` is set on Accepted.
    """

    def __init__(self, db: Database | DatabaseOpening, *, desk: str, tasks: TaskManager,
                 parent: QWidget | None = None, hint: str | None = None, login: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("loginDialog")
        self.setWindowTitle("Sign in")
        # The database, or its opening: a password typed before it is open is checked once it is.
        self._opening = db if isinstance(db, DatabaseOpening) else DatabaseOpening.already_open(db)
        self._desk = desk
        self._tasks = tasks
        self._busy = False
        self._pending: Actor | None = None
        self._old_password = ""
        self.actor: Actor | None = None

        # Page 1: who is at the desk.
        sign_in_page = QWidget()
        question = QLabel("Who is at this desk?")
        self.form = InlineForm()
        self.login_edit = self.form.add_field("login", "&Login", QLineEdit(login))
        self.password_edit = self.form.add_password("password", "&Password")
        self.message = _message_label("message")
        page1 = QVBoxLayout(sign_in_page)
        page1.setContentsMargins(0, 0, 0, 0)
        page1.addWidget(question)
        page1.addWidget(self.form)
        page1.addWidget(self.message)
        if hint:
            hint_label = QLabel(hint)
            hint_label.setObjectName("hint")
            hint_label.setWordWrap(True)
            page1.addWidget(hint_label)

        # Page 2: a new password, when the account must change it.
        change_page = QWidget()
        explain = QLabel("Your password was set by the shop owner. Choose your own password to go on.")
        explain.setWordWrap(True)
        self.change_form = InlineForm()
        self.new_edit = self.change_form.add_password("new", "&New password")
        self.new_edit.setPlaceholderText(f"at least {MIN_PASSWORD_LENGTH} characters")
        self.repeat_edit = self.change_form.add_password("repeat", "&Repeat new password")
        self.change_message = _message_label("changeMessage")
        page2 = QVBoxLayout(change_page)
        page2.setContentsMargins(0, 0, 0, 0)
        page2.addWidget(explain)
        page2.addWidget(self.change_form)
        page2.addWidget(self.change_message)

        # Two pages in one column, one hidden: unlike a stacked widget, the column makes room
        # for a message that wraps onto more lines, so nothing is squeezed or overlaps.
        self.pages = QWidget()
        self._page_widgets = (sign_in_page, change_page)
        pages_layout = QVBoxLayout(self.pages)
        pages_layout.setContentsMargins(0, 0, 0, 0)
        pages_layout.addWidget(sign_in_page)
        pages_layout.addWidget(change_page)
        change_page.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.addButton("&Sign in", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setObjectName("signInButton")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
        # The dialog grows to fit a message shown under the fields, instead of squeezing them.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does it become the dialog's default (Enter).
        self.ok_button.setDefault(True)
        self.resize(420, self.sizeHint().height())
        (self.password_edit if login else self.login_edit).setFocus()

    @property
    def changing_password(self) -> bool:
        return self._page_widgets[1].isVisibleTo(self)

    def submit(self) -> None:
        """Sign in, or save the new password on the second page (what Enter does)."""
        if self._busy:
            return
        if self.changing_password:
            self._submit_new_password()
        else:
            self._submit_sign_in()

    # --- page 1 ---------------------------------------------------------------------

    def _submit_sign_in(self) -> None:
        self.message.hide()
        problems = {}
        if not self.login_edit.text().strip():
            problems["login"] = "Enter your login."
        if not self.password_edit.text():
            problems["password"] = "Enter your password."
        if self.form.set_errors(problems):
            return
        opening, desk = self._opening, self._desk
        login, password = self.login_edit.text(), self.password_edit.text()

        def work(token, progress):
            # On the database pool: the dialog paints and takes typing before the database layer loads.
            from backoffice.services import staff  # late: see above

            db = opening.result()
            actor = staff.authenticate(db, login=login, password=password, desk=desk)
            return actor, staff.password_change_required(db, actor=actor)

        self._set_busy(True)
        self._old_password = password
        self._tasks.run_db(work, on_success=self._signed_in, on_failure=self._sign_in_failed)

    def _signed_in(self, result: tuple[Actor, bool]) -> None:
        self._set_busy(False)
        actor, must_change = result
        if not must_change:
            self._old_password = ""
            self.actor = actor
            self.accept()
            return
        self._pending = actor
        self._page_widgets[0].hide()
        self._page_widgets[1].show()
        self.ok_button.setText("&Save and sign in")
        self.new_edit.setFocus()

    def _sign_in_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._old_password = ""
        if isinstance(exc, UserFacingError):
            self.message.setText(exc.message)
            self.message.show()
            grow_to_fit(self)
            self.password_edit.clear()
            self.password_edit.setFocus()
            return
        show_error(self, exc)

    # --- page 2 ---------------------------------------------------------------------

    def _submit_new_password(self) -> None:
        self.change_message.hide()
        new = self.new_edit.text()
        problems = {}
        if (p := password_problem(new)) is not None:
            problems["new"] = p
        elif self.repeat_edit.text() != new:
            problems["repeat"] = "The two passwords differ."
        if self.change_form.set_errors(problems):
            return
        opening, actor, old = self._opening, self._pending, self._old_password
        self._set_busy(True)

        def change(token, progress):
            from backoffice.services import staff  # late: as when signing in

            return staff.change_own_password(opening.result(), actor=actor, old=old, new=new)

        self._tasks.run_db(
            change,
            on_success=self._password_changed,
            on_failure=self._change_failed,
        )

    def _password_changed(self, _result) -> None:
        self._set_busy(False)
        self._old_password = ""
        self.actor = self._pending
        self.accept()

    def _change_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError) and self.change_form.set_errors(exc.fields):
            return
        if isinstance(exc, UserFacingError):
            self.change_message.setText(exc.message)
            self.change_message.show()
            grow_to_fit(self)
            return
        show_error(self, exc)

    # --- both -----------------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.pages.setEnabled(not busy)
        self.ok_button.setEnabled(not busy)

    def reject(self) -> None:
        if not self._busy:
            self._old_password = ""
            super().reject()

