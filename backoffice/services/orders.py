"""Orders at the desk: keyset-paged lists for the orders screen, one order's full page, and
the changes staff make to an order (its status, a parcel's tracking number), each saved here
with its outbox message in one transaction and sent to the web store by the sync."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, exists, false, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from backoffice.db import Database
from backoffice.domain import (
    Customer,
    Order,
    OrderAddress,
    OrderFee,
    OrderLine,
    OrderRefund,
    OutboxMessage,
    Payment,
    Shipment,
    ShippingLine,
)
from backoffice.domain.base import utcnow
from backoffice.domain.cards import guard_text
from backoffice.domain.enums import AddressKind, OrderOrigin, OrderStatus, OutboxKind, OutboxStatus
from backoffice.domain.text import join_words
from backoffice.domain.staff import Actor, Permission, StaffUser
from backoffice.errors import ConflictError, NotFound, UserFacingError, ValidationError
from backoffice.services import access, audit
from backoffice.services import customers as customers_service
from backoffice.services import refunds as refunds_service
from backoffice.services.changes import Changes
from backoffice.services.outbox import queue_message
from backoffice.services.phone_orders import lock_order, queue_status_change
from backoffice.services.record_labels import order_number

PAGE_SIZE = 200

audit.register_action("change_order_status", "Changed an order's status")
audit.register_action("add_tracking", "Added a tracking number")
audit.register_action("cancel_reason", "Gave the reason for a cancel")

# The statuses the desk may move an order to, from each status. Refunds go through the
# web store (it gives the money back), so nothing here leads to REFUNDED; a draft is the
# store's unfinished checkout, and an order deleted on the store (TRASH) is not to be
# touched; neither has a way out. A cancelled or refunded order stays as it is (take a
# new order instead), and a completed one may only be reopened (marked completed by mistake).
_NEXT_STATUSES: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.PENDING: (OrderStatus.PROCESSING, OrderStatus.ON_HOLD, OrderStatus.COMPLETED, OrderStatus.CANCELLED),
    OrderStatus.ON_HOLD: (OrderStatus.PROCESSING, OrderStatus.COMPLETED, OrderStatus.CANCELLED),
    OrderStatus.PROCESSING: (OrderStatus.ON_HOLD, OrderStatus.COMPLETED, OrderStatus.CANCELLED),
    OrderStatus.FAILED: (OrderStatus.PENDING, OrderStatus.CANCELLED),
    OrderStatus.COMPLETED: (OrderStatus.PROCESSING,),
}

# Carriers the desk offers first; any other name may be typed.
COMMON_CARRIERS = ("USPS", "UPS", "FedEx", "DHL", "Royal Mail")
CARRIER_MAX = 40
TRACKING_MIN = 6
TRACKING_MAX = 40
# Spaces and dashes people type to group a tracking number; the carrier's number has none.
_TRACKING_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")
_TRACKING_CHARS = re.compile(r"[A-Z0-9]+")


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
    printed: bool = False


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
    Order.printed_at,
)


@dataclass(frozen=True)
class OrderFilters:
    """What the orders list is narrowed to; every part is optional."""

    status: OrderStatus | None = None
    customer_id: int | None = None
    # An order number (or its beginning), or a customer's name, email or phone in any format.
    search: str = ""
    paid: bool | None = None
    origin: OrderOrigin | None = None
    taken_by: int | None = None  # the staff account that took a phone order
    date_from: date | None = None  # this desk's local dates, both included
    date_to: date | None = None
    printed: bool | None = None  # whether its packing slip was printed


NO_FILTERS = OrderFilters()
# Customers a search may stand for; a search finding more is too vague to list orders by.
SEARCH_CUSTOMERS = 200


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min).astimezone()


def _conditions(db: Database, actor: Actor, f: OrderFilters) -> list:
    scope = _scope(actor, db)
    conditions = [] if scope is None else [scope]
    if f.status is not None:
        conditions.append(Order.status == f.status)
    if f.customer_id is not None:
        conditions.append(Order.customer_id == f.customer_id)
    if f.paid is not None:
        conditions.append(Order.paid_at.is_not(None) if f.paid else Order.paid_at.is_(None))
    if f.origin is not None:
        conditions.append(Order.origin == OrderOrigin(f.origin))
    if f.taken_by is not None:
        conditions.append(Order.created_by_staff_id == f.taken_by)
    if f.date_from is not None:
        conditions.append(Order.created_at >= _local_midnight(f.date_from))
    if f.date_to is not None:
        conditions.append(Order.created_at < _local_midnight(f.date_to + timedelta(days=1)))
    if f.printed is not None:
        conditions.append(Order.printed_at.is_not(None) if f.printed else Order.printed_at.is_(None))
    text = " ".join((f.search or "").split())
    if text:
        number = text.lstrip("#").strip()
        found = [Order.number.between(number, number + "\uffff")] if number else []
        if actor.may(Permission.FIND_CUSTOMERS):
            hits = customers_service.search_customers(db, actor=actor, query=text, limit=SEARCH_CUSTOMERS)
            if hits:
                found.append(Order.customer_id.in_([h.id for h in hits]))
        if "@" in text:
            # A guest has no customer record: their billing address holds the email.
            found.append(exists().where(OrderAddress.order_id == Order.id,
                                        func.lower(OrderAddress.email) == text.lower()))
        conditions.append(or_(*found) if found else false())
    return conditions


def list_orders_page(
    db: Database,
    *,
    actor: Actor,
    after: tuple[datetime, int] | None = None,
    limit: int = PAGE_SIZE,
    status: OrderStatus | None = None,
    customer_id: int | None = None,
    filters: OrderFilters = NO_FILTERS,
) -> OrderPage:
    """Newest orders first, one keyset page at a time (`after` is the previous page's `next_key`),
    narrowed by `filters` (or the older `status` and `customer_id`)."""
    if status is not None or customer_id is not None:
        filters = replace(filters, status=status if status is not None else filters.status,
                          customer_id=customer_id if customer_id is not None else filters.customer_id)
    stmt = (
        select(*_LIST_COLUMNS)
        .outerjoin(Customer, Customer.id == Order.customer_id)
        .outerjoin(_BILLING, and_(_BILLING.order_id == Order.id, _BILLING.kind == AddressKind.BILLING))
    )
    conditions = _conditions(db, actor, filters)
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
            printed=r.printed_at is not None,
        )
        for r in result
    )
    next_key = (rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
    return OrderPage(rows=rows, next_key=next_key)


def count_orders(db: Database, *, actor: Actor, status: OrderStatus | None = None,
                 filters: OrderFilters = NO_FILTERS) -> int:
    """How many orders `filters` (or `status`) let through."""
    if status is not None:
        filters = replace(filters, status=status)
    stmt = select(func.count()).select_from(Order)
    conditions = _conditions(db, actor, filters)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    with db.read() as s:
        return int(s.execute(stmt).scalar_one())


@dataclass(frozen=True)
class StaffChoice:
    id: int
    name: str


def order_takers(db: Database, *, actor: Actor) -> tuple[StaffChoice, ...]:
    """The staff who took orders here, for the "taken by" filter (only oneself for an order taker)."""
    scope = _scope(actor, db)
    stmt = (select(StaffUser.id, StaffUser.display_name)
            .where(exists().where(Order.created_by_staff_id == StaffUser.id))
            .order_by(StaffUser.display_name))
    if scope is not None:
        stmt = stmt.where(StaffUser.id == actor.staff_id)
    with db.read() as s:
        return tuple(StaffChoice(r.id, r.display_name) for r in s.execute(stmt))


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
    id: int = 0
    refunded_quantity: int = 0


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
    # The statuses the desk may move it to (`next_statuses`), and whether a parcel may be added.
    next_statuses: tuple[OrderStatus, ...] = ()
    can_add_tracking: bool = False
    gift_message: str = ""
    # Why it may not be marked completed now (unpaid), in words; empty when it may.
    why_not_complete: str = ""
    # Fees (name, amount) and refunds, as the web store lists them.
    fees: tuple[tuple[str, Decimal], ...] = ()
    refunds: tuple[RefundView, ...] = ()
    # What may still be refunded (paid less refunded), and why nothing may, in words.
    refundable: Decimal = Decimal("0.00")
    why_not_refund: str = ""

    @property
    def refunded_total(self) -> Decimal:
        return sum((r.amount for r in self.refunds), Decimal("0.00"))

    @property
    def net_total(self) -> Decimal:
        """What the shop keeps: the total paid less what was refunded."""
        return self.total - self.refunded_total

    @property
    def adds_up(self) -> bool:
        """Whether lines, shipping, fees and tax less discounts make the total."""
        parts = self.subtotal + self.shipping_total + sum((a for _n, a in self.fees), Decimal("0.00"))
        return parts + self.tax_total - self.discount_total == self.total


@dataclass(frozen=True)
class RefundView:
    """Money the store paid back on the order, why, and for which lines."""

    amount: Decimal
    reason: str
    lines: str
    refunded_at: datetime | None
    # Recorded at the desk and not on the web store yet; `problem` says why it was not sent.
    waiting: bool = False
    problem: str = ""


def _refund_views(s: Session, order_id: int) -> tuple[RefundView, ...]:
    rows = s.scalars(select(OrderRefund).where(OrderRefund.order_id == order_id).order_by(OrderRefund.id)).all()
    waiting = [r.id for r in rows if r.store_id is None]
    problems: dict[int, str] = {}
    if waiting:
        for m in s.execute(select(OutboxMessage.entity_id, OutboxMessage.last_error).where(
                OutboxMessage.entity_type == "refund", OutboxMessage.entity_id.in_(waiting),
                OutboxMessage.status.in_((OutboxStatus.FAILED, OutboxStatus.SENT)))):
            # Failed, or settled without sending (its order was deleted on the store).
            problems[m.entity_id] = m.last_error or "The web store did not take it."
    return tuple(RefundView(r.amount, r.reason, r.lines, r.refunded_at, waiting=r.store_id is None,
                            problem=problems.get(r.id, "")) for r in rows)


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

    Raises NotFound, or PermissionDenied (audited) for an order taker opening someone
    else's order.
    """
    scope = _scope(actor, db)
    access.require_own_order(db, actor, order_id)
    with db.begin() as s:
        stmt = select(Order).where(Order.id == order_id)
        if scope is not None:
            stmt = stmt.where(or_(scope))
        order = s.scalars(stmt).one_or_none()
        if order is None:
            raise NotFound("This order was not found (or is not one of yours); it may have been deleted.")
        customer = s.get(Customer, order.customer_id) if order.customer_id else None
        lines = s.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
        ships = s.scalars(select(ShippingLine).where(ShippingLine.order_id == order.id)).all()
        addrs = {a.kind: a for a in s.scalars(select(OrderAddress).where(OrderAddress.order_id == order.id))}
        pays = s.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)).all()
        shipments = s.scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)).all()
        audit.record(s, actor, "view_order", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id)
        refundable, why_not_refund = refunds_service.why_not_refund(s, order)
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
            lines=tuple(LineView(l.sku, l.name, l.quantity, l.unit_price, l.total, l.id, l.refunded_quantity or 0)
                        for l in lines),
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
            next_statuses=_allowed(order),
            can_add_tracking=_can_add_tracking(order),
            gift_message=order.gift_message or "",
            fees=tuple((f.name, f.total) for f in s.scalars(
                select(OrderFee).where(OrderFee.order_id == order.id).order_by(OrderFee.id))),
            refunds=_refund_views(s, order.id),
            refundable=refundable,
            why_not_refund=why_not_refund,
            why_not_complete=_why_not_complete(order),
        )


