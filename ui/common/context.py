"""What every screen gets: the database, who is at the desk, the task pools and the change bus."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from backoffice.db import Database
from backoffice.domain.staff import Actor, Permission
from backoffice.services.changes import Changes
from ui.common.tasks import TaskManager


class ChangeBus(QObject):
    """Broadcasts what a service changed; each open screen decides whether to refresh."""

    changed = Signal(object)  # Changes

    def publish(self, changes: Changes) -> None:
        if changes:
            self.changed.emit(changes)


@dataclass
class AppContext:
    db: Database
    actor: Actor
    tasks: TaskManager
    bus: ChangeBus = field(default_factory=ChangeBus)
    # The dev store the demo runs beside the app (None for a real shop's web store).
    store: object | None = None
    # The window's sync controller (ui.sync.sync_status.SyncController), once created.
    sync_controller: object | None = None

    def may(self, permission: Permission) -> bool:
        return self.actor.may(permission)
