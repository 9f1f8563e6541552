"""How long a person waits for an erasure and an export: `python -m benchmarks.privacy
[--customers 20000] [--orders 60000] [--db URL] [--rounds 5]`.

Fills a fresh SQLite file (or the empty database --db names) with a demo shop, then for
customers who have orders times the deletion preview, the erasure (with the search index
compacted and SQLite's log truncated) and the access export to a ZIP. The floor, measured
in the same run, is reading the same person's rows with bare SQL (one prebuilt SELECT per
table of the personal-data registry): the least any of them must do.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from backoffice.db import open_database
from backoffice.demo.load import fill_demo_database
from backoffice.domain import personal_data
from backoffice.domain.enums import Role
from backoffice.domain.orders import Order
from backoffice.domain.staff import StaffUser
from backoffice.services.privacy import erasure, export


def _owner(db):
    with db.begin() as s:
        user = StaffUser(login="bench-owner", display_name="Bench", role=Role.OWNER, password_hash="!")
        s.add(user)
        s.flush()
        return user.actor(desk="bench")


def _floor(db, cid: int) -> float:
    started = time.perf_counter()
    with db.engine.connect() as c:
        for entry in personal_data.registry():
            c.execute(entry.rows_of_customer(cid)).all()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=20_000)
    p.add_argument("--orders", type=int, default=60_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--db", default=None)
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-privacy-"))
    db = open_database(args.db or f"sqlite:///{tmp / 'shop.db'}")
    fill_demo_database(db, customers=args.customers, orders=args.orders)
    owner = _owner(db)
    with db.read() as s:
        ids = s.scalars(select(Order.customer_id).where(Order.customer_id.is_not(None))
                        .group_by(Order.customer_id).having(func.count() >= 2)
                        .order_by(Order.customer_id).limit(args.rounds * 2)).all()
    floors, previews, erasures, exports = [], [], [], []
    for n, cid in enumerate(ids[:args.rounds]):
        floors.append(_floor(db, cid))
        started = time.perf_counter()
        export.export_personal_data(db, actor=owner, customer_id=cid, out=tmp / f"export-{n}.zip")
        exports.append(time.perf_counter() - started)
        started = time.perf_counter()
        erasure.preview_erasure(db, actor=owner, customer_id=cid)
        previews.append(time.perf_counter() - started)
        started = time.perf_counter()
        erasure.erase_customer(db, actor=owner, customer_id=cid)
        erasures.append(time.perf_counter() - started)
    floor = statistics.median(floors)
    print(f"{db.backend}, {args.customers} customers, {args.orders} orders, median of {len(ids[:args.rounds])}:")
    print(f"  floor (bare SQL reads of one person's rows): {floor * 1000:8.1f} ms")
    for label, values in (("export to ZIP (JSON, CSVs, PDF)", exports), ("deletion preview", previews),
                          ("erasure incl. index compaction and log truncation", erasures)):
        m = statistics.median(values)
        print(f"  {label:<50} {m * 1000:8.1f} ms  ({m / floor:6.1f} x floor)")
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
