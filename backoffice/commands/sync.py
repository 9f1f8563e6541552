"""`backoffice sync` (one sync run with the web store) and `backoffice store-keys` (save its API keys)."""

from __future__ import annotations

import argparse
import getpass
import sys
import time

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password


def register(sub) -> None:
    p = sub.add_parser(
        "sync",
        help="sync once with the web store: send waiting changes, fetch new orders, customers and products",
        description="Run one sync with the web store and print a summary. It acts, and is audited, as "
        "a signed-in staff account (--as LOGIN) or as a scheduled-job account (--job LOGIN, made "
        "with `backoffice staff add-job-account`); order takers may not sync. The API keys come "
        "from $BACKOFFICE_WC_KEY and $BACKOFFICE_WC_SECRET or from the keyring (see store-keys), "
        "never from arguments. Exits 1 when the sync did not complete.",
    )
    add_db_argument(p)
    add_staff_argument(p)
    p.add_argument("--job", metavar="LOGIN", default=None,
                   help="act as this scheduled-job account, with the token kept in this machine's "
                   "keyring (or $BACKOFFICE_JOB_TOKEN); for cron")
    p.add_argument("--store", metavar="URL", default=None,
                   help="the web store's address (default: the shop setting “Web store address”)")
    p.add_argument("--full", action="store_true", help="also read every customer on the store (slower)")
    p.set_defaults(func=_sync)

    k = sub.add_parser(
        "store-keys",
        help="save the web store's API keys in this computer's keyring",
        description="Ask for the WooCommerce consumer key and secret on the terminal (they are not "
        "shown) and keep them in the operating system's keyring for this store address.",
    )
    k.add_argument("--store", metavar="URL", required=True, help="the web store's address")
    k.set_defaults(func=_store_keys)


class TerminalProgress:
    """Progress on the terminal: a bar redrawn in place on a TTY, a line now and then otherwise."""

    def __init__(self, stream=None, *, every: float = 2.0) -> None:
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every
        self._last_text = ""
        self._last_at = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int, text: str) -> None:
        now = time.monotonic()
        if self.tty:
            width = 30
            share = (done / total) if total else 0.0
            filled = int(width * min(1.0, share))
            line = f"\r[{'#' * filled}{'-' * (width - filled)}] {share * 100:5.1f}%  {text}"
            self.stream.write(line[:200].ljust(90))
            self.stream.flush()
            self._drawn = True
            return
        phase = text.split(":", 1)[0]
        if phase != self._last_text.split(":", 1)[0] or now - self._last_at >= self.every or (total and done >= total):
            if text != self._last_text:
                print(text, file=self.stream, flush=True)
            self._last_text = text
            self._last_at = now

    def finish(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def _sync(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice.domain.staff import Permission
    from backoffice.services import access, staff
    from backoffice.services.sync import connector_for, run_sync

    db = open_db(args)
    try:
        if args.job:
            actor = staff.sign_in_job(db, login=args.job, desk="scheduled")
        elif not args.login:
            print("backoffice: say who syncs: --as LOGIN (a staff account; password from "
                  "$BACKOFFICE_PASSWORD) or --job LOGIN (the scheduled-job account); nothing was done",
                  file=sys.stderr)
            return 1
        else:
            actor = staff.sign_in_headless(db, login=args.login or "",
                                           password=read_password(f"Password for {args.login}: "))
        # Refused (and audited) before anything about the store is looked up.
        access.require(db, actor, Permission.RUN_SYNC)
        connector = connector_for(db, store_url=args.store)
        progress = TerminalProgress()
        try:
            summary = run_sync(db, connector, actor=actor, full_customer_scan=args.full,
                               progress=progress)
        finally:
            progress.finish()
            connector.close()
    finally:
        db.dispose()
    print(summary.text)
    print(f"{summary.requests} requests to the store in {summary.seconds:.1f} s.")
    if not summary.ok:
        print(f"backoffice: the sync did not complete: {summary.error}", file=sys.stderr)
        return 1
    return 0


def _store_keys(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice import secrets
    from backoffice.store.http import check_store_url

    url = check_store_url(args.store)
    if not sys.stdin.isatty():
        print("backoffice: store-keys reads the keys from the terminal; run it in a terminal", file=sys.stderr)
        return 2
    key = getpass.getpass("Consumer key (ck_...): ").strip()
    secret = getpass.getpass("Consumer secret (cs_...): ").strip()
    if not key or not secret:
        print("backoffice: both the key and the secret are needed; nothing was saved", file=sys.stderr)
        return 1
    if not secrets.set_store_credentials(url, key, secret):
        print("backoffice: this computer has no keyring, so the keys could not be saved. Set "
              "BACKOFFICE_WC_KEY and BACKOFFICE_WC_SECRET for unattended runs instead.", file=sys.stderr)
        return 1
    print(f"The API keys for {url} are saved in the keyring.")
    return 0
