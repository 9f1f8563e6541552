"""`backoffice db upgrade|status`: create or migrate a database."""

from __future__ import annotations

import argparse

from backoffice import migrations
from backoffice.commands import add_db_argument
from backoffice.db import default_database_url, open_database, require_existing_database, safe_url


def register(sub) -> None:
    p = sub.add_parser("db", help="create, migrate or inspect the database")
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dsub.add_parser("upgrade", help="create the database or bring it to this version's schema "
                         "(a SQLite file is backed up first)")
    add_db_argument(up)
    up.set_defaults(func=_upgrade)
    st = dsub.add_parser("status", help="print the database's schema revision and this app's")
    add_db_argument(st)
    st.set_defaults(func=_status)


def _upgrade(args: argparse.Namespace) -> int:
    url = args.db or default_database_url()
    db = open_database(url, upgrade=False)
    try:
        before = migrations.current_revision(db)
        changed = migrations.upgrade(db)
        after = migrations.current_revision(db)
        # late: each command loads its services only when it runs
        from backoffice.services.search_index import rebuild_search_index, search_index_needs_rebuild

        if search_index_needs_rebuild(db):
            terms = rebuild_search_index(db)
            print(f"Indexed the customers for search ({terms} terms).")
    finally:
        db.dispose()
    if changed:
        print(f"Upgraded {safe_url(url)} from {before or 'empty'} to {after}.")
    else:
        print(f"{safe_url(url)} is up to date ({after}).")
    return 0


def _status(args: argparse.Namespace) -> int:
    url = args.db or default_database_url()
    require_existing_database(url)
    db = open_database(url, upgrade=False)
    try:
        current = migrations.current_revision(db)
    finally:
        db.dispose()
    head = migrations.head_revision()
    print(f"database: {safe_url(url)}\nschema: {current or 'empty'}\nthis app: {head}")
    return 0 if current == head else 3
