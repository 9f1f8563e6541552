"""Phone orders: find the caller and the products, place the order, take payment by reference.

An order taken on the phone is saved here the moment it is placed, in one
transaction with its outbox message, so nothing is lost when the web store is
away; the sync sends it and the store confirms it to the customer (P18). A new
caller becomes a customer in that same transaction, and the store creates their
account and sends its own welcome (P17).

Card numbers never get in (P1): every text passes the card-number detector and is
masked before it is stored, and a card payment is taken either on the store's own
payment page (a pay link) or on the gateway's terminal and recorded here by its
reference only. With a pay link, the store also emails the link to the caller: the
request is queued with the order and sent once the store has it (`pay_link_email`
tells the desk how that went; `send_pay_link_again` asks for another).

Shipping methods come from the shop setting `shipping.methods` (`shipping_options`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, object_session

from backoffice.db import Database
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
from backoffice.domain.base import money, utcnow
from backoffice.domain.cards import find_card_numbers, fit_checked, guard_text, validate_last4
from backoffice.domain.emails import email_key, validate_email
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
from backoffice.domain.orders import catalogue_totals, line_total
from backoffice.domain.phones import normalize_phone
from backoffice.domain.settings import DEFAULT_SHIPPING_METHODS, ShippingMethod
from backoffice.domain.staff import Actor, Permission
from backoffice.domain.sync import PayLinkOutcome
from backoffice.domain.text import fold, like_escape, search_tokens
from backoffice.errors import NotFound, UserFacingError, ValidationError
from backoffice.services import access, audit
from backoffice.services import customers as customers_service
from backoffice.services.changes import Changes
from backoffice.services.customer_addresses import ship_to_source
from backoffice.services.outbox import queue_message
from backoffice.services.record_labels import customer_name
from backoffice.services.settings import read_setting, shop_default_country

__all__ = [
    "CallerSummary",
    "LineInput",
    "NewCustomer",
    "PAY_LATER_METHODS",
    "PayLinkEmail",
    "PayLinkEmailState",
    "PaymentChoice",
    "PlacedOrder",
    "ProductHit",
    "SHIPPING_OPTIONS",
    "ShippingInput",
    "ShippingOption",
    "SimilarCustomer",
    "StoreAccount",
    "account_deleted_on_store",
    "caller_summary",
    "catalogue_lookup",
    "choose_pay_later",
    "mask_email",
    "mark_paid_from_store",
    "new_reference",
    "pay_link_email",
    "place_phone_order",
    "product_hits",
    "lock_order",
    "queue_status_change",
    "record_terminal_payment",
    "repeat_order_lines",
    "send_pay_link_again",
    "shipping_options",
    "similar_customers",
]

audit.register_action("place_phone_order", "Took a phone order")
audit.register_action("create_customer", "Customer created")
audit.register_action("record_payment", "Recorded a card terminal payment")
audit.register_action("choose_pay_later", "Chose to pay later")
audit.register_action("mark_paid_from_store", "Order paid on the web store")
audit.register_action("repeat_order", "Repeated a previous order")
audit.register_action("view_caller", "Picked a caller for a phone order")
audit.register_action("send_pay_link_again", "Asked the store to email the pay link again")

MAX_LINES = 200
MAX_QUANTITY = 9999
MAX_LIMIT = 100

# Statuses of products that can be sold by phone (drafts and the bin cannot).
_SELLABLE = ("publish", "private")

# The title the store shows for each way to pay (its gateway id is a shop setting, see
# `_store_gateway`), and the status a new order gets with it. Pay link and cash wait as
# "pending"; invoice and bank transfer go "on hold" until the money arrives, as the web
# store does with its own bank transfer.
_METHOD_TITLES = {
    PaymentMethod.PAY_LINK: "Pay link (the web store's payment page)",
    PaymentMethod.TERMINAL: "Card terminal",
    PaymentMethod.INVOICE: "Invoice",
    PaymentMethod.BANK_TRANSFER: "Direct bank transfer",
    PaymentMethod.CASH_ON_PICKUP: "Cash on pickup",
}
_STATUS_FOR_METHOD = {
    PaymentMethod.PAY_LINK: OrderStatus.PENDING,
    PaymentMethod.TERMINAL: OrderStatus.PENDING,
    PaymentMethod.INVOICE: OrderStatus.ON_HOLD,
    PaymentMethod.BANK_TRANSFER: OrderStatus.ON_HOLD,
    PaymentMethod.CASH_ON_PICKUP: OrderStatus.PENDING,
}
PAY_LATER_METHODS = (PaymentMethod.INVOICE, PaymentMethod.BANK_TRANSFER, PaymentMethod.CASH_ON_PICKUP)

METHOD_LABELS = {
    PaymentMethod.PAY_LINK: "Pay link",
    PaymentMethod.TERMINAL: "Card terminal",
    PaymentMethod.INVOICE: "Invoice",
    PaymentMethod.BANK_TRANSFER: "Bank transfer",
    PaymentMethod.CASH_ON_PICKUP: "Cash on pickup",
}


# --- values in and out -----------------------------------------------------------------


@dataclass(frozen=True)
class ProductHit:
    """A product found in the catalogue, with what is in stock."""

    id: int
    sku: str
    name: str
    price: Decimal
    manage_stock: bool
    stock: int | None
    # The store's backorder setting ("no", "notify", "yes") and stock status, as it reports them.
    backorders: str = "no"
    stock_status: str = "instock"

    @property
    def available(self) -> bool:
        if self.backorders != "no":
            return True
        if not self.manage_stock:
            return self.stock_status != "outofstock"
        return (self.stock or 0) > 0

    @property
    def stock_text(self) -> str:
        stock = self.stock or 0
        if self.stock_status == "onbackorder" or (self.manage_stock and stock <= 0 and self.backorders != "no"):
            return f"on backorder ({stock} in stock)" if self.manage_stock else "on backorder"
        if not self.manage_stock:
            return "out of stock" if self.stock_status == "outofstock" else "in stock"
        return f"{stock} in stock" if stock > 0 else "out of stock"


@dataclass(frozen=True)
class LineInput:
    """One line of a new order: which product and how many."""

    product_id: int
    quantity: int = 1


@dataclass(frozen=True)
class ShippingOption:
    """A shipping method the desk can choose, with the cost it starts with."""

    method_id: str
    title: str
    cost: Decimal
    # Not offered for orders whose products come to less (None: any order).
    min_total: Decimal | None = None

    def refusal(self, subtotal: Decimal) -> str:
        return ShippingMethod(self.title, self.method_id, self.cost, self.min_total).refusal(subtotal)


# The store's standard shipping methods, offered until the shop's own are loaded.
SHIPPING_OPTIONS = tuple(ShippingOption(m.method_id, m.title, m.cost) for m in DEFAULT_SHIPPING_METHODS)


@dataclass(frozen=True)
class ShippingInput:
    """The shipping method and what it costs on this order."""

    method_id: str
    title: str
    cost: Decimal | str | int = Decimal("0.00")


@dataclass(frozen=True)
class NewCustomer:
    """A caller who is not a customer yet, as typed at the desk."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    address_1: str = ""
    address_2: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    country: str = ""


