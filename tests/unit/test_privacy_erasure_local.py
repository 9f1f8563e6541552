"""Erasure here, without a web store: records merged into the person's, guest orders found by
phone alone, and what an erased record still answers to."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice.domain.customers import Customer
from backoffice.domain.enums import Channel, AddressKind, CustomerStatus, OrderStatus
from backoffice.domain.newsletters import Suppression
from backoffice.domain.orders import Order, OrderAddress
from backoffice.errors import ValidationError
from backoffice.services import customers
from backoffice.services.privacy import erasure, register
from backoffice.services.newsletters import suppression


def test_erasure_reaches_merged_records_and_guest_orders_by_phone(db, owner):
    keep = customers.create_customer(db, actor=owner, first_name="Petra", last_name="Novakova",
                                     email="petra.n@example.org", phone="+1 713 555 0131").customer.profile.id
    dup = customers.create_customer(db, actor=owner, first_name="Petra", last_name="Nováková",
                                    email="p.novakova@example.net").customer.profile.id
    customers.merge_customers(db, actor=owner, keep_id=keep, merge_id=dup)
    with db.begin() as s:
        guest = Order(number="G1", customer_id=None, status=OrderStatus.COMPLETED)
        s.add(guest)
        s.flush()
        s.add(OrderAddress(order_id=guest.id, kind=AddressKind.BILLING, first_name="P.", last_name="Novakova",
                           phone="(713) 555-0131", email=""))
        other = Order(number="G2", customer_id=None, status=OrderStatus.COMPLETED)
        s.add(other)
        s.flush()
        s.add(OrderAddress(order_id=other.id, kind=AddressKind.BILLING, first_name="Someone", phone="(713) 555-9131"))
        guest_id, other_id = guest.id, other.id
    first = register.log_request(db, actor=owner, kind="deletion", customer_id=keep)
    preview = erasure.preview_erasure(db, actor=owner, customer_id=keep)
    assert any(i.what == "orders" and i.count == 1 for i in preview.kept)
    result = erasure.erase_customer(db, actor=owner, customer_id=keep)
    assert any(i.what == "records merged into this one" for i in result.erased)
    with db.read() as s:
        for cid in (keep, dup):
            c = s.get(Customer, cid)
            assert c.status is CustomerStatus.ERASED
            assert (c.first_name, c.last_name, c.email, c.phone) == ("", "", None, "")
        assert s.scalar(select(OrderAddress.last_name).where(OrderAddress.order_id == guest_id)) == ""
        assert s.scalar(select(OrderAddress.first_name).where(OrderAddress.order_id == other_id)) == "Someone"
    # The newsletters' suppression list knows the address again (on every list) without holding it.
    with db.begin() as s:
        secret = suppression.suppression_secret(s)
        address = suppression.normalised_address(Channel.EMAIL, "Petra.N@example.org")
        assert suppression.is_suppressed(s, secret, Channel.EMAIL, 1, address)
        assert "petra" not in " ".join(s.scalars(select(Suppression.key_hash))).lower()
    with pytest.raises(ValidationError, match="already erased"):
        erasure.erase_customer(db, actor=owner, customer_id=keep)
    # A new request from the same address is recognised as a repeat of the erased person's, by its hash.
    again = register.log_request(db, actor=owner, kind="access", requester_contact="PETRA.N@example.org",
                                 requester_name="Petra")
    assert again.request.repeat_of == (first.request.id,)
    assert "asked before" in again.message
    assert register.get_request(db, actor=owner, request_id=first.request.id).requester_contact == ""


def test_an_order_being_taken_while_the_customer_is_erased_is_erased_with_them(db, owner):
    """At another desk an order for the customer is being written (its transaction holds the
    customer, as taking an order does) when the erasure starts: the erasure waits for it and
    erases its addresses too, rather than working from the orders it saw before."""
    import threading

    if db.backend != "postgresql":
        pytest.skip("SQLite lets one transaction write at a time: the two cannot overlap")
    cid = customers.create_customer(db, actor=owner, first_name="Ilse", last_name="Brandtner",
                                    email="ilse.b@example.org").customer.profile.id
    done: dict = {}
    with db.begin() as s:
        s.get(Customer, cid, with_for_update={"read": True})
        order = Order(number="P1", customer_id=cid, status=OrderStatus.PROCESSING)
        s.add(order)
        s.flush()
        s.add(OrderAddress(order_id=order.id, kind=AddressKind.SHIPPING, first_name="Ilse",
                           last_name="Brandtner", address_1="4 Ringstrasse"))
        order_id = order.id
        eraser = threading.Thread(target=lambda: done.update(
            result=erasure.erase_customer(db, actor=owner, customer_id=cid)))
        eraser.start()
        eraser.join(0.5)
        assert eraser.is_alive()  # waiting for the order's transaction
    eraser.join(30)
    assert order_id in done["result"].changes.orders
    with db.read() as s:
        assert s.scalar(select(OrderAddress.last_name).where(OrderAddress.order_id == order_id)) == ""
        assert s.scalar(select(OrderAddress.address_1).where(OrderAddress.order_id == order_id)) == ""
