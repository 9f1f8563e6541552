"""The store emails a phone order's pay link: over real HTTP to the dev store, on SQLite and PostgreSQL.

A pay-link order ends with exactly one email, to the order's billing address, whatever is
lost on the way; a store too old for the email says so in a sentence and the desk reads
the link instead; the shop's shipping method reaches the store with its method id.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.domain import Customer, CustomerAddress, OutboxMessage, Product
from backoffice.domain.enums import AddressKind, OutboxKind, OutboxStatus, PaymentMethod
from backoffice.domain.search import reindex_customer
from backoffice.domain.text import fold
from backoffice.errors import StoreError, UserFacingError
from backoffice.services import phone_orders as po
from backoffice.services import sync
from backoffice.services.settings import set_settings
from backoffice.store.connector import StoreFeatureMissingError, StoreNotFoundError
from backoffice.store.woocommerce import NO_ORDER_EMAIL
from tests.integration.sync_helpers import SYNC_ACTOR, FAST, connector, outbox_rows


STORE = {"seed": 31}


@pytest.fixture
def conn(store):
    with connector(store) as c:
        yield c


def stock(db, store, *, email: str | None = "ana@example.com") -> dict[str, int]:
    """A product and a returning customer, on the store and here (as after a sync)."""
    record = store.create_product({"name": "Café mug", "sku": "MUG-01", "regular_price": "12.50"})
    with db.begin() as s:
        product = Product(sku="MUG-01", name="Café mug", name_key=fold("Café mug"), price=Decimal("12.50"),
                          store_id=record["id"], status="publish")
        s.add(product)
        store_customer = None
        if email:
            store_customer = store.create_customer({"email": email, "first_name": "Ana", "last_name": "García"})["id"]
        customer = Customer(first_name="Ana", last_name="García", email=email, email_key=email,
                            sort_name="garcia ana", store_id=store_customer)
        s.add(customer)
        s.flush()
        s.add(CustomerAddress(customer_id=customer.id, kind=AddressKind.BILLING, is_default=True, first_name="Ana",
                              last_name="García", address_1="1 Main St", city="Houston", postcode="77002",
                              country="US", email=email or ""))
        reindex_customer(s, customer.id)
        return {"product": product.id, "customer": customer.id}


def place(db, actor, ids, method=PaymentMethod.PAY_LINK, shipping=None) -> po.PlacedOrder:
    return po.place_phone_order(db, actor=actor, customer_id=ids["customer"], lines=[po.LineInput(ids["product"])],
                                shipping=shipping or po.ShippingInput("flat_rate", "Flat rate", "5"),
                                payment=po.PaymentChoice(method))


def message(db, order_id: int, kind: OutboxKind) -> OutboxMessage:
    (row,) = outbox_rows(db, kind=kind, entity_id=order_id)
    return row


def push_create_only(db, conn, order_id: int) -> int:
    """Send the order itself, leaving its email queued; return the store's order id."""
    create = message(db, order_id, OutboxKind.CREATE_ORDER)
    assert sync.push_pending(db, conn, only_ids=[create.id], options=FAST, actor=SYNC_ACTOR).sent == 1
    return message(db, order_id, OutboxKind.CREATE_ORDER).store_id


def test_a_pay_link_order_ends_with_exactly_one_email_to_the_billing_address(db, order_taker, store, conn):
    ids = stock(db, store)
    placed = place(db, order_taker, ids)
    queued = po.pay_link_email(db, actor=order_taker, order_id=placed.order_id)
    assert queued.state is po.PayLinkEmailState.QUEUED
    assert queued.sentence == ("Pay link email queued: it goes to a***@example.com as soon as the web store "
                               "has the order.")
    assert not queued.can_send_again

    state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    assert state.store_id is not None and state.waiting == 0
    (email,) = store.sent_emails()
    assert (email.to, email.order_id, email.kind) == ("ana@example.com", state.store_id, "customer_invoice")
    assert email.pay_url == state.payment_url, "the email carries the same link the desk shows"
    done = po.pay_link_email(db, actor=order_taker, order_id=placed.order_id)
    assert done.state is po.PayLinkEmailState.EMAILED
    assert done.sentence == "Pay link emailed to a***@example.com."
    assert done.can_send_again and done.sent_at is not None

    # Later syncs and refreshes send nothing more.
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    sync.refresh_order_from_store(db, conn, placed.order_id, actor=SYNC_ACTOR)
    assert sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR).waiting == 0
    assert len(store.sent_emails()) == 1
    assert message(db, placed.order_id, OutboxKind.SEND_PAY_LINK).status is OutboxStatus.SENT


