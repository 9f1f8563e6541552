"""Helpers for the sync tests: a dev store, fast connector settings, local phone orders, and the
comparison of the local data with the store's."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from decimal import Decimal

from sqlalchemy import func, select

from backoffice.services.sync_pull import is_staff_account
from backoffice.domain import (
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
from backoffice.domain.base import utcnow
from backoffice.domain.enums import Role
from backoffice.domain.staff import Actor, StaffUser
from backoffice.domain.emails import email_key
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
from backoffice.services.sync import SyncOptions
from backoffice.store.connector import ORDER_REFERENCE_META_KEY, StoreCredentials
from backoffice.store.woocommerce import WooCommerceConnector

#: Short waits everywhere, so fault tests stay fast.
FAST = SyncOptions(backoff_base=0.01, backoff_cap=0.05, settle_seconds=0.05, max_attempts=12,
                   lock_wait_seconds=0.2)


def connector(store, **overrides) -> WooCommerceConnector:
    """A connector to the dev store with small retry pauses."""
    options = {"backoff_base": 0.01, "backoff_cap": 2.0, "max_retries": 4, "timeout": (2, 10)}
    options.update(overrides)
    return WooCommerceConnector(StoreCredentials(store.base_url, store.consumer_key, store.consumer_secret),
                                **options)


def visible_store_orders(store) -> list[dict]:
    return [o for o in store.list_orders() if o["status"] not in ("trash", "auto-draft", "checkout-draft")]


def store_refs(store) -> Counter:
    """How many orders on the store carry each back office reference."""
    refs = Counter()
    for order in store.list_orders():
        for meta in order["meta_data"]:
            if meta["key"] == ORDER_REFERENCE_META_KEY:
                refs[meta["value"]] += 1
    return refs


def assert_matches_store(db, store, *, customers: bool = True) -> None:
    """The local copy equals the store's: ids, numbers, statuses, totals, paid, customers' emails.

    Nothing is doubled (one local order per store order, one store order per reference).
    """
    wanted = {o["id"]: o for o in visible_store_orders(store)}
    with db.read() as s:
        rows = s.execute(select(Order.store_id, Order.number, Order.status, Order.total, Order.paid_at,
                                Order.reference, Order.customer_id)).all()
        local_customers = {
            c.store_id: c for c in s.execute(select(Customer.id, Customer.store_id, Customer.email,
                                                    Customer.status)).all()
        }
        by_id = {c.id: c for c in local_customers.values()}
        line_counts = dict(s.execute(select(OrderLine.order_id, func.count()).group_by(OrderLine.order_id)).all())
        order_ids = dict(s.execute(select(Order.store_id, Order.id)).all())
    on_store = [r for r in rows if r.store_id is not None]
    assert len({r.store_id for r in on_store}) == len(on_store), "a store order is held twice here"
    assert {r.store_id for r in on_store} == set(wanted), "the orders here differ from the store's"
    for r in on_store:
        o = wanted[r.store_id]
        assert r.number == o["number"]
        assert r.status.value == o["status"], (r.store_id, r.status, o["status"])
        assert r.total == Decimal(o["total"]), (r.store_id, r.total, o["total"])
        assert (r.paid_at is not None) == bool(o["date_paid_gmt"]), r.store_id
        assert line_counts.get(order_ids[r.store_id], 0) == len(o["line_items"])
        if o["customer_id"]:
            assert r.customer_id is not None
            local = by_id[r.customer_id]
            assert local.store_id == o["customer_id"]
    refs = store_refs(store)
    assert all(n == 1 for n in refs.values()), f"an order was created twice on the store: {refs.most_common(3)}"
    if customers:
        # The store's own staff accounts are not customers and are not copied.
        store_customers = {c["id"]: c for c in store.list_customers() if not is_staff_account(c)}
        linked = {sid: c for sid, c in local_customers.items() if sid is not None}
        assert set(linked) == set(store_customers)
        for sid, c in linked.items():
            if c.status == CustomerStatus.ERASED:
                continue
            assert email_key(c.email or "") == email_key(store_customers[sid]["email"])


def outbox_rows(db, **filters) -> list:
    with db.read() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in filters.items():
            stmt = stmt.where(getattr(OutboxMessage, name) == value)
        rows = list(s.execute(stmt).scalars())
        s.expunge_all()
        return rows


def add_message(s, kind: OutboxKind, entity_type: str, entity_id: int, payload: dict | None = None,
                reference: str | None = None) -> OutboxMessage:
    message = OutboxMessage(kind=kind, entity_type=entity_type, entity_id=entity_id,
                            reference=reference or f"bo-{uuid.uuid4().hex}", payload=json.dumps(payload or {}),
                            status=OutboxStatus.PENDING)
    s.add(message)
    s.flush()
    return message


def new_customer(db, *, email: str, first_name: str = "Pat", last_name: str = "Caller", phone: str = "713 555 0100",
                 with_message: bool = True) -> int:
    """A customer made at the desk (no store account yet), as the customers service would."""
    with db.begin() as s:
        c = Customer(first_name=first_name, last_name=last_name, email=email, email_key=email_key(email),
                     phone=phone, sort_name=f"{last_name} {first_name}".lower())
        s.add(c)
        s.flush()
        s.add(CustomerAddress(customer_id=c.id, kind=AddressKind.BILLING, is_default=True, first_name=first_name,
                              last_name=last_name, address_1="1 Main St", city="Houston", state="TX",
                              postcode="77002", country="US", phone=phone, email=email))
        if with_message:
            add_message(s, OutboxKind.CREATE_CUSTOMER, "customer", c.id)
        return c.id


def phone_order(db, *, customer_id: int, skus: dict[str, int], paid_txn: str | None = None,
                status: OrderStatus = OrderStatus.PENDING, note: str = "") -> tuple[int, str]:
    """A phone order saved here with its CREATE_ORDER message (as the phone-order service does)."""
    reference = f"bo-{uuid.uuid4().hex}"
    with db.begin() as s:
        customer = s.get(Customer, customer_id)
        products = {p.sku: p for p in s.execute(select(Product).where(Product.sku.in_(list(skus)))).scalars()}
        order = Order(reference=reference, customer_id=customer_id, status=status, origin=OrderOrigin.PHONE,
                      customer_note=note, payment_method="", payment_method_title="Pay link")
        total = Decimal("0.00")
        for sku, quantity in skus.items():
            p = products[sku]
            line_total = p.price * quantity
            total += line_total
            order.lines.append(OrderLine(product_id=p.id, sku=sku, name=p.name, quantity=quantity,
                                         unit_price=p.price, total=line_total))
        order.shipping_lines.append(ShippingLine(method_id="flat_rate", method_title="Flat rate",
                                                 total=Decimal("5.00")))
        order.subtotal = total
        order.shipping_total = Decimal("5.00")
        order.total = total + Decimal("5.00")
        s.add(order)
        s.flush()
        for kind in (AddressKind.BILLING, AddressKind.SHIPPING):
            s.add(OrderAddress(order_id=order.id, kind=kind, first_name=customer.first_name,
                               last_name=customer.last_name, address_1="1 Main St", city="Houston", state="TX",
                               postcode="77002", country="US", phone=customer.phone,
                               email=customer.email if kind is AddressKind.BILLING else ""))
        if paid_txn:
            now = utcnow()
            order.paid_at = now
            order.status = OrderStatus.PROCESSING
            order.payment_method = "stripe"
            order.payment_method_title = "Card terminal (stripe)"
            s.add(Payment(order_id=order.id, method=PaymentMethod.TERMINAL, status=PaymentStatus.PAID,
                          gateway="stripe", transaction_id=paid_txn, card_brand="Visa", card_last4="4242",
                          amount=order.total, paid_at=now))
        else:
            s.add(Payment(order_id=order.id, method=PaymentMethod.PAY_LINK, status=PaymentStatus.AWAITING,
                          amount=order.total))
        add_message(s, OutboxKind.CREATE_ORDER, "order", order.id, reference=reference)
        return order.id, reference


def some_skus(db, n: int = 2) -> list[str]:
    with db.read() as s:
        return list(s.execute(select(Product.sku).where(Product.sku.is_not(None), Product.status == "publish")
                              .order_by(Product.id).limit(n)).scalars())


# The account the sync tests act as: staff may sync; no row is needed for its audit entries.
SYNC_ACTOR = Actor(staff_id=None, login="sync-test", role=Role.STAFF, desk="tests")


def job_account_env(db) -> tuple[list[str], dict[str, str]]:
    """What a cron job's `backoffice sync` needs on this database, for a child process
    (which has no keyring): the arguments naming a scheduled-job account, and its token
    and the shop's audit key in the environment."""
    from backoffice import secrets
    from backoffice.services import audit, staff
    from tests.conftest import make_staff

    with db.read() as s:
        name = audit.database_name(s)
        made = s.execute(select(StaffUser.id).where(StaffUser.login == "cron-sync")).first()
    if made is None:
        staff.add_job_account(db, actor=make_staff(db, Role.OWNER), login="cron-sync")
    token = secrets.get_secret("job-token", f"{name}#cron-sync")
    return ["--job", "cron-sync"], {staff.ENV_JOB_TOKEN: token,
                                    secrets.ENV_AUDIT_KEY: secrets.audit_key(name) or ""}
