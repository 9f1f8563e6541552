"""Command line of the dev store: populate it, serve it on loopback until Ctrl+C."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Sequence

from .server import is_loopback
from .store import DevStore


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="backoffice devstore",
        description="Serve a WooCommerce-like web store on this machine, with fake data, for development and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port to listen on; 0 picks a free one (default 8089)")
    parser.add_argument("--customers", type=int, default=200, help="customers to create (default 200)")
    parser.add_argument("--orders", type=int, default=1000, help="orders to create (default 1000)")
    parser.add_argument("--products", type=int, default=40, help="products to create (default 40)")
    parser.add_argument("--db", metavar="PATH", help="SQLite file to keep the store in (default: a temporary file)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fake data and of the keys (default 1)")
    parser.add_argument("--no-order-actions", dest="order_actions", action="store_false",
                        help="answer like a WooCommerce older than 9.5, which cannot email an order's details")
    return parser


def _wait_for_interrupt() -> None:
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


def main(argv: Sequence[str] | None = None, *, wait: Callable[[DevStore], None] | None = None) -> int:
    """Run the dev store. `wait` (for tests) replaces waiting for Ctrl+C."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        parser.error(f"refusing to listen on {args.host}: the dev store only serves this machine (use 127.0.0.1)")
    for name in ("customers", "orders", "products"):
        if getattr(args, name) < 0:
            parser.error(f"--{name} cannot be negative")
    store = DevStore(args.db, seed=args.seed, order_actions=args.order_actions)
    # Emails are not sent anywhere: each one is shown here as the store "sends" it.
    store.email_listeners.append(lambda email: print(f"Email sent: {email.line()}", flush=True))
    try:
        if store.count("orders") or store.count("customers") > 1 or store.count("products"):
            print(f"Using the data already in {args.db}.")
        else:
            result = store.populate(customers=args.customers, orders=args.orders, products=args.products)
            print(f"Created {result.products} products, {result.customers} customers and {result.orders} orders "
                  f"in {result.seconds:.1f} s.")
        try:
            store.start(args.host, args.port)
        except OSError as exc:
            print(f"Cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        print(f"Dev store:       {store.base_url}")
        print(f"REST API:        {store.api_url}")
        print(f"Consumer key:    {store.consumer_key}")
        print(f"Consumer secret: {store.consumer_secret}")
        if not args.order_actions:
            print("Order actions:   off (the store cannot email order details, as before WooCommerce 9.5)")
        print("Emails the store sends are printed here.")
        print("Press Ctrl+C to stop.", flush=True)
        (wait or (lambda _store: _wait_for_interrupt()))(store)
    finally:
        store.close()
    print("Dev store stopped.")
    return 0