# --- changing an order ------------------------------------------------------------------


def next_statuses(status: OrderStatus) -> tuple[OrderStatus, ...]:
    """The statuses the desk may move an order in `status` to (none for a trashed order or a draft)."""
    return _NEXT_STATUSES.get(OrderStatus(status), ())


UNPAID_NOT_COMPLETED = ("It is not paid yet, so it cannot be marked completed: record the payment first "
                        "(or cancel the order).")


def _why_not_complete(order: Order) -> str:
    # Completed tells the store, the books and the customer that the sale is done.
    if order.paid_at is None and OrderStatus.COMPLETED in next_statuses(order.status):
        return UNPAID_NOT_COMPLETED
    return ""


def _allowed(order: Order) -> tuple[OrderStatus, ...]:
    """The statuses this order may go to now: the table, less Completed while it is unpaid."""
    allowed = next_statuses(order.status)
    if order.paid_at is None:
        allowed = tuple(x for x in allowed if x != OrderStatus.COMPLETED)
    return allowed


def _can_add_tracking(order: Order) -> bool:
    return order.can_add_tracking() and order.status != OrderStatus.DRAFT


def _label(status: OrderStatus) -> str:
    return {
        OrderStatus.PENDING: "pending payment",
        OrderStatus.ON_HOLD: "on hold",
        OrderStatus.DRAFT: "a draft",
        OrderStatus.TRASH: "deleted on the web store",
        OrderStatus.DELETED: "deleted for good on the web store",
    }.get(status, status.value)


