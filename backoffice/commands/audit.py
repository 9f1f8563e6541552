"""`backoffice audit verify|list|key`: check the audit trail, read it, and set a desk up with its key."""

from __future__ import annotations

import argparse
import sys

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice import migrations
from backoffice.db import default_database_url, open_database, require_existing_database
from backoffice.services import audit, staff


def register(sub) -> None:
    p = sub.add_parser("audit", help="verify or read the audit trail")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    verify = asub.add_parser(
        "verify",
        help="check that no audit entry was changed, removed, inserted or reordered and that "
        "the end this desk last saw is still there; exit 0 if the trail is intact, 1 saying "
        "what is wrong",
    )
    add_db_argument(verify)
    verify.set_defaults(func=_verify)

    lst = asub.add_parser("list", help="print audit entries, newest first (owner only)")
    add_db_argument(lst)
    add_staff_argument(lst)
    lst.add_argument("--customer", type=int, metavar="ID", help="only entries about this customer")
    lst.add_argument("--action", metavar="ACTION",
                     help=f"only this action, e.g. login_failed, or {audit.ANY_DENIED} for refusals")
    lst.add_argument("--limit", type=int, default=50, metavar="N",
                     help=f"at most N entries (default 50, at most {audit.MAX_PAGE})")
    lst.set_defaults(func=_list)

    key = asub.add_parser("key", help="copy the shop's audit key from one desk to another")
    ksub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    export = ksub.add_parser("export", help="print the shop's audit key (owner only); keep it secret")
    add_db_argument(export)
    add_staff_argument(export)
    export.set_defaults(func=_export_key)
    imp = ksub.add_parser("import", help="keep the shop's audit key, read from standard input, in "
                          "this desk's keyring")
    add_db_argument(imp)
    imp.set_defaults(func=_import_key)


def _verify(args: argparse.Namespace) -> int:
    # Checking must not change the file it checks, so the database is not migrated here.
    url = args.db or default_database_url()
    require_existing_database(url)
    db = open_database(url, upgrade=False)
    try:
        if migrations.current_revision(db) != migrations.head_revision():
            print("backoffice: this database was made by an older version; open it once with the app "
                  "or run `backoffice db upgrade`, then verify. Nothing was checked.", file=sys.stderr)
            return 1
        report = audit.check_chain(db)
    finally:
        db.dispose()
    print(report.sentence())
    return 0 if report.ok else 1


def _list(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = staff.sign_in_headless(db, login=args.login or "",
                                       password=read_password(f"Password for {args.login}: "))
        rows = audit.list_events(db, actor=actor, customer_id=args.customer, action=args.action,
                                 limit=args.limit)
    finally:
        db.dispose()
    for r in rows:
        entity = f"{r.entity_type} {r.entity_id}" if r.entity_id is not None else r.entity_type
        customer = f"customer {r.customer_id}" if r.customer_id is not None else ""
        fields = ",".join(r.fields)
        print(f"{r.id:>7}  {r.at.astimezone():%Y-%m-%d %H:%M:%S}  {r.staff_login or '-':<12}  "
              f"{r.desk or '-':<10}  {r.action:<24}  {r.outcome.value:<6}  {entity:<14}  "
              f"{customer:<14}  {fields}".rstrip())
    return 0


def _export_key(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = staff.sign_in_headless(db, login=args.login or "",
                                       password=read_password(f"Password for {args.login}: "))
        key_text = audit.export_audit_key(db, actor=actor)
    finally:
        db.dispose()
    print(key_text)
    return 0


def _import_key(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        print("Paste the audit key printed by `backoffice audit key export`, then press Enter:",
              file=sys.stderr)
    key_text = sys.stdin.readline()
    db = open_db(args)
    try:
        print(audit.import_audit_key(db, key_text=key_text))
    finally:
        db.dispose()
    return 0
