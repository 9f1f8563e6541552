"""Phone orders on both databases: totals, new customers, outbox, refusals, card numbers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.domain.customer_fields import contact_columns
from backoffice.domain.search import reindex_customer
from backoffice.domain import (
    AuditEvent,
    Customer,
    CustomerAddress,
    Order,
    OrderAddress,
    OrderLine,
    OutboxMessage,
    Payment,
    Product,
    ShippingLine,
)
from backoffice.domain.enums import (
    AddressKind,
    CustomerStatus,
    OrderOrigin,
    OrderStatus,
    OutboxKind,
    OutboxStatus,
    PaymentMethod,
    PaymentStatus,
)
from backoffice.domain.search import CustomerSearchTerm
from backoffice.domain.text import fold
from backoffice.errors import NotFound, PermissionDenied, UserFacingError, ValidationError
from backoffice.services import phone_orders as po
from backoffice.services.settings import write_settings

CARD = "4111 1111 1111 1111"
CARD_DIGITS = "4111111111111111"
MC = "5555-5555-5555-4444"


def add_product(db, sku, name, price, stock=None, status="publish"):
    with db.begin() as s:
        p = Product(sku=sku, name=name, name_key=fold(name), price=Decimal(price),
                    manage_stock=stock is not None, stock_quantity=stock, status=status)
        s.add(p)
        s.flush()
        return p.id


def add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199",
                 status=CustomerStatus.ACTIVE, postcode="77002"):
    with db.begin() as s:
        phone = "+1 713 555 0199" if phone_digits == "17135550199" else "+" + phone_digits
        # The columns every path derives (backoffice.domain.customer_fields), not a copy of the rule.
        c = Customer(first_name=first, last_name=last, email=email, phone=phone, status=status,
                     **contact_columns(first_name=first, last_name=last, company="", email=email, phone=phone,
                                       region="US"))
        s.add(c)
        s.flush()
        s.add(CustomerAddress(customer_id=c.id, kind=AddressKind.BILLING, is_default=True,
                              first_name=first, last_name=last, address_1="1 Main St",
                              city="Houston", state="TX", postcode=postcode, country="US"))
        s.flush()
        # Indexed for search, as every customer the sync, the desk or a phone order adds is.
        reindex_customer(s, c.id)
        return c.id


@pytest.fixture
def catalogue(db):
    return {
        "mug": add_product(db, "MUG-01", "Café mug", "12.50", stock=10),
        "tea": add_product(db, "TEA-02", "Green tea 100 g", "7.25"),
        "pot": add_product(db, "POT-03", "Teapot", "39.99", stock=1),
        "old": add_product(db, "OLD-04", "Old kettle", "5.00", status="draft"),
    }


def new_caller(**overrides) -> po.NewCustomer:
    values = dict(first_name="Bob", last_name="Stone", email="bob@example.com", phone="(713) 555-0123",
                  address_1="2 Elm St", city="Houston", state="TX", postcode="77003")
    values.update(overrides)
    return po.NewCustomer(**values)


FLAT = po.ShippingInput("flat_rate", "Flat rate", Decimal("4.95"))


def count(db, model, *where):
    with db.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


# --- catalogue -------------------------------------------------------------------------


def test_catalogue_lookup_by_sku_prefix_and_accent_free_name(db, order_taker, catalogue):
    by_sku = po.catalogue_lookup(db, actor=order_taker, query="mug")
    assert [h.id for h in by_sku] == [catalogue["mug"]]
    assert by_sku[0].stock == 10 and by_sku[0].stock_text == "10 in stock"
    assert [h.name for h in po.catalogue_lookup(db, actor=order_taker, query="CAFE")] == ["Café mug"]
    tea = po.catalogue_lookup(db, actor=order_taker, query="tea")
    # The SKU prefix comes first, then the names holding the word.
    assert [h.sku for h in tea] == ["TEA-02", "POT-03"]
    assert po.catalogue_lookup(db, actor=order_taker, query="kettle") == []  # a draft
    assert po.catalogue_lookup(db, actor=order_taker, query="  ") == []
    assert po.catalogue_lookup(db, actor=order_taker, query="%") == []


# --- placing ---------------------------------------------------------------------------


def test_returning_customer_order_totals_and_outbox_in_one_go(db, order_taker, catalogue):
    customer_id = add_customer(db)
    placed = po.place_phone_order(
        db, actor=order_taker, customer_id=customer_id,
        lines=[po.LineInput(catalogue["mug"], 2), po.LineInput(catalogue["tea"], 1)],
        shipping=FLAT, note="Leave at the back door",
        payment=po.PaymentChoice(PaymentMethod.PAY_LINK))
    assert placed.subtotal == Decimal("32.25")
    assert placed.shipping_total == Decimal("4.95")
    assert placed.total == Decimal("37.20")
    assert placed.currency == "USD"
    assert placed.status is OrderStatus.PENDING
    assert placed.card_messages == ()
    assert placed.order_id in placed.changes.orders
    with db.read() as s:
        order = s.get(Order, placed.order_id)
        assert order.origin is OrderOrigin.PHONE
        assert order.reference == placed.reference and order.reference.startswith("bo-")
        assert order.total == Decimal("37.20") and isinstance(order.total, Decimal)
        assert order.created_by_staff_id == order_taker.staff_id
        assert order.store_id is None
        lines = s.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
        assert [(l.sku, l.quantity, l.unit_price, l.total) for l in lines] == [
            ("MUG-01", 2, Decimal("12.50"), Decimal("25.00")),
            ("TEA-02", 1, Decimal("7.25"), Decimal("7.25")),
        ]
        ship = s.scalars(select(ShippingLine).where(ShippingLine.order_id == order.id)).one()
        assert (ship.method_id, ship.method_title, ship.total) == ("flat_rate", "Flat rate", Decimal("4.95"))
        addresses = {a.kind: a for a in s.scalars(select(OrderAddress).where(OrderAddress.order_id == order.id))}
        assert addresses[AddressKind.SHIPPING].city == "Houston"
        assert addresses[AddressKind.BILLING].email == "ana@example.com"
        outbox = s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        # The order first, then the store's email of its pay link, which needs the store's order.
        assert [(m.kind, m.entity_type, m.entity_id, m.payload, m.status) for m in outbox] == [
            (OutboxKind.CREATE_ORDER, "order", order.id, "{}", OutboxStatus.PENDING),
            (OutboxKind.SEND_PAY_LINK, "order", order.id, "{}", OutboxStatus.PENDING)]
        assert outbox[0].reference == order.reference and outbox[1].reference != order.reference
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "place_phone_order")).one()
        assert (event.entity_id, event.customer_id, event.staff_id) == (order.id, customer_id, order_taker.staff_id)
        assert "Leave" not in event.fields


def test_shop_currency_is_used(db, owner, catalogue):
    with db.begin() as s:
        write_settings(s, {"shop.currency": "EUR"})
    placed = po.place_phone_order(db, actor=owner, customer_id=add_customer(db),
                                  lines=[po.LineInput(catalogue["tea"], 3)],
                                  shipping=po.ShippingInput("local_pickup", "Local pickup", "0"))
    assert (placed.currency, placed.total) == ("EUR", Decimal("21.75"))
    with db.read() as s:
        assert s.get(Order, placed.order_id).currency == "EUR"


@pytest.mark.parametrize("method, status", [
    (PaymentMethod.INVOICE, OrderStatus.ON_HOLD),
    (PaymentMethod.BANK_TRANSFER, OrderStatus.ON_HOLD),
    (PaymentMethod.CASH_ON_PICKUP, OrderStatus.PENDING),
    (PaymentMethod.TERMINAL, OrderStatus.PENDING),
])
def test_status_follows_the_payment_choice(db, order_taker, catalogue, method, status):
    placed = po.place_phone_order(db, actor=order_taker, customer_id=add_customer(db),
                                  lines=[po.LineInput(catalogue["tea"])], shipping=FLAT,
                                  payment=po.PaymentChoice(method))
    assert placed.status is status
    with db.read() as s:
        pay = s.scalars(select(Payment).where(Payment.order_id == placed.order_id)).one()
        assert (pay.method, pay.status) == (method, PaymentStatus.AWAITING)


def test_new_customer_is_created_in_the_same_transaction(db, order_taker, catalogue):
    placed = po.place_phone_order(db, actor=order_taker, new_customer=new_caller(),
                                  lines=[po.LineInput(catalogue["mug"])], shipping=FLAT)
    assert placed.new_customer
    with db.read() as s:
        customer = s.get(Customer, placed.customer_id)
        assert (customer.first_name, customer.last_name, customer.email) == ("Bob", "Stone", "bob@example.com")
        assert customer.phone_e164 == "+17135550123"
        assert customer.phone_rev == "17135550123"[::-1]
        assert customer.sort_name == "stone bob"
        assert s.get(Order, placed.order_id).customer_id == customer.id
        kinds = [(m.kind, m.entity_type, m.entity_id) for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        # The account is created on the store before the order that uses it, and the pay link
        # is emailed once the order is there.
        assert kinds == [(OutboxKind.CREATE_CUSTOMER, "customer", customer.id),
                         (OutboxKind.CREATE_ORDER, "order", placed.order_id),
                         (OutboxKind.SEND_PAY_LINK, "order", placed.order_id)]
        shipping = s.scalars(select(OrderAddress).where(OrderAddress.order_id == placed.order_id,
                                                        OrderAddress.kind == AddressKind.SHIPPING)).one()
        assert (shipping.address_1, shipping.postcode, shipping.country) == ("2 Elm St", "77003", "US")
        # The search index knows the new customer, so the next call finds them.
        terms = set(s.execute(select(CustomerSearchTerm.kind, CustomerSearchTerm.term)
                              .where(CustomerSearchTerm.customer_id == customer.id)).all())
        assert ("n", "stone bob") in terms and ("e", "bob@example.com") in terms


def test_a_refused_order_leaves_no_new_customer_behind(db, order_taker, catalogue):
    with pytest.raises(ValidationError) as err:
        po.place_phone_order(db, actor=order_taker, new_customer=new_caller(),
                             lines=[po.LineInput(catalogue["pot"], 5)], shipping=FLAT)
    assert "Only 1 of Teapot is in stock" in err.value.fields["lines"]
    assert count(db, Customer) == 0
    assert count(db, OutboxMessage) == 0
    assert count(db, Order) == 0


def test_new_customer_is_validated_inline_with_sentences(db, order_taker, catalogue):
    with pytest.raises(ValidationError) as err:
        po.place_phone_order(
            db, actor=order_taker,
            new_customer=po.NewCustomer(first_name="", last_name="", email="bob@", phone="12",
                                        address_1="", city="", postcode="", country="USA"),
            lines=[po.LineInput(catalogue["mug"])], shipping=FLAT)
    fields = err.value.fields
    assert set(fields) == {"last_name", "email", "phone", "address_1", "city", "postcode", "country"}
    assert fields["email"].endswith(".")
    assert "phone number" in fields["phone"]
    assert count(db, Customer) == 0


def test_new_customer_with_a_known_email_is_pointed_to_the_existing_one(db, order_taker, catalogue):
    add_customer(db, email="bob@example.com")
    with pytest.raises(ValidationError) as err:
        po.place_phone_order(db, actor=order_taker, new_customer=new_caller(email="BOB@example.com"),
                             lines=[po.LineInput(catalogue["mug"])], shipping=FLAT)
    assert "already exists" in err.value.fields["email"]


@pytest.mark.parametrize("status, words", [(CustomerStatus.DEACTIVATED, "deactivated"),
                                           (CustomerStatus.ERASED, "erased")])
def test_deactivated_or_erased_customer_cannot_order(db, order_taker, catalogue, status, words):
    customer_id = add_customer(db, status=status)
    with pytest.raises(UserFacingError) as err:
        po.place_phone_order(db, actor=order_taker, customer_id=customer_id,
                             lines=[po.LineInput(catalogue["mug"])], shipping=FLAT)
    assert words in err.value.message and "Nothing was saved" in err.value.message
    assert count(db, Order) == 0 and count(db, OutboxMessage) == 0
    summary = po.caller_summary(db, actor=order_taker, customer_id=customer_id)
    # The caller card says why before anything is tried, so it does not speak of a save.
    assert not summary.can_order and words in summary.refusal and "saved" not in summary.refusal


def test_a_customer_merged_at_another_desk_takes_no_order_and_the_desk_is_told_where(db, order_taker, owner,
                                                                                     catalogue):
    """The caller's card was opened before someone merged that customer into another record:
    the order is not attached to the merged record (its account may be gone from the store),
    and the message names the customer to open."""
    from backoffice.services import customers as customers_service

    merged = add_customer(db)
    kept = add_customer(db, first="Ana María", email="ana.maria@example.com", phone_digits="17135550142")
    summary = po.caller_summary(db, actor=order_taker, customer_id=merged)
    assert summary.can_order
    customers_service.merge_customers(db, actor=owner, keep_id=kept, merge_id=merged)
    with pytest.raises(UserFacingError) as err:
        po.place_phone_order(db, actor=order_taker, customer_id=merged,
                             lines=[po.LineInput(catalogue["mug"])], shipping=FLAT)
    assert "merged into Ana María García" in err.value.message and "Nothing was saved" in err.value.message
    assert count(db, Order) == 0
    summary = po.caller_summary(db, actor=order_taker, customer_id=merged)
    assert not summary.can_order and "Ana María García" in summary.refusal
    placed = po.place_phone_order(db, actor=order_taker, customer_id=kept,
                                  lines=[po.LineInput(catalogue["mug"])], shipping=FLAT)
    assert count(db, Order) == 1 and placed.order_id


def test_lines_and_shipping_are_checked(db, order_taker, catalogue):
    customer_id = add_customer(db)
    cases = [
        (dict(lines=[]), "lines"),
        (dict(lines=[po.LineInput(catalogue["mug"], 0)]), "lines"),
        (dict(lines=[po.LineInput(catalogue["old"])]), "lines"),
        (dict(lines=[po.LineInput(catalogue["mug"])], shipping=po.ShippingInput("flat_rate", "Flat", "-1")),
         "shipping_cost"),
        (dict(lines=[po.LineInput(catalogue["mug"])], shipping=po.ShippingInput("flat_rate", "Flat", "abc")),
         "shipping_cost"),
        (dict(lines=[po.LineInput(catalogue["mug"])], shipping=po.ShippingInput("", "", "1")), "shipping"),
    ]
    for kwargs, field in cases:
        kwargs.setdefault("shipping", FLAT)
        with pytest.raises(ValidationError) as err:
            po.place_phone_order(db, actor=order_taker, customer_id=customer_id, **kwargs)
        assert field in err.value.fields, kwargs
    with pytest.raises(ValidationError) as err:
        po.place_phone_order(db, actor=order_taker, lines=[po.LineInput(catalogue["mug"])], shipping=FLAT)
    assert "customer" in err.value.fields
    assert count(db, Order) == 0


def test_card_numbers_in_note_and_address_are_masked_and_reported(db, order_taker, catalogue):
    placed = po.place_phone_order(
        db, actor=order_taker,
        new_customer=new_caller(address_2=f"card {MC} please"),
        lines=[po.LineInput(catalogue["mug"])], shipping=FLAT,
        note=f"Caller read out her card {CARD} exp 12/27")
    assert len(placed.card_messages) == 2
    assert any("the order note" in m and "1111" in m for m in placed.card_messages)
    assert any("second address line" in m and "4444" in m for m in placed.card_messages)
    with db.read() as s:
        order = s.get(Order, placed.order_id)
        assert CARD not in order.customer_note and CARD_DIGITS not in order.customer_note
        assert "ends 1111" in order.customer_note
        address = s.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == placed.customer_id)).first()
        assert "5555" not in address.address_2.replace("ends 4444", "")
        assert "ends 4444" in address.address_2


# --- repeat and similar ----------------------------------------------------------------


def test_repeat_order_lines_gives_the_previous_lines(db, order_taker, catalogue):
    customer_id = add_customer(db)
    first = po.place_phone_order(
        db, actor=order_taker, customer_id=customer_id,
        lines=[po.LineInput(catalogue["tea"], 2), po.LineInput(catalogue["mug"], 1)], shipping=FLAT)
    summary = po.caller_summary(db, actor=order_taker, customer_id=customer_id)
    assert summary.can_order and summary.last_order_id == first.order_id
    assert summary.address_lines[0] == "Ana García"
    lines = po.repeat_order_lines(db, actor=order_taker, order_id=summary.last_order_id)
    assert lines == [po.LineInput(catalogue["tea"], 2), po.LineInput(catalogue["mug"], 1)]
    hits = po.product_hits(db, actor=order_taker, product_ids=[l.product_id for l in lines])
    assert [h.sku for h in hits] == ["TEA-02", "MUG-01"]
    again = po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=lines, shipping=FLAT)
    assert again.total == first.total


def test_similar_customers_by_email_phone_or_name_and_postcode(db, order_taker):
    ana = add_customer(db)
    add_customer(db, first="Zed", last="Other", email="zed@example.com", phone_digits="17135559999",
                 postcode="10001")
    by_email = po.similar_customers(db, actor=order_taker, name="", email="ANA@example.com", phone="", postcode="")
    assert [(c.id, c.reasons) for c in by_email] == [(ana, ("email",))]
    by_phone = po.similar_customers(db, actor=order_taker, name="", email="", phone="713-555-0199", postcode="")
    assert [c.id for c in by_phone] == [ana]
    assert "phone number" in by_phone[0].sentence
    by_name = po.similar_customers(db, actor=order_taker, name="Ana Garcia", email="", phone="", postcode="77 002")
    assert [(c.id, c.reasons) for c in by_name] == [(ana, ("name and postcode",))]
    assert po.similar_customers(db, actor=order_taker, name="Ana Garcia", email="", phone="",
                                postcode="99999") == []


# --- terminal payments -----------------------------------------------------------------


def _placed(db, actor, catalogue, method=PaymentMethod.TERMINAL):
    return po.place_phone_order(db, actor=actor, customer_id=add_customer(db),
                                lines=[po.LineInput(catalogue["mug"])], shipping=FLAT,
                                payment=po.PaymentChoice(method))


def test_terminal_payment_is_recorded_by_reference_only(db, order_taker, catalogue):
    placed = _placed(db, order_taker, catalogue)
    changes = po.record_terminal_payment(
        db, actor=order_taker, order_id=placed.order_id, gateway="stripe",
        transaction_id="ch_3PqA1b2C3d", card_brand="Visa", last4="1111", auth_code="A1B2C3")
    assert placed.order_id in changes.orders and changes.outbox
    with db.read() as s:
        order = s.get(Order, placed.order_id)
        assert order.is_paid() and order.status is OrderStatus.PROCESSING
        payments = s.scalars(select(Payment).where(Payment.order_id == order.id)).all()
        assert len(payments) == 1
        pay = payments[0]
        assert (pay.method, pay.status, pay.gateway, pay.transaction_id, pay.card_brand, pay.card_last4,
                pay.auth_code, pay.amount) == (PaymentMethod.TERMINAL, PaymentStatus.PAID, "stripe",
                                               "ch_3PqA1b2C3d", "Visa", "1111", "A1B2C3", order.total)
        kinds = [m.kind for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert kinds == [OutboxKind.CREATE_ORDER, OutboxKind.MARK_ORDER_PAID]
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "record_payment")).one()
        assert json.loads(event.fields) == sorted(
            ["auth_code", "card_brand", "card_last4", "gateway", "transaction_id"])
    with pytest.raises(UserFacingError, match="already paid"):
        po.record_terminal_payment(db, actor=order_taker, order_id=placed.order_id, gateway="stripe",
                                   transaction_id="ch_again", card_brand="Visa", last4="1111")


@pytest.mark.parametrize("last4, words", [
    ("111", "exactly 4 digits"), ("11a1", "exactly 4 digits"), ("", "last 4 digits"),
    (CARD, "whole card number"),
])
def test_last4_must_be_exactly_four_digits(db, order_taker, catalogue, last4, words):
    placed = _placed(db, order_taker, catalogue)
    with pytest.raises(ValidationError) as err:
        po.record_terminal_payment(db, actor=order_taker, order_id=placed.order_id, gateway="stripe",
                                   transaction_id="ch_1", card_brand="Visa", last4=last4)
    assert words in err.value.fields["last4"]
    with db.read() as s:
        assert not s.get(Order, placed.order_id).is_paid()


@pytest.mark.parametrize("field", ["transaction_id", "card_brand", "auth_code", "gateway"])
def test_any_payment_field_holding_a_card_number_is_refused(db, order_taker, catalogue, field):
    placed = _placed(db, order_taker, catalogue)
    values = dict(gateway="stripe", transaction_id="ch_1", card_brand="Visa", last4="4444", auth_code="")
    values[field] = MC
    with pytest.raises(ValidationError) as err:
        po.record_terminal_payment(db, actor=order_taker, order_id=placed.order_id, **values)
    assert "card number" in err.value.fields[field]
    assert MC not in err.value.message
    with db.read() as s:
        assert not s.get(Order, placed.order_id).is_paid()
        assert count(db, Payment, Payment.status == PaymentStatus.PAID) == 0


def test_pay_later_switch_and_paid_from_store(db, order_taker, catalogue):
    placed = _placed(db, order_taker, catalogue, PaymentMethod.PAY_LINK)
    po.choose_pay_later(db, actor=order_taker, order_id=placed.order_id, method=PaymentMethod.BANK_TRANSFER)
    with db.read() as s:
        order = s.get(Order, placed.order_id)
        assert (order.status, order.payment_method) == (OrderStatus.ON_HOLD, "bacs")
        # Not on the store yet: the waiting create carries the new status.
        assert count(db, OutboxMessage, OutboxMessage.kind != OutboxKind.SEND_PAY_LINK) == 1
    with pytest.raises(ValidationError):
        po.choose_pay_later(db, actor=order_taker, order_id=placed.order_id, method=PaymentMethod.TERMINAL)
    # Once the store has it, the change is sent, with the status it replaces.
    with db.begin() as s:
        s.get(Order, placed.order_id).store_id = 4711
    po.choose_pay_later(db, actor=order_taker, order_id=placed.order_id, method=PaymentMethod.CASH_ON_PICKUP)
    with db.read() as s:
        message = s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == OutboxKind.UPDATE_ORDER_STATUS)).one()
        assert (message.entity_id, json.loads(message.payload)) == (placed.order_id, {"from": "on-hold"})
        assert s.get(Order, placed.order_id).status is OrderStatus.PENDING
    assert po.mark_paid_from_store(db, actor=order_taker, order_id=placed.order_id, transaction_id="pi_9")
    assert not po.mark_paid_from_store(db, actor=order_taker, order_id=placed.order_id)
    with db.read() as s:
        order = s.get(Order, placed.order_id)
        assert order.is_paid() and order.status is OrderStatus.PROCESSING
        pay = s.scalars(select(Payment).where(Payment.order_id == order.id)).one()
        assert (pay.method, pay.status, pay.transaction_id) == (
            PaymentMethod.CASH_ON_PICKUP, PaymentStatus.PAID, "pi_9")
    with pytest.raises(UserFacingError):
        po.choose_pay_later(db, actor=order_taker, order_id=placed.order_id, method=PaymentMethod.INVOICE)


# --- the pay link by email --------------------------------------------------------------


@pytest.mark.parametrize("email, shown", [
    ("ana@example.com", "a***@example.com"), ("b@x.org", "b***@x.org"), ("  ", ""), ("no-at-sign", ""),
])
def test_an_email_address_is_shown_masked(email, shown):
    assert po.mask_email(email) == shown


def test_the_pay_link_email_is_queued_with_the_order_and_asked_for_once(db, order_taker, catalogue):
    placed = _placed(db, order_taker, catalogue, PaymentMethod.PAY_LINK)
    shown = po.pay_link_email(db, actor=order_taker, order_id=placed.order_id)
    assert (shown.state, shown.masked_email, shown.can_send_again) == (
        po.PayLinkEmailState.QUEUED, "a***@example.com", False)
    assert "ana@example.com" not in shown.sentence and "a***@example.com" in shown.sentence
    # Asking again while it waits adds nothing.
    assert po.send_pay_link_again(db, actor=order_taker, order_id=placed.order_id).outbox is False
    assert count(db, OutboxMessage, OutboxMessage.kind == OutboxKind.SEND_PAY_LINK) == 1
    # Once it went, another can be asked for, and that is audited.
    with db.begin() as s:
        message = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.SEND_PAY_LINK)).one()
        message.status = OutboxStatus.SENT
        message.payload = json.dumps({"outcome": "emailed"})
    assert po.pay_link_email(db, actor=order_taker, order_id=placed.order_id).can_send_again
    assert po.send_pay_link_again(db, actor=order_taker, order_id=placed.order_id).outbox
    assert count(db, OutboxMessage, OutboxMessage.kind == OutboxKind.SEND_PAY_LINK) == 2
    assert count(db, AuditEvent, AuditEvent.action == "send_pay_link_again") == 1


def test_no_pay_link_email_for_other_ways_to_pay(db, order_taker, catalogue):
    placed = _placed(db, order_taker, catalogue, PaymentMethod.INVOICE)
    shown = po.pay_link_email(db, actor=order_taker, order_id=placed.order_id)
    assert (shown.state, shown.sentence, shown.can_send_again) == (po.PayLinkEmailState.NOT_ASKED, "", False)
    with pytest.raises(UserFacingError, match="not paid by pay link"):
        po.send_pay_link_again(db, actor=order_taker, order_id=placed.order_id)
    assert count(db, OutboxMessage, OutboxMessage.kind == OutboxKind.SEND_PAY_LINK) == 0
    with pytest.raises(NotFound):
        po.pay_link_email(db, actor=order_taker, order_id=placed.order_id + 100)


# --- permissions -----------------------------------------------------------------------


def test_permissions_are_checked_and_refusals_audited(db, catalogue, monkeypatch):
    from backoffice.domain.enums import Role
    from backoffice.domain.staff import Actor, Permission, ROLE_PERMISSIONS

    customer_id = add_customer(db)
    # Every role of the shop may take orders, so take these permissions away for the test.
    nobody = Actor(staff_id=None, login="nobody", role=Role.ORDER_TAKER, desk="d")
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.ORDER_TAKER, frozenset(
        ROLE_PERMISSIONS[Role.ORDER_TAKER] - {Permission.TAKE_PHONE_ORDER, Permission.RECORD_PAYMENT}))
    with pytest.raises(PermissionDenied, match="take phone orders"):
        po.place_phone_order(db, actor=nobody, customer_id=customer_id,
                             lines=[po.LineInput(catalogue["mug"])], shipping=FLAT)
    with pytest.raises(PermissionDenied):
        po.catalogue_lookup(db, actor=nobody, query="mug")
    with pytest.raises(PermissionDenied, match="record payments"):
        po.record_terminal_payment(db, actor=nobody, order_id=1, gateway="stripe",
                                   transaction_id="ch_1", last4="1111")
    assert count(db, Order) == 0
    with db.read() as s:
        denied = s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("denied:%"))).all()
    assert set(denied) == {"denied:take_phone_order", "denied:record_payment"}
