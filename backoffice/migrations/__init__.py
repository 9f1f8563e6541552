"""Schema migrations (Alembic), run from code when a database is opened.

A SQLite file is backed up before it is upgraded; a database whose revision this
version of the app does not know was written by a newer app and is refused.
To write a new revision after changing the model:
`python -m backoffice.migrations new "what changed"` (autogenerates against a
scratch database at head; read and tidy the result before committing).
"""

from __future__ import annotations

import logging
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from backoffice.errors import DatabaseTooNew

if TYPE_CHECKING:
    from alembic.config import Config  # late: Alembic loads only when a schema is to change
    from alembic.script import ScriptDirectory  # late: as above

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent

# Alembic and the revision scripts are only loaded when something is to be done: opening a
# database whose schema is current (every start but the first after an update) reads its
# revision with one query and compares it with the newest script's, read as text.
_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


@cache
def _newest_script_revision() -> str | None:
    """The head revision, found by reading the scripts' `revision` and `down_revision` lines.

    None when the scripts cannot be read that way (then Alembic decides).
    """
    revisions, parents = set(), set()
    for path in (HERE / "versions").glob("*.py"):
        found = dict((m.group(1), m.group(2).strip()) for m in _REVISION_LINE.finditer(path.read_text("utf-8")))
        revision = found.get("revision", "")
        if not re.fullmatch(r"[\"'][\w-]+[\"']", revision):
            return None
        revisions.add(revision[1:-1])
        parents.update(re.findall(r"[\"']([\w-]+)[\"']", found.get("down_revision", "")))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def is_current(db) -> bool:
    """True when the database is at the newest revision (one query, without loading Alembic)."""
    newest = _newest_script_revision()
    if newest is None:
        return False
    try:
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    except DBAPIError:
        return False  # a new database: no revision table yet
    return [r[0] for r in rows] == [newest]


def config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # late: Alembic loads only when a schema is to change

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory  # late: as above

    return ScriptDirectory.from_config(config())


def head_revision() -> str | None:
    heads = script().get_heads()
    if not heads:
        return None
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads; merge them")
    return heads[0]


def current_revision(db) -> str | None:
    from alembic.runtime.migration import MigrationContext  # late: as above

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
    if revision == "head" and is_current(db):
        return False
    from alembic import command  # late: Alembic loads only when a schema is to change

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

