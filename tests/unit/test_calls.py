"""The incoming-call lookup and click to call, on both databases; the call channel's number reading."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice import calls_channel as ch
from backoffice.domain import AuditEvent, CustomerNote, Order, Payment
from backoffice.domain.base import utcnow
from backoffice.domain.enums import (
    OrderOrigin,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    RequestKind,
    RequestStatus,
    Role,
)
from backoffice.domain.privacy import PrivacyRequest
from backoffice.errors import ValidationError
from backoffice.services import calls
from backoffice.services.customers import create_customer
from tests.conftest import make_staff


def _customer(db, owner, first="Ana", last="García", phone="+1 713 555 0199", email="ana@example.com"):
    return create_customer(db, actor=owner, first_name=first, last_name=last, phone=phone, email=email).customer.profile.id


@pytest.mark.parametrize("typed", ["+1 (713) 555-0199", "7135550199", "713.555.0199", "0017135550199",
                                   "+17135550199", "1-713-555-0199"])
def test_a_number_in_any_format_finds_the_caller(db, owner, typed):
    ana = _customer(db, owner)
    _customer(db, owner, "Bo", "Lind", "+1 713 555 0100", "bo@example.com")
    call = calls.identify_caller(db, actor=owner, number=typed)
    assert [m.id for m in call.matches] == [ana]
    assert call.matches[0].name == "Ana García"
    assert call.shown_number == "+1 713-555-0199"


def test_the_shops_country_reads_a_national_number(db, owner):
    from backoffice.services.settings import set_settings

    set_settings(db, actor=owner, values={"shop.default_country": "GB"})
    uk = _customer(db, owner, "Tom", "Hill", "+44 7911 123456", "tom@example.com")
    assert [m.id for m in calls.identify_caller(db, actor=owner, number="07911 123456").matches] == [uk]


def test_no_match_says_nobody_and_keeps_the_number(db, owner):
    _customer(db, owner)
    call = calls.identify_caller(db, actor=owner, number="+1 212 555 0123")
    assert call.matches == ()
    assert call.shown_number == "+1 212-555-0123"


def test_the_panel_shows_open_orders_an_unpaid_pay_link_and_an_open_request(db, owner):
    ana = _customer(db, owner)
    with db.begin() as s:
        open_order = Order(number="1001", customer_id=ana, status=OrderStatus.PENDING, origin=OrderOrigin.PHONE,
                           total=Decimal("20.00"), payment_url="https://shop.example/pay/1001")
        done = Order(number="1000", customer_id=ana, status=OrderStatus.COMPLETED, total=Decimal("5.00"))
        s.add_all([open_order, done])
        s.flush()
        s.add(Payment(order_id=open_order.id, method=PaymentMethod.PAY_LINK, status=PaymentStatus.AWAITING,
                      amount=Decimal("20.00")))
        s.add(PrivacyRequest(customer_id=ana, kind=RequestKind.DELETION, status=RequestStatus.RECEIVED,
                             due_at=utcnow() + timedelta(days=30)))
        s.add(PrivacyRequest(customer_id=ana, kind=RequestKind.ACCESS, status=RequestStatus.FULFILLED,
                             due_at=utcnow()))
    m = calls.identify_caller(db, actor=owner, number="713 555 0199").matches[0]
    assert [o.number for o in m.open_orders] == ["1001"]
    assert [(p.order_number, p.url) for p in m.pay_links] == [("1001", "https://shop.example/pay/1001")]
    assert [r.kind for r in m.requests] == [RequestKind.DELETION]
    assert "deletion" in m.requests[0].sentence
    with db.begin() as s:
        viewed = s.scalars(select(AuditEvent.customer_id).where(AuditEvent.action == "view_caller")).all()
    assert viewed == [ana]


def test_a_card_number_is_not_taken_for_a_caller(db, owner):
    with pytest.raises(ValidationError):
        calls.identify_caller(db, actor=owner, number="4111 1111 1111 1111")


def test_dialling_notes_the_call_on_the_customers_page(db, owner):
    ana = _customer(db, owner)
    taker = make_staff(db, Role.ORDER_TAKER, "taker")
    dial = calls.dial_customer(db, actor=taker, number="(713) 555-0199", customer_id=ana)
    assert dial.uri == "tel:+17135550199"
    assert dial.noted and dial.changes.customers == {ana}
    with db.begin() as s:
        notes = s.scalars(select(CustomerNote.text).where(CustomerNote.customer_id == ana)).all()
        audited = s.scalars(select(AuditEvent.action).where(AuditEvent.customer_id == ana)).all()
    assert notes == ["Phoned +1 713-555-0199 from the back office (taker at test-desk)."]
    assert "call_customer" in audited


def test_dialling_a_guest_number_notes_nothing(db, owner):
    dial = calls.dial_customer(db, actor=owner, number="0199 12", customer_id=None)
    assert dial.uri == "tel:019912" and not dial.noted


# --- reading what phone systems hand over (no database) ---------------------------------------

@pytest.mark.parametrize("argv, number", [
    (["+1 713 555 0199"], "+1 713 555 0199"),
    (["tel:+17135550199"], "+17135550199"),
    (["callto://+17135550199"], "+17135550199"),
    (["sip:+17135550199@pbx.example;user=phone"], "+17135550199"),
    (["/C:+17135550199", "/T:I"], "+17135550199"),
    (["backoffice://call?number=%2B1%20713%20555%200199"], "+1 713 555 0199"),
    (["backoffice://call?number=+17135550199"], "+17135550199"),  # a "+" left unencoded reads as a space
    (["713", "555", "0199"], "713 555 0199"),
])
def test_the_call_command_reads_every_form(argv, number):
    got = ch.number_from_argv(argv)
    assert got.replace(" ", "").lstrip("+") == number.replace(" ", "").lstrip("+")


@pytest.mark.parametrize("argv", [[], ["anonymous"], ["sip:anonymous@pbx"], ["backoffice://open?number=1"],
                                  ["backoffice://call"], ["12; rm -rf /"], ["1" * 50]])
def test_the_call_command_refuses_what_is_not_a_number(argv):
    with pytest.raises(ch.CallError):
        ch.number_from_argv(argv)


def test_call_arguments_are_recognised_before_anything_is_loaded():
    assert ch.call_arguments(["call", "123"]) == ["123"]
    assert ch.call_arguments(["/C:123", "/T:I"]) == ["/C:123", "/T:I"]
    assert ch.call_arguments(["backoffice://call?number=1"]) == ["backoffice://call?number=1"]
    assert ch.call_arguments(["+17135550199"]) == ["+17135550199"]  # MicroSIP
    assert ch.call_arguments(["tel:+17135550199"]) == ["tel:+17135550199"]
    assert ch.call_arguments(["sync"]) is None and ch.call_arguments([]) is None
    assert ch.call_arguments(["--db", "x"]) is None and ch.call_arguments(["--self-test"]) is None


def test_the_channel_is_named_per_desk(monkeypatch, tmp_path):
    monkeypatch.setenv(ch.ENV_RUNTIME_DIR, str(tmp_path))
    assert ch.channel_address("desk 1") != ch.channel_address("desk 2")
    assert ch.channel_address("desk 1").startswith(str(tmp_path))


def _serve_once(address: str, answer: bytes, got: list) -> None:
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(address)
        server.listen(1)
        conn, _ = server.accept()
        with conn:
            got.append(conn.recv(256))
            conn.sendall(answer)


def test_the_command_starts_the_app_when_none_answers_and_hands_the_number_over(monkeypatch, tmp_path):
    import threading

    monkeypatch.setenv(ch.ENV_RUNTIME_DIR, str(tmp_path))
    address = ch.channel_address("desk-1")
    got: list = []
    threads: list = []

    def start_app(db=None):
        # The app opens its channel a moment after it starts and holds the caller until sign-in.
        thread = threading.Thread(target=_serve_once, args=(address, b"HELD\n", got))
        thread.start()
        threads.append(thread)

    monkeypatch.setattr(ch, "start_app", start_app)
    handed = ch.hand_over("+1 713 555 0199", address=address, wait_s=5)
    threads[0].join(5)
    assert handed.started and handed.answer == ch.HELD
    assert "after sign-in" in handed.sentence
    assert got == [b"CALL +1 713 555 0199\n"]


def test_the_command_says_so_when_the_app_is_not_running_and_may_not_be_started(monkeypatch, tmp_path):
    monkeypatch.setenv(ch.ENV_RUNTIME_DIR, str(tmp_path))
    monkeypatch.setattr(ch, "start_app", lambda db=None: pytest.fail("started the app"))
    with pytest.raises(ch.CallError, match="not running"):
        ch.hand_over("7135550199", start=False)
