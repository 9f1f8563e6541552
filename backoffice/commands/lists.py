"""`backoffice lists export|import`: a newsletter list to or from Mailchimp's and listmonk's CSV files."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice.commands.sync import TerminalProgress

SHOWN_LINES = 50


def register(sub) -> None:
    p = sub.add_parser("lists", help="export or import a newsletter list as Mailchimp or listmonk CSV",
                       description="Export a list's subscribed members, or import a mail tool's export.")
    verbs = p.add_subparsers(dest="verb", metavar="export|import")

    ex = verbs.add_parser(
        "export", help="write a list's subscribed members as CSV for Mailchimp or listmonk",
        description="Write the list's subscribed members to a new CSV file readable by its owner only, "
        "in Mailchimp's or listmonk's import format. Erased, deactivated, restricted, objecting and "
        "suppressed people are left out; how many and why is printed.")
    ex.add_argument("--list", dest="list_name", required=True, metavar="NAME", help="the list's name")
    ex.add_argument("--format", dest="fmt", required=True, choices=("mailchimp", "listmonk"))
    ex.add_argument("--out", required=True, metavar="FILE", help="the CSV file to write (a new file)")
    ex.add_argument("--replace", action="store_true", help="write over FILE if it exists")
    add_db_argument(ex)
    add_staff_argument(ex)
    ex.set_defaults(func=_export)

    im = verbs.add_parser(
        "import", help="import subscribers, unsubscribes or bounces from a Mailchimp or listmonk export",
        description="Read a Mailchimp export (subscribed, unsubscribed or cleaned members) or a listmonk "
        "export, print every row that cannot be imported with its line, and import all rows in one "
        "go, or none when any row is rejected. Addresses that opted out or bounced are never put back "
        "on the list by an import.")
    im.add_argument("file", metavar="FILE")
    im.add_argument("--list", dest="list_name", required=True, metavar="NAME", help="the list's name")
    im.add_argument("--dry-run", action="store_true", help="check the file and print the report; import nothing")
    add_db_argument(im)
    add_staff_argument(im)
    im.set_defaults(func=_import)
    key = verbs.add_parser(
        "suppression-key", help="copy the suppression list's key from one desk to another (owner)",
        description="The suppression list keeps keyed hashes of opted-out addresses; every desk needs the "
        "same key, kept in its keyring. --show prints this desk's key; --set reads one from the terminal "
        "(or standard input) and keeps it in this desk's keyring after checking it is the shop's.")
    which = key.add_mutually_exclusive_group(required=True)
    which.add_argument("--show", action="store_true", help="print this desk's key")
    which.add_argument("--set", action="store_true", help="read the key and keep it in this desk's keyring")
    add_db_argument(key)
    add_staff_argument(key)
    key.set_defaults(func=_suppression_key)
    p.set_defaults(func=lambda args: (p.print_usage(sys.stderr), 2)[1])


def _export(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice.services import staff
    from backoffice.services.newsletters import export_csv, lists

    db = open_db(args)
    try:
        actor = staff.sign_in_headless(db, login=args.login or "", password=read_password(f"Password for {args.login}: "))
        target = lists.find_list(db, actor=actor, name=args.list_name)
        progress = TerminalProgress(sys.stderr)
        try:
            result = export_csv.export_list(db, actor=actor, list_id=target.id, fmt=args.fmt, path=args.out,
                                            replace=args.replace, progress=progress)
        finally:
            progress.finish()
    finally:
        db.dispose()
    print(result.summary())
    return 0


def _import(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice.services import staff
    from backoffice.services.newsletters import import_csv, lists

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"backoffice: the file {path} could not be read: {exc.strerror or exc}", file=sys.stderr)
        return 1
    db = open_db(args)
    try:
        actor = staff.sign_in_headless(db, login=args.login or "", password=read_password(f"Password for {args.login}: "))
        target = lists.find_list(db, actor=actor, name=args.list_name)
        progress = TerminalProgress(sys.stderr)
        try:
            preview = import_csv.preview_list_import(db, actor=actor, list_id=target.id, data=data, progress=progress)
            result = None
            if not args.dry_run and preview.can_import:
                result = import_csv.import_list(db, actor=actor, list_id=target.id, data=data, preview=preview,
                                                progress=progress)
        finally:
            progress.finish()
    finally:
        db.dispose()
    label = import_csv.FORMAT_LABELS[preview.format]
    counts = ", ".join(f"{n:,} {status.value}" for status, n in preview.by_status.items())
    print(f"{path.name}: {label} {preview.kind}, {preview.rows:,} rows ({counts or 'none readable'}).")
    for line in preview.report_lines()[:SHOWN_LINES]:
        print(f"  {line}")
    if len(preview.rejected) > SHOWN_LINES:
        print(f"  … and {len(preview.rejected) - SHOWN_LINES:,} more.")
    if preview.rejected:
        print(f"{len(preview.rejected):,} row(s) cannot be imported; nothing was imported. "
              "Fix them in the file and import it again.")
        return 1
    if result is None:
        print(f"Dry run, nothing imported: every row of {preview.rows:,} can be imported into “{target.name}”.")
        return 0
    print(f"Imported into “{target.name}”: {result.subscribed:,} subscribed, {result.unsubscribed:,} unsubscribed, "
          f"{result.cleaned:,} cleaned, {result.unchanged:,} already so; {result.new_customers:,} new customers.")
    for left in result.left_out[:SHOWN_LINES]:
        print(f"  Left out, line {left.line}: {left.reason}")
    if len(result.left_out) > SHOWN_LINES:
        print(f"  … and {len(result.left_out) - SHOWN_LINES:,} more left out.")
    return 0


def _suppression_key(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice.services import staff
    from backoffice.services.newsletters import suppression

    db = open_db(args)
    try:
        actor = staff.sign_in_headless(db, login=args.login or "", password=read_password(f"Password for {args.login}: "))
        if args.show:
            print(suppression.show_key(db, actor=actor))
            return 0
        text = getpass.getpass("Suppression key: ") if sys.stdin.isatty() else sys.stdin.readline()
        kept = suppression.set_key(db, actor=actor, text=text)
    finally:
        db.dispose()
    print("The key is kept in this desk's keyring." if kept else
          "This computer has no keyring: the key was checked but not kept; set BACKOFFICE_SUPPRESSION_KEY "
          "for unattended runs.")
    return 0
