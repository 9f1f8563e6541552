"""Erasure (P4), against the dev store over real HTTP, on SQLite and PostgreSQL: a customer with
a unique name, email and phone, orders (a guest order among them), notes, consents, a request
history and sync history is erased; the database files (SQLite with its log; PostgreSQL by
pg_dump, or every text column without it) and a later export hold none of those values; the
kept orders still add up; the store holds no account and only anonymised orders."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile

from sqlalchemy import String, Text, func, select

from backoffice.domain import ConsentEvent, NewsletterList, Order, OrderLine, Subscription, SyncConflict, SyncRun
from backoffice.domain.base import Base
from backoffice.domain.enums import Channel, ConsentAction, OutboxStatus, SubscriptionStatus
from backoffice.domain.sync import OutboxMessage
from backoffice.services import customers, sync
from backoffice.services.privacy import export, fulfil, identity, register
from backoffice.services.privacy.store_erasure import DELETED_EMAIL, PERSONAL_DATA_REMOVED, left_on_order
from tests.integration.sync_helpers import FAST, SYNC_ACTOR, connector

FIRST, LAST = "Wendelgard", "Quizzleworth"
EMAIL = "wendelgard.quizzleworth@unusual-mail.example"
PHONE = "+1 307 555 0148"
# The values and the forms they are stored in (folded, digits, reversed digits for the phone search).
NEEDLES = [FIRST, LAST, FIRST.lower(), LAST.lower(), EMAIL, "quizzleworth@", "unusual-mail", "3075550148",
           "8410555703", "307 555 0148"]


STORE = {"seed": 5, "customers": 5, "orders": 10, "products": 4}


def _billing(**extra):
    return {"first_name": FIRST, "last_name": LAST, "address_1": "12 Quiet Lane", "city": "Cody",
            "state": "WY", "postcode": "82414", "country": "US", "email": EMAIL, "phone": PHONE, **extra}


def _setup_store(store, conn):
    product = store.list_products()[0]
    account = store.create_customer({"email": EMAIL, "first_name": FIRST, "last_name": LAST,
                                     "billing": _billing(), "shipping": _billing()})
    orders = []
    for customer_id in (account["id"], account["id"], 0):  # two orders of the account, one as a guest
        shipping = {k: v for k, v in _billing().items() if k != "email"}
        order = store.create_order({"customer_id": customer_id, "status": "processing", "billing": _billing(),
                                    "shipping": shipping, "transaction_id": "txn_quizzle_1",
                                    "customer_note": f"Ring twice, {FIRST}",
                                    "line_items": [{"product_id": product["id"], "quantity": 2}]})
        conn.add_order_note(order["id"], f"Called {FIRST} at {PHONE}")
        orders.append(order["id"])
    return account["id"], orders


def _scan_sqlite(db) -> list[str]:
    path = db.sqlite_path
    blob = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        blob += wal.read_bytes()
    return [n for n in NEEDLES if n.encode() in blob or n.lower().encode() in blob.lower()]


def _scan_postgres(db) -> list[str]:
    dump = shutil.which("pg_dump")
    if dump:
        url = db.engine.url
        out = subprocess.run([dump, "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U",
                              url.username or "postgres", "-d", url.database, "--data-only"],
                             capture_output=True, check=True).stdout.lower()
        return [n for n in NEEDLES if n.lower().encode() in out]
    found = set()
    with db.engine.connect() as c:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, (String, Text)):
                    for n in NEEDLES:
                        if c.execute(select(func.count()).where(column.ilike(f"%{n}%"))).scalar():
                            found.add(n)
    return sorted(found)


def test_erasure_leaves_nothing_of_the_person_here_or_on_the_store(db, owner, store, tmp_path):
    with connector(store) as conn:
        store_customer, store_orders = _setup_store(store, conn)
        assert sync.run_sync(db, conn, actor=SYNC_ACTOR, full_customer_scan=True, options=FAST).ok
        with db.read() as s:
            cid = s.scalar(select(func.min(Order.customer_id)).where(Order.store_id == store_orders[0]))
            mine = s.scalars(select(Order.id).where(Order.store_id.in_(store_orders))).all()
            totals_before = {o.id: o.total for o in s.scalars(select(Order).where(Order.id.in_(mine)))}
        assert len(mine) == 3
        # Life here: a note, a consent, a conflict, a sync log that names them, requests.
        customers.add_note(db, actor=owner, customer_id=cid, text=f"{FIRST} prefers calls to {PHONE}")
        with db.begin() as s:
            news = NewsletterList(name="News", channel=Channel.EMAIL, consent_wording="Yes, send me news")
            s.add(news)
            s.flush()
            s.add(Subscription(list_id=news.id, customer_id=cid, status=SubscriptionStatus.SUBSCRIBED))
            s.add(ConsentEvent(customer_id=cid, list_id=news.id, action=ConsentAction.OPT_IN, method="web form",
                               evidence=f"Form sent by {EMAIL}"))
            s.add(SyncConflict(entity_type="customer", entity_id=cid, customer_id=cid, field="phone",
                               local_value=PHONE, store_value="+1 307 555 0000"))
            s.add(SyncRun(summary=f"Customer {FIRST} {LAST} <{EMAIL}> changed on both sides", ok=True))
        first = register.log_request(db, actor=owner, kind="access", customer_id=cid,
                                     details=f"Send me what you have, {FIRST}")
        fulfil.refuse_request(db, actor=owner, request_id=first.request.id, reason="Asked again by letter.")
        logged = register.log_request(db, actor=owner, kind="deletion", customer_id=cid, channel="email",
                                      requester_contact=EMAIL, details=f"Please erase {FIRST} {LAST}, {PHONE}")
        identity.verify_identity(db, actor=owner, request_id=logged.request.id, method="reply_from_address")

        preview = fulfil.erasure.preview_erasure(db, actor=owner, customer_id=cid)
        assert any(i.what == "orders" and i.count == 3 for i in preview.kept)
        result = fulfil.fulfil_request(db, actor=owner, request_id=logged.request.id)
        assert any("retention" in i.why for i in result.kept)
        assert result.store and "account" in result.store[-1]

        summary = sync.run_sync(db, conn, actor=SYNC_ACTOR, options=FAST)
        assert summary.ok, summary.error
    with db.read() as s:
        waiting = s.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status != OutboxStatus.SENT))
        assert waiting == 0
        # The kept orders are all here and still add up.
        kept = {o.id: o for o in s.scalars(select(Order).where(Order.id.in_(mine)))}
        assert {k: o.total for k, o in kept.items()} == totals_before
        for o in kept.values():
            lines = s.scalar(select(func.sum(OrderLine.total)).where(OrderLine.order_id == o.id))
            assert lines + o.shipping_total + o.tax_total - o.discount_total == o.total
            assert o.anonymised
    # The request remembers it was done and what the store said, without the person's data.
    detail = register.get_request(db, actor=owner, request_id=logged.request.id)
    assert any(e.action == "store_erased" and "nothing of the person is left" in e.note for e in detail.history)
    # The store: no account, only anonymised orders with one note.
    assert store.get_customer(store_customer) is None
    for order_id in store_orders:
        order = store.get_order(order_id)
        assert not left_on_order(order), left_on_order(order)
        assert order["billing"]["email"] == DELETED_EMAIL and order["customer_id"] == 0
        assert [n["note"] for n in store.order_notes(order_id)] == [PERSONAL_DATA_REMOVED]
        assert FIRST not in json.dumps(order) and EMAIL not in json.dumps(order)
    # A later export of the whole shop's other customer holds none of it either.
    with db.read() as s:
        other = s.scalar(select(func.min(Order.customer_id)).where(Order.customer_id != cid))
    out = tmp_path / "other.zip"
    export.export_personal_data(db, actor=owner, customer_id=other, out=out)
    with zipfile.ZipFile(out) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist())
    assert not [n for n in NEEDLES if n.encode() in blob]
    # The database itself.
    found = _scan_sqlite(db) if db.backend == "sqlite" else _scan_postgres(db)
    assert found == []


def test_the_connector_adds_and_deletes_order_notes_on_the_dev_store(store):
    order_id = store.list_orders()[0]["id"]
    with connector(store) as conn:
        note = conn.add_order_note(order_id, "Checked by phone")
        assert note["note"] == "Checked by phone"
        assert note["id"] in [n["id"] for n in conn.get_order_notes(order_id)]
        assert conn.delete_order_note(order_id, note["id"])["id"] == note["id"]
        assert note["id"] not in [n["id"] for n in conn.get_order_notes(order_id)]
        assert conn.delete_order_note(order_id, note["id"]) is None
