"""Headless subcommands of the `backoffice` command line, one module each.

Each module defines `register(subparsers)`, which adds its subparser and sets
`func` to a callable taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from backoffice.db import Database, default_database_url, open_database, require_existing_database


def add_db_argument(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """`--db URL`, meaning the same before the command or after it.

    On a subcommand it has no default of its own, so a `--db` given before the
    subcommand (`backoffice --db URL db upgrade`) is not replaced by None.
    """
    parser.add_argument(
        "--db",
        metavar="URL",
        default=None if top_level else argparse.SUPPRESS,
        help="database URL, e.g. sqlite:///shop.db or postgresql://user@host/shop "
        "(default: this desk's database, or $BACKOFFICE_DATABASE_URL)",
    )


def add_staff_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as",
        dest="login",
        metavar="LOGIN",
        default=os.environ.get("BACKOFFICE_LOGIN"),
        help="staff account to act as (default: $BACKOFFICE_LOGIN); the password is read "
        "from $BACKOFFICE_PASSWORD or asked for on the terminal, never taken as an argument",
    )


def open_db(args: argparse.Namespace, *, create: bool = False) -> Database:
    """The database the command was told to use (or this desk's), opened and migrated.

    Only commands that make a shop (`db upgrade`, `staff create-owner`, `demo`) pass
    `create`; any other command refuses a database that is not there yet rather than
    leave an empty one behind when it then fails.
    """
    url = getattr(args, "db", None) or default_database_url()
    if not create:
        require_existing_database(url)
    return open_database(url)


def read_password(prompt: str = "Password: ") -> str:
    """The staff password from $BACKOFFICE_PASSWORD, or typed on the terminal."""
    env = os.environ.get("BACKOFFICE_PASSWORD")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise SystemExit("backoffice: no password: set BACKOFFICE_PASSWORD or run on a terminal")
    return getpass.getpass(prompt)
