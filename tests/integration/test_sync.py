"""Two-way sync against the dev store over real HTTP on loopback, on SQLite and PostgreSQL:
first and incremental pulls, every kind of outbox message, conflicts, and the status readers."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backoffice.domain import (
    Customer,
    CustomerAddress,
    NewsletterList,
    Order,
    OrderAddress,
    OutboxMessage,
    Payment,
    Shipment,
    Subscription,
    SyncConflict,
    SyncRun,
)
from backoffice.domain.base import utcnow
from backoffice.domain.enums import (
    AddressKind,
    Channel,
    CustomerStatus,
    OrderStatus,
    OutboxKind,
    OutboxStatus,
    PaymentStatus,
    SubscriptionStatus,
)
from backoffice.errors import PermissionDenied, UserFacingError
from backoffice.services import customers as customers_service
from backoffice.services import settings as settings_service
from backoffice.services import sync
from backoffice.services.store_mapping import TRACKING_META_KEY
from tests.integration.sync_helpers import (
    SYNC_ACTOR,
    FAST,
    add_message,
    assert_matches_store,
    connector,
    new_customer,
    outbox_rows,
    phone_order,
    some_skus,
    store_refs,
    visible_store_orders,
)

VISA = "4111 1111 1111 1111"


STORE = {"seed": 7, "customers": 25, "orders": 140, "products": 12}


@pytest.fixture
def conn(store):
    with connector(store) as c:
        yield c


def first_sync(db, conn):
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    return summary


# --- pulling ---------------------------------------------------------------------------------


def test_first_sync_copies_the_store(db, store, conn):
    summary = first_sync(db, conn)

    assert summary.pulled_orders == 140
    assert_matches_store(db, store)
    sample = visible_store_orders(store)[17]
    with db.read() as s:
        order = s.execute(select(Order).where(Order.store_id == sample["id"])).scalar_one()
        billing = s.execute(select(OrderAddress).where(OrderAddress.order_id == order.id,
                                                       OrderAddress.kind == AddressKind.BILLING)).scalar_one()
        assert order.order_key == sample["order_key"]
        assert order.payment_url == sample["payment_url"]
        assert order.number == sample["number"]
        assert billing.email == sample["billing"]["email"]
        assert billing.city == sample["billing"]["city"]
        assert [line.name for line in order.lines] == [li["name"] for li in sample["line_items"]]
        assert [sl.method_title for sl in order.shipping_lines] == [sl["method_title"]
                                                                      for sl in sample["shipping_lines"]]
        if sample["date_paid_gmt"]:
            payment = s.execute(select(Payment).where(Payment.order_id == order.id)).scalar_one()
            assert payment.status == PaymentStatus.PAID
            assert payment.transaction_id == sample["transaction_id"]
        customer = s.execute(select(Customer).where(Customer.store_id == store.list_customers()[3]["id"])
                             ).scalar_one()
        assert customer.email_key == customer.email.lower()
        assert customer.sort_name
        if customer.phone:
            assert customer.phone_digits and customer.phone_rev == customer.phone_digits[::-1]
        runs = s.execute(select(SyncRun)).scalars().all()
        assert len(runs) == 1 and runs[0].ok and runs[0].requests == summary.requests


def test_incremental_sync_fetches_only_changed_orders(db, store, conn):
    first_sync(db, conn)
    orders = visible_store_orders(store)
    # Two orders that each really change: one completed now, one given a note.
    to_complete = next(o for o in orders if o["status"] not in ("completed", "trash"))
    orders = [o for o in orders if o["id"] != to_complete["id"]]
    store.update_order(to_complete["id"], {"status": "completed"})
    store.update_order(orders[9]["id"], {"customer_note": "Leave at the back door"})
    product = store.list_products()[0]
    created = store.create_order({"line_items": [{"product_id": product["id"], "quantity": 2}],
                                  "billing": {"first_name": "Web", "last_name": "Buyer",
                                              "email": "web.buyer@example.com"}})

    store.reset_stats()
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)

    assert summary.ok, summary.error
    assert summary.pulled_orders == 3
    order_pages = [r for r in store.requests_log if r.path.endswith("/orders")]
    listing = [r for r in order_pages if r.query.get("status") != "trash"]
    trash = [r for r in order_pages if r.query.get("status") == "trash"]
    assert len(listing) == 1 and listing[0].query.get("modified_after")
    # The store's trash is read once, since the same moment.
    assert len(trash) == 1 and trash[0].query["modified_after"] == listing[0].query["modified_after"]
    assert_matches_store(db, store)
    with db.read() as s:
        assert s.execute(select(Order.customer_note).where(Order.store_id == orders[9]["id"])).scalar_one() == \
            "Leave at the back door"
        assert s.execute(select(Order.id).where(Order.store_id == created["id"])).scalar_one()


def test_incremental_sync_with_nothing_changed_makes_at_most_five_requests(db, store, conn):
    first_sync(db, conn)
    store.reset_stats()
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok
    # Products and orders changed, the products and orders moved to the trash, and a page
    # of customers' ids and dates (one per hundred customers).
    assert store.request_count <= 5
    assert summary.requests == store.request_count


def test_a_changed_customer_is_fetched_with_its_order_and_the_full_scan_finds_the_rest(db, store, conn):
    first_sync(db, conn)
    customers = [c for c in store.list_customers() if c["role"] == "customer"]
    store.update_customer(customers[0]["id"], {"last_name": "Renamed", "billing": {"phone": "713 555 0199"}})
    store.update_customer(customers[1]["id"], {"first_name": "Quietly"})
    product = store.list_products()[0]
    new = store.create_customer({"email": "newcomer@example.com", "first_name": "New", "last_name": "Comer"})
    store.create_order({"customer_id": new["id"], "line_items": [{"product_id": product["id"], "quantity": 1}]})

    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    with db.read() as s:
        assert s.execute(select(Customer.email).where(Customer.store_id == new["id"])).scalar_one() == \
            "newcomer@example.com"
        # Not pointed to by a changed order: found by the listing of customers' dates.
        assert s.execute(select(Customer.first_name).where(Customer.store_id == customers[1]["id"])
                         ).scalar_one() == "Quietly"

    store.reset_stats()
    summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok
    # The run before took both changes already: the full scan finds nothing left.
    assert summary.pulled_customers == 0
    with db.read() as s:
        renamed = s.execute(select(Customer).where(Customer.store_id == customers[0]["id"])).scalar_one()
        assert renamed.last_name == "Renamed"
        assert renamed.phone == "713 555 0199"
        assert renamed.phone_digits == "17135550199"
        assert s.execute(select(Customer.first_name).where(Customer.store_id == customers[1]["id"])
                         ).scalar_one() == "Quietly"
    assert_matches_store(db, store)


def test_a_card_number_typed_on_the_website_is_masked_before_it_is_stored(db, store, conn):
    product = store.list_products()[0]
    store.create_order({"customer_note": f"card {VISA} exp 12/29",
                        "billing": {"first_name": "Web", "address_2": VISA, "email": "c@example.com"},
                        "line_items": [{"product_id": product["id"], "quantity": 1}]})
    summary = first_sync(db, conn)
    assert summary.cards_masked == 2
    with db.read() as s:
        note = s.execute(select(Order.customer_note).where(Order.customer_note.like("card %"))).scalar_one()
        line2 = s.execute(select(OrderAddress.address_2).where(OrderAddress.address_2.like("%ends 1111%"))
                          ).scalar_one()
    assert "4111" not in note.replace("ends 1111", "") and "ends 1111" in note
    assert "1111 1111" not in line2
    if db.sqlite_path is not None:
        db.dispose()
        raw = db.sqlite_path.read_bytes()
        wal = db.sqlite_path.with_name(db.sqlite_path.name + "-wal")
        if wal.exists():
            raw += wal.read_bytes()
        assert b"4111 1111 1111 1111" not in raw and b"4111111111111111" not in raw


# --- pushing ---------------------------------------------------------------------------------


def test_a_phone_order_for_a_new_customer_is_created_on_the_store_with_its_account(db, store, conn):
    first_sync(db, conn)
    customer_id = new_customer(db, email="caller@example.com", first_name="Ada", last_name="Caller")
    order_id, reference = phone_order(db, customer_id=customer_id, skus=dict.fromkeys(some_skus(db), 2))

    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.pushed == 2

    account = [c for c in store.list_customers() if c["email"] == "caller@example.com"]
    assert len(account) == 1
    made = [o for o in store.list_orders() if any(m["value"] == reference for m in o["meta_data"])]
    assert len(made) == 1
    assert made[0]["customer_id"] == account[0]["id"]
    assert made[0]["status"] == "pending"
    assert made[0]["billing"]["first_name"] == "Ada"
    with db.read() as s:
        order = s.get(Order, order_id)
        assert order.store_id == made[0]["id"] and order.number == made[0]["number"]
        assert order.payment_url == made[0]["payment_url"] and order.order_key == made[0]["order_key"]
        assert s.get(Customer, customer_id).store_id == account[0]["id"]
        assert [line.store_line_id for line in order.lines] == [li["id"] for li in made[0]["line_items"]]
    assert all(m.status == OutboxStatus.SENT for m in outbox_rows(db))
    assert_matches_store(db, store)


def test_an_order_paid_on_the_terminal_is_created_paid(db, store, conn):
    first_sync(db, conn)
    customer_id = new_customer(db, email="paid@example.com")
    order_id, reference = phone_order(db, customer_id=customer_id, skus={some_skus(db, 1)[0]: 1},
                                      paid_txn="ch_terminal_1")
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    made = [o for o in store.list_orders() if any(m["value"] == reference for m in o["meta_data"])][0]
    assert made["status"] == "processing"
    assert made["date_paid_gmt"] and made["transaction_id"] == "ch_terminal_1"
    assert_matches_store(db, store)


def test_push_order_now_returns_the_pay_link_and_refresh_sees_the_payment(db, store, conn):
    first_sync(db, conn)
    customer_id = new_customer(db, email="now@example.com")
    order_id, _ = phone_order(db, customer_id=customer_id, skus={some_skus(db, 1)[0]: 3})

    state = sync.push_order_now(db, conn, order_id, options=FAST, actor=SYNC_ACTOR)
    assert state.store_id is not None
    assert state.payment_url and "order-pay" in state.payment_url
    assert not state.paid and state.status == OrderStatus.PENDING and state.waiting == 0

    store.mark_paid(state.store_id, "txn_paid_online")
    state = sync.refresh_order_from_store(db, conn, order_id, actor=SYNC_ACTOR)
    assert state.paid and state.status == OrderStatus.PROCESSING
    with db.read() as s:
        payment = s.execute(select(Payment).where(Payment.order_id == order_id)).scalar_one()
        assert payment.status == PaymentStatus.PAID and payment.transaction_id == "txn_paid_online"


def test_mark_paid_status_and_tracking_reach_the_store(db, store, conn):
    first_sync(db, conn)
    customer_id = new_customer(db, email="steps@example.com")
    order_id, _ = phone_order(db, customer_id=customer_id, skus={some_skus(db, 1)[0]: 1})
    state = sync.push_order_now(db, conn, order_id, options=FAST, actor=SYNC_ACTOR)

    with db.begin() as s:
        order = s.get(Order, order_id)
        order.paid_at = utcnow()
        order.status = OrderStatus.PROCESSING
        payment = s.execute(select(Payment).where(Payment.order_id == order_id)).scalar_one()
        payment.status, payment.transaction_id, payment.gateway = PaymentStatus.PAID, "ch_later", "stripe"
        add_message(s, OutboxKind.MARK_ORDER_PAID, "order", order_id)
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    there = store.get_order(state.store_id)
    assert there["status"] == "processing" and there["transaction_id"] == "ch_later" and there["date_paid_gmt"]

    with db.begin() as s:
        s.get(Order, order_id).status = OrderStatus.COMPLETED
        add_message(s, OutboxKind.UPDATE_ORDER_STATUS, "order", order_id, {"from": "processing"})
        shipment = Shipment(order_id=order_id, carrier="UPS", tracking_number="1Z999AA10123456784")
        s.add(shipment)
        s.flush()
        add_message(s, OutboxKind.ADD_TRACKING, "shipment", shipment.id)
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    # What the desk sent is not told as a change made on the store.
    assert summary.ok and summary.text.startswith("Sent 2 changes; 0 orders, 0 customers"), summary.text
    there = store.get_order(state.store_id)
    assert there["status"] == "completed"
    tracking = [m["value"] for m in there["meta_data"] if m["key"] == TRACKING_META_KEY][0]
    assert [t["tracking_number"] for t in tracking] == ["1Z999AA10123456784"]
    assert all(m.status == OutboxStatus.SENT for m in outbox_rows(db))
    # Pulled back, the tracking number does not become a second parcel.
    sync.refresh_order_from_store(db, conn, order_id, actor=SYNC_ACTOR)
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(Shipment).where(Shipment.order_id == order_id)
                         ).scalar_one() == 1
    assert_matches_store(db, store)


def test_customer_create_and_correction_reach_the_store(db, store, conn):
    first_sync(db, conn)
    customer_id = new_customer(db, email="fresh@example.com", first_name="Fresh", last_name="Person")
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    with db.read() as s:
        store_id = s.get(Customer, customer_id).store_id
    assert store.get_customer(store_id)["email"] == "fresh@example.com"

    with db.begin() as s:
        c = s.get(Customer, customer_id)
        c.last_name = "Corrected"
        c.phone = "713 555 0177"
        add_message(s, OutboxKind.UPDATE_CUSTOMER, "customer", customer_id, {"fields": ["last_name", "phone"]})
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok and summary.text.startswith("Sent 1 change; 0 orders, 0 customers"), summary.text
    there = store.get_customer(store_id)
    assert there["last_name"] == "Corrected" and there["billing"]["phone"] == "713 555 0177"
    assert there["first_name"] == "Fresh"
    assert_matches_store(db, store)


def test_erasure_deletes_the_account_and_anonymises_its_orders_on_the_store(db, store, conn):
    first_sync(db, conn)
    target = next(c for c in store.list_customers() if store.list_orders(customer_id=c["id"]))
    order_ids = [o["id"] for o in store.list_orders(customer_id=target["id"])]
    with db.begin() as s:
        c = s.execute(select(Customer).where(Customer.store_id == target["id"])).scalar_one()
        c.status = CustomerStatus.ERASED
        c.first_name = c.last_name = "[erased]"
        c.email = c.email_key = None
        add_message(s, OutboxKind.ERASE_CUSTOMER, "customer", c.id)
        local_orders = []
        for o in s.execute(select(Order).where(Order.customer_id == c.id)).scalars():
            o.anonymised = True
            o.customer_note = ""
            local_orders.append(o.id)
            for a in o.addresses:
                a.first_name = a.last_name = a.email = a.phone = a.address_1 = ""
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok

    assert store.get_customer(target["id"]) is None
    for oid in order_ids:
        o = store.get_order(oid)
        assert o["customer_id"] == 0
        assert o["billing"]["email"] == "deleted@site.invalid"
        assert o["billing"]["last_name"] == "[deleted]" and o["billing"]["address_1"] == ""
        assert o["shipping"]["first_name"] == "[deleted]"
    # Pulled back later, the erased customer is not filled in again.
    assert sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR).ok
    with db.read() as s:
        c = s.execute(select(Customer).where(Customer.store_id == target["id"])).scalar_one()
        assert c.email is None and c.first_name == "[erased]"
        kept = s.execute(select(OrderAddress.email, OrderAddress.last_name)
                         .where(OrderAddress.order_id.in_(local_orders))).all()
        assert kept and all(row == ("", "") for row in kept)


def test_consent_goes_to_the_customer_meta_key_of_the_setting(db, store, conn, owner):
    settings_service.set_settings(db, actor=owner, values={"store.consent_meta_key": "_mailing_ok"})
    first_sync(db, conn)
    target = [c for c in store.list_customers() if c["role"] == "customer"][2]
    with db.begin() as s:
        c = s.execute(select(Customer).where(Customer.store_id == target["id"])).scalar_one()
        lst = NewsletterList(name="News", channel=Channel.EMAIL, store_key="news")
        s.add(lst)
        s.flush()
        s.add(Subscription(list_id=lst.id, customer_id=c.id, status=SubscriptionStatus.SUBSCRIBED))
        add_message(s, OutboxKind.UPDATE_CONSENT, "customer", c.id)
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    meta = {m["key"]: m["value"] for m in store.get_customer(target["id"])["meta_data"]}
    assert json.loads(meta["_mailing_ok"])["lists"]["news"]["status"] == "subscribed"


def test_merge_moves_the_orders_to_the_kept_account_and_deletes_the_other(db, store, conn):
    first_sync(db, conn)
    with_orders = [c for c in store.list_customers() if c["role"] == "customer" and
                   store.list_orders(customer_id=c["id"])]
    keep, merged = with_orders[0], with_orders[1]
    merged_orders = [o["id"] for o in store.list_orders(customer_id=merged["id"])]
    with db.begin() as s:
        kept = s.execute(select(Customer).where(Customer.store_id == keep["id"])).scalar_one()
        gone = s.execute(select(Customer).where(Customer.store_id == merged["id"])).scalar_one()
        gone.merged_into_id = kept.id
        gone.status = CustomerStatus.DEACTIVATED
        for o in s.execute(select(Order).where(Order.customer_id == gone.id)).scalars():
            o.customer_id = kept.id
        add_message(s, OutboxKind.MERGE_CUSTOMERS, "customer", kept.id, {"merged_id": gone.id})
        kept_id = kept.id
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    assert store.get_customer(merged["id"]) is None
    assert all(store.get_order(oid)["customer_id"] == keep["id"] for oid in merged_orders)
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    with db.read() as s:
        assert set(s.execute(select(Order.customer_id).where(Order.store_id.in_(merged_orders))).scalars()) == \
            {kept_id}


# --- conflicts -------------------------------------------------------------------------------


def _local_correction(db, store_customer_id: int, **values) -> int:
    with db.begin() as s:
        c = s.execute(select(Customer).where(Customer.store_id == store_customer_id)).scalar_one()
        for name, value in values.items():
            setattr(c, name, value)
        add_message(s, OutboxKind.UPDATE_CUSTOMER, "customer", c.id, {"fields": sorted(values)})
        return c.id


def test_disjoint_changes_merge_and_the_same_field_waits_for_a_person(db, store, conn, owner):
    first_sync(db, conn)
    target = [c for c in store.list_customers() if c["role"] == "customer"][4]
    customer_id = _local_correction(db, target["id"], phone="713 555 0111", first_name="Local")
    # Meanwhile on the website: the same phone changed otherwise, the last name too.
    store.update_customer(target["id"], {"last_name": "Webchanged", "billing": {"phone": "713 555 0122"}})

    summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    conflicts = sync.list_conflicts(db, actor=SYNC_ACTOR)
    assert [(c.field, c.local_value, c.store_value) for c in conflicts] == [("phone", "713 555 0111",
                                                                             "713 555 0122")]
    assert conflicts[0].field_label == "Phone"
    message = outbox_rows(db, kind=OutboxKind.UPDATE_CUSTOMER)[0]
    assert message.status == OutboxStatus.CONFLICT
    with db.read() as s:
        c = s.get(Customer, customer_id)
        assert (c.first_name, c.last_name, c.phone) == ("Local", "Webchanged", "713 555 0111")
    there = store.get_customer(target["id"])
    assert there["first_name"] == target["first_name"] and there["billing"]["phone"] == "713 555 0122"
    assert sync.sync_status(db, actor=SYNC_ACTOR).conflicts == 1

    sync.resolve_conflict(db, actor=owner, conflict_id=conflicts[0].id, keep="local")
    assert outbox_rows(db, kind=OutboxKind.UPDATE_CUSTOMER)[0].status == OutboxStatus.PENDING
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    there = store.get_customer(target["id"])
    assert (there["first_name"], there["last_name"], there["billing"]["phone"]) == \
        ("Local", "Webchanged", "713 555 0111")
    assert sync.list_conflicts(db, actor=SYNC_ACTOR) == [] and sync.sync_status(db, actor=SYNC_ACTOR).conflicts == 0
    assert outbox_rows(db, kind=OutboxKind.UPDATE_CUSTOMER)[0].status == OutboxStatus.SENT


def test_a_customer_saved_again_on_the_store_with_the_same_details_is_left_as_it_is_here(db, store, conn, owner):
    """A checkout saves the buyer's account again (its modified time moves, plugins add meta)
    with nothing the desk keeps changed: not rewritten, not counted as changed on the store,
    and a desk that opened the customer before saves without being told of another change."""
    first_sync(db, conn)
    same, renamed = [c for c in store.list_customers() if c["role"] == "customer"][6:8]
    with db.read() as s:
        cid = s.execute(select(Customer.id).where(Customer.store_id == same["id"])).scalar_one()
        seen_before = s.get(Customer, cid).store_modified_at
    opened = customers_service.get_customer(db, actor=owner, customer_id=cid)
    store.update_customer(same["id"], {"meta_data": [{"key": "_last_checkout", "value": "1765000000"}]})
    store.update_customer(renamed["id"], {"first_name": "Renamedonstore"})

    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert "1 customer and" in summary.text, summary.text  # the renamed one only
    with db.read() as s:
        kept = s.get(Customer, cid)
        assert kept.version == opened.profile.version
        assert kept.store_modified_at > seen_before  # the copy seen is noted
        assert s.execute(select(Customer.first_name).where(Customer.store_id == renamed["id"])).scalar_one() \
            == "Renamedonstore"
    again = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert again.ok and "0 customers" in again.text, again.text
    customers_service.update_customer(db, actor=owner, customer_id=cid, expected_version=opened.profile.version,
                                      changes={"company": "Saved at the desk"})


def test_keeping_the_stores_value_takes_it_here(db, store, conn, owner):
    first_sync(db, conn)
    target = [c for c in store.list_customers() if c["role"] == "customer"][5]
    customer_id = _local_correction(db, target["id"], last_name="Desk")
    store.update_customer(target["id"], {"last_name": "Website"})
    # The push finds the store's change before sending: nothing is overwritten there.
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    assert store.get_customer(target["id"])["last_name"] == "Website"
    (conflict,) = sync.list_conflicts(db, actor=SYNC_ACTOR)
    sync.resolve_conflict(db, actor=owner, conflict_id=conflict.id, keep="store")
    with db.read() as s:
        assert s.get(Customer, customer_id).last_name == "Website"
    assert sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR).ok
    assert store.get_customer(target["id"])["last_name"] == "Website"
    assert sync.list_conflicts(db, actor=SYNC_ACTOR) == []
    assert all(m.status == OutboxStatus.SENT for m in outbox_rows(db))


def test_an_order_status_changed_on_both_sides_is_a_conflict(db, store, conn, owner):
    first_sync(db, conn)
    target = next(o for o in visible_store_orders(store) if o["status"] == "processing")
    with db.begin() as s:
        order = s.execute(select(Order).where(Order.store_id == target["id"])).scalar_one()
        order.status = OrderStatus.ON_HOLD
        add_message(s, OutboxKind.UPDATE_ORDER_STATUS, "order", order.id, {"from": "processing"})
        order_id = order.id
    store.update_order(target["id"], {"status": "completed"})
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    assert store.get_order(target["id"])["status"] == "completed"
    (conflict,) = sync.list_conflicts(db, actor=SYNC_ACTOR)
    assert (conflict.field, conflict.local_value, conflict.store_value) == ("status", "on-hold", "completed")
    with db.read() as s:
        assert s.get(Order, order_id).status == OrderStatus.ON_HOLD

    sync.resolve_conflict(db, actor=owner, conflict_id=conflict.id, keep="store")
    with db.read() as s:
        assert s.get(Order, order_id).status == OrderStatus.COMPLETED
    assert outbox_rows(db, kind=OutboxKind.UPDATE_ORDER_STATUS)[0].status == OutboxStatus.SENT
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    assert_matches_store(db, store)


# --- the readers and staff actions -----------------------------------------------------------------


def test_a_refused_message_is_failed_with_the_stores_sentence_and_can_be_retried(db, store, conn, owner,
                                                                                   order_taker):
    first_sync(db, conn)
    customer_id = new_customer(db, email="not-an-email", with_message=True)
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok and summary.push_failed == 1
    (failed,) = sync.list_outbox(db, OutboxStatus.FAILED, actor=SYNC_ACTOR)
    assert failed.kind_label == "Create customer account"
    assert "refused" in failed.last_error and failed.last_error.endswith(".")
    status = sync.sync_status(db, actor=SYNC_ACTOR)
    assert status.failed == 1 and status.last_ok

    with pytest.raises(PermissionDenied):
        sync.retry_failed(db, actor=order_taker, ids=[failed.id])
    with db.begin() as s:
        c = s.get(Customer, customer_id)
        c.email = c.email_key = "fixed@example.com"
        for address in c.addresses:
            address.email = "fixed@example.com"
    sync.retry_failed(db, actor=owner, ids=[failed.id])
    assert sync.list_outbox(db, OutboxStatus.FAILED, actor=SYNC_ACTOR) == []
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    assert [c for c in store.list_customers() if c["email"] == "fixed@example.com"]
    assert [r.state for r in sync.list_sync_runs(db, actor=SYNC_ACTOR)] == ["OK", "OK", "OK"]


def test_connector_for_reads_the_setting_and_the_keyring(db, store, owner, monkeypatch):
    with pytest.raises(UserFacingError, match="No web store is set up"):
        sync.connector_for(db)
    settings_service.set_settings(db, actor=owner, values={"store.url": store.base_url + "/"})
    with pytest.raises(UserFacingError, match="API keys"):
        sync.connector_for(db)
    from backoffice import secrets

    secrets.set_store_credentials(store.base_url, store.consumer_key, store.consumer_secret)
    with sync.connector_for(db) as c:
        assert c.ping().orders_total == 140
        assert c.request_counter.count == 1
    monkeypatch.setenv("BACKOFFICE_WC_KEY", "ck_wrong")
    monkeypatch.setenv("BACKOFFICE_WC_SECRET", "cs_wrong")
    with sync.connector_for(db) as c:
        summary = sync.run_sync(db, c, options=FAST, actor=SYNC_ACTOR)
    assert not summary.ok and "API keys" in summary.error
    assert sync.sync_status(db, actor=SYNC_ACTOR).last_ok is False


def test_a_second_run_is_refused_while_one_is_going(db, store, conn):
    from backoffice.services.sync_common import LOCK_RUN, SyncLock

    lock = SyncLock(db, FAST, LOCK_RUN)
    assert lock.acquire()
    try:
        with pytest.raises(sync.SyncBusy):
            sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    finally:
        lock.release()
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok


def test_unchanged_pages_read_again_change_nothing(db, store, conn):
    first_sync(db, conn)
    with db.read() as s:
        before = s.execute(select(Order.id, Order.version, Order.updated_at)).all()
        lines_before = s.execute(select(func.max(Customer.version))).scalar_one()
    from backoffice.domain import SyncCursor

    with db.begin() as s:
        for cursor in s.execute(select(SyncCursor)).scalars():
            if cursor.name in ("orders", "products", "customers_full_scan"):
                cursor.value = ""
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok and summary.pulled_orders == 140
    with db.read() as s:
        assert s.execute(select(Order.id, Order.version, Order.updated_at)).all() == before
        assert s.execute(select(func.max(Customer.version))).scalar_one() == lines_before
        assert s.execute(select(func.count()).select_from(CustomerAddress)).scalar_one() > 0
    assert_matches_store(db, store)


def test_store_refs_are_unique_after_every_push(db, store, conn):
    first_sync(db, conn)
    customer_id = new_customer(db, email="twice@example.com")
    ids = [phone_order(db, customer_id=customer_id, skus={some_skus(db, 1)[0]: 1}) for _ in range(3)]
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    refs = store_refs(store)
    assert all(refs[ref] == 1 for _, ref in ids)
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.status != OutboxStatus.SENT)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(SyncConflict)).scalar_one() == 0
        totals = s.execute(select(Order.total).where(Order.id.in_([i for i, _ in ids]))).scalars().all()
    assert all(t > Decimal("5.00") for t in totals)


def test_bulk_inserted_rows_read_back_as_the_orm_writes_them(db):
    from datetime import datetime, timezone

    from backoffice.domain.enums import OrderOrigin
    from backoffice.services.sync_common import bulk_insert

    moment = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone.utc)
    values = {"store_id": 501, "number": "501", "status": OrderStatus.ON_HOLD, "origin": OrderOrigin.WEB,
              "total": Decimal("12.34"), "created_at": moment, "paid_at": None, "anonymised": True,
              "customer_note": "Ünïcode ✓"}
    with db.begin() as s:
        bulk_insert(s, Order.__table__, [values])
        s.add(Order(**{**values, "store_id": 502, "number": "502"}))
    with db.read() as s:
        fast, orm = s.execute(select(Order).order_by(Order.store_id)).scalars().all()
        for name in ("status", "origin", "total", "created_at", "paid_at", "anonymised", "customer_note", "currency",
                     "subtotal", "version"):
            assert getattr(fast, name) == getattr(orm, name), name
        # Timestamps compare in SQL the same way whichever way they were written.
        assert s.execute(select(func.count()).select_from(Order).where(Order.created_at == moment)).scalar_one() == 2
        assert fast.updated_at is not None and fast.updated_at.tzinfo is not None


def test_the_run_lock_of_a_process_that_died_is_taken_over(db, store, conn):
    import json as json_module
    import subprocess
    import sys

    from backoffice.domain import SyncCursor
    from backoffice.services.sync_common import LOCK_RUN, SyncLock

    if db.backend != "sqlite":
        pytest.skip("PostgreSQL releases a dead session's lock itself")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    import socket

    with db.begin() as s:
        s.add(SyncCursor(name="lock_run", value=json_module.dumps(
            {"host": socket.gethostname(), "pid": dead_pid, "token": "x"})))
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    held = SyncLock(db, FAST, LOCK_RUN)
    assert held.acquire()
    try:
        with pytest.raises(sync.SyncBusy):
            sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    finally:
        held.release()


def test_the_stores_own_staff_accounts_are_not_pulled_as_customers(db, tmp_path):
    from sqlalchemy import func, select

    from backoffice.domain import Customer
    from backoffice.services import sync
    from backoffice.store.devstore import DevStore
    from backoffice.store.connector import StoreCredentials
    from backoffice.store.woocommerce import WooCommerceConnector

    with DevStore(seed=5) as store:
        store.populate(customers=12, orders=0, products=2)
        admins = [c for c in store.list_customers(role="all") if c["role"] == "administrator"]
        assert admins, "the dev store has no administrator to leave out"
        with WooCommerceConnector(StoreCredentials(store.base_url, store.consumer_key,
                                                   store.consumer_secret)) as connector:
            sync.run_sync(db, connector, full_customer_scan=True, actor=SYNC_ACTOR)
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(Customer)).scalar_one() == 12
        assert s.execute(select(func.count()).where(Customer.email == admins[0]["email"])).scalar_one() == 0


def test_a_merge_handing_over_an_account_sends_the_kept_customers_details(db, store, conn, owner):
    from backoffice.services import customers as customers_service

    first_sync(db, conn)
    target = [c for c in store.list_customers() if c["role"] == "customer"][3]
    with db.read() as s:
        merged_id = s.execute(select(Customer.id).where(Customer.store_id == target["id"])).scalar_one()
    # Kept here without an email, so without an account; it takes over the merged one's.
    kept_id = customers_service.create_customer(
        db, actor=owner, first_name="Kim", last_name="Keeper", phone="713 555 0177").customer.id
    customers_service.merge_customers(db, actor=owner, keep_id=kept_id, merge_id=merged_id)
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok and summary.push_failed == 0 and summary.waiting == 0, summary.text
    assert {(m.kind, m.status) for m in outbox_rows(db)} == {
        (OutboxKind.CREATE_CUSTOMER, OutboxStatus.SENT), (OutboxKind.MERGE_CUSTOMERS, OutboxStatus.SENT)}
    account = store.get_customer(target["id"])
    assert (account["first_name"], account["last_name"]) == ("Kim", "Keeper")
    assert sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR).ok
    with db.read() as s:
        kept = s.get(Customer, kept_id)
        assert (kept.store_id, kept.first_name, kept.last_name, kept.email) == (
            target["id"], "Kim", "Keeper", target["email"])


def test_an_account_made_for_someone_else_here_asks_for_a_merge(db, store, conn, owner):
    from backoffice.services import customers as customers_service

    first_sync(db, conn)
    target = [c for c in store.list_customers() if c["role"] == "customer"][5]
    with db.read() as s:
        holder = s.execute(select(Customer.id).where(Customer.store_id == target["id"])).scalar_one()
    twin = customers_service.create_customer(
        db, actor=owner, first_name="Sam", last_name="Twin", email=target["email"]).customer.id
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.push_failed == 1
    [message] = outbox_rows(db, kind=OutboxKind.CREATE_CUSTOMER, entity_id=twin)
    assert message.status == OutboxStatus.FAILED
    assert message.last_error == (
        "The web store already has an account with this email, and it belongs here to another customer with the "
        "same email. Search the Customers screen for the email, merge this customer into that one, then retry.")
    assert str(holder) not in message.last_error and str(twin) not in message.last_error
    with db.read() as s:
        assert s.get(Customer, twin).store_id is None
