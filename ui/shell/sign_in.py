"""Who is at the desk: the first-run setup on a new database, else the sign-in dialog."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QWidget

from backoffice.db import Database
from backoffice.domain.staff import Actor
from backoffice.services import staff
from ui.shell.login_dialog import LoginDialog
from ui.setup.first_run_dialog import FirstRunDialog
from ui.common.tasks import TaskManager


def sign_in(db: Database, parent: QWidget | None = None, *, desk: str, hint: str | None = None,
            login: str = "") -> Actor | None:
    """Show the first-run setup (new database) or the sign-in dialog until someone is signed in.

    Returns the signed-in Actor, or None when the person cancels. `hint` is shown
    under the sign-in fields (e.g. the demo database's accounts); `login` is filled in.
    """
    tasks = TaskManager()
    try:
        while True:
            # One small count before any window shows; there is nothing to keep responsive yet.
            if staff.needs_first_owner(db):
                dialog = FirstRunDialog(db, desk=desk, tasks=tasks, parent=parent)
                result = dialog.exec()
                actor = dialog.actor
                dialog.deleteLater()
                if result == QDialog.DialogCode.Accepted and actor is not None:
                    return actor
                if result == FirstRunDialog.OWNER_EXISTS:
                    continue
                return None
            dialog = LoginDialog(db, desk=desk, tasks=tasks, parent=parent, hint=hint, login=login)
            result = dialog.exec()
            actor = dialog.actor
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted and actor is not None:
                return actor
            return None
    finally:
        tasks.wait_all()
        tasks.deleteLater()
