"""`backoffice demo`: a believable demo shop, in a window or only filled into a database."""

from __future__ import annotations

import argparse
import sys
import time

from backoffice.commands import add_db_argument, open_db
from backoffice.db import safe_url


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="open the app on a fresh demo shop (with a dev store), or with --headless only fill a database",
        description="Without --headless: open the app on a fresh demo shop in its own SQLite file, with a "
        "dev store running beside it so the demo syncs for real. With --headless: only fill the "
        "database given by --db, which must hold no shop yet (no customers, orders, products or staff "
        "accounts); if it fails midway it leaves nothing behind.",
    )
    p.add_argument("--headless", action="store_true", help="only fill the database; open no window")
    p.add_argument("--customers", type=int, default=None, metavar="N",
                   help="how many customers (default: 100000 headless, 1500 in the window)")
    p.add_argument("--orders", type=int, default=None, metavar="M",
                   help="how many orders (default: 300000 headless, 4000 in the window)")
    p.add_argument("--products", type=int, default=60, metavar="K", help="how many products (default 60)")
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same shop (default 1)")
    p.add_argument("--port", type=int, default=0, help="the dev store's port in the window demo (default: any free)")
    add_db_argument(p)
    p.set_defaults(func=run_headless)


def _progress_printer():
    started = time.perf_counter()
    tty = sys.stdout.isatty()

    def report(done: int, total: int, text: str) -> None:
        line = f"[{done}/{total}] {text} ({time.perf_counter() - started:.1f} s)"
        if tty:
            print("\r" + line.ljust(60), end="", flush=True)
        else:
            print(line, flush=True)

    return report


def run_headless(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice.demo.load import make_demo_shop

    customers = 100_000 if args.customers is None else args.customers
    orders = 300_000 if args.orders is None else args.orders
    if customers < 1 or orders < 0:
        raise SystemExit("backoffice: --customers must be at least 1 and --orders at least 0")
    db = open_db(args, create=True)
    try:
        # All or nothing, and only into a database that holds no shop.
        summary, accounts = make_demo_shop(db, customers=customers, orders=orders, products=args.products,
                                           seed=args.seed, progress=_progress_printer())
    finally:
        db.dispose()
    if sys.stdout.isatty():
        print()
    print(f"Filled {safe_url(db.url)} with a demo shop in {summary.seconds:.1f} s: "
          f"{summary.products} products, {summary.customers} customers, {summary.orders} orders, "
          f"{summary.order_lines} order lines.")
    print("Staff accounts: " + ", ".join(f"{login} ({role}) / {pw}" for login, role, pw in accounts))
    return 0
