"""How long the home screen's figures take on a large shop: `python -m benchmarks.home`.

Fills a SQLite demo shop (20,000 customers, 60,000 orders by default), then times
`home_summary` beside a floor measured in the same run: one bare count of the orders
table, the least any figure about orders can cost.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from backoffice.db import open_database
from backoffice.demo.load import fill_demo_database
from backoffice.domain import Order
from backoffice.domain.enums import Role
from backoffice.domain.staff import Actor
from backoffice.services import home


def _best_ms(fn, repeat: int = 7) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=60_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'shop.db'}")
        fill_demo_database(db, customers=args.customers, orders=args.orders, seed=3)
        owner = Actor(staff_id=None, login="bench", role=Role.OWNER, desk="bench")
        taker = Actor(staff_id=None, login="bench", role=Role.ORDER_TAKER, desk="bench")

        def floor() -> None:
            with db.read() as s:
                s.execute(select(func.count()).select_from(Order)).scalar_one()

        floor_ms = _best_ms(floor)
        print(f"{args.customers:,} customers, {args.orders:,} orders (SQLite)")
        print(f"{'what':<40}{'ms':>9}{'floor ms':>10}{'ratio':>8}")
        for label, actor in (("home figures, owner", owner), ("home figures, order taker", taker)):
            ms = _best_ms(lambda actor=actor: home.home_summary(db, actor=actor))
            print(f"{label:<40}{ms:>9.1f}{floor_ms:>10.1f}{ms / floor_ms:>8.1f}")
        db.dispose()


if __name__ == "__main__":
    main()