@dataclass(frozen=True)
class PaymentChoice:
    """How the caller pays: a pay link, the card terminal or later (invoice, transfer, cash)."""

    method: PaymentMethod = PaymentMethod.PAY_LINK


@dataclass(frozen=True)
class PlacedOrder:
    """An order saved here and queued for the web store."""

    order_id: int
    reference: str
    customer_id: int
    new_customer: bool
    status: OrderStatus
    payment_method: PaymentMethod
    currency: str
    subtotal: Decimal
    shipping_total: Decimal
    total: Decimal
    # Sentences for the person when a card number was removed from something typed.
    card_messages: tuple[str, ...] = ()
    changes: Changes = field(default_factory=Changes)
    # The store's tax when the order was quoted by the store (else 0: not known yet).
    tax_total: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class SimilarCustomer:
    """An existing customer who looks like the new caller, and why."""

    id: int
    name: str
    email: str
    phone: str
    postcode: str
    reasons: tuple[str, ...]

    @property
    def sentence(self) -> str:
        return f"A similar customer exists: {self.name} (same {' and '.join(self.reasons)})."


@dataclass(frozen=True)
class CallerSummary:
    """The picked caller as the phone-order screen shows them."""

    id: int
    name: str
    email: str
    phone: str
    address_lines: tuple[str, ...]
    can_order: bool
    refusal: str
    last_order_id: int | None
    last_order_number: str
    # The caller's account on the web store was deleted there: the desk chooses between a
    # guest order and a new account (`place_phone_order(account=...)`).
    account_deleted_on_store: bool = False


class StoreAccount(StrEnum):
    """What a phone order does about a caller whose store account was deleted on the store."""

    GUEST = "guest"  # the order goes to the store without an account
    NEW_ACCOUNT = "new_account"  # the store opens a new account (and emails the caller)


ACCOUNT_DELETED_QUESTION = (
    "This customer's account was deleted on the web store. Send the order as a guest order, or open a new "
    "account for them (the store emails them that it was made)?")


class PayLinkEmailState(StrEnum):
    """Where the store's email of an order's pay link stands."""

    NOT_ASKED = "not_asked"  # no email was asked for (not a pay-link order)
    QUEUED = "queued"  # waiting to go: the store does not have the order yet, or is away
    EMAILED = "emailed"  # the store confirmed it sent the email
    NO_EMAIL = "no_email"  # the order has no email address
    UNSUPPORTED = "unsupported"  # the store is too old to email it
    NOT_NEEDED = "not_needed"  # paid, or no longer paid by pay link, before it went out
    FAILED = "failed"  # the store refused; the sync screen has the details


@dataclass(frozen=True)
class PayLinkEmail:
    """The pay link email of one order, as the phone-order screen shows it."""

    order_id: int
    state: PayLinkEmailState
    sentence: str
    masked_email: str  # "a***@example.com", or "" when the order has none
    can_send_again: bool
    sent_at: datetime | None = None


# --- small helpers ---------------------------------------------------------------------


def new_reference() -> str:
    """A fresh back office reference for an order or an outbox message."""
    return "bo-" + uuid.uuid4().hex


def mask_email(email: str) -> str:
    """An email address as it may be shown while someone listens: "a***@example.com"."""
    local, at, domain = (email or "").strip().rpartition("@")
    if not at or not local:
        return ""
    return f"{local[0]}***@{domain}"


def _refusal(customer: Customer) -> str:
    """Why no order can be taken for this customer (the caller card shows it before any order)."""
    if customer.merged_into_id is not None:
        s = object_session(customer)
        kept = s.get(Customer, customer.merged_into_id) if s is not None else None
        return (f"This customer was merged into {customer_name(kept)}, so orders are taken there: "
                "open that customer.")
    if customer.status is CustomerStatus.ERASED:
        return ("This customer's data was erased at their request, so no new orders can be "
                "taken for them.")
    if customer.status is CustomerStatus.DEACTIVATED:
        return ("This customer's account is deactivated, so no new orders can be taken for "
                "them.")
    return "This customer cannot order."


def _hit(p: Product) -> ProductHit:
    return ProductHit(id=p.id, sku=p.sku or "", name=p.name, price=p.price,
                      manage_stock=bool(p.manage_stock), stock=p.stock_quantity,
                      backorders=p.backorders or "no", stock_status=p.stock_status or "instock")


