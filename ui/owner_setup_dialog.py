"""First start of a new database: create the shop owner's account."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QWidget

from backoffice.db import Database
from backoffice.domain.staff import Actor
from backoffice.services import staff
from ui.service_form_dialog import ServiceFormDialog
from ui.tasks import TaskManager


class OwnerSetupDialog(ServiceFormDialog):
    """Asks the owner's name, login and password (twice); creates the account and signs in.

    `exec()` returns Accepted with `actor` set, Rejected when cancelled, or
    OWNER_EXISTS when another desk created staff accounts meanwhile (sign in instead).
    """

    OWNER_EXISTS = 2
    ok_text = "&Create owner account"
    ok_object_name = "createButton"

    def __init__(self, db: Database, *, desk: str, tasks: TaskManager,
                 parent: QWidget | None = None) -> None:
        super().__init__(
            tasks, "Set up the shop owner's account",
            "This database has no staff accounts yet. Create the account of the shop's owner: "
            "the owner adds everyone else and is the only one who reads the audit trail.", parent)
        self.setObjectName("ownerSetupDialog")
        self._db = db
        self._desk = desk
        self.actor: Actor | None = None
        self.name_edit = self.form.add_field("display_name", "Your &name", QLineEdit())
        self.login_edit = self.form.add_field("login", "&Login", QLineEdit())
        self.password_edit = self.form.add_password("password", "&Password")
        self.password_edit.setPlaceholderText(f"at least {staff.MIN_PASSWORD_LENGTH} characters")
        self.repeat_edit = self.form.add_password("repeat", "&Repeat password")
        self.create_button = self.ok_button
        self.resize(460, self.sizeHint().height())
        self.name_edit.setFocus()

    def local_problems(self) -> dict[str, str]:
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

    def work(self):
        db, desk = self._db, self._desk
        login, name, password = self.login_edit.text(), self.name_edit.text(), self.password_edit.text()
        return lambda: staff.create_first_owner(db, login=login, display_name=name, password=password, desk=desk)

    def finished_with(self, actor: Actor) -> None:
        self.actor = actor
        self.accept()

    def refused(self, exc: BaseException) -> bool:
        if isinstance(exc, staff.StaffExists):
            self.done(self.OWNER_EXISTS)
            return True
        return False
