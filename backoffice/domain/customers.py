"""Customers, their addresses and the notes staff keep about them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, or_
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from backoffice.domain.base import Base, personal, utcnow
from backoffice.domain.enums import AddressKind, CustomerStatus, enum_column


class Customer(Base):
    """A person (or company contact) who buys from the shop.

    Phones are kept three ways: as typed (`phone`), as E.164 digits (`phone_digits`,
    empty when the number could not be parsed) and reversed (`phone_rev`) so that
    "ends with these digits" is an indexed prefix search on both databases.
    """

    __tablename__ = "customers"
    __subject__ = "id"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int | None] = mapped_column(unique=True)
    status: Mapped[CustomerStatus] = mapped_column(
        enum_column(CustomerStatus), default=CustomerStatus.ACTIVE
    )
    first_name: Mapped[str] = mapped_column(String(120), default="", info=personal("name"))
    last_name: Mapped[str] = mapped_column(String(120), default="", info=personal("name"))
    company: Mapped[str] = mapped_column(String(200), default="", info=personal("name"))
    email: Mapped[str | None] = mapped_column(String(254), info=personal("contact", erase="null"))
    email_key: Mapped[str | None] = mapped_column(
        String(254), index=True, info=personal("contact", erase="null", export=False)
    )
    phone: Mapped[str] = mapped_column(String(40), default="", info=personal("contact"))
    phone_e164: Mapped[str | None] = mapped_column(
        String(20), info=personal("contact", erase="null", export=False)
    )
    phone_digits: Mapped[str | None] = mapped_column(
        String(20), index=True, info=personal("contact", erase="null", export=False)
    )
    phone_rev: Mapped[str | None] = mapped_column(
        String(20), index=True, info=personal("contact", erase="null", export=False)
    )
    # Folded "last first" for sorting and prefix search (accent- and case-insensitive).
    sort_name: Mapped[str] = mapped_column(
        String(250), default="", info=personal("name", export=False)
    )
    username: Mapped[str | None] = mapped_column(String(120), info=personal("identifier", erase="null"))
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    objected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    store_modified_at: Mapped[datetime | None]
    # A digest of the store's last copy, to tell changed customers in a full scan.
    store_digest: Mapped[str | None] = mapped_column(String(64))
    deactivated_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    version: Mapped[int] = mapped_column(default=1)

    addresses: Mapped[list[CustomerAddress]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerAddress.id"
    )
    notes: Mapped[list[CustomerNote]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="CustomerNote.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.company or self.email or f"Customer {self.id}"

    def can_order(self) -> bool:
        """A deactivated or erased customer cannot place new orders, nor a record merged into
        another (the orders go to the one kept)."""
        return self.status is CustomerStatus.ACTIVE and self.merged_into_id is None


def lock_customers(s: Session, *ids: int) -> dict[int, Customer | None]:
    """Lock the customers' rows in one order (lowest id first), so two desks working on
    the same customers the other way round wait for each other instead of deadlocking; read
    them afresh under the lock."""
    locked: dict[int, Customer | None] = {}
    for cid in sorted(set(ids)):
        locked[cid] = s.get(Customer, cid, with_for_update=True, populate_existing=True)
    return locked


# Marketing: the one rule for who may be reached, as a reason (for a row in hand) and as a
# SQL predicate (for a query); newsletters' exports, the store's consent value and the
# privacy flags all ask here.

def marketing_refusal(status, restricted: bool, objected: bool, merged_into_id: int | None = None) -> str | None:
    """Why marketing may not reach this person ("erased", "deactivated", "merged",
    "restricted", "objected"), or None when it may."""
    status = CustomerStatus(status) if status is not None else CustomerStatus.ACTIVE
    if status is CustomerStatus.ERASED:
        return "erased"
    if status is not CustomerStatus.ACTIVE:
        return "deactivated"
    if merged_into_id is not None:
        return "merged"
    if restricted:
        return "restricted"
    if objected:
        return "objected"
    return None


def marketing_blocked():
    """The SQL form of `marketing_refusal`: true for customers no marketing may reach."""
    return or_(Customer.status != CustomerStatus.ACTIVE, Customer.restricted.is_(True),
               Customer.objected.is_(True), Customer.merged_into_id.is_not(None))


class AddressFields:
    """The postal fields shared by customer addresses and order snapshots."""

    first_name: Mapped[str] = mapped_column(String(120), default="", info=personal("name"))
    last_name: Mapped[str] = mapped_column(String(120), default="", info=personal("name"))
    company: Mapped[str] = mapped_column(String(200), default="", info=personal("name"))
    address_1: Mapped[str] = mapped_column(String(200), default="", info=personal("address"))
    address_2: Mapped[str] = mapped_column(String(200), default="", info=personal("address"))
    city: Mapped[str] = mapped_column(String(120), default="", info=personal("address"))
    state: Mapped[str] = mapped_column(String(80), default="", info=personal("address"))
    postcode: Mapped[str] = mapped_column(String(20), default="", index=True, info=personal("address"))
    country: Mapped[str] = mapped_column(String(2), default="")
    phone: Mapped[str] = mapped_column(String(40), default="", info=personal("contact"))
    email: Mapped[str] = mapped_column(String(254), default="", info=personal("contact"))

    def lines(self) -> list[str]:
        """The address as printed lines, empty parts left out."""
        name = f"{self.first_name} {self.last_name}".strip()
        city_line = " ".join(p for p in (self.city, self.state, self.postcode) if p)
        parts = [name, self.company, self.address_1, self.address_2, city_line, self.country]
        return [p for p in parts if p]


class CustomerAddress(AddressFields, Base):
    """One of a customer's addresses (billing, shipping or another one they use)."""

    __tablename__ = "customer_addresses"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed together with what a search hit shows (backoffice.domain.search).
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[AddressKind] = mapped_column(enum_column(AddressKind), default=AddressKind.BILLING)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class CustomerNote(Base):
    """A note staff wrote about a customer (checked for card numbers before saving)."""

    __tablename__ = "customer_notes"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    text: Mapped[str] = mapped_column(Text, default="", info=personal("free_text", erase="null"))

    customer: Mapped[Customer] = relationship(back_populates="notes")


Index("ix_customers_name", Customer.last_name, Customer.first_name)
