"""Reading orders: keyset-paged lists for the orders screen and one order's full page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import aliased

from backoffice.db import Database
from backoffice.domain import Customer, Order, OrderAddress, OrderLine, Payment, Shipment, ShippingLine
from backoffice.domain.enums import AddressKind, OrderOrigin, OrderStatus
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import NotFound
from backoffice.services import access, audit

PAGE_SIZE = 200


@dataclass(frozen=True)
class OrderRow:
    """One line of the orders list."""

    id: int
    number: str
    created_at: datetime
    customer_id: int | None
    customer_name: str
    status: OrderStatus
    origin: OrderOrigin
    total: Decimal
    currency: str
    paid: bool


@dataclass(frozen=True)
class OrderPage:
    rows: tuple[OrderRow, ...]
    # Where the next page starts, or None at the end.
    next_key: tuple[datetime, int] | None


def _scope(actor: Actor, db: Database):
    """Order takers see only the orders they took; others see all."""
    if actor.may(Permission.VIEW_ALL_ORDERS):
        return None
    access.require(db, actor, Permission.VIEW_OWN_ORDERS)
    return Order.created_by_staff_id == actor.staff_id


_BILLING = aliased(OrderAddress)

_LIST_COLUMNS = (
    Order.id,
    Order.number,
    Order.created_at,
    Order.customer_id,
    # A guest order has no customer record: its billing address names the buyer.
    func.coalesce(Customer.first_name, _BILLING.first_name).label("first_name"),
    func.coalesce(Customer.last_name, _BILLING.last_name).label("last_name"),
    func.coalesce(Customer.company, _BILLING.company).label("company"),
    Order.status,
    Order.origin,
    Order.total,
    Order.currency,
    Order.paid_at,
)


def list_orders_page(
    db: Database,
    *,
    actor: Actor,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
    status: OrderStatus | None = None,
    customer_id: int | None = None,
) -> OrderPage:
    """Newest orders first, one keyset page at a time (`after` is the previous page's `next_key`)."""
    scope = _scope(actor, db)
    stmt = (
        select(*_LIST_COLUMNS)
        .outerjoin(Customer, Customer.id == Order.customer_id)
        .outerjoin(_BILLING, and_(_BILLING.order_id == Order.id, _BILLING.kind == AddressKind.BILLING))
    )
    conditions = []
    if scope is not None:
        conditions.append(scope)
    if status is not None:
        conditions.append(Order.status == status)
    if customer_id is not None:
        conditions.append(Order.customer_id == customer_id)
    if after is not None:
        conditions.append(tuple_(Order.created_at, Order.id) < tuple_(*after))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    stmt = stmt.order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)
    with db.read() as s:
        result = s.execute(stmt).all()
    rows = tuple(
        OrderRow(
            id=r.id,
            number=r.number or f"(local {r.id})",
            created_at=r.created_at,
            customer_id=r.customer_id,
            customer_name=(f"{r.first_name or ''} {r.last_name or ''}".strip() or r.company or "Guest"),
            status=r.status,
            origin=r.origin,
            total=r.total,
            currency=r.currency,
            paid=r.paid_at is not None,
        )
        for r in result
    )
    next_key = (rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
    return OrderPage(rows=rows, next_key=next_key)


def count_orders(db: Database, *, actor: Actor, status: OrderStatus | None = None) -> int:
    scope = _scope(actor, db)
    stmt = select(func.count()).select_from(Order)
    if scope is not None:
        stmt = stmt.where(scope)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    with db.read() as s:
        return int(s.execute(stmt).scalar_one())


@dataclass(frozen=True)
class AddressView:
    lines: tuple[str, ...]
    phone: str
    email: str


@dataclass(frozen=True)
class LineView:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal


@dataclass(frozen=True)
class PaymentView:
    method: str
    status: str
    gateway: str
    transaction_id: str
    card_brand: str
    card_last4: str | None
    auth_code: str
    amount: Decimal
    recorded_at: datetime


@dataclass(frozen=True)
class ShipmentView:
    carrier: str
    tracking_number: str
    shipped_at: datetime


@dataclass(frozen=True)
class OrderDetail:
    id: int
    number: str
    store_id: int | None
    status: OrderStatus
    origin: OrderOrigin
    created_at: datetime
    paid_at: datetime | None
    customer_id: int | None
    customer_name: str
    currency: str
    subtotal: Decimal
    shipping_total: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    customer_note: str
    payment_method_title: str
    payment_url: str | None
    lines: tuple[LineView, ...]
    shipping: tuple[tuple[str, Decimal], ...]
    billing: AddressView | None
    shipping_address: AddressView | None
    payments: tuple[PaymentView, ...]
    shipments: tuple[ShipmentView, ...]
    version: int
    # Whether the store has this order yet (it has a store id once created there).
    on_store: bool


def _address(a: OrderAddress | None) -> AddressView | None:
    if a is None:
        return None
    return AddressView(lines=tuple(a.lines()), phone=a.phone, email=a.email)


def _guest_name(billing: OrderAddress | None) -> str:
    if billing is None:
        return "Guest"
    name = f"{billing.first_name} {billing.last_name}".strip()
    return f"{name or billing.company or 'Guest'} (guest)"


def get_order(db: Database, *, actor: Actor, order_id: int) -> OrderDetail:
    """One order with lines, addresses, payments and tracking; viewing it is audited.

    Raises NotFound, or PermissionDenied for an order taker opening someone else's order.
    """
    scope = _scope(actor, db)
    with db.begin() as s:
        stmt = select(Order).where(Order.id == order_id)
        if scope is not None:
            stmt = stmt.where(or_(scope))
        order = s.scalars(stmt).one_or_none()
        if order is None:
            raise NotFound(f"Order {order_id} was not found (or is not one of yours).")
        customer = s.get(Customer, order.customer_id) if order.customer_id else None
        lines = s.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
        ships = s.scalars(select(ShippingLine).where(ShippingLine.order_id == order.id)).all()
        addrs = {a.kind: a for a in s.scalars(select(OrderAddress).where(OrderAddress.order_id == order.id))}
        pays = s.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)).all()
        shipments = s.scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)).all()
        audit.record(s, actor, "view_order", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id)
        return OrderDetail(
            id=order.id,
            number=order.number or f"(local {order.id})",
            store_id=order.store_id,
            status=order.status,
            origin=order.origin,
            created_at=order.created_at,
            paid_at=order.paid_at,
            customer_id=order.customer_id,
            customer_name=customer.display_name if customer else _guest_name(addrs.get(AddressKind.BILLING)),
            currency=order.currency,
            subtotal=order.subtotal,
            shipping_total=order.shipping_total,
            discount_total=order.discount_total,
            tax_total=order.tax_total,
            total=order.total,
            customer_note=order.customer_note,
            payment_method_title=order.payment_method_title,
            payment_url=order.payment_url,
            lines=tuple(LineView(l.sku, l.name, l.quantity, l.unit_price, l.total) for l in lines),
            shipping=tuple((x.method_title, x.total) for x in ships),
            billing=_address(addrs.get(AddressKind.BILLING)),
            shipping_address=_address(addrs.get(AddressKind.SHIPPING)),
            payments=tuple(
                PaymentView(p.method.value, p.status.value, p.gateway, p.transaction_id, p.card_brand,
                            p.card_last4, p.auth_code, p.amount, p.recorded_at)
                for p in pays
            ),
            shipments=tuple(ShipmentView(x.carrier, x.tracking_number, x.shipped_at) for x in shipments),
            version=order.version,
            on_store=order.store_id is not None,
        )
