"""The desk against a store set up as shops run theirs: taxes on, the trash, variations and the rest.

Over real HTTP to the dev store, on SQLite and PostgreSQL. Each test shows what a person
at the desk would see go wrong against a stock WooCommerce store with these settings.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.domain import Customer, CustomerAddress, Order, Payment, Product
from backoffice.domain.enums import AddressKind, PaymentMethod
from backoffice.domain.search import reindex_customer
from backoffice.domain.text import fold
from backoffice.services import phone_order_quotes as quotes
from backoffice.services import phone_orders as po
from backoffice.services import sync
from tests.integration.sync_helpers import FAST, SYNC_ACTOR, connector


STORE = {"seed": 41, "clock": "moving"}


@pytest.fixture
def conn(store):
    with connector(store) as c:
        yield c


def houston_customer(db, store, *, email: str = "maria.garcia@example.com") -> int:
    """A returning customer in Houston, TX, on the store and here (as after a sync)."""
    store_id = store.create_customer({"email": email, "first_name": "Maria", "last_name": "Garcia", "billing": {
        "first_name": "Maria", "last_name": "Garcia", "address_1": "1 Main St", "city": "Houston", "state": "TX",
        "postcode": "77002", "country": "US", "email": email}})["id"]
    with db.begin() as s:
        customer = Customer(first_name="Maria", last_name="Garcia", email=email, email_key=email,
                            sort_name="garcia maria", store_id=store_id)
        s.add(customer)
        s.flush()
        for kind in (AddressKind.BILLING, AddressKind.SHIPPING):
            s.add(CustomerAddress(customer_id=customer.id, kind=kind, is_default=True, first_name="Maria",
                                  last_name="Garcia", address_1="1 Main St", city="Houston", state="TX",
                                  postcode="77002", country="US", email=email if kind is AddressKind.BILLING else ""))
        reindex_customer(s, customer.id)
        return customer.id


def local_product(db, record: dict) -> int:
    with db.begin() as s:
        product = Product(sku=record["sku"], name=record["name"], name_key=fold(record["name"]),
                          price=Decimal(record["price"]), store_id=record["id"], status="publish")
        s.add(product)
        s.flush()
        return product.id


# --- tax ---------------------------------------------------------------------------------------------


def test_with_tax_on_the_caller_is_quoted_and_charged_what_the_store_charges(db, order_taker, store, conn):
    store.set_tax_rate("8.25", country="US", state="TX")
    mug = local_product(db, store.create_product({"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"}))
    customer_id = houston_customer(db, store)
    lines = [po.LineInput(mug, 2)]
    shipping = po.ShippingInput("flat_rate", "Flat rate", "5.00")

    quote = quotes.quote_phone_order(db, conn, actor=order_taker, customer_id=customer_id, lines=lines,
                                     shipping=shipping)
    assert not quote.provisional
    assert (quote.tax_total, quote.total) == (Decimal("2.47"), Decimal("32.47"))
    placed = po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=lines, shipping=shipping,
                                  payment=po.PaymentChoice(PaymentMethod.TERMINAL), quote=quote)
    assert placed.total == Decimal("32.47")
    assert placed.tax_total == Decimal("2.47")

    sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    with db.read() as s:
        store_id = s.get(Order, placed.order_id).store_id
    assert store.get_order(store_id)["total"] == "32.47"
    po.record_terminal_payment(db, actor=order_taker, order_id=placed.order_id, gateway="stripe",
                               transaction_id="pi_1", last4="4242")
    with db.read() as s:
        (payment,) = s.scalars(select(Payment).where(Payment.order_id == placed.order_id)).all()
        assert payment.amount == Decimal("32.47")
    # The quote made on the store is gone from it and never came here.
    assert [o["total"] for o in store.list_orders()] == ["32.47"]
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    with db.read() as s:
        assert s.scalars(select(Order.total)).all() == [Decimal("32.47")]


def test_an_order_quoted_offline_is_provisional_and_its_payment_follows_the_store(db, order_taker, store, conn):
    store.set_tax_rate("8.25", country="US", state="TX")
    mug = local_product(db, store.create_product({"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"}))
    customer_id = houston_customer(db, store)
    lines = [po.LineInput(mug, 2)]
    shipping = po.ShippingInput("flat_rate", "Flat rate", "5.00")

    quote = quotes.quote_phone_order(db, None, actor=order_taker, customer_id=customer_id, lines=lines,
                                     shipping=shipping)
    assert quote.provisional and "Provisional" in quote.sentence
    assert quote.total == Decimal("30.00")
    placed = po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=lines, shipping=shipping,
                                  quote=quote)
    assert placed.total == Decimal("30.00")

    sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    with db.read() as s:
        order = s.get(Order, placed.order_id)
        assert (order.total, order.tax_total) == (Decimal("32.47"), Decimal("2.47"))
        (payment,) = s.scalars(select(Payment).where(Payment.order_id == placed.order_id)).all()
        assert payment.amount == Decimal("32.47")


# --- products in the trash, drafts, private, deleted for good -------------------------------------------


def offered(db, actor, text: str) -> list[str]:
    return [hit.sku for hit in po.catalogue_lookup(db, actor=actor, query=text)]


def test_the_catalogue_follows_the_stores_trash_drafts_and_permanent_deletes(db, order_taker, store, conn):
    ids = {sku: store.create_product({"name": f"Mug {sku}", "sku": sku, "regular_price": "9.00"})["id"]
           for sku in ("MUG-A", "MUG-B", "MUG-C", "MUG-D")}
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert offered(db, order_taker, "MUG") == ["MUG-A", "MUG-B", "MUG-C", "MUG-D"]
    customer_id = houston_customer(db, store)

    store.delete_product(ids["MUG-A"])  # to the trash
    store.update_product(ids["MUG-B"], {"status": "draft"})
    store.update_product(ids["MUG-C"], {"status": "private"})
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert offered(db, order_taker, "MUG") == ["MUG-C", "MUG-D"]
    with db.read() as s:
        trashed = s.scalars(select(Product.id).where(Product.sku == "MUG-A")).one()
    with pytest.raises(Exception, match="no longer in the catalogue"):
        po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=[po.LineInput(trashed)],
                             shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))

    store.delete_product(ids["MUG-D"], force=True)
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    assert offered(db, order_taker, "MUG") == ["MUG-C"]


# --- variable products ------------------------------------------------------------------------------


def test_a_variable_product_comes_with_its_variations_and_the_desk_sells_a_variation(db, order_taker, store, conn):
    shirt = store.create_product({"name": "T-Shirt", "sku": "TSHIRT", "type": "variable"})
    small = store.create_variation(shirt["id"], {"sku": "TSHIRT-S", "regular_price": "15.00", "manage_stock": True,
                                                 "stock_quantity": 5, "attributes": [{"name": "Size", "option": "S"}]})
    medium = store.create_variation(shirt["id"], {"sku": "TSHIRT-M", "regular_price": "16.00", "manage_stock": True,
                                                  "stock_quantity": 8, "attributes": [{"name": "Size", "option": "M"}]})
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    customer_id = houston_customer(db, store)

    hits = po.catalogue_lookup(db, actor=order_taker, query="shirt")
    assert [(h.sku, h.name, h.price, h.stock) for h in hits] == [
        ("TSHIRT-M", "T-Shirt - M", Decimal("16.00"), 8), ("TSHIRT-S", "T-Shirt - S", Decimal("15.00"), 5)]
    with db.read() as s:
        parent = s.scalars(select(Product.id).where(Product.sku == "TSHIRT")).one()
    with pytest.raises(Exception, match="Pick which T-Shirt"):
        po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=[po.LineInput(parent)],
                             shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))

    placed = po.place_phone_order(db, actor=order_taker, customer_id=customer_id,
                                  lines=[po.LineInput(hits[0].id, 2)],
                                  shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))
    state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    (line,) = store.get_order(state.store_id)["line_items"]
    assert (line["product_id"], line["variation_id"], line["name"], line["total"]) == (
        shirt["id"], medium["id"], "T-Shirt - M", "32.00")
    assert small["id"] != medium["id"]

    # The store's stock of that variation comes back with the next sync of its parent.
    store.update_product(shirt["id"], {"name": "T-Shirt"})
    store.update_order(state.store_id, {"status": "processing"})
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert [(h.sku, h.stock) for h in po.catalogue_lookup(db, actor=order_taker, query="shirt")] == [
        ("TSHIRT-M", 6), ("TSHIRT-S", 5)]
    with db.read() as s:
        order = s.get(Order, placed.order_id)
        assert [(l.product_id, l.name) for l in order.lines] == [(hits[0].id, "T-Shirt - M")]


def test_a_product_saved_again_on_the_store_with_nothing_kept_here_changed_is_not_counted(db, store, conn):
    """Saving a product's description on the store moves its modified time there; the desk
    keeps no description, so the Sync screen does not count it as updated from the store."""
    same, renamed = [store.create_product({"name": f"Cup {sku}", "sku": sku, "regular_price": "7.00"})
                     for sku in ("CUP-A", "CUP-B")]
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    with db.read() as s:
        seen_before = s.execute(select(Product.store_modified_at).where(Product.store_id == same["id"])).scalar_one()
    store.clock.advance(2)
    store.update_product(same["id"], {"description": "Words the desk does not keep."})
    store.update_product(renamed["id"], {"name": renamed["name"] + " XL"})

    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok and summary.text.endswith("and 1 product updated from the store."), summary.text
    with db.read() as s:
        assert s.execute(select(Product.store_modified_at).where(Product.store_id == same["id"])).scalar_one() \
            > seen_before  # the copy seen is noted
        assert s.execute(select(Product.name).where(Product.store_id == renamed["id"])).scalar_one() \
            == renamed["name"] + " XL"


# --- backorders -------------------------------------------------------------------------------------


def test_backorders_allowed_on_the_store_the_desk_takes_the_order_and_shows_the_stores_stock(
        db, order_taker, store, conn):
    mug = store.create_product({"name": "Red Mug", "sku": "MUG-RED", "regular_price": "9.00", "manage_stock": True,
                                "stock_quantity": 2, "backorders": "notify"})
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    customer_id = houston_customer(db, store)
    (hit,) = po.catalogue_lookup(db, actor=order_taker, query="MUG-RED")
    assert hit.available and hit.stock_text == "2 in stock"

    placed = po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=[po.LineInput(hit.id, 18)],
                                  shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))
    state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    store.update_order(state.store_id, {"status": "processing"})
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert store.get_product(mug["id"])["stock_status"] == "onbackorder"
    (hit,) = po.catalogue_lookup(db, actor=order_taker, query="MUG-RED")
    assert hit.available and hit.stock_text == "on backorder (-16 in stock)"

    # Without backorders the desk still refuses more than the store holds.
    store.update_product(mug["id"], {"backorders": "no", "stock_quantity": 1})
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    with pytest.raises(Exception, match="Only 1 of Red Mug is in stock"):
        po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=[po.LineInput(hit.id, 2)],
                             shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))


# --- HTML entities ----------------------------------------------------------------------------------


def test_a_name_wordpress_keeps_as_html_is_plain_text_here_and_stays_so_through_corrections(
        db, staff, order_taker, store, conn):
    from backoffice.services import customers as customers_service
    from backoffice.domain import SyncConflict

    record = store.create_customer({"email": "ben.jerry@example.com", "first_name": "Ben & Jerry",
                                    "last_name": "O'Neil", "billing": {"first_name": "Ben & Jerry",
                                                                       "last_name": "O'Neil"}})
    assert store.get_customer(record["id"])["first_name"] == "Ben &amp; Jerry"
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    with db.read() as s:
        customer = s.scalars(select(Customer).where(Customer.store_id == record["id"])).one()
        customer_id, version = customer.id, customer.version
        assert customer.display_name.startswith("Ben & Jerry")
    assert [h.name for h in customers_service.search_customers(db, actor=order_taker, query="jerry")] == [
        "Ben & Jerry O'Neil"]

    customers_service.update_customer(db, actor=staff, customer_id=customer_id, expected_version=version,
                                      changes={"phone": "+1 713 555 0142"})
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert store.get_customer(record["id"])["first_name"] == "Ben &amp; Jerry"
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    with db.read() as s:
        assert s.get(Customer, customer_id).first_name == "Ben & Jerry"
        assert s.scalars(select(SyncConflict)).all() == []


# --- a read-only key, a refused write, a plugin answering HTML ----------------------------------------


def desk_customer(db, staff, store, *, email: str, store_id: int | None) -> int:
    from backoffice.services import customers as customers_service

    with db.begin() as s:
        customer = Customer(first_name="Pat", last_name="Desk", email=email, email_key=email, sort_name="desk pat",
                            store_id=store_id, phone="")
        s.add(customer)
        s.flush()
        s.add(CustomerAddress(customer_id=customer.id, kind=AddressKind.BILLING, is_default=True, first_name="Pat",
                              last_name="Desk", address_1="1 Main St", city="Houston", state="TX",
                              postcode="77002", country="US", email=email))
        reindex_customer(s, customer.id)
        customer_id, version = customer.id, customer.version
    customers_service.update_customer(db, actor=staff, customer_id=customer_id, expected_version=version,
                                      changes={"email": "new." + email})
    return customer_id


def test_a_read_only_key_is_named_the_pull_goes_on_and_the_changes_wait(db, staff, store, conn):
    from backoffice.domain import OutboxMessage
    from backoffice.domain.enums import OutboxStatus

    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    account = store.create_customer({"email": "pat@example.com", "first_name": "Pat", "last_name": "Desk"})
    desk_customer(db, staff, store, email="pat@example.com", store_id=account["id"])
    store.key_permissions = "read"
    web_order = store.create_order({"billing": {"email": "web@example.com", "first_name": "Web"}})

    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert not summary.ok
    assert "may only read" in summary.error and "Read/Write" in summary.error
    with db.read() as s:
        # The pull went on: the store's new order is here.
        assert s.scalars(select(Order.id).where(Order.store_id == web_order["id"])).one()
        # The change waits for the key, not set aside.
        assert [m.status for m in s.scalars(select(OutboxMessage))] == [OutboxStatus.PENDING]

    store.key_permissions = "read_write"
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    assert store.get_customer(account["id"])["email"] == "new.pat@example.com"


def test_one_refused_write_is_set_aside_with_its_reason_and_the_rest_goes_on(db, staff, store, conn):
    from backoffice.domain.enums import OutboxStatus

    admin = next(c for c in store.list_customers(role="all") if c["role"] == "administrator")
    refused = desk_customer(db, staff, store, email="admin@example.com", store_id=admin["id"])
    account = store.create_customer({"email": "pat@example.com", "first_name": "Pat", "last_name": "Desk"})
    desk_customer(db, staff, store, email="pat@example.com", store_id=account["id"])
    web_order = store.create_order({"billing": {"email": "web@example.com", "first_name": "Web"}})

    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert store.get_customer(account["id"])["email"] == "new.pat@example.com"
    with db.read() as s:
        assert s.scalars(select(Order.id).where(Order.store_id == web_order["id"])).one()
    (failed,) = sync.list_outbox(db, OutboxStatus.FAILED, actor=SYNC_ACTOR)
    assert failed.entity_id == refused
    assert "did not allow" in failed.last_error and "administrator" in failed.last_error
    assert "set aside" in failed.last_error and "retry" in failed.last_error
    assert "API keys" not in summary.error


def test_a_plugin_answering_with_a_web_page_is_named(db, store, conn):
    store.faults.html_page_next(20, status=403)
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert not summary.ok
    assert "web page" in summary.error and "plugin" in summary.error
    assert "Access denied" in summary.error


# --- a customer deleted on the store ----------------------------------------------------------------


def test_a_customer_deleted_on_the_store_is_never_given_an_account_again_unless_the_desk_says_so(
        db, order_taker, store, conn):
    mug = local_product(db, store.create_product({"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"}))
    customer_id = houston_customer(db, store, email="gone@example.com")
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    with db.read() as s:
        store_id = s.get(Customer, customer_id).store_id
    store.delete_customer(store_id)
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    summary = po.caller_summary(db, actor=order_taker, customer_id=customer_id)
    assert summary.account_deleted_on_store
    order = dict(customer_id=customer_id, lines=[po.LineInput(mug)],
                 shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))

    with pytest.raises(Exception, match="deleted on the web store") as refused:
        po.place_phone_order(db, actor=order_taker, **order)
    assert "account" in refused.value.fields

    guest = po.place_phone_order(db, actor=order_taker, account=po.StoreAccount.GUEST, **order)
    state = sync.push_order_now(db, conn, guest.order_id, options=FAST, actor=SYNC_ACTOR)
    assert store.get_order(state.store_id)["customer_id"] == 0
    assert [c for c in store.list_customers() if c["email"] == "gone@example.com"] == []

    again = po.place_phone_order(db, actor=order_taker, account=po.StoreAccount.NEW_ACCOUNT, **order)
    state = sync.push_order_now(db, conn, again.order_id, options=FAST, actor=SYNC_ACTOR)
    (account,) = [c for c in store.list_customers() if c["email"] == "gone@example.com"]
    assert store.get_order(state.store_id)["customer_id"] == account["id"]


def test_an_order_queued_without_the_desks_answer_goes_as_a_guest_order(db, store, conn):
    from tests.integration.sync_helpers import phone_order

    store.create_product({"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"})
    customer_id = houston_customer(db, store, email="gone@example.com")
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    with db.read() as s:
        store.delete_customer(s.get(Customer, customer_id).store_id)
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    order_id, _ = phone_order(db, customer_id=customer_id, skus={"MUG-BLUE": 1})
    state = sync.push_order_now(db, conn, order_id, options=FAST, actor=SYNC_ACTOR)
    assert store.get_order(state.store_id)["customer_id"] == 0
    assert [c for c in store.list_customers() if c["email"] == "gone@example.com"] == []
    (sent,) = [m for m in sync.list_outbox(db, actor=SYNC_ACTOR) if m.entity_id == order_id and m.entity_type == "order"]
    assert "guest order" in sent.last_error


# --- a new caller whose email already has a store account ---------------------------------------------


def test_an_email_that_already_has_a_store_account_the_desk_chooses_and_nothing_typed_is_lost(
        db, owner, order_taker, store, conn):
    from backoffice.domain import CustomerAddress as Address

    mug = local_product(db, store.create_product({"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"}))
    account = store.create_customer({"email": "maria@example.com", "first_name": "Maria", "last_name": "Garcia",
                                     "billing": {"first_name": "Maria", "last_name": "Garcia",
                                                 "address_1": "9 Old Road", "city": "Austin", "state": "TX",
                                                 "postcode": "73301", "country": "US", "phone": "+15125550100",
                                                 "email": "maria@example.com"}})
    placed = po.place_phone_order(db, actor=order_taker, new_customer=po.NewCustomer(
        first_name="Maria", last_name="Garcia", email="maria@example.com", phone="+1 713 555 0199",
        address_1="1 Main St", city="Houston", state="TX", postcode="77002", country="US"),
        lines=[po.LineInput(mug)], shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)

    with db.read() as s:
        customer = s.get(Customer, placed.customer_id)
        assert customer.store_id == account["id"]
        # What the desk typed is still here.
        assert customer.phone == "+1 713 555 0199"
        billing = s.scalars(select(Address).where(Address.customer_id == customer.id,
                                                  Address.kind == AddressKind.BILLING)).one()
        assert (billing.address_1, billing.city) == ("1 Main St", "Houston")
    conflicts = {c.field: c for c in sync.list_conflicts(db, actor=SYNC_ACTOR)}
    assert {"phone", "billing.address_1", "billing.city"} <= set(conflicts)
    assert conflicts["phone"].local_value == "+1 713 555 0199"

    # The desk keeps the phone typed (sent to the store) and takes the account's address.
    for name, conflict in conflicts.items():
        sync.resolve_conflict(db, actor=owner, conflict_id=conflict.id,
                              keep="local" if name == "phone" else "store")
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert store.get_customer(account["id"])["billing"]["phone"] == "+1 713 555 0199"
    with db.read() as s:
        billing = s.scalars(select(Address).where(Address.customer_id == placed.customer_id,
                                                  Address.kind == AddressKind.BILLING)).one()
        assert (billing.address_1, billing.city) == ("9 Old Road", "Austin")
        assert s.get(Customer, placed.customer_id).phone == "+1 713 555 0199"


# --- corrections keep the account and its billing address in step ------------------------------------


def test_a_correction_of_name_and_email_reaches_the_billing_address_here_and_on_the_store(
        db, staff, order_taker, store, conn):
    from backoffice.domain import CustomerAddress as Address
    from backoffice.services import customers as customers_service

    mug = local_product(db, store.create_product({"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"}))
    customer_id = houston_customer(db, store, email="maria@example.com")
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    with db.read() as s:
        customer = s.get(Customer, customer_id)
        version, store_id = customer.version, customer.store_id
        # The shipping address's name was someone else's: it is left alone.
        s.execute(Address.__table__.update().where(Address.customer_id == customer_id,
                                                   Address.kind == AddressKind.SHIPPING).values(last_name="Gift"))
    customers_service.update_customer(db, actor=staff, customer_id=customer_id, expected_version=version,
                                      changes={"last_name": "Lopez", "email": "maria.lopez@example.com"})
    with db.read() as s:
        billing = s.scalars(select(Address).where(Address.customer_id == customer_id,
                                                  Address.kind == AddressKind.BILLING)).one()
        assert (billing.last_name, billing.email) == ("Lopez", "maria.lopez@example.com")

    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    on_store = store.get_customer(store_id)
    assert (on_store["last_name"], on_store["email"]) == ("Lopez", "maria.lopez@example.com")
    assert (on_store["billing"]["last_name"], on_store["billing"]["email"]) == ("Lopez", "maria.lopez@example.com")

    # A later phone order is billed to the new name.
    placed = po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=[po.LineInput(mug)],
                                  shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))
    state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    billing = store.get_order(state.store_id)["billing"]
    assert (billing["last_name"], billing["email"]) == ("Lopez", "maria.lopez@example.com")


# --- refunds, fees, orders deleted for good ----------------------------------------------------------


def test_refunds_fees_and_orders_deleted_for_good_come_in_and_the_totals_add_up(db, owner, store, conn):
    from backoffice.domain.enums import OrderStatus
    from backoffice.services import orders as orders_service

    store.set_tax_rate("8.25", country="US", state="TX")
    mug = store.create_product({"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"})
    place = {"first_name": "Web", "last_name": "Buyer", "address_1": "1 Main St", "city": "Houston", "state": "TX",
             "postcode": "77002", "country": "US"}
    body = {"status": "completed", "billing": {**place, "email": "web@example.com"}, "shipping": place,
            "line_items": [{"product_id": mug["id"], "quantity": 2}],
            "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"}],
            "fee_lines": [{"name": "Gift wrap", "total": "2.50"}]}
    order = store.create_order(body)
    kept, gone_early = store.create_order(body), store.create_order(body)
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    store.refund_order(order["id"], {"amount": "12.50", "reason": "Damaged mug", "api_refund": False, "line_items": [
        {"id": order["line_items"][0]["id"], "quantity": 1, "refund_total": "12.50"}]})
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)

    with db.read() as s:
        local_id = s.scalars(select(Order.id).where(Order.store_id == order["id"])).one()
    detail = orders_service.get_order(db, actor=owner, order_id=local_id)
    assert detail.total == Decimal("35.18") and detail.tax_total == Decimal("2.68")
    assert detail.fees == (("Gift wrap", Decimal("2.50")),)
    assert detail.adds_up
    (refund,) = detail.refunds
    assert (refund.amount, refund.reason, refund.lines) == (Decimal("12.50"), "Damaged mug", "1 × Blue Mug (12.50)")
    assert detail.net_total == Decimal("22.68")

    # Deleted for good: found by the daily scan, or at once when the order is read.
    store.delete_order(order["id"], force=True)
    store.delete_order(gone_early["id"], force=True)
    with db.read() as s:
        early_id = s.scalars(select(Order.id).where(Order.store_id == gone_early["id"])).one()
    assert sync.refresh_order_from_store(db, conn, early_id, actor=SYNC_ACTOR).status == OrderStatus.DELETED
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    with db.read() as s:
        statuses = dict(s.execute(select(Order.store_id, Order.status)).all())
    assert statuses == {order["id"]: OrderStatus.DELETED, kept["id"]: OrderStatus.COMPLETED,
                        gone_early["id"]: OrderStatus.DELETED}


# --- tracking numbers a stock store shows and emails ---------------------------------------------------


def test_a_tracking_number_also_goes_as_a_customer_note_the_store_emails_once(db, staff, order_taker, store, conn):
    from backoffice.services import orders as orders_service

    mug = local_product(db, store.create_product({"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"}))
    customer_id = houston_customer(db, store)
    placed = po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=[po.LineInput(mug)],
                                  shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))
    state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
    orders_service.add_tracking(db, actor=staff, order_id=placed.order_id, carrier="UPS",
                                tracking_number="1Z999AA10123456784")
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)

    notes = [n for n in store.order_notes(state.store_id) if n["customer_note"]]
    assert [n["note"] for n in notes] == ["Your order has been shipped with UPS. Tracking number: 1Z999AA10123456784"]
    assert [e.kind for e in store.sent_emails(state.store_id)].count("customer_note") == 1

    # A second parcel adds its own note; the first is not sent again.
    orders_service.add_tracking(db, actor=staff, order_id=placed.order_id, carrier="USPS",
                                tracking_number="9400111899223856928499")
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    notes = [n["note"] for n in store.order_notes(state.store_id) if n["customer_note"]]
    assert len(notes) == 2 and sum("1Z999AA10123456784" in n for n in notes) == 1


def test_orders_name_payment_gateways_the_store_knows_as_the_owner_mapped_them(db, owner, order_taker, store, conn):
    from backoffice.services.settings import set_settings

    set_settings(db, actor=owner, values={"payments.terminal_gateway": "devstore_test"})
    known = {g["id"] for g in conn.payment_gateways() if g["enabled"]}
    mug = local_product(db, store.create_product({"name": "Blue Mug", "sku": "MUG-BLUE", "regular_price": "12.50"}))
    customer_id = houston_customer(db, store)
    sent = {}
    for method in (PaymentMethod.INVOICE, PaymentMethod.BANK_TRANSFER, PaymentMethod.CASH_ON_PICKUP,
                   PaymentMethod.TERMINAL):
        placed = po.place_phone_order(db, actor=order_taker, customer_id=customer_id, lines=[po.LineInput(mug)],
                                      shipping=po.ShippingInput("flat_rate", "Flat rate", "5"),
                                      payment=po.PaymentChoice(method))
        if method is PaymentMethod.TERMINAL:
            po.record_terminal_payment(db, actor=order_taker, order_id=placed.order_id, gateway="Stripe Terminal",
                                       transaction_id="pi_1", last4="4242")
        state = sync.push_order_now(db, conn, placed.order_id, options=FAST, actor=SYNC_ACTOR)
        on_store = store.get_order(state.store_id)
        sent[method] = (on_store["payment_method"], on_store["payment_method_title"])
    assert sent == {PaymentMethod.INVOICE: ("cheque", "Invoice"),
                    PaymentMethod.BANK_TRANSFER: ("bacs", "Direct bank transfer"),
                    PaymentMethod.CASH_ON_PICKUP: ("cod", "Cash on pickup"),
                    PaymentMethod.TERMINAL: ("devstore_test", "Card terminal (Stripe Terminal)")}
    assert {gateway for gateway, _title in sent.values()} <= known


# --- customers changed on the store ---------------------------------------------------------------------


def test_a_customer_edited_or_deleted_on_the_store_reaches_the_desk_at_the_next_run(db, store, conn):
    edited = houston_customer(db, store, email="edited@example.com")
    deleted = houston_customer(db, store, email="deleted@example.com")
    sync.run_sync(db, conn, options=FAST, full_customer_scan=True, actor=SYNC_ACTOR)
    with db.read() as s:
        edited_store, deleted_store = s.get(Customer, edited).store_id, s.get(Customer, deleted).store_id
    store.clock.advance(1)  # the store's dates have whole seconds
    store.update_customer(edited_store, {"billing": {"phone": "+1 713 555 0177"}, "last_name": "Lopez"})
    store.delete_customer(deleted_store)
    newcomer = store.create_customer({"email": "new@example.com", "first_name": "Nia", "last_name": "New"})

    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)  # no full scan
    assert summary.ok
    with db.read() as s:
        assert (s.get(Customer, edited).phone, s.get(Customer, edited).last_name) == ("+1 713 555 0177", "Lopez")
        assert s.get(Customer, deleted).store_id is None
        assert s.scalars(select(Customer.id).where(Customer.store_id == newcomer["id"])).one()
    # Nothing changed: customers are listed by id and date only, none read in full.
    store.reset_stats()
    sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    customer_reads = [r for r in store.requests_log if r.path.endswith("/customers")]
    assert [r.query.get("_fields") for r in customer_reads] == ["id,date_modified_gmt,role"]