def test_send_the_link_again_queues_one_more_and_never_two(db, order_taker, store, conn):
    ids = stock(db, store)
    placed = place(db, order_taker, ids)
    sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    assert po.send_pay_link_again(db, actor=order_taker, order_id=placed.order_id).outbox
    # A second click while the first is still waiting changes nothing.
    assert not po.send_pay_link_again(db, actor=order_taker, order_id=placed.order_id).outbox
    assert po.pay_link_email(db, actor=order_taker, order_id=placed.order_id).state is po.PayLinkEmailState.QUEUED
    sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    assert len(store.sent_emails()) == 2
    assert po.pay_link_email(db, actor=order_taker, order_id=placed.order_id).state is po.PayLinkEmailState.EMAILED
    # Paid on the store's page: no more links.
    store.mark_paid(store.sent_emails()[0].order_id)
    sync.refresh_order_from_store(db, conn, placed.order_id, actor=SYNC_ACTOR)
    with pytest.raises(UserFacingError, match="already paid"):
        po.send_pay_link_again(db, actor=order_taker, order_id=placed.order_id)
    assert not po.pay_link_email(db, actor=order_taker, order_id=placed.order_id).can_send_again


@pytest.mark.parametrize("fault", ["answer lost after the email went", "request lost before the store read it"])
def test_a_lost_answer_neither_loses_nor_doubles_the_email(db, order_taker, store, conn, fault):
    ids = stock(db, store)
    placed = place(db, order_taker, ids)
    store_id = push_create_only(db, conn, placed.order_id)
    store.faults.limit_to("/actions/")
    if fault.startswith("answer lost"):
        store.faults.drop_after_commit_next(1)
    else:
        store.faults.drop_next(1)
    state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    assert store.faults.pending == {}, "the fault was never met"
    assert state.waiting == 0
    (email,) = store.sent_emails()
    assert (email.to, email.order_id) == ("ana@example.com", store_id)
    sent = message(db, placed.order_id, OutboxKind.SEND_PAY_LINK)
    assert sent.status is OutboxStatus.SENT
    assert po.pay_link_email(db, actor=order_taker, order_id=placed.order_id).state is po.PayLinkEmailState.EMAILED


class NotesAwayOnce:
    """The real connector, except that the store stops answering once, right after an email request."""

    def __init__(self, real) -> None:
        self.real = real
        self.after_send = False

    def __getattr__(self, name):
        return getattr(self.real, name)

    def send_order_details(self, order_id):
        self.after_send = True
        return self.real.send_order_details(order_id)

    def get_order_notes(self, order_id):
        if self.after_send:
            self.after_send = False
            raise StoreError("The web store did not answer.", retryable=True)
        return self.real.get_order_notes(order_id)


def test_after_an_interrupted_send_the_notes_are_read_before_asking_again(db, order_taker, store, conn):
    ids = stock(db, store)
    placed = place(db, order_taker, ids)
    push_create_only(db, conn, placed.order_id)
    store.faults.limit_to("/actions/")
    store.faults.drop_after_commit_next(1)
    # The answer is lost, then the store is away when its notes are read: nothing is settled yet.
    sync.push_order_now(db, NotesAwayOnce(conn), placed.order_id, options=FAST, actor=SYNC_ACTOR)
    waiting = message(db, placed.order_id, OutboxKind.SEND_PAY_LINK)
    assert waiting.status is OutboxStatus.PENDING and waiting.attempts >= 1
    assert po.pay_link_email(db, actor=order_taker, order_id=placed.order_id).state is po.PayLinkEmailState.QUEUED
    assert len(store.sent_emails()) == 1
    # The next run finds the store's note of that email and does not send a second one.
    sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    assert message(db, placed.order_id, OutboxKind.SEND_PAY_LINK).status is OutboxStatus.SENT
    assert len(store.sent_emails()) == 1
    assert po.pay_link_email(db, actor=order_taker, order_id=placed.order_id).state is po.PayLinkEmailState.EMAILED


