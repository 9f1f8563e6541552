"""`backoffice import-customers FILE`: import a customer list from a CSV file, or only check it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice.commands.sync import TerminalProgress
from backoffice.private_files import FileExistsRefused, check_writable, database_files

# Enough lines to see what is wrong; the rejected-rows file holds every one.
SHOWN_PROBLEMS = 50


def register(sub) -> None:
    p = sub.add_parser(
        "import-customers",
        help="import customers from a CSV file (a spreadsheet's export); --dry-run only checks it",
        description="Read a CSV file of customers (comma, semicolon or tab separated; UTF-8 or "
        "Windows-1252), print how its columns are read and every row that cannot be imported, "
        "with its line number, and import the rest. Rows whose email address is already on file "
        "are skipped, never merged. Card numbers are masked to their last 4 digits. No web "
        "store account is opened for the imported customers. Exits 1 when no customer could be "
        "imported.",
    )
    p.add_argument("file", metavar="FILE", help="the CSV file to import")
    add_db_argument(p)
    add_staff_argument(p)
    p.add_argument("--dry-run", action="store_true", help="check the file and print the report; import nothing")
    p.add_argument("--rejects", metavar="OUT.csv", default=None,
                   help="write the rows that were not imported to this new CSV file (readable by you "
                   "only), with the reason for each, to fix and import again; an existing file is "
                   "not replaced unless --replace-rejects is given, and the database and the "
                   "imported file never are")
    p.add_argument("--replace-rejects", action="store_true",
                   help="replace the --rejects file if it already exists")
    p.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice.services import customer_import, staff

    path = Path(args.file)
    if not path.is_file():
        print(f"backoffice: the file {path} could not be read: it does not exist or is not a file",
              file=sys.stderr)
        return 1
    db = open_db(args)
    try:
        protect = [path, *database_files(db.sqlite_path)]
        if args.rejects:
            # Refused before anything is imported, so a bad name costs nothing.
            try:
                check_writable(args.rejects, replace=args.replace_rejects, protect=protect)
            except FileExistsRefused as exc:
                protected = Path(args.rejects).resolve() in {p.resolve() for p in protect}
                print(f"backoffice: {exc.message}" + ("" if protected else " (--replace-rejects replaces it)"),
                      file=sys.stderr)
                return 1
        actor = staff.sign_in_headless(db, login=args.login or "",
                                       password=read_password(f"Password for {args.login}: "))
        progress = TerminalProgress(sys.stderr)
        try:
            if args.dry_run:
                report = customer_import.preview_import(db, actor=actor, path=path, progress=progress)
                result = None
            else:
                result = customer_import.import_customers(db, actor=actor, path=path, progress=progress)
                report = result.report
        finally:
            progress.finish()
    finally:
        db.dispose()

    print(f"{path.name}: {report.encoding}, {report.delimiter_name}-separated, {report.rows:,} rows.")
    for note in report.notes:
        print(note)
    print("Columns:")
    for column in report.columns:
        print(f"  {column.header or '(no name)'}: {column.label}")
    if report.problems:
        print("Problems:")
        for problem in report.problems[:SHOWN_PROBLEMS]:
            print(f"  {problem.sentence()}")
        more = report.problem_count - min(len(report.problems), SHOWN_PROBLEMS)
        if more > 0:
            print(f"  … and {more:,} more"
                  + ("" if args.rejects else " (write every row left out with --rejects OUT.csv)") + ".")
    if args.rejects:
        if report.left_out:
            count = customer_import.write_rejected_rows(report, args.rejects, replace=args.replace_rejects,
                                                        protect=protect)
            print(f"{count:,} row{'' if count == 1 else 's'} not imported written to {args.rejects}.")
        else:
            print(f"Every row can be imported; {args.rejects} was not written.")
    if result is None:
        print(f"Dry run, nothing imported: {report.summary()}")
        return 0 if report.new else 1
    print(result.summary())
    if result.imported:
        print(customer_import.STORE_NOTE)
    return 0 if result.imported else 1
