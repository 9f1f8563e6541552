"""The access export: every column the personal-data registry declares is in the bundle (JSON, a
CSV per table, a PDF), only the owner may make it, it is audited and written owner-only."""

from __future__ import annotations

from decimal import Decimal

import csv
import io
import json
import os
import stat
import zipfile

import pytest
from sqlalchemy import select, update

from backoffice.domain import personal_data
from backoffice.domain.audit import AuditEvent
from backoffice.domain.enums import AddressKind, Channel, ConsentAction, OrderStatus, SubscriptionStatus
from backoffice.domain.newsletters import ConsentEvent, NewsletterList, Subscription
from backoffice.domain.orders import OrderRefund, Order, OrderAddress, OrderLine
from backoffice.domain.privacy import Disclosure, PolicyNotice, PolicyNoticeDelivery
from backoffice.domain.base import utcnow
from backoffice.domain.sync import SyncConflict
from backoffice.errors import PermissionDenied
from backoffice.private_files import FileExistsRefused
from backoffice.services import customers
from backoffice.services.privacy import export, register


def _fully_filled(db, owner) -> int:
    cid = customers.create_customer(db, actor=owner, first_name="Ada", last_name="Lindqvist",
                                    email="ada.lindqvist@example.org", phone="+1 713 555 0101",
                                    address={"address_1": "1 Elm St", "city": "Houston", "postcode": "77001"}
                                    ).customer.profile.id
    customers.add_note(db, actor=owner, customer_id=cid, text="Prefers mornings")
    logged = register.log_request(db, actor=owner, kind="access", customer_id=cid, details="A copy please")
    with db.begin() as s:
        order = Order(number="5001", customer_id=cid, status=OrderStatus.COMPLETED, customer_note="Gift")
        s.add(order)
        s.flush()
        s.add(OrderLine(order_id=order.id, name="Tea", quantity=1))
        s.add(OrderRefund(order_id=order.id, amount=Decimal("2.00"), reason="Cracked cup"))
        for kind in (AddressKind.BILLING, AddressKind.SHIPPING):
            s.add(OrderAddress(order_id=order.id, kind=kind, first_name="Ada"))
        news = NewsletterList(name="News", channel=Channel.EMAIL)
        s.add(news)
        s.flush()
        s.add(Subscription(list_id=news.id, customer_id=cid, status=SubscriptionStatus.SUBSCRIBED))
        s.add(ConsentEvent(customer_id=cid, list_id=news.id, action=ConsentAction.OPT_IN, method="web form"))
        s.add(SyncConflict(entity_type="customer", entity_id=cid, customer_id=cid, field="phone"))
        notice = PolicyNotice(title="New carrier", effective_at=utcnow())
        s.add(notice)
        s.flush()
        s.add(PolicyNoticeDelivery(notice_id=notice.id, customer_id=cid))
        s.add(Disclosure(customer_id=cid, requested_by="County court", authority="Order 12/2026",
                         what_given="Order 5001"))
        s.add(Disclosure(customer_id=cid, requested_by="Police", authority="Warrant", what_given="Address",
                         confidential=True))
    assert logged.request.id
    return cid


def _marker(i: int) -> str:
    return f"Q{i:03d}X"


def _mark_every_declared_column(db, cid: int) -> dict[tuple[str, str], str]:
    """Write a distinct value into every declared personal column of the customer's rows."""
    markers = {}
    with db.begin() as s:
        for i, col in enumerate(personal_data.personal_columns()):
            entry = personal_data.table(col.table)
            table = entry.sa_table
            where = table.c.id.in_(entry.row_ids_of_customer(cid)) if "id" in table.c else \
                table.c[entry.subject_column] == cid
            if col.table in ("orders", "order_addresses"):
                order_ids = select(Order.id).where(Order.customer_id == cid)
                where = table.c.id.in_(order_ids) if col.table == "orders" else table.c.order_id.in_(order_ids)
            if not s.execute(select(table).where(where)).first():
                raise AssertionError(f"the test fills no row of {col.table}")
            markers[(col.table, col.column)] = _marker(i)
            s.execute(update(table).where(where).values({col.column: _marker(i)}))
    return markers


def test_every_declared_column_is_in_the_bundle(db, owner, tmp_path):
    cid = _fully_filled(db, owner)
    markers = _mark_every_declared_column(db, cid)
    out = tmp_path / "ada.zip"
    result = export.export_personal_data(db, actor=owner, customer_id=cid, out=out)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        data = json.loads(zf.read("data.json"))
        assert zf.read("summary.pdf").startswith(b"%PDF")
        csvs = {n: list(csv.DictReader(io.StringIO(zf.read(n).decode("utf-8-sig")))) for n in names
                if n.endswith(".csv")}
    exported = [c for c in personal_data.personal_columns() if c.export]
    assert exported
    for col in exported:
        rows = data["tables"][col.table]
        assert any(r.get(col.column) == markers[(col.table, col.column)] for r in rows), col
        assert any(r.get(col.column) == markers[(col.table, col.column)] for r in csvs[f"tables/{col.table}.csv"])
    # Derived lookup keys only repeat the record, and stay out.
    for col in personal_data.personal_columns():
        if not col.export and col.table in data["tables"]:
            assert all(col.column not in r for r in data["tables"][col.table])
    # With the orders' lines, consent history, requests and disclosures, but not a confidential one.
    assert data["tables"]["order_lines"][0]["name"] == "Tea"
    assert data["tables"]["consent_events"] and data["tables"]["privacy_requests"]
    assert [d["requested_by"] for d in data["tables"]["disclosures"]] == ["County court"]
    assert result.tables["customers"] == 1
    with db.read() as s:
        assert s.scalar(select(AuditEvent.customer_id).where(AuditEvent.action == "export_personal_data")) == cid
    # Never over an existing file without say-so.
    with pytest.raises(FileExistsRefused):
        export.export_personal_data(db, actor=owner, customer_id=cid, out=out)


def test_only_the_owner_exports(db, owner, staff, tmp_path):
    cid = _fully_filled(db, owner)
    with pytest.raises(PermissionDenied):
        export.export_personal_data(db, actor=staff, customer_id=cid, out=tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