_STAYS = {
    OrderStatus.CANCELLED: "A cancelled order stays cancelled; take a new order instead.",
    OrderStatus.REFUNDED: "A refunded order stays as it is.",
    OrderStatus.DRAFT: "A draft is a checkout not finished on the web store; it cannot be changed here.",
}


def _refuse_trashed(order: Order, what: str) -> None:
    if order.is_deleted_on_store():
        raise UserFacingError(
            f"Order {order_number(order.number, order.id)} was deleted on the web store: do not ship it. {what}")


def _set_status(s: Session, actor: Actor, order: Order, status: OrderStatus) -> None:
    """Move `order` to `status` here and queue the change for the store (the caller checked it)."""
    previous = order.status
    order.status = status
    if status == OrderStatus.COMPLETED and order.completed_at is None:
        order.completed_at = utcnow()
    queue_status_change(s, order, previous)
    audit.record(s, actor, "change_order_status", entity_type="order", entity_id=order.id,
                 customer_id=order.customer_id, fields=["status"])


def _check_transition(order: Order, status: OrderStatus) -> None:
    _refuse_trashed(order, "Its status was not changed.")
    if status == order.status:
        raise ValidationError(f"The order is already {_label(status)}; nothing was changed.",
                              fields={"status": "Choose another status."})
    allowed = _allowed(order)
    if status not in allowed:
        if status == OrderStatus.COMPLETED and _why_not_complete(order):
            raise ValidationError(f"{_why_not_complete(order)} Its status was not changed.",
                                  fields={"status": _why_not_complete(order)})
        if status == OrderStatus.REFUNDED:
            reason = "Refunds are made on the web store, which gives the money back; the status follows from there."
        elif not allowed:
            reason = _STAYS.get(order.status, "Its status stays as it is.")
        else:
            reason = "From here it can go to " + join_words((_label(x) for x in allowed), "or") + "."
        raise ValidationError(
            f"An order that is {_label(order.status)} cannot be marked {_label(status)}. {reason} "
            "Its status was not changed.",
            fields={"status": reason})


