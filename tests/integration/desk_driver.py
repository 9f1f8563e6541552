"""One desk of the several-desks test, run as its own process:

    python -m tests.integration.desk_driver DB_URL LOGIN SECONDS SEED OUT.json [STORE_URL]

For SECONDS it does what a person at a desk does, at random: places phone orders, edits
customers (with the version the form was loaded with), merges, adds notes, logs and carries
out erasure requests, and syncs with the store (its key and secret in BACKOFFICE_WC_KEY and
BACKOFFICE_WC_SECRET). It writes to OUT.json what happened: each outcome counted by the
error class a person would have seen, the references of the orders placed, and the full
text of anything that was not a sentence for a person.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import traceback
from collections import Counter

from sqlalchemy import select

from backoffice.db import Database, create_db_engine
from backoffice.domain import Customer, Product
from backoffice.domain.staff import StaffUser
from backoffice.errors import UserFacingError
from backoffice.services import customers, phone_orders, sync
from backoffice.services.privacy import fulfil, identity, register
from backoffice.services.sync import SyncOptions
from backoffice.store.connector import StoreCredentials
from backoffice.store.woocommerce import WooCommerceConnector

#: Short waits: a desk that finds the sync busy goes on with its work.
OPTIONS = SyncOptions(backoff_base=0.01, backoff_cap=0.05, settle_seconds=0.05, max_attempts=12,
                      lock_wait_seconds=0.2)


def main(argv: list[str]) -> int:
    url, login, seconds, seed, out = argv[:5]
    store_url = argv[5] if len(argv) > 5 else ""
    rng = random.Random(int(seed))
    db = Database(url=url, engine=create_db_engine(url))
    with db.read() as s:
        actor = s.scalars(select(StaffUser).where(StaffUser.login == login)).one().actor(desk=login)
        pool = list(s.scalars(select(Customer.id).order_by(Customer.id)))
        products = list(s.scalars(select(Product.id).where(Product.status == "publish").order_by(Product.id)))
    conn = None
    if store_url:
        conn = WooCommerceConnector(
            StoreCredentials(store_url, os.environ["BACKOFFICE_WC_KEY"], os.environ["BACKOFFICE_WC_SECRET"]),
            backoff_base=0.01, backoff_cap=0.5, max_retries=4, timeout=(2, 10))
    outcomes: Counter[str] = Counter()
    references: list[str] = []
    raw: list[str] = []

    def place():
        placed = phone_orders.place_phone_order(
            db, actor=actor, customer_id=rng.choice(pool),
            lines=[phone_orders.LineInput(product_id=rng.choice(products), quantity=rng.randint(1, 3))],
            shipping=phone_orders.ShippingInput(method_id="flat_rate", title="Flat rate", cost="5.00"),
            note=f"Called from {login}")
        references.append(placed.reference)

    # A few customers everybody edits (so that desks collide), the rest merged and erased.
    hot, rest = pool[:6], pool[6:]

    def edit():
        cid = rng.choice(hot)
        detail = customers.get_customer(db, actor=actor, customer_id=cid)
        # A person reads the form for a moment before saving.
        time.sleep(rng.uniform(0, 0.2))
        customers.update_customer(db, actor=actor, customer_id=cid, expected_version=detail.profile.version,
                                  changes={"company": f"{login} {rng.randint(1, 10**6)}"})

    def merge():
        keep, gone = rng.sample(rest, 2)
        customers.merge_customers(db, actor=actor, keep_id=keep, merge_id=gone)

    def note():
        customers.add_note(db, actor=actor, customer_id=rng.choice(pool), text=f"Rang {login} back")

    def erase():
        logged = register.log_request(db, actor=actor, kind="deletion", customer_id=rng.choice(rest),
                                      channel="email", details="Please erase me")
        identity.verify_identity(db, actor=actor, request_id=logged.request.id, method="reply_from_address")
        fulfil.fulfil_request(db, actor=actor, request_id=logged.request.id)

    def run_sync():
        if conn is not None:
            sync.run_sync(db, conn, actor=actor, options=OPTIONS)

    work = [(place, 40), (edit, 25), (note, 15), (merge, 3), (erase, 1), (run_sync, 3 if conn else 0)]
    actions, weights = zip(*work)
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        action = rng.choices(actions, weights)[0]
        name = action.__name__
        try:
            action()
            outcomes[f"{name}: ok"] += 1
        except UserFacingError as exc:
            outcomes[f"{name}: {type(exc).__name__}"] += 1
        except Exception as exc:  # what a person must never see
            outcomes[f"{name}: raw {type(exc).__name__}"] += 1
            raw.append(traceback.format_exc())
    if conn is not None:
        conn.close()
    db.dispose()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"outcomes": outcomes, "references": references, "raw": raw[:20]}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
