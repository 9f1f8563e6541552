"""Customers imported from a CSV file and the web store: no account is opened for them, and a
sync links one who already has a store account instead of adding them a second time."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from backoffice.domain import Customer, OutboxMessage
from backoffice.domain.emails import email_key
from backoffice.services import customer_import
from backoffice.services import sync
from tests.integration.sync_helpers import SYNC_ACTOR, FAST, connector


STORE = {"seed": 11, "customers": 6, "orders": 0, "products": 2}


def test_a_sync_links_an_imported_customer_to_their_store_account(db, owner, store):
    on_store = store.list_customers(role="customer")[0]
    accounts_before = store.count("customers")
    out = io.StringIO()
    csv.writer(out).writerows([
        ["First name", "Last name", "Email", "Phone"],
        ["Spreadsheet", "Spelling", on_store["email"].upper(), "+1 713 555 0142"],
        ["Only", "Here", "only.here@example.net", ""],
    ])
    result = customer_import.import_customers(db, actor=owner, data=out.getvalue().encode())
    assert result.imported == 2

    with connector(store) as conn:
        summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error

    with db.read() as s:
        same = s.execute(select(Customer.id, Customer.store_id).where(
            Customer.email_key == email_key(on_store["email"]))).all()
        only_here = s.execute(select(Customer.store_id).where(
            Customer.email_key == "only.here@example.net")).scalar_one()
        local_total = s.scalar(select(func.count()).select_from(Customer))
        outbox = s.scalar(select(func.count()).select_from(OutboxMessage))
    # One local customer for the store account: the imported one, now linked to it.
    assert len(same) == 1
    assert same[0].id in result.customer_ids and same[0].store_id == on_store["id"]
    # The other imported customer stays here only: no account, no welcome email.
    assert only_here is None and outbox == 0
    assert store.count("customers") == accounts_before
    assert not [e for e in store.sent_emails() if "new_account" in e.kind]
    assert local_total == len(store.list_customers(role="customer")) + 1