CANCEL_REASON_MAX = 500


def _cancel_reason(reason: str) -> str:
    """The reason to keep for a cancel: tidied, then checked for card numbers in that form."""
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationError("Say why the order is cancelled; it was not cancelled.",
                              fields={"reason": "Say why the order is cancelled (the store keeps it as a note)."})
    if len(text) > CANCEL_REASON_MAX:
        raise ValidationError(f"The reason is too long (at most {CANCEL_REASON_MAX} characters); "
                              "the order was not cancelled.", fields={"reason": "Shorten the reason."})
    guard = guard_text(text, field="the reason")
    if guard.changed:
        raise ValidationError(f"{guard.message} The order was not cancelled.", fields={"reason": guard.message})
    return text


def change_order_status(db: Database, *, actor: Actor, order_id: int, status: OrderStatus,
                        expected_version: int | None = None, reason: str = "") -> Changes:
    """Move an order to another status here and queue the change for the web store.

    The desk may move an order:

    ==============  ===============================================
    from            to
    ==============  ===============================================
    pending         processing, on hold, completed (once paid), cancelled
    on hold         processing, completed (once paid), cancelled
    processing      on hold, completed (once paid), cancelled
    failed          pending, cancelled
    completed       processing (reopened: completed by mistake)
    cancelled       nothing (take a new order)
    refunded        nothing
    draft           nothing (the store's unfinished checkout)
    deleted (trash) nothing (deleted on the web store: do not ship)
    ==============  ===============================================

    A cancel needs a `reason` (checked for card numbers); the store gets it as an order
    note with the new status. Nothing goes to refunded here: refunds are made on the web store. The new status and
    its outbox message (with the status it had, so a change made on the store meanwhile
    becomes a conflict instead of being overwritten) are written in one transaction; an
    order not on the store yet is created there with its new status. With
    `expected_version` (the version the person saw), a change someone made since is
    not overwritten.

    Raises PermissionDenied, NotFound, ConflictError (changed since it was loaded),
    ValidationError (a transition not in the table; field "status") and UserFacingError
    (an order deleted on the web store).
    """
    access.require(db, actor, Permission.EDIT_ORDERS)
    try:
        status = OrderStatus(status)
    except ValueError:
        raise ValidationError("That is not an order status; nothing was changed.",
                              fields={"status": "Choose a status from the list."}) from None
    with db.begin() as s:
        order = lock_order(s, order_id)
        if expected_version is not None and order.version != expected_version:
            raise ConflictError("Someone else changed this order since it was opened; its status was not "
                                "changed. Look at it again and choose the status once more.")
        _check_transition(order, status)
        if status == OrderStatus.CANCELLED:
            order.cancel_reason = _cancel_reason(reason)
            audit.record(s, actor, "cancel_reason", entity_type="order", entity_id=order.id,
                         customer_id=order.customer_id, fields=["cancel_reason"])
        _set_status(s, actor, order, status)
    return Changes(orders=frozenset({order_id}), outbox=True)


def normalize_tracking_number(value: str) -> str:
    """A tracking number as the carrier prints it: trimmed, without grouping spaces or dashes, upper case."""
    return _TRACKING_SEPARATORS.sub("", (value or "").strip()).upper()


