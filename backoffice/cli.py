"""The headless `backoffice` command line: every command that needs no window.

The `backoffice` program itself starts in `ui.shell.launcher`, which opens windows for
the commands that need one and hands every other command to `main` here, so
scheduled jobs and servers never load Qt.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from backoffice import __version__, commands
from backoffice.errors import BackofficeError, UserFacingError
from backoffice.logsetup import configure_logging

log = logging.getLogger("backoffice")

DESCRIPTION = """\
The back office for a small web shop: phone orders, customers, privacy requests,
newsletters, packing slips and two-way sync with a WooCommerce store.

Run without a command to open the app on this desk's database.
"""


def build_parser(*, with_gui: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backoffice",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"backoffice {__version__}")
    if with_gui:
        parser.add_argument(
            "--self-test",
            action="store_true",
            help="start the app offscreen, open and migrate the database, show the main "
            "window, and exit 0 (used to check an installed build)",
        )
    commands.add_db_argument(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def file_logging() -> Path | None:
    """Log to this desk's log file (`backoffice.logsetup`); its path, or None when it cannot be
    written (the command runs all the same)."""
    try:
        return configure_logging()
    except OSError:
        return None


def _details(log_path: Path | None) -> str:
    if log_path is None:
        return "the details could not be written to a log file"
    return f"the details are in the log, {log_path}"


def run(args: argparse.Namespace) -> int:
    """Run a parsed headless command; failures become one line on stderr and exit 1.

    The command logs to this desk's log file, where an unexpected failure leaves its
    traceback; the line on stderr says where that file is.
    """
    func = getattr(args, "func", None)
    if func is None:
        print("backoffice: no command given (see backoffice --help)", file=sys.stderr)
        return 2
    log_path = file_logging()
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("backoffice: interrupted; work already committed is kept", file=sys.stderr)
        return 130
    except UserFacingError as exc:
        print(f"backoffice: {exc.message}", file=sys.stderr)
        return 1
    except BackofficeError as exc:
        print(f"backoffice: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        from backoffice.db import as_user_facing  # late: only a failure needs it

        told = as_user_facing(exc)
        if told is not exc:  # a collision with another desk: undone whole, to be tried again
            log.warning("backoffice %s: %s", args.command, exc)
            print(f"backoffice: {told.message}", file=sys.stderr)
            return 1
        log.exception("backoffice %s: database error", args.command)
        print(f"backoffice: the database could not be read or written, so the command stopped; work already "
              f"committed is kept; {_details(log_path)}", file=sys.stderr)
        return 1
    except Exception:  # one sentence for people; the traceback goes to the log
        log.exception("backoffice %s failed", args.command)
        print(f"backoffice: the command stopped on an unexpected problem; work already committed is kept; "
              f"{_details(log_path)}", file=sys.stderr)
        return 1


def quiet_console_logging() -> None:
    """Keep log records off the terminal unless a handler was configured (one-line errors)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


def main(argv: list[str] | None = None) -> int:
    quiet_console_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
