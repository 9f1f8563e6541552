"""`backoffice picklist`: what to take from the shelves for a batch of orders, summed per SKU and bin."""

from __future__ import annotations

import argparse
import sys

from backoffice.commands import open_db
from backoffice.commands.slips import add_batch_arguments, chosen_orders, sign_in


def register(sub) -> None:
    p = sub.add_parser(
        "picklist",
        help="a pick list for a batch of orders into a PDF: each SKU once, quantities summed",
        description="Draw a pick list for the chosen orders: each product (SKU, options and bin) once, "
        "with the quantity summed over the orders, refunded items left off and bundles as what is "
        "inside them, sorted by bin location or SKU. Exits 1 when no order matches.",
    )
    add_batch_arguments(p, default_sort="bin")
    p.set_defaults(func=_picklist)


def _picklist(args: argparse.Namespace) -> int:
    # late: each command loads its services only when it runs
    from backoffice.services.fulfilment import slips

    db = open_db(args)
    try:
        actor = sign_in(args, db)
        ids = chosen_orders(args, db, actor)
        if not ids:
            print("backoffice: no order matches; no pick list was written", file=sys.stderr)
            return 1
        written = slips.write_pick_list_file(db, actor=actor, order_ids=ids, path=args.out, size=args.size,
                                             sort=args.sort, replace=args.replace)
    finally:
        db.dispose()
    print(f"Pick list for {written.orders:,} orders ({written.documents} page{'' if written.documents == 1 else 's'}) written to {written.path}.")
    return 0
