"""What the order page and the customer page show: lines with unit prices, payments as sentences,
addresses side by side, and statuses in words rather than stored values."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView

from backoffice.domain import (
    ConsentEvent,
    NewsletterList,
    Order,
    OrderAddress,
    OrderLine,
    Payment,
    PrivacyRequest,
    Subscription,
)
from backoffice.domain.base import utcnow
from backoffice.domain.enums import (
    AddressKind,
    Channel,
    ConsentAction,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    RequestKind,
    RequestStatus,
    SubscriptionStatus,
)
from backoffice.services import customers as customers_service
from ui.customers.customer_page import CustomerPage
from ui.orders.order_page import OrderPage
from tests.ui.conftest import open_page

WAIT_MS = 10_000


@pytest.fixture
def maria(db, owner) -> int:
    return customers_service.create_customer(db, actor=owner, first_name="María", last_name="García",
                                             email="maria@example.com",
                                             address={"address_1": "1 Main St", "city": "Houston",
                                                      "postcode": "77002"}).customer.id


def add_order(db, customer_id, number, *, status=OrderStatus.PROCESSING, lines=(("MUG-1", "Coffee Mug", 2, "12.50"),),
              payments=(), method_title="", shipping_lines=3) -> int:
    with db.begin() as s:
        subtotal = sum(Decimal(price) * qty for _sku, _name, qty, price in lines)
        order = Order(number=number, customer_id=customer_id, status=status, subtotal=subtotal, total=subtotal,
                      payment_method_title=method_title,
                      paid_at=utcnow() if any(p.get("status") is PaymentStatus.PAID for p in payments) else None)
        s.add(order)
        s.flush()
        for sku, name, qty, price in lines:
            s.add(OrderLine(order_id=order.id, sku=sku, name=name, quantity=qty, unit_price=Decimal(price),
                            total=Decimal(price) * qty))
        s.add(OrderAddress(order_id=order.id, kind=AddressKind.BILLING, first_name="María", last_name="García",
                           address_1="1 Main St", city="Houston", state="TX", postcode="77002", country="US",
                           phone="+1 713 555 0199", email="maria@example.com"))
        # A shorter shipping address: its text must still start where the billing one does.
        s.add(OrderAddress(order_id=order.id, kind=AddressKind.SHIPPING, first_name="María",
                           last_name="García", address_1="1 Main St", city="Houston", country="US"))
        for p in payments:
            s.add(Payment(order_id=order.id, amount=subtotal, **p))
        return order.id


def open_order_page(qtbot, ctx, order_id) -> OrderPage:
    return open_page(qtbot, ctx, OrderPage, order_id)


def open_customer_page(qtbot, ctx, customer_id) -> CustomerPage:
    return open_page(qtbot, ctx, CustomerPage, customer_id, size=(1100, 700))


def row_texts(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def headers(table) -> list[str]:
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]


# --- the order page ----------------------------------------------------------------------------


def test_order_lines_show_the_unit_price_and_the_product_name_takes_the_width(qtbot, db, owner, maria, ctx_for):
    order_id = add_order(db, maria, "4119", lines=(("MUG-1", "Enamel Coffee Mug", 2, "12.50"),
                                                   ("TT-9", "Linen Tea Towel", 1, "8.00")))
    page = open_order_page(qtbot, ctx_for(db, owner), order_id)
    table = page.lines
    assert headers(table) == ["SKU", "Product", "Qty", "Unit price", "Total"]
    assert row_texts(table) == [["MUG-1", "Enamel Coffee Mug", "2", "12.50 USD", "25.00 USD"],
                                ["TT-9", "Linen Tea Towel", "1", "8.00 USD", "8.00 USD"]]
    header = table.horizontalHeader()
    assert header.sectionResizeMode(1) == QHeaderView.ResizeMode.Stretch
    widths = [table.columnWidth(c) for c in range(table.columnCount())]
    assert widths[1] == max(widths)
    assert sum(widths) >= table.viewport().width() - 2  # no empty white band right of the columns
    # Two lines take two rows' height, not half the page: the boxes below follow right after.
    rows_height = table.verticalHeader().length()
    assert table.height() <= header.height() + rows_height + 2 * table.frameWidth() + 2
    billing_box = page.billing.parentWidget()
    assert billing_box.geometry().top() < page.height() // 2


def test_billing_and_shipping_text_start_on_the_same_line(qtbot, db, owner, maria, ctx_for):
    order_id = add_order(db, maria, "4120")
    page = open_order_page(qtbot, ctx_for(db, owner), order_id)
    assert page.billing.text().count("\n") > page.shipping.text().count("\n")
    billing_top = page.billing.mapTo(page, page.billing.rect().topLeft()).y()
    shipping_top = page.shipping.mapTo(page, page.shipping.rect().topLeft()).y()
    assert billing_top == shipping_top
    # The shorter address is not centred in its box: both texts start at the top.
    for label in (page.billing, page.shipping):
        assert label.alignment() & Qt.AlignmentFlag.AlignTop
        assert not label.alignment() & Qt.AlignmentFlag.AlignVCenter


@pytest.mark.parametrize(("payment", "title", "expected"), [
    (dict(method=PaymentMethod.STORE, status=PaymentStatus.PAID, gateway="cheque"), "Check payments",
     "Cheque — paid (recorded on the web store)"),
    (dict(method=PaymentMethod.PAY_LINK, status=PaymentStatus.AWAITING), "Pay link (the web store's payment page)",
     "Pay link — waiting for payment"),
    (dict(method=PaymentMethod.TERMINAL, status=PaymentStatus.PAID, card_brand="Visa", card_last4="4242",
          transaction_id="ch_123"), "Card terminal", "Card terminal — Visa ending 4242, transaction ch_123, paid"),
    (dict(method=PaymentMethod.TERMINAL, status=PaymentStatus.PAID, gateway="stripe", card_brand="Mastercard",
          card_last4="4444", transaction_id="ch_9", auth_code="A1B2"), "Card terminal (stripe)",
     "Card terminal (Stripe) — Mastercard ending 4444, transaction ch_9, authorisation A1B2, paid"),
    (dict(method=PaymentMethod.STORE, status=PaymentStatus.REFUNDED, gateway="stripe", transaction_id="ch_7"),
     "Credit Card (Stripe)", "Card (Stripe) — transaction ch_7, refunded (recorded on the web store)"),
    (dict(method=PaymentMethod.STORE, status=PaymentStatus.PAID, gateway=""), "Direct Bank Transfer",
     "Direct Bank Transfer — paid (recorded on the web store)"),
    (dict(method=PaymentMethod.BANK_TRANSFER, status=PaymentStatus.AWAITING), "Direct bank transfer",
     "Bank transfer — waiting for payment"),
])
def test_the_payment_reads_as_a_sentence(qtbot, db, owner, maria, ctx_for, payment, title, expected):
    order_id = add_order(db, maria, "4121", payments=(payment,), method_title=title)
    page = open_order_page(qtbot, ctx_for(db, owner), order_id)
    assert page.payment.text() == expected
    assert "·" not in page.payment.text()


def test_an_order_with_no_payment_recorded_says_how_it_is_to_be_paid(qtbot, db, owner, maria, ctx_for):
    order_id = add_order(db, maria, "4122", status=OrderStatus.ON_HOLD, method_title="Cash on delivery")
    page = open_order_page(qtbot, ctx_for(db, owner), order_id)
    assert page.payment.text() == "Cash on delivery — not paid yet"


def test_a_card_number_that_slipped_into_a_reference_is_never_shown(qtbot, db, owner, maria, ctx_for):
    order_id = add_order(db, maria, "4123", payments=(
        dict(method=PaymentMethod.TERMINAL, status=PaymentStatus.PAID, card_brand="Visa", card_last4="1111",
             transaction_id="4111 1111 1111 1111"),))
    page = open_order_page(qtbot, ctx_for(db, owner), order_id)
    text = page.payment.text()
    assert "4111 1111" not in text and "41111111" not in text
    assert text.startswith("Card terminal — Visa ending 1111, transaction ")
    assert text.endswith(", paid")


def test_order_lines_cannot_be_typed_over(qtbot, db, owner, maria, ctx_for):
    order_id = add_order(db, maria, "4124")
    page = open_order_page(qtbot, ctx_for(db, owner), order_id)
    assert page.lines.editTriggers() == page.lines.EditTrigger.NoEditTriggers


# --- the customer page --------------------------------------------------------------------------


def test_customer_tabs_show_statuses_and_kinds_in_words(qtbot, db, owner, maria, ctx_for):
    add_order(db, maria, "5001", status=OrderStatus.PROCESSING)
    add_order(db, maria, "5002", status=OrderStatus.ON_HOLD)
    add_order(db, maria, "5003", status=OrderStatus.PENDING)
    with db.begin() as s:
        news = NewsletterList(name="Monthly letter", channel=Channel.EMAIL)
        texts = NewsletterList(name="Flash sales", channel=Channel.SMS)
        s.add_all([news, texts])
        s.flush()
        s.add(Subscription(list_id=news.id, customer_id=maria, status=SubscriptionStatus.SUBSCRIBED))
        s.add(Subscription(list_id=texts.id, customer_id=maria, status=SubscriptionStatus.UNCONFIRMED))
        s.add(ConsentEvent(customer_id=maria, list_id=news.id, action=ConsentAction.OPT_IN, method="web form",
                           wording="Send me the monthly letter"))
        s.add(ConsentEvent(customer_id=maria, list_id=texts.id, action=ConsentAction.OPT_OUT, method="phone"))
        s.add(PrivacyRequest(customer_id=maria, kind=RequestKind.ACCESS, status=RequestStatus.IN_PROGRESS,
                             due_at=utcnow() + timedelta(days=30)))
        s.add(PrivacyRequest(customer_id=maria, kind=RequestKind.OBJECTION, status=RequestStatus.AWAITING_REVIEW,
                             due_at=utcnow() + timedelta(days=30)))
    page = open_customer_page(qtbot, ctx_for(db, owner), maria)

    statuses = {row[0]: row[2] for row in row_texts(page.orders)}
    assert statuses == {"5001": "Processing", "5002": "On hold", "5003": "Pending payment"}
    assert all(row[3] == "25.00 USD" for row in row_texts(page.orders))

    kinds = [row[0] for row in row_texts(page.addresses)]
    assert kinds == ["Billing (default)"]

    subs = {row[0]: row[1:3] for row in row_texts(page.subscriptions)}
    assert subs == {"Flash sales": ["Text message", "Not confirmed yet"],
                    "Monthly letter": ["Email", "Subscribed"]}
    consents = sorted(row[2:4] for row in row_texts(page.consents))
    assert consents == [["Signed up", "Web form"], ["Unsubscribed", "Phone"]]

    requests = sorted(row[:2] for row in row_texts(page.requests))
    assert requests == [["Copy of their data", "In progress"], ["Objection to marketing", "Awaiting review"]]

    # The owner's audit trail names outcomes as the audit screen does.
    page.reload()
    qtbot.waitUntil(lambda: page.audit.rowCount() > 0, timeout=WAIT_MS)
    outcomes = {row[4] for row in row_texts(page.audit)}
    assert outcomes == {"Done"}

    every_cell = [text for table in (page.orders, page.addresses, page.subscriptions, page.consents,
                                     page.requests, page.audit) for row in row_texts(table) for text in row]
    raw = {"processing", "on-hold", "pending", "subscribed", "unconfirmed", "opt_in", "opt_out", "access",
           "in_progress", "awaiting_review", "billing", "email", "sms", "ok"}
    assert not raw & set(every_cell)
