"""The sync at a glance (last run, messages waiting and refused, conflicts open), read from the
database alone: Home and the status bar show it without loading the web store's HTTP client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from backoffice.db import Database
from backoffice.domain.enums import OutboxStatus
from backoffice.domain.staff import Actor, Permission
from backoffice.domain.sync import OutboxMessage, SyncConflict, SyncRun
from backoffice.services import access
from backoffice.services.settings import read_setting


@dataclass(frozen=True)
class SyncStatus:
    """The sync at a glance, for the status bar."""

    configured: bool
    last_run_at: datetime | None
    last_ok: bool | None
    last_error: str
    last_summary: str
    waiting: int
    failed: int
    conflicts: int


def sync_status(db: Database, *, actor: Actor) -> SyncStatus:
    """Last run, messages waiting and failed, conflicts open. Raises PermissionDenied."""
    access.require(db, actor, Permission.RUN_SYNC)
    with db.read() as s:
        last = s.execute(select(SyncRun).order_by(SyncRun.id.desc()).limit(1)).scalars().first()
        counts = dict(s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        conflicts = s.execute(select(func.count()).select_from(SyncConflict)
                              .where(SyncConflict.resolved.is_(False))).scalar_one()
        configured = bool(read_setting(s, "store.url"))
        return SyncStatus(
            configured=configured,
            last_run_at=(last.finished_at or last.started_at) if last else None,
            last_ok=last.ok if last else None,
            last_error=last.error if last else "",
            last_summary=last.summary if last else "",
            waiting=int(counts.get(OutboxStatus.PENDING, 0)) + int(counts.get(OutboxStatus.CONFLICT, 0)),
            failed=int(counts.get(OutboxStatus.FAILED, 0)),
            conflicts=int(conflicts),
        )
