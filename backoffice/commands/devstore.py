"""`backoffice devstore`: serve the dev store (a WooCommerce look-alike on loopback) with fake data."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "devstore",
        help="serve a WooCommerce-like web store on this machine, filled with fake data",
        description="Serve the dev store on loopback until Ctrl+C, printing its address and API keys.",
    )
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8089, help="port; 0 picks a free one (default 8089)")
    p.add_argument("--customers", type=int, default=200, help="customers to create (default 200)")
    p.add_argument("--orders", type=int, default=1000, help="orders to create (default 1000)")
    p.add_argument("--products", type=int, default=40, help="products to create (default 40)")
    p.add_argument("--store-db", dest="store_db", metavar="PATH", default=None,
                   help="SQLite file to keep the store in (default: a temporary file)")
    p.add_argument("--seed", type=int, default=1, help="seed of the fake data and of the keys (default 1)")
    p.add_argument("--no-order-actions", dest="order_actions", action="store_false",
                   help="answer like a WooCommerce older than 9.5, which cannot email an order's details")
    p.set_defaults(func=_devstore)


def devstore_argv(args: argparse.Namespace) -> list[str]:
    """The dev store's own command line for these arguments."""
    argv = ["--host", args.host, "--port", str(args.port), "--customers", str(args.customers),
            "--orders", str(args.orders), "--products", str(args.products), "--seed", str(args.seed)]
    if args.store_db:
        argv += ["--db", args.store_db]
    if not args.order_actions:
        argv.append("--no-order-actions")
    return argv


def _devstore(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice.store.devstore.cli import main

    return main(devstore_argv(args))
