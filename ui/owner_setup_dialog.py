"""First start of a new database: create the shop owner's account."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from backoffice.db import Database
from backoffice.domain.staff import Actor
from backoffice.errors import UserFacingError, ValidationError
from backoffice.services import staff
from ui.errors import show_error
from ui.inline_form import ERROR_STYLE, InlineForm
from ui.tasks import TaskManager


class OwnerSetupDialog(QDialog):
    """Asks the owner's name, login and password (twice); creates the account and signs in.

    `exec()` returns Accepted with `actor` set, Rejected when cancelled, or
    OWNER_EXISTS when another desk created staff accounts meanwhile (sign in instead).
    """

    OWNER_EXISTS = 2

    def __init__(self, db: Database, *, desk: str, tasks: TaskManager,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ownerSetupDialog")
        self.setWindowTitle("Set up the shop owner's account")
        self._db = db
        self._desk = desk
        self._tasks = tasks
        self._busy = False
        self.actor: Actor | None = None

        intro = QLabel(
            "This database has no staff accounts yet. Create the account of the shop's owner: "
            "the owner adds everyone else and is the only one who reads the audit trail.")
        intro.setWordWrap(True)
        self.form = InlineForm()
        self.name_edit = self.form.add_field("display_name", "Your &name", QLineEdit())
        self.login_edit = self.form.add_field("login", "&Login", QLineEdit())
        self.password_edit = self.form.add_password("password", "&Password")
        self.password_edit.setPlaceholderText(f"at least {staff.MIN_PASSWORD_LENGTH} characters")
        self.repeat_edit = self.form.add_password("repeat", "&Repeat password")
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton("&Create owner account",
                                                   QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setObjectName("createButton")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        # Only once the button is inside the dialog does it become the dialog's default (Enter).
        self.create_button.setDefault(True)
        self.resize(460, self.sizeHint().height())
        self.name_edit.setFocus()

    def _local_problems(self) -> dict[str, str]:
        problems: dict[str, str] = {}
        if (p := staff.name_problem(self.name_edit.text())) is not None:
            problems["display_name"] = p
        if (p := staff.login_problem(self.login_edit.text())) is not None:
            problems["login"] = p
        if (p := staff.password_problem(self.password_edit.text())) is not None:
            problems["password"] = p
        elif self.repeat_edit.text() != self.password_edit.text():
            problems["repeat"] = "The two passwords differ."
        return problems

    def submit(self) -> None:
        if self._busy:
            return
        self.message.hide()
        if self.form.set_errors(self._local_problems()):
            return
        self._set_busy(True)
        db, desk = self._db, self._desk
        login, name, password = self.login_edit.text(), self.name_edit.text(), self.password_edit.text()
        self._tasks.run_db(
            lambda token, progress: staff.create_first_owner(
                db, login=login, display_name=name, password=password, desk=desk),
            on_success=self._created,
            on_failure=self._failed,
        )

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.form.setEnabled(not busy)
        self.create_button.setEnabled(not busy)

    def _created(self, actor: Actor) -> None:
        self._set_busy(False)
        self.actor = actor
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if isinstance(exc, ValidationError) and self.form.set_errors(exc.fields):
            return
        if isinstance(exc, staff.StaffExists):
            self.done(self.OWNER_EXISTS)
            return
        if isinstance(exc, UserFacingError):
            self.message.setText(exc.message)
            self.message.show()
            return
        show_error(self, exc)

    def reject(self) -> None:
        if not self._busy:
            super().reject()
