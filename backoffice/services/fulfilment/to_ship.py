"""The orders to ship: paid, still open and with no parcel sent, oldest first, one keyset page
at a time, with their count for the main window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, select, tuple_
from sqlalchemy.orm import aliased

from backoffice.db import Database
from backoffice.domain import Order, OrderAddress, OrderLine, Shipment, ShippingLine
from backoffice.domain.enums import AddressKind, OrderStatus
from backoffice.domain.orders import OPEN_STATUSES
from backoffice.domain.staff import Actor, Permission
from backoffice.services import access

PAGE_SIZE = 200


@dataclass(frozen=True)
class ToShipRow:
    id: int
    number: str
    created_at: datetime
    ship_to: str
    country: str
    shipping_method: str
    items: int
    status: OrderStatus
    printed_at: datetime | None
    packed_at: datetime | None


@dataclass(frozen=True)
class ToShipPage:
    rows: tuple[ToShipRow, ...]
    next_key: tuple[datetime, int] | None


_SHIP = aliased(OrderAddress)


def to_ship_conditions():
    """Paid, still open, no parcel sent: the orders waiting to be shipped."""
    return (
        Order.paid_at.is_not(None),
        Order.status.in_([s.value for s in OPEN_STATUSES]),
        ~exists().where(Shipment.order_id == Order.id),
    )


def count_to_ship(db: Database, *, actor: Actor) -> int:
    """How many paid orders wait to be shipped. Raises PermissionDenied."""
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    with db.read() as s:
        return int(s.execute(select(func.count()).select_from(Order).where(*to_ship_conditions())).scalar_one())


def list_to_ship_page(db: Database, *, actor: Actor, after: tuple[datetime, int] | None = None,
                      limit: int = PAGE_SIZE, number: str = "", not_printed: bool = False) -> ToShipPage:
    """Paid orders not shipped yet, oldest first (`after` is the previous page's `next_key`);
    `number` narrows to order numbers starting with it. Raises PermissionDenied."""
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    items = (select(func.coalesce(func.sum(OrderLine.quantity - OrderLine.refunded_quantity), 0))
             .where(OrderLine.order_id == Order.id, OrderLine.bundled_in_line_id.is_(None))
             .correlate(Order).scalar_subquery())
    method = (select(func.min(ShippingLine.method_title)).where(ShippingLine.order_id == Order.id)
              .correlate(Order).scalar_subquery())
    stmt = (select(Order.id, Order.number, Order.created_at, Order.status, Order.printed_at, Order.packed_at,
                   _SHIP.first_name, _SHIP.last_name, _SHIP.company, _SHIP.country,
                   items.label("items"), method.label("method"))
            .outerjoin(_SHIP, and_(_SHIP.order_id == Order.id, _SHIP.kind == AddressKind.SHIPPING))
            .where(*to_ship_conditions()))
    text = number.strip().lstrip("#")
    if text:
        stmt = stmt.where(Order.number.between(text, text + "\uffff"))
    if not_printed:
        stmt = stmt.where(Order.printed_at.is_(None))
    if after is not None:
        stmt = stmt.where(tuple_(Order.created_at, Order.id) > tuple_(*after))
    stmt = stmt.order_by(Order.created_at, Order.id).limit(limit)
    with db.read() as s:
        result = s.execute(stmt).all()
    rows = tuple(
        ToShipRow(id=r.id, number=r.number or f"L{r.id}", created_at=r.created_at,
                  ship_to=(f"{r.first_name or ''} {r.last_name or ''}".strip() or r.company or ""),
                  country=r.country or "", shipping_method=r.method or "", items=int(r.items or 0),
                  status=r.status, printed_at=r.printed_at, packed_at=r.packed_at)
        for r in result)
    next_key = (rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
    return ToShipPage(rows=rows, next_key=next_key)