def test_the_store_away_keeps_the_email_queued_until_it_is_back(db, order_taker, store):
    ids = stock(db, store)
    placed = place(db, order_taker, ids)
    address = store.base_url.rsplit("//", 1)[1].split(":")
    store.stop()
    with connector(store, max_retries=0, timeout=(1, 2)) as away:
        state = sync.push_order_now(db, away, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    assert state.store_id is None and state.message
    assert po.pay_link_email(db, actor=order_taker, order_id=placed.order_id).state is po.PayLinkEmailState.QUEUED
    store.start(address[0], int(address[1]))
    with connector(store) as back:
        assert sync.run_sync(db, back, options=FAST, actor=SYNC_ACTOR).ok
    assert [e.to for e in store.sent_emails()] == ["ana@example.com"]


def test_a_store_too_old_for_the_email_gets_a_sentence_and_the_link_is_read_out(db, order_taker, store, conn):
    store.order_actions = False
    ids = stock(db, store)
    placed = place(db, order_taker, ids)
    state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    # The desk still has the link to read out or copy.
    assert state.payment_url and state.payment_url.startswith(store.base_url + "/checkout/order-pay/")
    assert state.waiting == 0
    shown = po.pay_link_email(db, actor=order_taker, order_id=placed.order_id)
    assert shown.state is po.PayLinkEmailState.UNSUPPORTED
    assert shown.sentence == ("The pay link was not emailed: the web store is too old to email it (that needs "
                              "WooCommerce 9.5 or newer). Read the link out or copy it.")
    assert not shown.can_send_again
    assert store.sent_emails() == []
    assert sync.list_outbox(db, OutboxStatus.FAILED, actor=SYNC_ACTOR) == [], "not a failure to retry: the store cannot do it"
    # The connector says so itself, in a sentence and not a crash.
    with pytest.raises(StoreFeatureMissingError) as raised:
        conn.send_order_details(state.store_id)
    assert "needs WooCommerce 9.5 or newer" in raised.value.message and raised.value.code == "rest_no_route"


def test_an_order_without_an_email_address_is_not_emailed(db, order_taker, store, conn):
    ids = stock(db, store, email=None)
    placed = place(db, order_taker, ids)
    state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    assert state.store_id is not None and state.payment_url
    shown = po.pay_link_email(db, actor=order_taker, order_id=placed.order_id)
    assert shown.state is po.PayLinkEmailState.NO_EMAIL
    assert shown.sentence == ("The pay link was not emailed: the order has no email address. "
                              "Read the link out or copy it.")
    assert not shown.can_send_again and shown.masked_email == ""
    with pytest.raises(UserFacingError, match="no email address"):
        po.send_pay_link_again(db, actor=order_taker, order_id=placed.order_id)
    assert store.sent_emails() == []
    # The store refuses the same way when asked directly.
    with pytest.raises(StoreError) as raised:
        conn.send_order_details(state.store_id)
    assert raised.value.code == NO_ORDER_EMAIL and "the order has no email address" in raised.value.message
    with pytest.raises(StoreNotFoundError):
        conn.send_order_details(999_999)


def test_no_email_for_an_order_paid_another_way_before_it_went(db, order_taker, store, conn):
    ids = stock(db, store)
    placed = place(db, order_taker, ids)
    po.choose_pay_later(db, actor=order_taker, order_id=placed.order_id, method=PaymentMethod.INVOICE)
    sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    assert store.sent_emails() == []
    shown = po.pay_link_email(db, actor=order_taker, order_id=placed.order_id)
    assert shown.state is po.PayLinkEmailState.NOT_NEEDED
    assert shown.sentence == "The pay link was not emailed: the order is no longer paid by pay link."
    # Orders paid otherwise never queue one.
    other = place(db, order_taker, ids, method=PaymentMethod.BANK_TRANSFER)
    with db.read() as s:
        kinds = s.scalars(select(OutboxMessage.kind).where(OutboxMessage.entity_id == other.order_id,
                                                           OutboxMessage.entity_type == "order")).all()
    assert kinds == [OutboxKind.CREATE_ORDER]


def test_the_shops_shipping_method_reaches_the_store(db, owner, order_taker, store, conn):
    set_settings(db, actor=owner, values={"shipping.methods": [
        {"title": "Courier (next day)", "method_id": "flat_rate", "cost": "9.50"},
        {"title": "Pick up at the shop", "method_id": "local_pickup", "cost": "0"},
    ]})
    options = po.shipping_options(db, actor=order_taker)
    assert [(o.title, o.method_id, o.cost) for o in options] == [
        ("Courier (next day)", "flat_rate", Decimal("9.50")), ("Pick up at the shop", "local_pickup", Decimal("0.00"))]
    ids = stock(db, store)
    chosen = options[0]
    placed = place(db, order_taker, ids, shipping=po.ShippingInput(chosen.method_id, chosen.title, chosen.cost))
    state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    on_store = store.get_order(state.store_id)
    assert [(line["method_id"], line["method_title"], line["total"]) for line in on_store["shipping_lines"]] == [
        ("flat_rate", "Courier (next day)", "9.50")]
    assert on_store["total"] == "22.00"