def _card_refusal(what: str, guard) -> str:
    endings = ", ".join(m.last4 for m in guard.matches)
    return (f"That {what} looks like a card number (ending {endings}); it was removed and not kept. "
            "This shop never stores card numbers. Type what is on the carrier's label.")


def _check_tracking(carrier: str, tracking_number: str) -> tuple[str, str]:
    """The carrier and tracking number to keep; raises ValidationError naming each problem.

    A card number typed or pasted as either is refused with the detector's sentence
    (which keeps only its last 4 digits), and nothing is saved.
    """
    errors: dict[str, str] = {}
    carrier_guard = guard_text((carrier or "").strip(), field="the carrier", context="tracking")
    number_guard = guard_text((tracking_number or "").strip(), field="the tracking number", context="tracking")
    number = normalize_tracking_number(number_guard.value or "")
    if not number_guard.changed and number:
        # Grouping can hide a number from the detector; check the number as it would be kept.
        number_guard = guard_text(number, field="the tracking number", context="tracking")
    if carrier_guard.changed:
        errors["carrier"] = _card_refusal("carrier", carrier_guard)
    if number_guard.changed:
        errors["tracking_number"] = _card_refusal("tracking number", number_guard)
    carrier_text = " ".join((carrier_guard.value or "").split())
    if not carrier_guard.changed:
        if not carrier_text:
            errors["carrier"] = "Choose or type the carrier."
        elif len(carrier_text) > CARRIER_MAX:
            errors["carrier"] = f"The carrier's name is too long (at most {CARRIER_MAX} characters)."
    if not number_guard.changed:
        if not number:
            errors["tracking_number"] = "Type the tracking number."
        elif not _TRACKING_CHARS.fullmatch(number):
            errors["tracking_number"] = "A tracking number has only letters and digits (spaces and dashes are fine)."
        elif not TRACKING_MIN <= len(number) <= TRACKING_MAX:
            errors["tracking_number"] = (f"A tracking number has {TRACKING_MIN} to {TRACKING_MAX} letters and "
                                         f"digits; this one has {len(number)}.")
    if errors:
        first = errors.get("tracking_number") or errors["carrier"]
        raise ValidationError(f"{first} No tracking number was added.", fields=errors)
    return carrier_text, number


def add_tracking(db: Database, *, actor: Actor, order_id: int, carrier: str, tracking_number: str,
                 mark_completed: bool = False) -> Changes:
    """Record a parcel sent for an order, with its carrier and tracking number, for the web store.

    The parcel and its outbox message (the store gets the order's whole tracking list in
    its meta data) are written in one transaction; with `mark_completed`, the order is
    marked completed in that same transaction (as shops do when they ship), when the
    status table of `change_order_status` allows it and it is not completed already.
    The tracking number is kept without grouping spaces or dashes, in upper case.

    Raises PermissionDenied, NotFound, ValidationError (fields "carrier",
    "tracking_number", "status"; a card number typed as either is refused and only its
    last 4 digits are named) and UserFacingError (an order deleted on the web store,
    cancelled, failed, refunded or a draft: no parcel goes out for it).
    """
    access.require(db, actor, Permission.EDIT_ORDERS)
    carrier_text, number = _check_tracking(carrier, tracking_number)
    with db.begin() as s:
        order = lock_order(s, order_id)
        _refuse_trashed(order, "No tracking number was added.")
        if not _can_add_tracking(order):
            raise UserFacingError(f"An order that is {_label(order.status)} is not shipped; "
                                  "no tracking number was added.")
        known = s.scalars(select(Shipment.id).where(Shipment.order_id == order.id,
                                                    Shipment.tracking_number == number)).first()
        if known is not None:
            raise ValidationError("This tracking number is already on this order; nothing was added.",
                                  fields={"tracking_number": "This tracking number is already on this order."})
        if mark_completed and order.status != OrderStatus.COMPLETED:
            _check_transition(order, OrderStatus.COMPLETED)
        shipment = Shipment(order_id=order.id, carrier=carrier_text, tracking_number=number,
                            recorded_by=actor.staff_id)
        s.add(shipment)
        s.flush()
        # The tracking goes first, so the store's "completed" email can already carry it.
        queue_message(s, OutboxKind.ADD_TRACKING, "shipment", shipment.id)
        audit.record(s, actor, "add_tracking", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id, fields=["carrier", "tracking_number"])
        if mark_completed and order.status != OrderStatus.COMPLETED:
            _set_status(s, actor, order, OrderStatus.COMPLETED)
    return Changes(orders=frozenset({order_id}), outbox=True)
