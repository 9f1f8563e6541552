"""What every screen gets: the database, who is at the desk, the task pools and the change bus."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from backoffice.domain.roles import Actor, Permission
from backoffice.services.changes import Changes
from ui.common.opening import DatabaseOpening
from ui.common.tasks import TaskManager

if TYPE_CHECKING:
    from backoffice.db import Database


class ChangeBus(QObject):
    """Broadcasts what a service changed; each open screen decides whether to refresh."""

    changed = Signal(object)  # Changes

    def publish(self, changes: Changes) -> None:
        if changes:
            self.changed.emit(changes)


class AppContext:
    """The database (or its opening), who is at the desk, the task pools and the change bus.

    The main window can be made while the database is still being opened (`opening`): what
    must wait for it asks `when_ready`; reading `db` before then waits for the opening.
    """

    def __init__(self, *, actor: Actor, tasks: TaskManager, db: Database | None = None,
                 opening: DatabaseOpening | None = None, bus: ChangeBus | None = None,
                 store: object | None = None) -> None:
        if db is None and opening is None:
            raise ValueError("an AppContext needs a database or its opening")
        self._db = db
        self.opening = opening if opening is not None else DatabaseOpening.already_open(db)
        self.actor = actor
        self.tasks = tasks
        self.bus = bus if bus is not None else ChangeBus()
        # The dev store the demo runs beside the app (None for a real shop's web store).
        self.store = store
        # The window's sync controller (ui.sync.sync_status.SyncController), once created.
        self.sync_controller: object | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = self.opening.result()
        return self._db

    @property
    def ready(self) -> bool:
        """Whether the database is open (reading `db` would not wait)."""
        return self._db is not None or self.opening.ready

    def when_ready(self, callback: Callable[[], None]) -> None:
        """Call `callback` on the GUI thread once the database is open (now, if it is)."""
        if self.ready:
            callback()
        else:
            # Connected as it is, so a method of a screen closed meanwhile is not called.
            self.opening.now_open.connect(callback)

    def may(self, permission: Permission) -> bool:
        return self.actor.may(permission)
