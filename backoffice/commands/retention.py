"""`backoffice retention [--dry-run]`: the retention job (off by default), counts first."""

from __future__ import annotations

import argparse

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice.services import staff
from backoffice.services.privacy import retention


def register(sub) -> None:
    p = sub.add_parser("retention", help="anonymise orders past the retention period and erase long-inactive "
                                         "customers (owner only; off until turned on in Shop settings)")
    add_db_argument(p)
    add_staff_argument(p)
    p.add_argument("--dry-run", action="store_true", help="only print what would be done")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = staff.sign_in_headless(db, login=args.login or "",
                                       password=read_password(f"Password for {args.login}: "))
        plan = (retention.preview_retention(db, actor=actor) if args.dry_run
                else retention.run_retention(db, actor=actor))
    finally:
        db.dispose()
    print("\n".join(plan.lines()))
    return 0
