"""How long 500 packing slips take to draw into one PDF: `python -m benchmarks.slips [--orders 500]`.

Three figures, each beside the same slips drawn with bare reportlab calls (the same
fonts, text and barcode, no layout) in the same run:

- the document writer alone (`backoffice.documents.packing_slip.write_slips`);
- the whole service (`render_slips`: reading the orders from a fresh SQLite database,
  auditing each, and drawing), which is what a desk waits for.
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from datetime import date
from pathlib import Path

from reportlab.graphics.barcode.code128 import Code128
from reportlab.pdfgen.canvas import Canvas

from backoffice.db import open_database
from backoffice.documents.fonts import document_fonts, draw_text
from backoffice.documents.packing_slip import PAGE_SIZES, ShipFrom, Slip, SlipLine, SlipOptions, write_slips
from backoffice.domain import Order, OrderAddress, OrderLine, ShippingLine
from backoffice.domain.enums import AddressKind, OrderStatus, Role
from backoffice.domain.staff import StaffUser
from backoffice.migrations import upgrade
from backoffice.services.fulfilment.slips import render_slips

NAMES = (("Maria", "García"), ("Иван", "Петров"), ("山田", "太郎"), ("Γιώργος", "Παπαδόπουλος"), ("Ann", "Lee"))
PRODUCTS = tuple((f"TEA-{i:03d}", f"Loose leaf tea number {i}, 100 g tin") for i in range(40))


def _orders(n: int, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        first, last = rng.choice(NAMES)
        items = [(sku, name, rng.randint(1, 3), (f"Grind: {rng.choice(['whole', 'fine'])}",))
                 for sku, name in rng.sample(PRODUCTS, rng.randint(1, 6))]
        out.append({"number": str(10000 + i), "first": first, "last": last,
                    "address": (f"{first} {last}", f"{rng.randint(1, 999)} Main Street", "Springfield IL 62701", "US"),
                    "items": sorted(items)})
    return out


def _slips(orders: list[dict]) -> list[Slip]:
    return [Slip(number=o["number"], order_date=date(2026, 12, 1), shipping_method="Flat rate",
                 ship_to=o["address"], lines=tuple(SlipLine(sku, name, q, opts) for sku, name, q, opts in o["items"]))
            for o in orders]


SHIP_FROM = ShipFrom("Bayou Tea & Coffee Co.", ("2410 Westheimer Rd", "Houston, TX 77098", "United States"))


def bare(orders: list[dict]) -> bytes:
    """The same slips with plain canvas calls: fixed positions, no wrapping or pagination."""
    fonts = document_fonts()
    out = io.BytesIO()
    width, height = PAGE_SIZES["letter"]
    c = Canvas(out, pagesize=(width, height), pageCompression=1, invariant=1)
    for o in orders:
        y = height - 50
        c.setFont(fonts.bold, 10)
        c.drawString(40, y, SHIP_FROM.name)
        c.setFont(fonts.regular, 8)
        for line in SHIP_FROM.address:
            y -= 10
            c.drawString(40, y, line)
        c.setFont(fonts.bold, 16)
        c.drawRightString(width - 40, height - 56, "Packing slip")
        c.setFont(fonts.regular, 8)
        c.drawRightString(width - 40, height - 70, f"Order {o['number']}")
        c.drawRightString(width - 40, height - 80, "Date 2026-12-01")
        c.drawRightString(width - 40, height - 90, "Flat rate")
        bar = Code128(o["number"], barHeight=34, barWidth=1.1, humanReadable=False, quiet=False)
        bar.drawOn(c, width - 40 - bar.width, height - 130)
        y = height - 150
        c.setFont(fonts.bold, 8)
        c.drawString(40, y, "Ship to")
        y -= 12
        for i, line in enumerate(o["address"]):
            # Text outside the regular face's range goes to the CJK face, as any real slip must.
            draw_text(c, 46, y, line, fonts.bold if i == 0 else fonts.regular, 10, fonts)
            y -= 13
        y -= 12
        c.setFont(fonts.bold, 8)
        for x, label in ((40, "Qty"), (68, "SKU"), (180, "Item"), (512, "Bin")):
            c.drawString(x, y, label)
        y -= 4
        c.line(40, y, width - 40, y)
        y -= 12
        for sku, name, qty, opts in o["items"]:
            c.setFont(fonts.bold, 10)
            c.drawString(40, y, str(qty))
            c.drawString(180, y, name)
            c.setFont(fonts.regular, 8)
            c.drawString(68, y, sku)
            for opt in opts:
                y -= 11
                c.drawString(186, y, opt)
            y -= 16
        c.line(40, y + 10, width - 40, y + 10)
        c.showPage()
    c.save()
    return out.getvalue()


def _timed(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _database(folder: Path, orders: list[dict]):
    url = f"sqlite:///{folder / 'slips.db'}"
    db = open_database(url)
    upgrade(db)
    with db.begin() as s:
        user = StaffUser(login="bench", display_name="Bench", role=Role.STAFF, password_hash="!")
        s.add(user)
        s.flush()
        actor = user.actor(desk="bench")
        ids = []
        for o in orders:
            order = Order(number=o["number"], status=OrderStatus.PROCESSING)
            order.addresses.append(OrderAddress(kind=AddressKind.SHIPPING, first_name=o["first"], last_name=o["last"],
                                                address_1=o["address"][1], city="Springfield", state="IL",
                                                postcode="62701", country="US", email="x@example.com"))
            order.shipping_lines.append(ShippingLine(method_id="flat_rate", method_title="Flat rate"))
            for sku, name, qty, opts in o["items"]:
                label, value = opts[0].split(": ")
                order.lines.append(OrderLine(sku=sku, name=name, quantity=qty, options=f'[["{label}", "{value}"]]'))
            s.add(order)
            s.flush()
            ids.append(order.id)
    return db, actor, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    orders = _orders(args.orders)
    slips = _slips(orders)
    document_fonts()
    bare(orders[:5])  # warm up: fonts parsed, code paths imported
    options = SlipOptions(size="letter")

    def ours() -> None:
        write_slips(io.BytesIO(), slips, SHIP_FROM, options)

    with tempfile.TemporaryDirectory() as folder:
        db, actor, ids = _database(Path(folder), orders)
        try:
            # Rounds interleave the three, so a busy moment on a shared machine hits each alike.
            floor = writer = service = float("inf")
            for _ in range(args.rounds):
                floor = min(floor, _timed(lambda: bare(orders), 1))
                writer = min(writer, _timed(ours, 1))
                service = min(service, _timed(lambda: render_slips(db, actor=actor, order_ids=ids), 1))
        finally:
            db.dispose()
    n = len(orders)
    print(f"{n} packing slips into one PDF (Letter), best of {args.rounds} runs:")
    print(f"  bare reportlab calls (floor)      {floor:6.2f} s")
    print(f"  slip writer (layout, wrapping)    {writer:6.2f} s   ratio {writer / floor:4.2f}")
    print(f"  service (read, audit, draw)       {service:6.2f} s   ratio {service / floor:4.2f}")


if __name__ == "__main__":
    main()
