"""Schema migrations (Alembic), run from code when a database is opened.

A SQLite file is backed up before it is upgraded; a database whose revision this
version of the app does not know was written by a newer app and is refused.
To write a new revision after changing the model:
`python -m backoffice.migrations new "what changed"` (autogenerates against a
scratch database at head; read and tidy the result before committing).
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from backoffice.errors import DatabaseTooNew

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


def config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head_revision() -> str | None:
    heads = script().get_heads()
    if not heads:
        return None
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads; merge them")
    return heads[0]


def current_revision(db) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_not_newer(db) -> str | None:
    """Refuse a database written by a newer app; return its current revision."""
    current = current_revision(db)
    if current is None:
        return None
    known = {rev.revision for rev in script().walk_revisions()}
    if current not in known:
        raise DatabaseTooNew(
            f"The database at {db.shown_url} was written by a newer version of "
            "backoffice. Install that version (or newer) to open it; nothing was changed."
        )
    return current


def upgrade(db, revision: str = "head") -> bool:
    """Bring the database to `revision`; returns True when anything was applied."""
    current = check_not_newer(db)
    target = head_revision() if revision == "head" else revision
    if current == target or target is None:
        return False
    if db.backend == "sqlite" and current is not None:
        db.backup_sqlite()
    with db.engine.connect() as conn:
        if db.backend == "sqlite":
            # Batch migrations rebuild tables; foreign keys must be off outside the transaction.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        cfg = config(conn)
        command.upgrade(cfg, revision)
        conn.commit()
        if db.backend == "sqlite":
            problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            if problems:
                raise RuntimeError(f"foreign key problems after migration: {problems[:5]}")
    log.info("Database upgraded from %s to %s", current or "empty", target)
    return True

