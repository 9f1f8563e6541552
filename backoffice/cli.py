"""The headless `backoffice` command line: every command that needs no window.

The `backoffice` program itself starts in `ui.launcher`, which opens windows for
the commands that need one and hands every other command to `main` here, so
scheduled jobs and servers never load Qt.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from sqlalchemy.exc import SQLAlchemyError

from backoffice import __version__, commands
from backoffice.errors import BackofficeError, UserFacingError

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


def run(args: argparse.Namespace) -> int:
    """Run a parsed headless command; failures become one line on stderr and exit 1."""
    func = getattr(args, "func", None)
    if func is None:
        print("backoffice: no command given (see backoffice --help)", file=sys.stderr)
        return 2
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
        log.exception("database error")
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"backoffice: the database failed: {first}", file=sys.stderr)
        return 1
    except Exception as exc:  # one line for people; the traceback goes to the log
        log.exception("command failed")
        print(f"backoffice: {type(exc).__name__}: {exc}", file=sys.stderr)
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
