"""`backoffice call NUMBER`: show the caller in the app open on this desk (see `backoffice.calls_channel`)."""

from __future__ import annotations

import argparse

from backoffice import calls_channel


def register(sub) -> None:
    p = sub.add_parser(
        "call",
        help="show the caller with this number in the app open on this desk, starting the app "
        "if needed (also: backoffice /C:NUMBER /T:I, and backoffice://call?number=… links)",
    )
    p.add_argument("number", nargs="+", metavar="NUMBER",
                   help='the caller\'s number in any format, or a backoffice://call?number=… link')
    p.add_argument("--no-start", action="store_true", help="do not start the app when it is not running")
    p.add_argument("--db", metavar="URL", default=None, help="the database the app opens if it has to be started")
    p.set_defaults(func=_call)


def _call(args: argparse.Namespace) -> int:
    argv = list(args.number)
    if args.no_start:
        argv.append("--no-start")
    if args.db:
        argv += ["--db", args.db]
    return calls_channel.main(argv)
