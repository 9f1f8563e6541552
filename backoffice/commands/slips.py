"""`backoffice slips`: packing slips (or gift slips) for a batch of orders into one PDF."""

from __future__ import annotations

import argparse
import sys

from backoffice.commands import add_db_argument, add_staff_argument, open_db, read_password
from backoffice.documents.fonts import missing_scripts
from backoffice.domain.enums import OrderStatus


def add_batch_arguments(p: argparse.ArgumentParser, *, default_sort: str) -> None:
    """The arguments that choose a batch of orders and the paper, shared with `picklist`."""
    p.add_argument("--status", default=None, choices=[s.value for s in OrderStatus],
                   help="the orders with this status (default: processing, unless --orders names them)")
    p.add_argument("--orders", default="", metavar="N,N,…", help="these order numbers, separated by commas")
    p.add_argument("--not-printed", action="store_true", help="only orders whose slip was not printed yet")
    p.add_argument("--to-ship", action="store_true",
                   help="only paid orders with nothing shipped yet (with any open status unless --status says)")
    p.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF file to write")
    p.add_argument("--replace", action="store_true", help="write over FILE.pdf if it is already there")
    p.add_argument("--size", default="letter", choices=("letter", "a4", "4x6"), help="paper size (default: letter)")
    p.add_argument("--sort", default=default_sort, choices=("sku", "bin"),
                   help=f"order the items by SKU or by bin location (default: {default_sort})")
    add_db_argument(p)
    add_staff_argument(p)


def chosen_orders(args: argparse.Namespace, db, actor) -> tuple[int, ...]:
    # late: each command loads its services only when it runs
    from backoffice.services.fulfilment import slips

    numbers = [n for n in args.orders.split(",") if n.strip()]
    status = args.status or (None if numbers or args.to_ship else OrderStatus.PROCESSING.value)
    return slips.choose_orders(db, actor=actor, status=status, numbers=numbers, not_printed=args.not_printed,
                               to_ship=args.to_ship)


def sign_in(args: argparse.Namespace, db):
    # late: each command loads its services only when it runs
    from backoffice.services import staff

    return staff.sign_in_headless(db, login=args.login or "", password=read_password(f"Password for {args.login}: "))


def register(sub) -> None:
    p = sub.add_parser(
        "slips",
        help="packing slips for a batch of orders into one PDF (no prices); the orders are marked printed",
        description="Draw the packing slips of the chosen orders into one PDF: the shop's ship-from "
        "address, the ship-to name and address (the phone only for shipping methods whose carrier "
        "needs it), the order number as a barcode, and the items without prices; refunded items are "
        "left off. The orders are then marked printed. Exits 1 when no order matches.",
    )
    add_batch_arguments(p, default_sort="sku")
    p.add_argument("--gift", action="store_true", help="gift slips: with the gift message")
    p.add_argument("--copies", type=int, default=1, help="copies of each slip (default 1)")
    p.add_argument("--uncollated", action="store_true", help="each slip's copies together instead of whole sets")
    p.set_defaults(func=_slips)


def _slips(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice.services.fulfilment import slips

    db = open_db(args)
    try:
        actor = sign_in(args, db)
        ids = chosen_orders(args, db, actor)
        if not ids:
            print("backoffice: no order matches; no slip was written", file=sys.stderr)
            return 1

        counted = []

        def progress(done: int, total: int) -> None:
            if done == total or done % 50 == 0:
                print(f"\r{done:,} of {total:,} slips", end="", file=sys.stderr, flush=True)
                counted.append(done)

        try:
            written = slips.write_slips_file(db, actor=actor, order_ids=ids, path=args.out, size=args.size,
                                             gift=args.gift, sort=args.sort, copies=args.copies,
                                             collate=not args.uncollated, replace=args.replace, progress=progress)
        finally:
            if counted:
                print(file=sys.stderr)  # end the count's line, also before an error's
    finally:
        db.dispose()
    slips_word = "slip" if written.documents == 1 else "slips"
    orders_word = "order is" if written.orders == 1 else "orders are"
    print(f"{written.documents:,} {slips_word} for {written.orders:,} {orders_word.split()[0]}"
          f" written to {written.path}; the {orders_word} marked printed.")
    for what in missing_scripts():
        print(f"Note: names in {what} cannot be printed on this computer.", file=sys.stderr)
    return 0
