"""`backoffice staff create-owner|add|add-job-account|list`: staff accounts from the command line."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice.domain.enums import Role
from backoffice.domain.staff import ROLE_LABELS
from backoffice.services import staff

ENV_NEW_PASSWORD = "BACKOFFICE_NEW_PASSWORD"


def register(sub) -> None:
    p = sub.add_parser("staff", help="create the first owner, add and list staff accounts")
    ssub = p.add_subparsers(dest="staff_command", metavar="ACTION", required=True)

    owner = ssub.add_parser(
        "create-owner",
        help="create the shop owner's account in a database without staff; the password "
        f"is read from ${ENV_NEW_PASSWORD} or asked for twice on the terminal",
    )
    add_db_argument(owner)
    owner.add_argument("--login", required=True, help="the owner's login")
    owner.add_argument("--name", required=True, help="the owner's name as shown to staff")
    owner.set_defaults(func=_create_owner)

    add = ssub.add_parser(
        "add",
        help="add a staff account (owner only); its first password is read from "
        f"${ENV_NEW_PASSWORD} or asked for twice, and must be changed at first sign-in",
    )
    add_db_argument(add)
    add_staff_argument(add)
    add.add_argument("--login", dest="new_login", required=True, help="the new account's login")
    add.add_argument("--name", required=True, help="the person's name as shown to staff")
    add.add_argument("--role", required=True,
                     choices=[r.value for r in Role if r != Role.SCHEDULED_JOB],
                     help="what the account may do (see docs/roles.md)")
    add.set_defaults(func=_add)

    job = ssub.add_parser(
        "add-job-account",
        help="make the account `backoffice sync --job LOGIN` acts as from cron (owner only): it "
        "may only sync, and its token is kept in this machine's keyring, never typed",
    )
    add_db_argument(job)
    add_staff_argument(job)
    job.add_argument("--login", dest="new_login", default="scheduled-job",
                     help="the job account's login (default: scheduled-job)")
    job.set_defaults(func=_add_job)

    lst = ssub.add_parser("list", help="list staff accounts (owner only)")
    add_db_argument(lst)
    add_staff_argument(lst)
    lst.set_defaults(func=_list)


def read_new_password() -> str:
    """A new account's password from $BACKOFFICE_NEW_PASSWORD, or typed twice on the terminal."""
    env = os.environ.get(ENV_NEW_PASSWORD)
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise SystemExit(f"backoffice: no new password: set {ENV_NEW_PASSWORD} or run on a terminal")
    first = getpass.getpass("New account's password: ")
    if getpass.getpass("The same password again: ") != first:
        raise SystemExit("backoffice: the two passwords differ; nothing was created")
    return first


def _signed_in(db, args: argparse.Namespace):
    return staff.sign_in_headless(db, login=args.login or "",
                                  password=read_password(f"Password for {args.login}: "))


def _create_owner(args: argparse.Namespace) -> int:
    db = open_db(args, create=True)
    try:
        if not staff.needs_first_owner(db):
            print("backoffice: this database already has staff accounts; the owner adds more "
                  "with `backoffice staff add`", file=sys.stderr)
            return 1
        actor = staff.create_first_owner(db, login=args.login, display_name=args.name,
                                         password=read_new_password(), desk="cli")
    finally:
        db.dispose()
    print(f"Created the owner account “{actor.login}”.")
    return 0


def _add(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = _signed_in(db, args)
        summary = staff.add_staff(db, actor=actor, login=args.new_login, display_name=args.name,
                                  role=Role(args.role), password=read_new_password())
    finally:
        db.dispose()
    print(f"Added “{summary.login}” ({summary.role_label}); the password must be changed at "
          "the first sign-in.")
    return 0


def _add_job(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = _signed_in(db, args)
        made = staff.add_job_account(db, actor=actor, login=args.new_login)
    finally:
        db.dispose()
    print(f"Added the scheduled-job account “{made.account.login}”; it may only sync.")
    if made.in_keyring:
        print(f"Its token is in this machine's keyring: run `backoffice sync --job {made.account.login}` "
              "from cron as this same user.")
    else:
        print("This machine has no keyring, so the token is shown once; put it in the cron job's "
              f"environment as {staff.ENV_JOB_TOKEN}:")
        print(made.token)
    return 0


def _list(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        actor = _signed_in(db, args)
        rows = staff.list_staff(db, actor=actor)
    finally:
        db.dispose()
    width = max([len(r.login) for r in rows] + [5])
    for r in rows:
        state = "active" if r.active else "disabled"
        if r.is_locked():
            state += f", locked until {r.locked_until.astimezone():%H:%M}"
        if r.must_change_password:
            state += ", must change password"
        print(f"{r.id:>4}  {r.login:<{width}}  {ROLE_LABELS[r.role]:<11}  {r.display_name}  ({state})")
    return 0