class _Guard:
    """Masks card numbers in each text and collects the sentences for the person."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, value: str | None, label: str, *, context: str = "text") -> str:
        result = guard_text((value or "").strip(), field=label, context=context)
        if result.changed:
            self.messages.append(result.message)
        return result.value or ""


def _store_gateway(s: Session, method: PaymentMethod) -> str:
    """The web store's gateway id for a way to pay, as the owner mapped it in the shop settings
    (a pay link leaves it to the store's payment page)."""
    key = {PaymentMethod.TERMINAL: "payments.terminal_gateway", PaymentMethod.INVOICE: "payments.gateway.invoice",
           PaymentMethod.BANK_TRANSFER: "payments.gateway.bank_transfer",
           PaymentMethod.CASH_ON_PICKUP: "payments.gateway.cash_on_pickup"}.get(method)
    return str(read_setting(s, key) or "").strip()[:64] if key else ""


def lock_order(s: Session, order_id: int) -> Order:
    """The order, locked for the caller's transaction; NotFound when there is none."""
    order = s.scalars(select(Order).where(Order.id == order_id).with_for_update()).one_or_none()
    if order is None:
        raise NotFound("This order is no longer here (it may have been deleted); nothing was changed.")
    return order


def queue_status_change(s: Session, order: Order, previous: OrderStatus) -> OutboxMessage | None:
    """Queue sending an order's new status to the store, in the caller's transaction.

    An order not created on the store yet goes with its new status when it is, so
    nothing is queued for it (None). One already there needs the change sent; the status
    it had goes along as `from`, so a change on the store meanwhile becomes a conflict
    for a person to settle instead of being overwritten.
    """
    if order.status == previous:
        return None
    waiting_create = s.scalars(select(OutboxMessage.id).where(
        OutboxMessage.kind == OutboxKind.CREATE_ORDER, OutboxMessage.entity_id == order.id,
        OutboxMessage.status == OutboxStatus.PENDING)).first()
    if order.store_id is None and waiting_create is not None:
        return None
    return queue_message(s, OutboxKind.UPDATE_ORDER_STATUS, "order", order.id, payload={"from": previous.value})


# --- the catalogue ---------------------------------------------------------------------


def catalogue_lookup(db: Database, *, actor: Actor, query: str, limit: int = 20) -> list[ProductHit]:
    """Products whose SKU starts with `query` or whose name holds its words.

    Case- and accent-insensitive; exact SKU first, then SKU prefixes, then names.
    Drafts and deleted products are left out, and so are products sold in variations:
    each variation ("T-Shirt - S") is offered instead. Raises PermissionDenied.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    text = (query or "").strip()
    if not text:
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    sku = text.lower()
    sku_match = func.lower(Product.sku).like(like_escape(sku) + "%", escape="\\")
    words = search_tokens(text)
    name_conditions = [
        or_(Product.name_key.like(f"%{like_escape(w)}%", escape="\\"),
            func.lower(Product.name).like(f"%{like_escape(w)}%", escape="\\"))
        for w in words
    ]
    condition = or_(sku_match, and_(*name_conditions)) if name_conditions else sku_match
    stmt = (
        select(Product)
        .where(Product.status.in_(_SELLABLE), Product.kind != "variable", condition)
        .order_by(Product.name, Product.id)
        .limit(limit * 3)
    )
    with db.read() as s:
        products = s.scalars(stmt).all()
        hits = [_hit(p) for p in products]

    def rank(h: ProductHit) -> tuple[int, str, int]:
        if h.sku.lower() == sku:
            return (0, fold(h.name), h.id)
        if h.sku.lower().startswith(sku):
            return (1, fold(h.name), h.id)
        return (2, fold(h.name), h.id)

    return sorted(hits, key=rank)[:limit]


def product_hits(db: Database, *, actor: Actor, product_ids: Iterable[int]) -> list[ProductHit]:
    """The products with these ids, in the order asked (missing ones left out)."""
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    ids = list(dict.fromkeys(int(i) for i in product_ids))
    if not ids:
        return []
    with db.read() as s:
        by_id = {p.id: _hit(p) for p in s.scalars(select(Product).where(Product.id.in_(ids)))}
    return [by_id[i] for i in ids if i in by_id]


# --- shipping --------------------------------------------------------------------------


def shipping_options(db: Database, *, actor: Actor) -> list[ShippingOption]:
    """The shop's shipping methods (setting `shipping.methods`), in the owner's order."""
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    with db.read() as s:
        methods = read_setting(s, "shipping.methods")
    return [ShippingOption(m.method_id, m.title, m.cost, m.min_total) for m in methods]


# --- the caller ------------------------------------------------------------------------


def caller_summary(db: Database, *, actor: Actor, customer_id: int) -> CallerSummary:
    """The picked caller: name, contact, default address, whether they may order and
    their last order (to repeat it). Audited as a view. Raises NotFound."""
    access.require(db, actor, Permission.TAKE_PHONE_ORDER, customer_id=customer_id)
    with db.begin() as s:
        customer = s.get(Customer, customer_id)
        if customer is None:
            raise NotFound("This customer is no longer here (erased, merged or removed at another desk).")
        address = _default_address(s, customer.id, AddressKind.SHIPPING) or _default_address(
            s, customer.id, AddressKind.BILLING)
        last = s.execute(
            select(Order.id, Order.number).where(Order.customer_id == customer.id)
            .order_by(Order.created_at.desc(), Order.id.desc()).limit(1)
        ).first()
        can = customer.can_order()
        audit.record(s, actor, "view_caller", entity_type="customer", entity_id=customer.id,
                     customer_id=customer.id)
        return CallerSummary(
            id=customer.id,
            name=customer.display_name,
            email=customer.email or "",
            phone=customer.phone or "",
            address_lines=tuple(address.lines()) if address else (),
            can_order=can,
            refusal="" if can else _refusal(customer),
            last_order_id=last.id if last else None,
            last_order_number=(last.number or f"(local {last.id})") if last else "",
            account_deleted_on_store=account_deleted_on_store(customer),
        )


def account_deleted_on_store(customer: Customer) -> bool:
    """Whether the customer had an account on the store that was deleted there: no store id,
    but a store copy read here once (a customer made here never had one)."""
    return customer.store_id is None and customer.store_modified_at is not None


def _default_address(s: Session, customer_id: int, kind: AddressKind) -> CustomerAddress | None:
    return s.scalars(
        select(CustomerAddress)
        .where(CustomerAddress.customer_id == customer_id, CustomerAddress.kind == kind)
        .order_by(CustomerAddress.is_default.desc(), CustomerAddress.id)
        .limit(1)
    ).first()


_SIMILAR_REASONS = {"email": "email", "phone": "phone number", "name": "name and postcode"}


def similar_customers(
    db: Database,
    *,
    actor: Actor,
    name: str = "",
    email: str = "",
    phone: str = "",
    postcode: str = "",
    limit: int = 5,
) -> list[SimilarCustomer]:
    """Existing customers who look like a new caller: the same email, the same phone
    number, or the same name at the same postcode. Erased customers are left out.

    The lookups are `customers.similar_customers` (the desk's check for duplicates), which
    says every way each customer matched, so the desk can be told why they look the same.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    found: dict[int, tuple[object, list[str]]] = {}
    hits = customers_service.similar_customers(
        db, actor=actor, email=email, phone=phone,
        first_name=name if postcode.strip() else "", postcode=postcode if name.strip() else "")
    for hit in hits:
        if hit.status is not CustomerStatus.ERASED:
            found[hit.id] = (hit, [_SIMILAR_REASONS[r] for r in hit.reasons])
    limit = max(1, min(int(limit), MAX_LIMIT))
    typed_name = fold(name)
    for hit, reasons in found.values():
        if typed_name and fold(hit.name) == typed_name and "name and postcode" not in reasons:
            reasons.insert(0, "name")
    # The likeliest first: the one that matches on the most counts (the same name and phone
    # before a stranger who shares the phone), then by name.
    ordered = sorted(found.values(), key=lambda pair: (-len(pair[1]), pair[0].name.casefold(), pair[0].id))[:limit]
    return [
        SimilarCustomer(id=hit.id, name=hit.name, email=hit.email, phone=hit.phone, postcode=hit.postcode,
                        reasons=tuple(reasons))
        for hit, reasons in ordered
    ]


def _validate_new_customer(s: Session, new: NewCustomer, guard: _Guard) -> dict:
    """Check a new caller's details; return the cleaned values or raise ValidationError."""
    region = shop_default_country(s)
    values = {
        "first_name": guard(new.first_name, "the first name"),
        "last_name": guard(new.last_name, "the last name"),
        "company": guard(new.company, "the company"),
        "address_1": guard(new.address_1, "the address"),
        "address_2": guard(new.address_2, "the second address line"),
        "city": guard(new.city, "the city"),
        "state": guard(new.state, "the state"),
        "postcode": guard(new.postcode, "the postcode"),
        "email": guard(new.email, "the email address"),
        "phone": guard(new.phone, "the phone number", context="phone"),
        "country": guard((new.country or region).strip().upper(), "the country"),
    }
    errors: dict[str, str] = {}
    if not values["first_name"] and not values["last_name"]:
        errors["last_name"] = "Enter the customer's name."
    for name, limit in (("first_name", 120), ("last_name", 120), ("company", 200),
                        ("address_1", 200), ("address_2", 200), ("city", 120),
                        ("state", 80), ("postcode", 20)):
        if len(values[name]) > limit:
            errors[name] = f"This is too long: at most {limit} characters."
    if not values["email"]:
        errors["email"] = ("Enter the customer's email address: the web store sends the "
                           "order confirmation and the account's welcome there.")
    else:
        try:
            values["email"] = validate_email(values["email"])
        except ValidationError as exc:
            errors["email"] = exc.fields.get("email", exc.message)
        else:
            taken = s.scalars(select(Customer.id).where(
                Customer.email_key == email_key(values["email"]),
                Customer.status != CustomerStatus.ERASED)).first()
            if taken is not None:
                errors["email"] = ("A customer with this email already exists; "
                                   "find them in the caller box instead.")
    phone = None
    if values["phone"]:
        phone = normalize_phone(values["phone"], default_region=region)
        if phone is None or not phone.is_valid:
            errors["phone"] = (f"This is not a valid phone number for {region}; "
                               "for another country start with + and its code.")
    if not values["address_1"]:
        errors["address_1"] = "Enter the street address."
    if not values["city"]:
        errors["city"] = "Enter the city."
    if not values["postcode"]:
        errors["postcode"] = "Enter the postcode."
    if len(values["country"]) != 2 or not values["country"].isalpha():
        errors["country"] = "Enter the country as its two-letter code, such as US or GB."
    if errors:
        raise ValidationError(
            "Some of the new customer's details need a look; nothing was saved.", fields=errors)
    return values


def _create_customer(s: Session, actor: Actor, v: dict) -> Customer:
    address = {k: v[k] for k in ("address_1", "address_2", "city", "state", "postcode", "country")}
    # The store creates the account and sends its own welcome mail (P17).
    return customers_service.add_customer(s, v, actor=actor, region=shop_default_country(s),
                                          billing=address, shipping=address)


# --- placing the order -----------------------------------------------------------------


def _check_lines(lines: Sequence[LineInput]) -> list[LineInput]:
    if not lines:
        raise ValidationError("Add at least one product; nothing was saved.",
                              fields={"lines": "Add at least one product."})
    if len(lines) > MAX_LINES:
        raise ValidationError(f"An order can have at most {MAX_LINES} lines; nothing was saved.",
                              fields={"lines": f"At most {MAX_LINES} lines."})
    merged: dict[int, int] = {}
    for line in lines:
        quantity = int(line.quantity)
        if quantity < 1 or quantity > MAX_QUANTITY:
            raise ValidationError(
                f"Each quantity must be between 1 and {MAX_QUANTITY}; nothing was saved.",
                fields={"lines": f"Quantities go from 1 to {MAX_QUANTITY}."})
        merged[int(line.product_id)] = merged.get(int(line.product_id), 0) + quantity
    return [LineInput(pid, q) for pid, q in merged.items()]


def _shipping_cost(shipping: ShippingInput) -> Decimal:
    try:
        cost = money(Decimal(str(shipping.cost).strip() or "0"))
    except (InvalidOperation, ValueError):
        raise ValidationError("The shipping cost must be an amount such as 4.95; nothing was saved.",
                              fields={"shipping_cost": "Enter an amount such as 4.95."}) from None
    if cost < 0:
        raise ValidationError("The shipping cost cannot be negative; nothing was saved.",
                              fields={"shipping_cost": "Enter zero or more."})
    return cost


def _address_snapshot(order: Order, kind: AddressKind, customer: Customer,
                      source: CustomerAddress | None) -> OrderAddress:
    snap = OrderAddress(order_id=order.id, kind=kind)
    if source is not None:
        for name in ("first_name", "last_name", "company", "address_1", "address_2", "city",
                     "state", "postcode", "country", "phone"):
            setattr(snap, name, getattr(source, name) or "")
    snap.first_name = snap.first_name or customer.first_name
    snap.last_name = snap.last_name or customer.last_name
    snap.company = snap.company or customer.company
    snap.phone = snap.phone or customer.phone or ""
    if kind is AddressKind.BILLING:
        snap.email = customer.email or ""
    return snap


def place_phone_order(
    db: Database,
    *,
    actor: Actor,
    customer_id: int | None = None,
    new_customer: NewCustomer | None = None,
    lines: Sequence[LineInput],
    shipping: ShippingInput,
    note: str = "",
    payment: PaymentChoice = PaymentChoice(),
    quote=None,
    account: StoreAccount | str | None = None,
    ship_to: int | Mapping[str, str] | None = None,
) -> PlacedOrder:
    """Save a phone order here, with its outbox message, in one transaction.

    Either `customer_id` (a returning caller) or `new_customer` (created in the same
    transaction, and on the store by the sync). Totals come from the catalogue's
    prices in the shop's currency. Card numbers in any text are masked and the
    sentences come back in `card_messages`. `quote` (from
    `phone_order_quotes.quote_phone_order`) gives the store's tax and total when it was
    made for this very order; the payment waits for that total. For a caller whose store
    account was deleted there, `account` says whether the order goes as a guest order or
    with a new account; without it the order is refused with the question
    (ValidationError on the field "account").
    sentences come back in `card_messages`. `ship_to` is None for the customer's default
    address, the id of another of theirs, or a one-off address (a mapping of its fields).

    Raises PermissionDenied; ValidationError (with `fields`) for missing or wrong
    input, unknown or unavailable products; UserFacingError when the customer may
    not order (deactivated or erased); NotFound for an unknown customer.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER, customer_id=customer_id)
    method = PaymentMethod(payment.method)
    if method not in _STATUS_FOR_METHOD:
        raise ValidationError("Choose a pay link, the card terminal or a way to pay later.",
                              fields={"payment": "Choose how the caller pays."})
    if (customer_id is None) == (new_customer is None):
        raise ValidationError("Pick the caller or enter a new customer; nothing was saved.",
                              fields={"customer": "Pick the caller or enter a new customer."})
    wanted = _check_lines(lines)
    cost = _shipping_cost(shipping)
    if not (shipping.method_id or "").strip():
        raise ValidationError("Choose a shipping method; nothing was saved.",
                              fields={"shipping": "Choose a shipping method."})
    guard = _Guard()
    note_text = guard(note, "the order note")
    shipping_title = fit_checked(guard(shipping.title or shipping.method_id, "the shipping method"), 120)
    method_id = fit_checked(guard(shipping.method_id, "the shipping method"), 64)

    with db.begin() as s:
        currency = str(read_setting(s, "shop.currency") or "USD").upper()[:3]
        created = False
        if new_customer is not None:
            values = _validate_new_customer(s, new_customer, guard)
            customer = _create_customer(s, actor, values)
            created = True
        else:
            # Shared lock: a merge or erasure of this customer at another desk waits for the
            # order (and then takes it along), or the order sees that it happened.
            customer = s.get(Customer, customer_id, with_for_update={"read": True}, populate_existing=True)
            if customer is None:
                raise NotFound("This customer is no longer here (erased, merged or removed at another desk); nothing was saved.")
            if not customer.can_order():
                raise UserFacingError(_refusal(customer) + " Nothing was saved.")
            if account_deleted_on_store(customer) and account is None:
                raise ValidationError(ACCOUNT_DELETED_QUESTION + " Nothing was saved.",
                                      fields={"account": ACCOUNT_DELETED_QUESTION})

        products = {p.id: p for p in s.scalars(
            select(Product).where(Product.id.in_([l.product_id for l in wanted])))}
        problems = []
        for line in wanted:
            product = products.get(line.product_id)
            if product is None or product.status not in _SELLABLE:
                problems.append("A product on this order is no longer in the catalogue.")
            elif product.kind == "variable":
                problems.append(f"Pick which {product.name} (such as its size): it is sold as one of its "
                                "variations.")
            elif not product.in_stock(line.quantity):
                problems.append(f"Only {product.stock_quantity or 0} of {product.name} "
                                f"{'is' if (product.stock_quantity or 0) == 1 else 'are'} in stock.")
        if problems:
            raise ValidationError(" ".join(problems) + " Nothing was saved.",
                                  fields={"lines": " ".join(problems)})

        gateway_id, method_title = _store_gateway(s, method), _METHOD_TITLES[method]
        order = Order(
            reference=new_reference(),
            customer_id=customer.id,
            status=_STATUS_FOR_METHOD[method],
            origin=OrderOrigin.PHONE,
            currency=currency,
            customer_note=note_text,
            payment_method=gateway_id,
            payment_method_title=method_title,
            created_by_staff_id=actor.staff_id,
        )
        for line in wanted:
            product = products[line.product_id]
            order.lines.append(OrderLine(
                product_id=product.id, sku=product.sku or "", name=product.name,
                quantity=line.quantity, unit_price=product.price, total=line_total(product.price, line.quantity)))
        totals = catalogue_totals(((products[l.product_id].price, l.quantity) for l in wanted), cost)
        subtotal = totals.subtotal
        # A method with a minimum order (free shipping over an amount) is refused below it.
        for offered in read_setting(s, "shipping.methods") or ():
            if offered.method_id == shipping.method_id.strip() and offered.title == (shipping.title or "").strip():
                if why := offered.refusal(subtotal):
                    raise ValidationError(f"{why} Choose another shipping method; nothing was saved.",
                                          fields={"shipping": why})
        order.shipping_lines.append(ShippingLine(
            method_id=method_id, method_title=shipping_title, total=cost))
        order.subtotal = totals.subtotal
        order.shipping_total = totals.shipping
        order.total = totals.total
        if quote is not None and not quote.provisional and quote.matches(
                customer_id=customer_id, new_customer=new_customer, lines=lines, shipping=shipping):
            # What the store charges: its tax, fees and rounding, as the caller was quoted.
            order.tax_total = quote.tax_total
            order.total = quote.total
        s.add(order)
        s.flush()
        billing = _default_address(s, customer.id, AddressKind.BILLING)
        ship_to = (ship_to_source(s, customer.id, ship_to)
                   or _default_address(s, customer.id, AddressKind.SHIPPING) or billing)
        s.add(_address_snapshot(order, AddressKind.BILLING, customer, billing or ship_to))
        s.add(_address_snapshot(order, AddressKind.SHIPPING, customer, ship_to))
        s.add(Payment(order_id=order.id, method=method, status=PaymentStatus.AWAITING,
                      amount=order.total, currency=currency, recorded_by=actor.staff_id))
        # The payload is built from the order when it is sent, so the outbox keeps no copy.
        create = queue_message(s, OutboxKind.CREATE_ORDER, "order", order.id, reference=order.reference)
        if account is not None and account_deleted_on_store(customer):
            # The desk's answer travels with the order; without it no account is ever made again.
            create.payload = json.dumps({"account": StoreAccount(account).value})
        if method is PaymentMethod.PAY_LINK:
            # The store emails the link to the caller once it has the order.
            queue_message(s, OutboxKind.SEND_PAY_LINK, "order", order.id)
        audit.record(s, actor, "place_phone_order", entity_type="order", entity_id=order.id,
                     customer_id=customer.id,
                     fields=["lines", "shipping_lines", "payment_method"]
                     + (["customer_note"] if note_text else []))
        placed = PlacedOrder(
            order_id=order.id,
            reference=order.reference,
            customer_id=customer.id,
            new_customer=created,
            status=order.status,
            payment_method=method,
            currency=currency,
            subtotal=order.subtotal,
            shipping_total=order.shipping_total,
            total=order.total,
            tax_total=order.tax_total or Decimal("0.00"),
            card_messages=tuple(guard.messages),
            changes=Changes(orders=frozenset({order.id}), customers=frozenset({customer.id}),
                            outbox=True),
        )
    return placed


# --- repeating an order ----------------------------------------------------------------


def repeat_order_lines(db: Database, *, actor: Actor, order_id: int) -> list[LineInput]:
    """The lines of a previous order as new lines, for products still in the catalogue.

    Raises NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    with db.begin() as s:
        order = s.get(Order, order_id)
        if order is None:
            raise NotFound("This order is no longer here (it may have been deleted).")
        rows = s.execute(
            select(OrderLine.product_id, OrderLine.quantity)
            .join(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == order_id, Product.status.in_(_SELLABLE), Product.kind != "variable")
            .order_by(OrderLine.id)
        ).all()
        audit.record(s, actor, "repeat_order", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id)
    merged: dict[int, int] = {}
    for product_id, quantity in rows:
        merged[product_id] = merged.get(product_id, 0) + max(1, quantity or 1)
    return [LineInput(pid, q) for pid, q in merged.items()]


# --- payment ---------------------------------------------------------------------------


def _reference_field(value: str, name: str, label: str, limit: int, errors: dict[str, str], *,
                     context: str = "reference", required: bool = False) -> str:
    text = " ".join((value or "").split())
    if find_card_numbers(text, context=context):
        errors[name] = (f"The {label} holds a card number. Enter the gateway's reference "
                        "only; the shop never stores card numbers.")
        return ""
    if required and not text:
        errors[name] = f"Enter the {label} shown on the terminal."
    elif len(text) > limit:
        errors[name] = f"The {label} is too long: at most {limit} characters."
    return text


def record_terminal_payment(
    db: Database,
    *,
    actor: Actor,
    order_id: int,
    gateway: str,
    transaction_id: str,
    card_brand: str = "",
    last4: str,
    auth_code: str = "",
) -> Changes:
    """Record a card payment keyed on the gateway's own terminal, by reference only.

    The order becomes paid (processing) and a "mark paid" message goes to the
    store in the same transaction. Raises PermissionDenied; ValidationError when
    the last 4 are not exactly four digits or any field holds a card number (nothing
    is saved then); NotFound; UserFacingError when the order is paid or closed.
    """
    access.require(db, actor, Permission.RECORD_PAYMENT)
    access.require_own_order(db, actor, order_id)
    errors: dict[str, str] = {}
    gateway_text = _reference_field(gateway, "gateway", "gateway", 64, errors, context="text",
                                    required=True)
    txn = _reference_field(transaction_id, "transaction_id", "transaction id", 64, errors,
                           required=True)
    brand = _reference_field(card_brand, "card_brand", "card brand", 32, errors, context="text")
    auth = _reference_field(auth_code, "auth_code", "authorisation code", 16, errors)
    try:
        last4 = validate_last4(last4)
    except ValidationError as exc:
        errors["last4"] = exc.fields.get("last4", exc.message)
    if errors:
        raise ValidationError("The payment was not recorded: " + " ".join(errors.values()),
                              fields=errors)
    now = utcnow()
    with db.begin() as s:
        order = lock_order(s, order_id)
        if order.is_paid():
            raise UserFacingError("This order is already paid; the payment was not recorded again.")
        if not order.can_record_payment():
            raise UserFacingError("This order is closed, so no payment can be recorded on it.")
        payment = s.scalars(select(Payment).where(
            Payment.order_id == order.id, Payment.status == PaymentStatus.AWAITING
        ).order_by(Payment.id).limit(1)).first()
        if payment is None:
            payment = Payment(order_id=order.id)
            s.add(payment)
        payment.method = PaymentMethod.TERMINAL
        payment.status = PaymentStatus.PAID
        payment.gateway = gateway_text
        payment.transaction_id = txn
        payment.card_brand = brand
        payment.card_last4 = last4
        payment.auth_code = auth
        payment.amount = order.total
        payment.currency = order.currency
        payment.recorded_by = actor.staff_id
        payment.recorded_at = now
        payment.paid_at = now
        order.paid_at = now
        order.status = OrderStatus.PROCESSING
        # The store knows its gateways by id; what was typed names the terminal in the title.
        order.payment_method = _store_gateway(s, PaymentMethod.TERMINAL) or gateway_text
        order.payment_method_title = f"Card terminal ({gateway_text})"
        queue_message(s, OutboxKind.MARK_ORDER_PAID, "order", order.id)
        audit.record(s, actor, "record_payment", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id,
                     fields=["gateway", "transaction_id", "card_brand", "card_last4", "auth_code"])
    return Changes(orders=frozenset({order_id}), outbox=True)


def choose_pay_later(db: Database, *, actor: Actor, order_id: int, method: PaymentMethod) -> Changes:
    """Switch an unpaid order to invoice, bank transfer or cash on pickup.

    Raises PermissionDenied, ValidationError (another method), NotFound, and
    UserFacingError when the order is paid or closed.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    access.require_own_order(db, actor, order_id)
    method = PaymentMethod(method)
    if method not in PAY_LATER_METHODS:
        raise ValidationError("Pay later means an invoice, a bank transfer or cash on pickup.",
                              fields={"payment": "Choose invoice, bank transfer or cash on pickup."})
    with db.begin() as s:
        order = lock_order(s, order_id)
        if not order.can_record_payment():
            raise UserFacingError("This order is paid or closed; its payment was not changed.")
        previous = order.status
        order.payment_method, order.payment_method_title = _store_gateway(s, method), _METHOD_TITLES[method]
        order.status = _STATUS_FOR_METHOD[method]
        payment = s.scalars(select(Payment).where(
            Payment.order_id == order.id, Payment.status == PaymentStatus.AWAITING
        ).order_by(Payment.id).limit(1)).first()
        if payment is None:
            s.add(Payment(order_id=order.id, method=method, status=PaymentStatus.AWAITING,
                          amount=order.total, currency=order.currency, recorded_by=actor.staff_id))
        else:
            payment.method = method
        queue_status_change(s, order, previous)
        audit.record(s, actor, "choose_pay_later", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id, fields=["payment_method", "status"])
    return Changes(orders=frozenset({order_id}), outbox=True)


# --- the pay link by email --------------------------------------------------------------

_NOT_EMAILED = "The pay link was not emailed: "
_READ_IT_OUT = " Read the link out or copy it."


def _pay_link_sentence(state: PayLinkEmailState, masked: str, message: OutboxMessage | None,
                       on_store: bool) -> str:
    note = (message.last_error if message is not None else "") or ""
    if note.startswith("Not sent: "):
        note = note[len("Not sent: "):]
    if state is PayLinkEmailState.EMAILED:
        return f"Pay link emailed to {masked}."
    if state is PayLinkEmailState.QUEUED:
        if not on_store:
            return f"Pay link email queued: it goes to {masked} as soon as the web store has the order."
        if note:
            return f"Pay link email to {masked} queued: {note}"
        return f"Emailing the pay link to {masked}…"
    if state is PayLinkEmailState.NO_EMAIL:
        return _NOT_EMAILED + "the order has no email address." + _READ_IT_OUT
    if state is PayLinkEmailState.UNSUPPORTED:
        return (_NOT_EMAILED + "the web store is too old to email it (that needs WooCommerce 9.5 or newer)."
                + _READ_IT_OUT)
    if state is PayLinkEmailState.NOT_NEEDED:
        return _NOT_EMAILED + (note[:1].lower() + note[1:] if note else "it was no longer needed.")
    if state is PayLinkEmailState.FAILED:
        return _NOT_EMAILED + (note or "the web store refused.") + _READ_IT_OUT
    return ""


def _billing_email(s: Session, order_id: int) -> str:
    return s.scalars(select(OrderAddress.email).where(
        OrderAddress.order_id == order_id, OrderAddress.kind == AddressKind.BILLING)).first() or ""


def _awaiting_method(s: Session, order_id: int) -> PaymentMethod | None:
    return s.scalars(select(Payment.method).where(
        Payment.order_id == order_id, Payment.status == PaymentStatus.AWAITING).order_by(Payment.id).limit(1)).first()


def pay_link_email(db: Database, *, actor: Actor, order_id: int) -> PayLinkEmail:
    """How the store's email of this order's pay link stands, in a sentence for the desk.

    Raises NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    access.require_own_order(db, actor, order_id)
    with db.read() as s:
        order = s.get(Order, order_id)
        if order is None:
            raise NotFound("This order is no longer here (it may have been deleted).")
        email = _billing_email(s, order.id)
        message = s.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == OutboxKind.SEND_PAY_LINK, OutboxMessage.entity_type == "order",
            OutboxMessage.entity_id == order.id).order_by(OutboxMessage.id.desc()).limit(1)).first()
        method = _awaiting_method(s, order.id)
        open_for_link = (not order.is_paid() and order.can_record_payment() and method is PaymentMethod.PAY_LINK)
        on_store = order.store_id is not None
        if message is None:
            state = PayLinkEmailState.NOT_ASKED
        elif message.status in (OutboxStatus.PENDING, OutboxStatus.CONFLICT):
            state = PayLinkEmailState.QUEUED
        elif message.status is OutboxStatus.FAILED:
            state = PayLinkEmailState.FAILED
        else:
            try:
                outcome = PayLinkOutcome(json.loads(message.payload or "{}").get("outcome"))
            except (ValueError, AttributeError):
                # Done without an outcome recorded: only a note says whether it went.
                outcome = PayLinkOutcome.NOT_NEEDED if message.last_error else PayLinkOutcome.EMAILED
            state = PayLinkEmailState(outcome.value)
        masked = mask_email(email)
        return PayLinkEmail(
            order_id=order.id,
            state=state,
            sentence=_pay_link_sentence(state, masked, message, on_store),
            masked_email=masked,
            # Not while one waits, nor when the store said it cannot email at all.
            can_send_again=(open_for_link and bool(email)
                            and state not in (PayLinkEmailState.QUEUED, PayLinkEmailState.UNSUPPORTED)),
            sent_at=message.sent_at if state is PayLinkEmailState.EMAILED and message is not None else None,
        )


