"""`backoffice request new|list|verify|fulfil|refuse|letter`: the privacy request register from the command line."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice.domain.enums import RequestKind
from backoffice.errors import ValidationError
from backoffice.services import staff
from backoffice.services.privacy import fulfil, identity, letters
from backoffice.services.privacy import register as requests


def register(sub) -> None:
    p = sub.add_parser("request", help="log, list, verify and fulfil privacy requests")
    rsub = p.add_subparsers(dest="request_command", metavar="ACTION", required=True)

    new = rsub.add_parser("new", help="log a privacy request; prints its number")
    new.add_argument("--kind", required=True, choices=[k.value for k in RequestKind])
    new.add_argument("--customer", type=int, metavar="ID", help="the customer it is about, if known")
    new.add_argument("--channel", default="email", choices=sorted(requests.CHANNELS))
    new.add_argument("--name", default="", help="who asked, when no customer is named")
    new.add_argument("--contact", default="", help="their email or phone, when no customer is named")
    new.add_argument("--details", default="", help="what they asked, in their words")
    new.add_argument("--received", metavar="YYYY-MM-DD", help="the day it arrived (default: now)")
    new.set_defaults(func=_new)

    lst = rsub.add_parser("list", help="open requests, by days left (overdue first)")
    lst.add_argument("--all", action="store_true", help="closed requests too")
    lst.set_defaults(func=_list)

    verify = rsub.add_parser("verify", help="record how the requester's identity was checked")
    verify.add_argument("number", type=int)
    verify.add_argument("--method", required=True,
                        help="one of " + ", ".join(identity.METHODS) + ", or a few words")
    verify.set_defaults(func=_verify)

    ful = rsub.add_parser("fulfil", help="carry out a verified request; prints what was done and kept")
    ful.add_argument("number", type=int)
    ful.add_argument("--out", metavar="FILE.zip", help="where an access request's export goes")
    ful.add_argument("--replace", action="store_true", help="write over an existing export file")
    ful.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", dest="corrections",
                     help="for a correction: a field to change (first_name, last_name, company, email, phone)")
    ful.add_argument("--note", default="", help="for a correction made on the customer's page: what was corrected")
    ful.set_defaults(func=_fulfil)

    ref = rsub.add_parser("refuse", help="refuse a request, or close it as partly fulfilled, with the reason")
    ref.add_argument("number", type=int)
    ref.add_argument("--reason", required=True)
    ref.add_argument("--kept", action="append", default=[], metavar="WHAT=WHY",
                     help="something kept, and why (repeatable)")
    ref.add_argument("--partly", action="store_true", help="partly fulfilled rather than refused")
    ref.set_defaults(func=_refuse)

    let = rsub.add_parser("letter", help="print the response letter of a decided request; --out also writes its PDF")
    let.add_argument("number", type=int)
    let.add_argument("--out", metavar="FILE.pdf")
    let.add_argument("--replace", action="store_true")
    let.set_defaults(func=_letter)

    for parser in (new, lst, verify, ful, ref, let):
        add_db_argument(parser)
        add_staff_argument(parser)


def _actor(db, args):
    return staff.sign_in_headless(db, login=args.login or "", password=read_password(f"Password for {args.login}: "))


def _received(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ValidationError(f"“{text}” is not a day written YYYY-MM-DD; nothing was saved.") from None


def _new(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        logged = requests.log_request(
            db, actor=_actor(db, args), kind=args.kind, channel=args.channel, customer_id=args.customer,
            requester_name=args.name, requester_contact=args.contact, details=args.details,
            received_at=_received(args.received))
    finally:
        db.dispose()
    print(logged.request.id)
    if logged.message:
        print(logged.message)
    return 0


def _list(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        rows = requests.list_requests(db, actor=_actor(db, args), open_only=not args.all)
    finally:
        db.dispose()
    for r in rows:
        flag = "OVERDUE" if r.overdue else ("SOON" if r.due_soon else "")
        print(f"{r.id:>5}  {r.clock_label:<18} {flag:<7}  due {r.due_at:%Y-%m-%d}  {r.kind.value:<18} "
              f"{r.status_label:<16} {'id checked' if r.identity_verified else 'id not checked':<14}  {r.who}")
    if not rows:
        print("No open requests.")
    return 0


def _verify(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        row = identity.verify_identity(db, actor=_actor(db, args), request_id=args.number, method=args.method)
    finally:
        db.dispose()
    print(f"Request {row.id}: identity checked; {row.clock_label.lower()}.")
    return 0


def _fulfil(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        corrections = dict(item.partition("=")[::2] for item in args.corrections)
        result = fulfil.fulfil_request(db, actor=_actor(db, args), request_id=args.number, out=args.out,
                                       replace=args.replace, note=args.note, corrections=corrections)
    finally:
        db.dispose()
    print("\n".join(result.lines()))
    return 0


def _refuse(args: argparse.Namespace) -> int:
    kept = []
    for item in args.kept:
        what, _, why = item.partition("=")
        kept.append((what.strip(), why.strip()))
    db = open_db(args)
    try:
        result = fulfil.refuse_request(db, actor=_actor(db, args), request_id=args.number, reason=args.reason,
                                       kept=kept, partly=args.partly)
    finally:
        db.dispose()
    print("\n".join(result.lines()))
    return 0


def _letter(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = _actor(db, args)
        letter = (letters.save_letter(db, actor=actor, request_id=args.number, out=args.out, replace=args.replace)
                  if args.out else letters.response_letter(db, actor=actor, request_id=args.number))
    finally:
        db.dispose()
    print(letter.text)
    return 0
