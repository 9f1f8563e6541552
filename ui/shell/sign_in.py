"""Who is at the desk: the first-run setup on a new database, else the sign-in dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QWidget
from shiboken6 import isValid

from backoffice.domain.roles import Actor
from ui.common.opening import DatabaseOpening
from ui.shell.login_dialog import LoginDialog
from ui.common.tasks import TaskManager

if TYPE_CHECKING:
    from backoffice.db import Database

# The sign-in dialog closes with this when the database, once open, turns out to have no staff
# account yet: the first-run setup takes its place.
NEEDS_SETUP = 3


def _needs_first_owner(db: Database) -> bool:
    from backoffice.services import staff  # late: the sign-in dialog paints before the database layer loads

    return staff.needs_first_owner(db)


def sign_in(db: Database | DatabaseOpening, parent: QWidget | None = None, *, desk: str,
            hint: str | None = None, login: str = "") -> Actor | None:
    """Show the first-run setup (new database) or the sign-in dialog until someone is signed in.

    `db` may still be opening: the sign-in dialog shows at once and takes typing, and the
    password is checked once the database is open. Returns the signed-in Actor, or None when
    the person cancels or the database could not be opened (the caller reads
    `opening.error`). `hint` is shown under the sign-in fields (e.g. the demo database's
    accounts); `login` is filled in.
    """
    opening = db if isinstance(db, DatabaseOpening) else DatabaseOpening.already_open(db)
    tasks = TaskManager()
    if not opening.ready and opening.looks_new():
        # A new database: the first-run setup follows once it is created, no sign-in before.
        try:
            opening.result()
        except Exception:
            return None
    try:
        while True:
            if opening.error is not None:
                return None
            # A database known to be open (or new, which the opening creates) is asked first
            # whether it has an owner yet; one still opening is asked once it is open.
            if opening.ready and _needs_first_owner(opening.result()):
                from ui.setup.first_run_dialog import FirstRunDialog  # late: brings the database layer

                dialog = FirstRunDialog(opening.result(), desk=desk, tasks=tasks, parent=parent)
                result = dialog.exec()
                actor = dialog.actor
                dialog.deleteLater()
                if result == QDialog.DialogCode.Accepted and actor is not None:
                    return actor
                if result == FirstRunDialog.OWNER_EXISTS:
                    continue
                return None
            dialog = LoginDialog(opening, desk=desk, tasks=tasks, parent=parent, hint=hint, login=login)
            if not opening.ready:
                _watch_opening(opening, dialog, tasks)
            result = dialog.exec()
            actor = dialog.actor
            dialog.deleteLater()
            if result == QDialog.DialogCode.Accepted and actor is not None:
                return actor
            if result == NEEDS_SETUP:
                continue
            return None
    finally:
        tasks.wait_all()
        tasks.deleteLater()


def _watch_opening(opening: DatabaseOpening, dialog: LoginDialog, tasks: TaskManager) -> None:
    """Close `dialog` for the first-run setup when the database has no owner, or when it fails to open."""

    def opened(db) -> None:
        if isValid(dialog):
            tasks.run_db(lambda token, progress: _needs_first_owner(db),
                         on_success=lambda needed: dialog.done(NEEDS_SETUP) if needed else None,
                         on_failure=lambda exc: None, owner=dialog)

    def failed(exc) -> None:
        if isValid(dialog):
            dialog.done(QDialog.DialogCode.Rejected)

    opening.opened.connect(opened)
    opening.failed.connect(failed)
