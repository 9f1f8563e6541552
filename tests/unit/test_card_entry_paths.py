"""Promise P1 on every path a person's text takes in: a card number, typed any way, is
kept nowhere in the database (read value by value, by its digits only), whichever service
takes it; the log keeps none either; and what the search index derives from a text is
checked after it is derived."""

from __future__ import annotations

import itertools
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from backoffice.domain import Customer
from backoffice.domain.search import customer_entry, entry_words
from backoffice.errors import UserFacingError
from backoffice.logsetup import RedactingFilter
from backoffice.services import customers as customers_service
from backoffice.services import orders as orders_service
from backoffice.services import phone_orders as po
from tests.card_canary import assert_no_card_in_database, card_texts, leaks
from tests.unit.test_phone_orders import add_customer, add_product

_serial = itertools.count(1)
DB_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                       suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _try(call):
    """Run a service; a refusal with a sentence is as good as a masked value."""
    try:
        return call()
    except UserFacingError:
        return None


@DB_SETTINGS
@given(st.lists(card_texts(), min_size=4, max_size=4))
def test_customer_services_keep_no_card_number(db, staff, cards):
    (d1, t1), (d2, t2), (d3, t3), (d4, t4) = cards
    customer_id = add_customer(db, email=f"c{next(_serial)}@example.com")
    customers_service.add_note(db, actor=staff, customer_id=customer_id, text=t1)
    for field, value in (("first_name", t2), ("company", t3), ("phone", t4), ("email", f"{t4}@example.com")):
        version = customers_service.get_customer(db, actor=staff, customer_id=customer_id).version
        _try(lambda f=field, v=value, ver=version: customers_service.update_customer(
            db, actor=staff, customer_id=customer_id, expected_version=ver, changes={f: v}))
    _try(lambda: customers_service.create_customer(
        db, actor=staff, first_name="Eve", last_name=t2, company=t3, email="", phone=t4,
        address={"address_1": t1, "address_2": t2, "city": t3, "postcode": "77002"}))
    assert_no_card_in_database(db, [d1, d2, d3, d4])


@DB_SETTINGS
@given(st.lists(card_texts(), min_size=5, max_size=5))
def test_phone_orders_and_tracking_keep_no_card_number(db, staff, cards):
    (d1, t1), (d2, t2), (d3, t3), (d4, t4), (d5, t5) = cards
    product = add_product(db, f"SKU-{next(_serial)}", "Mug", "12.50")
    caller = po.NewCustomer(first_name=t1, last_name="Stone", email=f"b{next(_serial)}@example.com",
                            phone=t2, company=t3, address_1="2 Elm St", address_2=t4, city="Houston",
                            state="TX", postcode="77003")
    placed = _try(lambda: po.place_phone_order(
        db, actor=staff, new_customer=caller, lines=[po.LineInput(product, 1)],
        shipping=po.ShippingInput("flat_rate", t5, "5"), note=t3))
    if placed is None:  # the caller was refused as typed: the order goes to a known customer
        known = add_customer(db, email=f"k{next(_serial)}@example.com")
        placed = po.place_phone_order(db, actor=staff, customer_id=known, lines=[po.LineInput(product, 1)],
                                      shipping=po.ShippingInput("flat_rate", t5, "5"), note=t3)
    _try(lambda: orders_service.add_tracking(db, actor=staff, order_id=placed.order_id, carrier=t4,
                                             tracking_number="1Z999AA10123456784"))
    _try(lambda: orders_service.add_tracking(db, actor=staff, order_id=placed.order_id, carrier="UPS",
                                             tracking_number=t1))
    assert_no_card_in_database(db, [d1, d2, d3, d4, d5])


@settings(max_examples=100, deadline=None, derandomize=True)
@given(card_texts(), st.sampled_from(["message", "argument", "exception"]))
def test_the_log_keeps_no_card_number(card, how):
    digits, typed = card
    if how == "message":
        record = logging.LogRecord("backoffice.x", logging.WARNING, __file__, 1, typed, None, None)
    elif how == "argument":
        record = logging.LogRecord("backoffice.x", logging.WARNING, __file__, 1, "caller read %s", (typed,), None)
    else:
        try:
            raise ValueError(typed)
        except ValueError as exc:
            record = logging.LogRecord("backoffice.x", logging.ERROR, __file__, 1, "failed", None,
                                       (type(exc), exc, exc.__traceback__))
    RedactingFilter().filter(record)
    written = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s").format(record)
    assert not leaks(written, digits), written


@pytest.mark.parametrize("joint", ["(", "+", "#", "[", "!", "?", "@"])
def test_search_terms_are_checked_after_words_are_joined(joint):
    # The column holds groups apart by a sign the detector does not join; the index joins
    # the words with spaces, which makes a card number of them.
    name = joint.join(["4000", "0566", "5566", "5556"])
    entry = customer_entry({"id": 1, "first_name": "Dana", "last_name": name, "company": name,
                            "email": None, "phone": None, "status": "active"})
    stored = [term for _, term in entry.terms] + [entry.body or ""] + sorted(entry_words(entry.terms))
    assert any("5556" in t for t in stored)
    for value in stored:
        assert not leaks(value, "4000056655665556"), value


def test_a_customer_whose_phone_is_a_card_number_has_no_phone_keys(db, staff):
    customer_id = add_customer(db, email="p@example.com")
    version = customers_service.get_customer(db, actor=staff, customer_id=customer_id).version
    with pytest.raises(UserFacingError, match="correcting"):
        customers_service.update_customer(db, actor=staff, customer_id=customer_id, expected_version=version,
                                          changes={"phone": "4111 1111 1111 1111"})
    with db.read() as s:
        phone, digits, rev = s.execute(select(Customer.phone, Customer.phone_digits, Customer.phone_rev)
                                       .where(Customer.id == customer_id)).one()
    assert digits == "17135550199"
    assert not leaks(f"{phone} {digits} {rev}", "4111111111111111")
