"""`backoffice export-data --customer ID --out FILE.zip`: one person's data as JSON, CSV and PDF."""

from __future__ import annotations

import argparse

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice.services import staff
from backoffice.services.privacy import export


def register(sub) -> None:
    p = sub.add_parser("export-data", help="write one customer's personal data to a ZIP (owner only)")
    add_db_argument(p)
    add_staff_argument(p)
    p.add_argument("--customer", type=int, required=True, metavar="ID")
    p.add_argument("--out", required=True, metavar="FILE.zip")
    p.add_argument("--replace", action="store_true", help="write over an existing file")
    p.add_argument("--include-confidential", action="store_true",
                   help="also disclosures the owner marked confidential")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = staff.sign_in_headless(db, login=args.login or "",
                                       password=read_password(f"Password for {args.login}: "))
        result = export.export_personal_data(db, actor=actor, customer_id=args.customer, out=args.out,
                                             replace=args.replace, include_confidential=args.include_confidential)
    finally:
        db.dispose()
    rows = sum(result.tables.values())
    print(f"Wrote {result.path}: {rows} rows from {sum(1 for n in result.tables.values() if n)} tables.")
    return 0
