"""Orders with their lines, address snapshots, payment references and shipments.

No column here can hold a card number: a payment is recorded by the gateway's
reference only (gateway, transaction id, card brand, last 4 digits, auth code).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.domain.base import Base, money, personal, utcnow
from backoffice.domain.customers import AddressFields
from backoffice.domain.enums import (
    AddressKind,
    OrderOrigin,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    enum_column,
)

# Orders still to be paid, packed or shipped. An order deleted on the web store
# (`OrderStatus.TRASH`) is never open: nobody ships what the shop owner deleted.
OPEN_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.ON_HOLD})
# Orders no parcel goes out for.
_NOT_SHIPPED = frozenset({OrderStatus.CANCELLED, OrderStatus.FAILED, OrderStatus.REFUNDED, OrderStatus.TRASH,
                          OrderStatus.DELETED})


class Order(Base):
    """An order, from the web store or taken by phone at the desk."""

    __tablename__ = "orders"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The number people see and say on the phone (the store's `number`).
    number: Mapped[str | None] = mapped_column(String(32), index=True)
    store_id: Mapped[int | None] = mapped_column(unique=True)
    # The back office's own reference, kept by the store in the order's meta data,
    # so a create whose answer was lost is found instead of sent twice.
    reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Indexed by (customer_id, created_at) below, which also serves lookups by customer.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    # Looked up through (status, paid_at) below, whose first column serves a status alone.
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus), default=OrderStatus.PENDING
    )
    origin: Mapped[OrderOrigin] = mapped_column(enum_column(OrderOrigin), default=OrderOrigin.WEB)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    subtotal: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    shipping_total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    discount_total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    tax_total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    customer_note: Mapped[str] = mapped_column(Text, default="", info=personal("free_text", erase="null"))
    payment_method: Mapped[str] = mapped_column(String(64), default="")
    payment_method_title: Mapped[str] = mapped_column(String(120), default="")
    payment_url: Mapped[str | None] = mapped_column(String(500))
    order_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    paid_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # Compared with the store's copy order by order, never searched: no index.
    store_modified_at: Mapped[datetime | None]
    created_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    anonymised: Mapped[bool] = mapped_column(default=False)
    # Printed on a gift slip instead of prices; written by the buyer, so personal.
    gift_message: Mapped[str] = mapped_column(Text, default="", server_default="",
                                              info=personal("free_text", erase="null"))
    # Why the desk cancelled it, as said on the phone; sent to the store as an order note.
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="",
                                               info=personal("free_text", erase="null"))
    # When its packing slip was last printed, and when every item was scanned into the parcel.
    printed_at: Mapped[datetime | None] = mapped_column(index=True)
    packed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id"
    )
    shipping_lines: Mapped[list[ShippingLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="ShippingLine.id"
    )
    addresses: Mapped[list[OrderAddress]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderAddress.kind"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Payment.id"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="Shipment.id"
    )

    __mapper_args__ = {"version_id_col": version}

    def address(self, kind: AddressKind) -> OrderAddress | None:
        return next((a for a in self.addresses if a.kind == kind), None)

    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_paid(self) -> bool:
        return self.paid_at is not None

    def is_deleted_on_store(self) -> bool:
        """Whether the shop owner deleted the order on the web store (to its trash or for good); it is kept here."""
        return self.status in (OrderStatus.TRASH, OrderStatus.DELETED)

    def can_record_payment(self) -> bool:
        """A payment can be recorded on an open order that is not paid yet."""
        return self.is_open() and not self.is_paid()

    def can_add_tracking(self) -> bool:
        return self.status not in _NOT_SHIPPED


class OrderAddress(AddressFields, Base):
    """The billing or shipping address as it was when the order was placed."""

    __tablename__ = "order_addresses"
    __subject__ = "order_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Found by the unique (order_id, kind) below, which serves lookups by order alone.
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    kind: Mapped[AddressKind] = mapped_column(enum_column(AddressKind))
    # An order's snapshot is never looked up by postcode (a customer's address is): no index.
    postcode: Mapped[str] = mapped_column(String(20), default="", info=personal("address"))

    order: Mapped[Order] = relationship(back_populates="addresses")

    __table_args__ = (UniqueConstraint("order_id", "kind"),)


class OrderLine(Base):
    """One product line of an order."""

    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    store_line_id: Mapped[int | None]
    sku: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    # The variation's attributes as JSON pairs [["Size", "M"], ["Colour", "Red"]].
    options: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A product inside a bundle points at the bundle's line; the bundle's price is on that line.
    bundled_in_line_id: Mapped[int | None]
    refunded_quantity: Mapped[int] = mapped_column(default=0, server_default="0")

    order: Mapped[Order] = relationship(back_populates="lines")


class ShippingLine(Base):
    """A shipping method and its cost on an order."""

    __tablename__ = "shipping_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    store_line_id: Mapped[int | None]
    method_id: Mapped[str] = mapped_column(String(64), default="")
    method_title: Mapped[str] = mapped_column(String(120), default="")
    total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))

    order: Mapped[Order] = relationship(back_populates="shipping_lines")


class Payment(Base):
    """A payment recorded against an order, by reference only.

    There is deliberately no column for a card number or security code: a card
    payment is identified by the gateway's transaction id, brand, last four digits
    and authorisation code.
    """

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus), default=PaymentStatus.AWAITING
    )
    gateway: Mapped[str] = mapped_column(String(64), default="")
    transaction_id: Mapped[str] = mapped_column(String(64), default="")
    card_brand: Mapped[str] = mapped_column(String(32), default="")
    card_last4: Mapped[str | None] = mapped_column(String(4))
    auth_code: Mapped[str] = mapped_column(String(16), default="")
    amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    paid_at: Mapped[datetime | None]

    order: Mapped[Order] = relationship(back_populates="payments")

    __table_args__ = (
        CheckConstraint(
            "card_last4 IS NULL OR length(card_last4) = 4", name="card_last4_is_four_digits"
        ),
    )


class Shipment(Base):
    """A parcel sent for an order, with the carrier's tracking number."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(40), default="")
    tracking_number: Mapped[str] = mapped_column(String(64), index=True)
    shipped_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    order: Mapped[Order] = relationship(back_populates="shipments")


