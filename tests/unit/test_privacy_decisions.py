"""Response letters for each outcome, the disclosure log, policy-change notices and the retention job."""

from __future__ import annotations

import csv
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from backoffice import cli
from backoffice.db import open_database
from backoffice.domain.base import utcnow
from backoffice.domain.customers import Customer
from backoffice.domain.enums import CustomerStatus, OrderStatus
from backoffice.domain.orders import Order, OrderAddress
from backoffice.domain.privacy import PolicyNoticeDelivery
from backoffice.errors import PermissionDenied, UserFacingError, ValidationError
from backoffice.services import customers, settings, staff
from backoffice.services.privacy import disclosures, fulfil, identity, letters, notices, register, retention


def _customer(db, owner, first="Mira", email="mira.holt@example.org"):
    return customers.create_customer(db, actor=owner, first_name=first, last_name="Holt", email=email,
                                     phone="+1 713 555 0166").customer.profile.id


def test_a_letter_for_each_outcome(db, owner, tmp_path):
    cid = _customer(db, owner)
    settings.set_settings(db, actor=owner, values={"shop.name": "Bayou Tea", "privacy.contact": "privacy@bayou.example"})
    done = register.log_request(db, actor=owner, kind="objection", customer_id=cid)
    identity.verify_identity(db, actor=owner, request_id=done.request.id, method="call_back")
    with pytest.raises(ValidationError, match="still open"):
        letters.response_letter(db, actor=owner, request_id=done.request.id)
    fulfil.fulfil_request(db, actor=owner, request_id=done.request.id)
    text = letters.response_letter(db, actor=owner, request_id=done.request.id).text
    assert "recorded your objection" in text and "privacy@bayou.example" in text and "Bayou Tea" in text
    refused = register.log_request(db, actor=owner, kind="deletion", customer_id=cid)
    fulfil.refuse_request(db, actor=owner, request_id=refused.request.id, partly=True,
                          reason="the law requires us to keep invoices for seven years",
                          kept=[("Invoices of 2025", "tax law")])
    letter = letters.save_letter(db, actor=owner, request_id=refused.request.id, out=tmp_path / "l.pdf")
    assert "could not do all of it, because the law requires us to keep invoices" in letter.text
    assert "Invoices of 2025: tax law" in letter.text
    assert (tmp_path / "l.pdf").read_bytes().startswith(b"%PDF")


def test_the_disclosure_log_records_who_why_what_when_and_by_whom(db, owner, staff):
    cid = _customer(db, owner)
    with pytest.raises(PermissionDenied):
        disclosures.record_disclosure(db, actor=staff, customer_id=cid, requested_by="Police", authority="Warrant",
                                      what_given="Address")
    with pytest.raises(ValidationError):
        disclosures.record_disclosure(db, actor=owner, customer_id=cid, requested_by="", authority="Warrant",
                                      what_given="Address")
    row = disclosures.record_disclosure(db, actor=owner, customer_id=cid, requested_by="Harris County court",
                                        authority="Court order", reference="2026-CV-118",
                                        what_given="Orders of 2026 with the shipping address")
    listed = disclosures.list_disclosures(db, actor=owner, customer_id=cid)
    assert [(d.requested_by, d.authority, d.reference, d.recorded_by) for d in listed] == \
        [("Harris County court", "Court order", "2026-CV-118", "Owner")]
    assert listed[0].disclosed_at == row.disclosed_at


