"""What people call a record: an order's number, a customer's name, never an internal id.

Lists that point at records by (type, id) (the outbox, sync conflicts, the audit trail)
read the labels here at display time, in the session that reads the rows, so nothing
personal is ever stored beside the id. Internal helpers: they take an open session, and
the public service that calls them has already checked the actor.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.domain.catalog import Product
from backoffice.domain.customers import Customer, CustomerNote
from backoffice.domain.orders import Order, OrderRefund, Shipment
from backoffice.domain.staff import StaffUser

ERASED_CUSTOMER = "erased customer"


def order_number(number: str | None, order_id: int) -> str:
    """The number staff see in the Orders list: the store's, or the desk's local one before it."""
    return number or f"(local {order_id})"


def customer_name(customer: Customer | None) -> str:
    """A customer as staff know them; an erased one is never named."""
    if customer is None:
        return "a customer no longer here"
    if customer.erased_at is not None:
        return ERASED_CUSTOMER
    return customer.display_name if (customer.first_name or customer.last_name or customer.company
                                     or customer.email) else "customer without a name"


def _ids(pairs: Iterable[tuple[str, int | None]], kind: str) -> set[int]:
    return {int(i) for t, i in pairs if t == kind and i is not None}


def customer_names(s: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {int(i) for i in ids if i is not None}
    if not wanted:
        return {}
    rows = s.execute(select(Customer).where(Customer.id.in_(wanted))).scalars().all()
    names = {c.id: customer_name(c) for c in rows}
    return {i: names.get(i, customer_name(None)) for i in wanted}


def order_numbers(s: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {int(i) for i in ids if i is not None}
    if not wanted:
        return {}
    rows = s.execute(select(Order.id, Order.number).where(Order.id.in_(wanted))).all()
    found = {r.id: order_number(r.number, r.id) for r in rows}
    return {i: found.get(i, "(deleted)") for i in wanted}


def record_labels(s: Session, pairs: Iterable[tuple[str, int | None]]) -> dict[tuple[str, int | None], str]:
    """A label for each (entity type, id): "order 4268", "Carol Adams", "shipment of order 4268"."""
    pairs = list(dict.fromkeys((t, i) for t, i in pairs))
    labels: dict[tuple[str, int | None], str] = {}

    shipments = {}
    if ids := _ids(pairs, "shipment"):
        shipments = dict(s.execute(select(Shipment.id, Shipment.order_id).where(Shipment.id.in_(ids))).all())
    refunds = {}
    if ids := _ids(pairs, "refund"):
        refunds = dict(s.execute(select(OrderRefund.id, OrderRefund.order_id).where(OrderRefund.id.in_(ids))).all())
    notes = {}
    if ids := _ids(pairs, "customer_note"):
        notes = dict(s.execute(select(CustomerNote.id, CustomerNote.customer_id)
                               .where(CustomerNote.id.in_(ids))).all())
    orders = order_numbers(s, _ids(pairs, "order") | set(shipments.values()) | set(refunds.values()))
    customers = customer_names(s, _ids(pairs, "customer") | set(notes.values()))
    staff = {}
    if ids := _ids(pairs, "staff"):
        staff = {r.id: f"{r.display_name} ({r.login})" for r in
                 s.execute(select(StaffUser.id, StaffUser.display_name, StaffUser.login)
                           .where(StaffUser.id.in_(ids))).all()}
    products = {}
    if ids := _ids(pairs, "product"):
        products = dict(s.execute(select(Product.id, Product.name).where(Product.id.in_(ids))).all())

    for kind, ident in pairs:
        words = kind.replace("_", " ")
        if ident is None:
            labels[(kind, ident)] = words
        elif kind == "order":
            labels[(kind, ident)] = f"order {orders[ident]}"
        elif kind == "customer":
            labels[(kind, ident)] = customers[ident]
        elif kind == "shipment":
            order_id = shipments.get(ident)
            labels[(kind, ident)] = ("shipment of a deleted order" if order_id is None
                                     else f"shipment of order {orders[order_id]}")
        elif kind == "refund":
            order_id = refunds.get(ident)
            labels[(kind, ident)] = ("refund of a deleted order" if order_id is None
                                     else f"refund on order {orders[order_id]}")
        elif kind == "customer_note":
            customer_id = notes.get(ident)
            labels[(kind, ident)] = ("deleted note" if customer_id is None
                                     else f"note on {customers[customer_id]}")
        elif kind == "staff" and ident in staff:
            labels[(kind, ident)] = staff[ident]
        elif kind == "product" and ident in products:
            labels[(kind, ident)] = products[ident]
        else:
            labels[(kind, ident)] = f"{words} {ident}"
    return labels