class OrderRefund(Base):
    """Money the web store paid back on an order (part or all), with the lines it was for.

    The order keeps its total (what was paid); what was refunded is the sum of these.
    """

    __tablename__ = "order_refunds"
    __subject__ = "order_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int | None] = mapped_column(unique=True)
    amount: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    reason: Mapped[str] = mapped_column(Text, default="", info=personal("free_text", erase="null"))
    # The refunded lines as "2 × T-Shirt - S (30.00)", one a line; empty for an amount alone.
    lines: Mapped[str] = mapped_column(Text, default="")
    refunded_at: Mapped[datetime | None]


class OrderFee(Base):
    """A fee on an order ("Gift wrap"), which counts in its total like a line."""

    __tablename__ = "order_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    store_line_id: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(200), default="")
    total: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    total_tax: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))


Index("ix_orders_customer_created", Order.customer_id, Order.created_at)


@dataclass(frozen=True)
class CatalogueTotals:
    """What an order comes to at catalogue prices, before the web store adds its tax."""

    subtotal: Decimal
    shipping: Decimal
    total: Decimal


def line_total(price: Decimal, quantity: int) -> Decimal:
    """One line at a catalogue price, rounded to cents."""
    return money(price * quantity)


def catalogue_totals(lines: Iterable[tuple[Decimal, int]], shipping_cost: Decimal) -> CatalogueTotals:
    """An order's totals from (price, quantity) lines, each rounded to cents, and the shipping
    cost: the phone-order screen before the store answers, a provisional quote and a placed
    order all add up this way."""
    subtotal = money(sum((line_total(price, quantity) for price, quantity in lines), Decimal("0.00")))
    shipping = money(shipping_cost)
    return CatalogueTotals(subtotal, shipping, money(subtotal + shipping))


# Orders to ship (paid, open) are counted on Home and the shipping tab at every start: found
# by status and payment in the index, without reading every open order's row.
Index("ix_orders_status_paid_at", Order.status, Order.paid_at)