def test_a_policy_change_is_announced_30_days_ahead_and_logged_per_person(db, owner, tmp_path):
    a = _customer(db, owner, "Ana", "ana@example.org")
    b = _customer(db, owner, "Bo", "bo@example.org")
    with pytest.raises(ValidationError, match="30 days"):
        notices.announce_policy_change(db, actor=owner, title="New carrier", body="We now ship with DHL.",
                                       effective_at=utcnow() + timedelta(days=10), out=tmp_path / "n.csv")
    result = notices.announce_policy_change(db, actor=owner, title="New carrier", body="We now ship with DHL.",
                                            effective_at=utcnow() + timedelta(days=31), out=tmp_path / "n.csv")
    assert result.recipients == 2
    with db.read() as s:
        assert set(s.scalars(select(PolicyNoticeDelivery.customer_id))) == {a, b}
    with open(tmp_path / "n.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["email"] for r in rows} == {"ana@example.org", "bo@example.org"}


def test_the_retention_job_is_off_by_default_and_previews_first(db, owner):
    old = _customer(db, owner, "Olga", "olga@example.org")
    keep = _customer(db, owner, "Kim", "kim@example.org")
    long_ago = utcnow() - timedelta(days=365 * 9)
    with db.begin() as s:
        for cid, when in ((old, long_ago), (keep, utcnow())):
            o = Order(number=f"N{cid}", customer_id=cid, status=OrderStatus.COMPLETED, created_at=when,
                      customer_note="Leave at the door")
            s.add(o)
            s.flush()
            s.add(OrderAddress(order_id=o.id, kind="billing", first_name="Olga" if cid == old else "Kim"))
        s.execute(update(Customer).where(Customer.id == old).values(created_at=long_ago, updated_at=long_ago))
    plan = retention.preview_retention(db, actor=owner)
    assert (plan.enabled, plan.orders, plan.customers) == (False, 1, 0)
    with pytest.raises(UserFacingError, match="off"):
        retention.run_retention(db, actor=owner)
    settings.set_settings(db, actor=owner, values={"retention.job_enabled": True,
                                                    "retention.customer_inactive_years": 5})
    plan = retention.preview_retention(db, actor=owner)
    assert (plan.orders, plan.customers) == (1, 1)
    done = retention.run_retention(db, actor=owner)
    assert done.done and "anonymised: 1" in " ".join(done.lines())
    with db.read() as s:
        assert s.get(Customer, old).status is CustomerStatus.ERASED
        assert s.get(Customer, keep).status is CustomerStatus.ACTIVE
        names = set(s.scalars(select(OrderAddress.first_name)))
        assert names == {"", "Kim"}
        assert s.scalar(select(func.count()).select_from(Order)) == 2
    assert retention.preview_retention(db, actor=owner).orders == 0


def test_retention_dry_run_command(monkeypatch, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    database = open_database(url)
    staff.use_fast_hashing_for_tests()
    staff.create_first_owner(database, login="boss", display_name="Boss", password="owner-password-1")
    database.dispose()
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "owner-password-1")
    assert cli.main(["retention", "--dry-run", "--db", url, "--as", "boss"]) == 0
    out = capsys.readouterr().out
    assert "Retention job: off" in out and "Orders older than 7 years to anonymise: 0." in out
    assert cli.main(["retention", "--db", url, "--as", "boss"]) == 1
    assert "turn it on in Shop settings" in capsys.readouterr().err


def test_policy_notice_command(monkeypatch, tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    database = open_database(url)
    staff.use_fast_hashing_for_tests()
    owner = staff.create_first_owner(database, login="boss", display_name="Boss", password="owner-password-1")
    _customer(database, owner)
    database.dispose()
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "owner-password-1")
    (tmp_path / "notice.txt").write_text("From next month we ship with DHL.", encoding="utf-8")
    base = ["policy-notice", "--db", url, "--as", "boss", "--title", "New carrier",
            "--text-file", str(tmp_path / "notice.txt"), "--out", str(tmp_path / "list.csv")]
    soon = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%d")
    assert cli.main([*base, "--effective", soon]) == 1
    assert "at least 30 days ahead" in capsys.readouterr().err
    later = (utcnow() + timedelta(days=40)).strftime("%Y-%m-%d")
    assert cli.main([*base, "--effective", later]) == 0
    assert "logged for 1 customers" in capsys.readouterr().out
