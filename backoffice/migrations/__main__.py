"""Developer command: autogenerate a migration against a scratch database at head."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from backoffice import migrations
from backoffice.db import open_database


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "new":
        print('usage: python -m backoffice.migrations new "what changed" [--rev-id ID]')
        return 2
    message = argv[1]
    rev_id = argv[argv.index("--rev-id") + 1] if "--rev-id" in argv else None
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        with db.engine.connect() as conn:
            cfg = migrations.config(conn)
            command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)
            conn.commit()
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
