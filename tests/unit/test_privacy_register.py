"""The privacy request register: the legal clock, the identity gate, who may do what, the command line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice import cli
from backoffice.db import open_database
from backoffice.domain.audit import AuditEvent
from backoffice.domain.base import utcnow
from backoffice.domain.enums import AuditOutcome, CustomerStatus, OutboxKind, RequestStatus
from backoffice.domain.sync import OutboxMessage
from backoffice.errors import PermissionDenied, ValidationError
from backoffice.services import customers, settings, staff
from backoffice.services.privacy import fulfil, identity, register
from backoffice.domain.request_clock import days_left, due_at


def _customer(db, owner, email="lena.voss@example.org", phone="+1 713 555 0142"):
    return customers.create_customer(db, actor=owner, first_name="Lena", last_name="Voss", email=email,
                                     phone=phone).customer.profile.id


def test_the_clock_counts_days_left_and_flags_overdue_and_due_soon(db, owner):
    cid = _customer(db, owner)
    now = utcnow()
    old = register.log_request(db, actor=owner, kind="access", customer_id=cid, received_at=now - timedelta(days=31))
    soon = register.log_request(db, actor=owner, kind="restriction", customer_id=cid,
                                received_at=now - timedelta(days=25))
    fresh = register.log_request(db, actor=owner, kind="objection", channel="letter",
                                 requester_name="Someone Unknown", requester_contact="someone@example.net")
    assert fresh.request.due_at - fresh.request.received_at == timedelta(days=30)
    rows = register.list_requests(db, actor=owner)
    assert [r.id for r in rows] == [old.request.id, soon.request.id, fresh.request.id]
    by_id = {r.id: r for r in rows}
    assert by_id[old.request.id].overdue and by_id[old.request.id].days_left == -1
    assert by_id[old.request.id].clock_label == "Overdue by 1 day"
    assert by_id[soon.request.id].due_soon and not by_id[soon.request.id].overdue
    assert by_id[soon.request.id].days_left == 5
    assert not by_id[fresh.request.id].due_soon and by_id[fresh.request.id].days_left == 30
    assert by_id[fresh.request.id].who == "Someone Unknown"
    assert register.queue_alarm(db, actor=owner).sentence() == \
        "1 privacy request is overdue; 1 due within the week."
    # The deadline is the shop's setting.
    settings.set_settings(db, actor=owner, values={"privacy.response_days": 14})
    short = register.log_request(db, actor=owner, kind="access", customer_id=cid)
    assert short.request.due_at - short.request.received_at == timedelta(days=14)


def test_days_left_counts_a_started_day():
    now = utcnow()
    assert days_left(now + timedelta(hours=1), now) == 1
    assert days_left(now - timedelta(hours=1), now) == -1
    assert due_at(now, 30) == now + timedelta(days=30)


def test_nothing_is_fulfilled_before_identity_is_checked(db, owner, staff):
    cid = _customer(db, owner)
    logged = register.log_request(db, actor=staff, kind="deactivation", customer_id=cid, channel="phone")
    with pytest.raises(identity.IdentityNotVerified, match="identity has not been checked"):
        fulfil.fulfil_request(db, actor=owner, request_id=logged.request.id)
    with pytest.raises(ValidationError):
        identity.verify_identity(db, actor=staff, request_id=logged.request.id, method="")
    row = identity.verify_identity(db, actor=staff, request_id=logged.request.id, method="call_back")
    assert row.identity_verified and row.status is RequestStatus.IN_PROGRESS
    detail = register.get_request(db, actor=owner, request_id=logged.request.id)
    assert detail.identity_method == "Called back on the number on file"
    assert detail.identity_verified_by == "Staff"
    done = fulfil.fulfil_request(db, actor=owner, request_id=logged.request.id)
    assert done.request.status is RequestStatus.FULFILLED
    assert customers.get_customer(db, actor=owner, customer_id=cid).profile.status is CustomerStatus.DEACTIVATED
    assert [e.action for e in register.get_request(db, actor=owner, request_id=logged.request.id).history] == \
        ["logged", "identity_verified", "fulfilled"]


def test_only_the_owner_decides_erases_and_exports(db, owner, staff, order_taker, tmp_path):
    cid = _customer(db, owner)
    with pytest.raises(PermissionDenied):
        register.log_request(db, actor=order_taker, kind="deletion", customer_id=cid)
    logged = register.log_request(db, actor=staff, kind="deletion", customer_id=cid)
    identity.verify_identity(db, actor=staff, request_id=logged.request.id, method="document_seen")
    with pytest.raises(PermissionDenied):
        fulfil.fulfil_request(db, actor=staff, request_id=logged.request.id)
    with db.read() as s:
        denied = s.scalars(select(AuditEvent.action).where(AuditEvent.outcome == AuditOutcome.DENIED)).all()
    assert "denied:decide_privacy_request" in denied
    assert customers.get_customer(db, actor=owner, customer_id=cid).profile.status is CustomerStatus.ACTIVE


def test_refusal_keeps_the_reason_and_what_was_kept(db, owner):
    cid = _customer(db, owner)
    logged = register.log_request(db, actor=owner, kind="deletion", customer_id=cid)
    with pytest.raises(ValidationError):
        fulfil.refuse_request(db, actor=owner, request_id=logged.request.id, reason="")
    result = fulfil.refuse_request(db, actor=owner, request_id=logged.request.id, partly=True,
                                   reason="An order is still being delivered.",
                                   kept=[("order 1001", "in delivery; the law needs the address until it arrives")])
    assert result.request.status is RequestStatus.PARTLY_FULFILLED
    detail = register.get_request(db, actor=owner, request_id=logged.request.id)
    assert detail.decision_reason == "An order is still being delivered."
    assert detail.kept[0]["what"] == "order 1001" and "law" in detail.kept[0]["why"]
    assert not detail.row.is_open


def test_a_repeat_request_is_recognised_by_its_keyed_hash(db, owner):
    cid = _customer(db, owner)
    first = register.log_request(db, actor=owner, kind="access", customer_id=cid)
    again = register.log_request(db, actor=owner, kind="deletion", channel="letter", requester_name="L. Voss",
                                 requester_contact="Lena.Voss@Example.org")
    assert again.request.repeat_of == (first.request.id,)
    assert "asked before" in again.message


def test_a_card_number_in_the_details_is_masked(db, owner):
    logged = register.log_request(db, actor=owner, kind="access", requester_name="Pat",
                                  details="my card 4111 1111 1111 1111 was charged")
    detail = register.get_request(db, actor=owner, request_id=logged.request.id)
    assert "4111 1111 1111 1111" not in detail.details and "1111" in detail.details
    assert logged.message


@pytest.fixture
def cli_db(monkeypatch, tmp_path):
    monkeypatch.delenv("BACKOFFICE_LOGIN", raising=False)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    database = open_database(url)
    staff.use_fast_hashing_for_tests()
    actor = staff.create_first_owner(database, login="boss", display_name="Boss", password="owner-password-1")
    cid = _customer(database, actor)
    database.dispose()
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "owner-password-1")
    return url, cid


def test_request_commands_log_list_verify_and_fulfil(cli_db, capsys):
    url, cid = cli_db
    base = ["--db", url, "--as", "boss"]
    assert cli.main(["request", "new", "--kind", "deletion", "--customer", str(cid), "--channel", "email", *base]) == 0
    number = capsys.readouterr().out.split()[0]
    assert cli.main(["request", "list", *base]) == 0
    listed = capsys.readouterr().out
    assert "30 days left" in listed and "deletion" in listed and "Lena Voss" in listed
    assert cli.main(["request", "fulfil", number, *base]) == 1
    assert "identity has not been checked" in capsys.readouterr().err
    assert cli.main(["request", "verify", number, "--method", "reply_from_address", *base]) == 0
    capsys.readouterr()
    assert cli.main(["request", "fulfil", number, *base]) == 0
    out = capsys.readouterr().out
    assert "Done" in out and "erased:" in out and "kept:" in out
    with pytest.raises(SystemExit) as bad:
        cli.main(["request", "new", "--kind", "nonsense", *base])
    assert bad.value.code == 2 and "invalid choice" in capsys.readouterr().err
    assert cli.main(["request", "new", "--kind", "access", *base]) == 1
    assert "Name the customer" in capsys.readouterr().err


def test_a_correction_is_applied_field_by_field_audited_and_sent_to_the_store(db, owner):
    cid = _customer(db, owner)
    logged = register.log_request(db, actor=owner, kind="correction", customer_id=cid,
                                  details="My surname is Voß, and my phone changed")
    identity.verify_identity(db, actor=owner, request_id=logged.request.id, method="reply_from_address")
    done = fulfil.fulfil_request(db, actor=owner, request_id=logged.request.id,
                                 corrections={"last_name": "Voß", "phone": "+1 713 555 0199"})
    assert [i.what for i in done.done] == ["last name corrected", "phone corrected"]
    profile = customers.get_customer(db, actor=owner, customer_id=cid).profile
    assert (profile.last_name, profile.phone) == ("Voß", "+1 713 555 0199")
    with db.read() as s:
        fields = s.scalars(select(AuditEvent.fields).where(AuditEvent.action == "update_customer")).all()
        queued = s.scalars(select(OutboxMessage.kind).where(OutboxMessage.entity_id == cid)).all()
    assert any("last_name" in f and "phone" in f for f in fields)
    assert OutboxKind.UPDATE_CUSTOMER in queued
