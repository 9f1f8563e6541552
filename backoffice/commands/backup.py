"""`backoffice backup` and `backoffice restore`: copies of the shop's SQLite database."""

from __future__ import annotations

import argparse

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice.services import backup, staff


def register(sub) -> None:
    p = sub.add_parser("backup", help="copy the shop's database to a file while desks keep working "
                       "(owner only; the file holds customers' personal data)")
    add_db_argument(p)
    add_staff_argument(p)
    p.add_argument("--out", required=True, metavar="FILE", help="the backup file to write")
    p.add_argument("--replace", action="store_true", help="replace FILE if it exists")
    p.set_defaults(func=_backup)

    r = sub.add_parser("restore", help="put a backup in place of the shop's database (owner only; "
                       "the current database is backed up first)")
    add_db_argument(r)
    add_staff_argument(r)
    r.add_argument("file", metavar="FILE", help="a backup made with `backoffice backup`")
    r.set_defaults(func=_restore)


def _signed_in(db, args):
    return staff.sign_in_headless(db, login=args.login or "",
                                  password=read_password(f"Password for {args.login}: "))


def _backup(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = _signed_in(db, args)
        info = backup.backup_database(actor=actor, db=db, out=args.out, replace=args.replace)
    finally:
        db.dispose()
    print(f"Backed up the shop's database to {info.path} ({info.size:,} bytes). It holds customers' "
          "personal data: keep it where only the owner can read it.")
    return 0


def _restore(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = _signed_in(db, args)
        kept = backup.restore_database(actor=actor, db=db, backup=args.file)
    finally:
        db.dispose()
    print(f"Restored the shop's database from {args.file}. The database as it was before is kept "
          f"at {kept.path}.")
    return 0
