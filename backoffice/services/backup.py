"""Backups of the shop's SQLite database, their register, and restoring one.

A backup is a consistent copy taken with SQLite's online backup API while desks keep
working. It holds every customer's personal data, so it is written owner-only and each
one is listed in a register beside the desk's data (`backups.json`): an erasure can then
name the backups that still hold the person. PostgreSQL databases are backed up with
the server's own `pg_dump` (see README); this module says so instead of pretending.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from backoffice import migrations
from backoffice.db import Database, data_dir, safe_url
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import DatabaseTooNew, UserFacingError
from backoffice.private_files import OWNER_ONLY, check_writable
from backoffice.services import access, audit

log = logging.getLogger(__name__)

REGISTER_NAME = "backups.json"
PG_ADVICE = (
    "This shop's database is on a PostgreSQL server: back it up there with "
    "`pg_dump --format=custom --file=shop.dump DATABASE` and restore with `pg_restore`; "
    "keep the dump as safe as the database, since it holds customers' personal data."
)


@dataclass(frozen=True)
class BackupInfo:
    path: str
    made_at: datetime
    size: int
    revision: str | None


def _register_path() -> Path:
    return data_dir() / REGISTER_NAME


def list_backups(db: Database, *, actor: Actor) -> tuple[BackupInfo, ...]:
    """The backups this desk made that are still on disk, newest first."""
    access.require(db, actor, Permission.READ_AUDIT)
    return _registered()


def _registered() -> tuple[BackupInfo, ...]:
    try:
        rows = json.loads(_register_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        rows = []
    found = []
    for row in rows:
        try:
            info = BackupInfo(path=row["path"], made_at=datetime.fromisoformat(row["made_at"]),
                              size=int(row["size"]), revision=row.get("revision"))
        except (KeyError, TypeError, ValueError):
            continue
        if Path(info.path).exists():
            found.append(info)
    return tuple(sorted(found, key=lambda b: b.made_at, reverse=True))


def _remember(info: BackupInfo) -> None:
    rows = [b for b in _registered() if b.path != info.path] + [info]
    path = _register_path()
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump([{"path": b.path, "made_at": b.made_at.isoformat(), "size": b.size,
                    "revision": b.revision} for b in rows], fh, indent=1)
    os.replace(tmp, path)


def backup_database(db: Database, *, actor: Actor, out: str | os.PathLike,
                    replace: bool = False) -> BackupInfo:
    """Copy the shop's SQLite database to `out` while desks keep working.

    Owner only (a backup holds every customer's data); audited. Raises UserFacingError
    for a PostgreSQL database (use pg_dump), an existing file without `replace`, or the
    database file itself.
    """
    access.require(db, actor, Permission.EXPORT_PERSONAL_DATA)
    source = db.sqlite_path
    if source is None:
        raise UserFacingError(PG_ADVICE)
    target = check_writable(out, replace=replace, protect=[source])
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    os.close(fd)
    try:
        src = sqlite3.connect(source)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        os.chmod(tmp, OWNER_ONLY)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    info = BackupInfo(path=str(target.resolve()), made_at=datetime.now(UTC),
                      size=target.stat().st_size, revision=_file_revision(target))
    _remember(info)
    with db.begin() as s:
        audit.record(s, actor, "backup_database", entity_type="database")
    return info


def _file_revision(path: Path) -> str | None:
    """The schema revision stored in a SQLite file, or UserFacingError if it is not a shop."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise UserFacingError(f"{path} is not a backup of a shop's database; nothing was restored.") from exc
    return row[0] if row else None


def restore_database(db: Database, *, actor: Actor, backup: str | os.PathLike) -> BackupInfo:
    """Put a backup in place of the shop's SQLite database, keeping a copy of the current one.

    Owner only; the current database is backed up first (and that copy is named in the
    result's register), the backup is copied in with the online backup API, then
    migrated to this version's schema. Refuses a backup from a newer version of the app,
    a file that is not a shop's database, and a PostgreSQL database (use pg_restore).
    """
    access.require(db, actor, Permission.MANAGE_SETTINGS)
    current = db.sqlite_path
    if current is None:
        raise UserFacingError(PG_ADVICE)
    source = Path(backup).expanduser()
    if not source.is_file():
        raise UserFacingError(f"There is no backup file at {source}; nothing was restored.")
    if source.resolve() == current.resolve():
        raise UserFacingError("That file is the shop's database itself; choose a backup.")
    revision = _file_revision(source)
    known = {rev.revision for rev in migrations.script().walk_revisions()}
    if revision is not None and revision not in known:
        raise DatabaseTooNew(
            f"{source} was written by a newer version of backoffice; install that version to "
            "restore it. Nothing was restored."
        )
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    safety = current.with_name(f"{current.stem}.before-restore.{stamp}{current.suffix}")
    kept = backup_database(actor=actor, db=db, out=safety)
    db.dispose()
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(current)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    migrations.upgrade(db)
    try:
        with db.begin() as s:
            audit.record(s, actor, "restore_database", entity_type="database")
    except Exception:  # the account may be newer than the backup; the log still says it
        log.exception("The restore could not be written to the restored audit trail")
    log.info("Restored %s from %s (the database before is kept at %s)", safe_url(db.url), source, safety)
    return kept
