"""`backoffice policy-notice`: announce a new use of personal data to every customer, 30 days ahead."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from pathlib import Path

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice.errors import UserFacingError
from backoffice.services import staff
from backoffice.services.privacy import notices


def register(sub) -> None:
    p = sub.add_parser("policy-notice", help="log a policy-change notice for every customer and write the "
                                             "mailing list for the shop's mailer (owner only)")
    add_db_argument(p)
    add_staff_argument(p)
    p.add_argument("--title", required=True)
    p.add_argument("--text-file", required=True, metavar="FILE", help="the notice's text")
    p.add_argument("--effective", required=True, metavar="YYYY-MM-DD", help="when the change applies (30 days on at least)")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="the mailing list to write")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    try:
        effective = datetime.strptime(args.effective, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise UserFacingError(f"“{args.effective}” is not a day written YYYY-MM-DD; nothing was sent.") from None
    try:
        body = Path(args.text_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserFacingError(f"The notice's text could not be read from {args.text_file} ({exc.strerror}); "
                              "nothing was sent.") from None
    except UnicodeDecodeError:
        raise UserFacingError(f"The notice's text in {args.text_file} is not UTF-8 text; save it as UTF-8 "
                              "and try again. Nothing was sent.") from None
    db = open_db(args)
    try:
        actor = staff.sign_in_headless(db, login=args.login or "",
                                       password=read_password(f"Password for {args.login}: "))
        result = notices.announce_policy_change(db, actor=actor, title=args.title, body=body,
                                                effective_at=effective, out=args.out)
    finally:
        db.dispose()
    print(f"Notice {result.notice_id} logged for {result.recipients} customers; the list is in {result.file}"
          + (f"; {result.without_email} customers have no email address." if result.without_email else "."))
    return 0
