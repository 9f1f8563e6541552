"""The `backoffice` program: window commands start Qt, every other command stays headless."""

from __future__ import annotations

import sys

from backoffice import calls_channel


def _desk_database_url() -> str | None:
    """This desk's chosen database, if the app saved one (reads QSettings, no window)."""
    try:
        from ui.settings import desk_settings  # late: loads Qt, which the command line does without
    except ImportError:
        return None
    return desk_settings.database_url()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    call = calls_channel.call_arguments(argv)
    if call is not None:
        # A phone system waits on this: hand the number over before loading anything heavy.
        return calls_channel.main(call)
    from backoffice import cli  # late: a call hand-over (above) loads nothing else

    cli.quiet_console_logging()
    parser = cli.build_parser(with_gui=True)
    args = parser.parse_args(argv)
    if getattr(args, "db", None) is None and hasattr(args, "db"):
        args.db = _desk_database_url()

    if args.command is None:
        from ui.shell.app import run_app  # late: Qt only when a window opens

        return run_app(db_url=args.db, self_test=args.self_test)
    if args.command == "demo" and not args.headless:
        from ui.shell.demo_app import run_demo  # late: Qt only when a window opens

        return run_demo(args)
    return cli.run(args)


if __name__ == "__main__":
    # The sync maps pages in a child process; in the built program that child starts this
    # very executable, which must then run the child's work instead of the app.
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(main())