def send_pay_link_again(db: Database, *, actor: Actor, order_id: int) -> Changes:
    """Ask the store to email this order's pay link again (queued, sent by the sync).

    Does nothing while an earlier request is still waiting, so one click never makes
    two emails. Raises NotFound, PermissionDenied, and UserFacingError when the order
    is paid, closed, not paid by pay link or has no email address.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    access.require_own_order(db, actor, order_id)
    with db.begin() as s:
        order = lock_order(s, order_id)
        if order.is_paid():
            raise UserFacingError("This order is already paid, so no pay link was emailed.")
        if not order.can_record_payment():
            raise UserFacingError("This order is closed, so no pay link was emailed.")
        if _awaiting_method(s, order.id) is not PaymentMethod.PAY_LINK:
            raise UserFacingError("This order is not paid by pay link, so no link was emailed.")
        if not _billing_email(s, order.id):
            raise UserFacingError("This order has no email address, so the web store cannot email the link."
                                  + _READ_IT_OUT)
        waiting = s.scalars(select(OutboxMessage.id).where(
            OutboxMessage.kind == OutboxKind.SEND_PAY_LINK, OutboxMessage.entity_type == "order",
            OutboxMessage.entity_id == order.id,
            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.CONFLICT)))).first()
        if waiting is not None:
            return Changes()
        queue_message(s, OutboxKind.SEND_PAY_LINK, "order", order.id)
        audit.record(s, actor, "send_pay_link_again", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id)
    return Changes(orders=frozenset({order_id}), outbox=True)


def mark_paid_from_store(db: Database, *, actor: Actor, order_id: int,
                         transaction_id: str = "") -> Changes:
    """Record that the web store says the order is paid (through its pay link).

    Does nothing when it is already recorded as paid. Raises NotFound.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    access.require_own_order(db, actor, order_id)
    errors: dict[str, str] = {}
    txn = _reference_field(transaction_id, "transaction_id", "transaction id", 64, errors)
    now = utcnow()
    with db.begin() as s:
        order = lock_order(s, order_id)
        if order.is_paid():
            return Changes()
        order.paid_at = now
        if order.status in (OrderStatus.PENDING, OrderStatus.ON_HOLD):
            order.status = OrderStatus.PROCESSING
        payment = s.scalars(select(Payment).where(
            Payment.order_id == order.id, Payment.status == PaymentStatus.AWAITING
        ).order_by(Payment.id).limit(1)).first()
        if payment is None:
            payment = Payment(order_id=order.id, method=PaymentMethod.PAY_LINK,
                              amount=order.total, currency=order.currency)
            s.add(payment)
        payment.status = PaymentStatus.PAID
        payment.transaction_id = txn
        payment.paid_at = now
        audit.record(s, actor, "mark_paid_from_store", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id, fields=["paid_at", "status"])
    return Changes(orders=frozenset({order_id}))
