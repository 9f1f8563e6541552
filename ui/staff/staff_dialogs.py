"""The owner's staff dialogs: add an account, reset a password, change a role."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from backoffice.domain.enums import Role
from backoffice.domain.staff import ROLE_LABELS
from backoffice.services import staff
from backoffice.services.staff import StaffSummary
from ui.common.context import AppContext
from ui.common.inline_form import InlineForm
from ui.common.service_form_dialog import ServiceFormDialog


def _role_combo(current: Role = Role.ORDER_TAKER) -> QComboBox:
    combo = QComboBox()
    for role in (Role.ORDER_TAKER, Role.STAFF, Role.OWNER):
        combo.addItem(ROLE_LABELS[role], role)
    combo.setCurrentIndex(combo.findData(current))
    return combo


class _StaffFormDialog(ServiceFormDialog):
    """A staff form; `summary` holds the service's StaffSummary once the dialog is accepted."""

    def __init__(self, ctx: AppContext, title: str, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(ctx.tasks, title, intro, parent)
        self.ctx = ctx
        self.summary: StaffSummary | None = None

    def work(self) -> Callable[[], StaffSummary]:
        raise NotImplementedError

    def finished_with(self, summary: StaffSummary) -> None:
        self.summary = summary
        self.accept()


def _password_problems(form: InlineForm, key: str = "password") -> dict[str, str]:
    problems = {}
    if (p := staff.password_problem(form.text(key))) is not None:
        problems[key] = p
    elif form.text("repeat") != form.text(key):
        problems["repeat"] = "The two passwords differ."
    return problems


class AddStaffDialog(_StaffFormDialog):
    """A new account: name, login, role and a first password the person changes at sign-in."""

    ok_text = "&Add account"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Add a staff account",
                         "The person signs in with this login and the first password you give "
                         "them, then chooses their own.", parent)
        self.setObjectName("addStaffDialog")
        self.name_edit = self.form.add_field("display_name", "&Name", QLineEdit())
        self.login_edit = self.form.add_field("login", "&Login", QLineEdit())
        self.role_combo = self.form.add_field("role", "&Role", _role_combo())
        self.password_edit = self.form.add_password("password", "First &password")
        self.password_edit.setPlaceholderText(f"at least {staff.MIN_PASSWORD_LENGTH} characters")
        self.repeat_edit = self.form.add_password("repeat", "R&epeat password")
        self.name_edit.setFocus()

    def local_problems(self) -> dict[str, str]:
        problems = {}
        if (p := staff.name_problem(self.name_edit.text())) is not None:
            problems["display_name"] = p
        if (p := staff.login_problem(self.login_edit.text())) is not None:
            problems["login"] = p
        problems.update(_password_problems(self.form))
        return problems

    def work(self):
        db, actor = self.ctx.db, self.ctx.actor
        login, name = self.login_edit.text(), self.name_edit.text()
        role, password = self.role_combo.currentData(), self.password_edit.text()
        return lambda: staff.add_staff(db, actor=actor, login=login, display_name=name, role=role,
                                       password=password)


class ResetPasswordDialog(_StaffFormDialog):
    """A new password for someone who forgot theirs (or is locked out); they change it at sign-in."""

    ok_text = "&Reset password"

    def __init__(self, ctx: AppContext, target: StaffSummary, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Reset a password",
                         f"A new password for {target.display_name} ({target.login}). It also lifts "
                         "a lock after wrong passwords; they choose their own at the next sign-in.",
                         parent)
        self.setObjectName("resetPasswordDialog")
        self.target = target
        self.password_edit = self.form.add_password("password", "New &password")
        self.password_edit.setPlaceholderText(f"at least {staff.MIN_PASSWORD_LENGTH} characters")
        self.repeat_edit = self.form.add_password("repeat", "R&epeat password")
        self.password_edit.setFocus()

    def local_problems(self) -> dict[str, str]:
        return _password_problems(self.form)

    def work(self):
        db, actor, staff_id, password = self.ctx.db, self.ctx.actor, self.target.id, self.password_edit.text()
        return lambda: staff.reset_password(db, actor=actor, staff_id=staff_id, new_password=password)


class ChangeRoleDialog(_StaffFormDialog):
    """Another role for an account; the last active owner keeps theirs."""

    ok_text = "&Change role"

    def __init__(self, ctx: AppContext, target: StaffSummary, *, active_owners: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Change a role",
                         f"What may {target.display_name} ({target.login}) do? See the roles "
                         "table in docs/roles.md.", parent)
        self.setObjectName("changeRoleDialog")
        self.target = target
        self.active_owners = active_owners
        self.role_combo = self.form.add_field("role", "&Role", _role_combo(target.role))

    def local_problems(self) -> dict[str, str]:
        reason = staff.role_change_refusal(self.target, self.role_combo.currentData(),
                                           active_owners=self.active_owners)
        return {"role": reason} if reason else {}

    def work(self):
        db, actor, staff_id, role = self.ctx.db, self.ctx.actor, self.target.id, self.role_combo.currentData()
        return lambda: staff.change_role(db, actor=actor, staff_id=staff_id, role=role)
