"""A customer's addresses: listed, added and changed at the desk, and checked for one-off use.

Changes are audited with field names only and the store is told through the outbox,
as `customers.update_customer` does. Every text goes through the card guard in its
final, tidied form: an address never holds a card number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from backoffice.db import Database
from backoffice.domain.cards import contains_card_number
from backoffice.domain.customers import Customer, CustomerAddress
from backoffice.domain.enums import AddressKind, OutboxKind
from backoffice.domain.search import reindex_customer
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import NotFound, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.customers import _outbox, can_edit
from backoffice.services.settings import country_or_default, shop_default_country

ADDRESS_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state",
                  "postcode", "country", "phone")
_LIMITS = {"first_name": 120, "last_name": 120, "company": 200, "address_1": 200, "address_2": 200,
           "city": 120, "state": 80, "postcode": 20, "phone": 40}
_WORDS = {"first_name": "the first name", "last_name": "the last name", "company": "the company",
          "address_1": "the street address", "address_2": "the second address line", "city": "the city",
          "state": "the state", "postcode": "the postcode", "country": "the country", "phone": "the phone"}
KIND_WORDS = {AddressKind.BILLING: "Billing", AddressKind.SHIPPING: "Shipping"}

audit.register_action("add_customer_address", "Added a customer's address")
audit.register_action("update_customer_address", "Changed a customer's address")


@dataclass(frozen=True)
class AddressRecord:
    """One of a customer's addresses, every field, for a form or a picker."""

    id: int
    kind: AddressKind
    is_default: bool
    first_name: str
    last_name: str
    company: str
    address_1: str
    address_2: str
    city: str
    state: str
    postcode: str
    country: str
    phone: str

    @property
    def lines(self) -> tuple[str, ...]:
        name = f"{self.first_name} {self.last_name}".strip()
        city_line = " ".join(p for p in (self.city, self.state, self.postcode) if p)
        return tuple(p for p in (name, self.company, self.address_1, self.address_2, city_line, self.country) if p)

    def value(self, name: str) -> str:
        return getattr(self, name)


def _record(a: CustomerAddress) -> AddressRecord:
    return AddressRecord(a.id, a.kind, bool(a.is_default), *((getattr(a, n) or "") for n in ADDRESS_FIELDS))


def clean_address(values: Mapping[str, Any], *, default_country: str) -> dict[str, str]:
    """An address's fields tidied and checked; raises ValidationError with a sentence per field.

    Used for an address kept on the customer and for a one-off shipping address.
    """
    clean = {n: " ".join(str(values.get(n) or "").split()) for n in ADDRESS_FIELDS}
    clean["country"] = country_or_default(clean["country"] or default_country)
    errors: dict[str, str] = {}
    for name, text in clean.items():
        # Checked in the form it is stored in, after the spaces were tidied.
        if text and contains_card_number(text, context="phone" if name == "phone" else "text"):
            errors[name] = ("This looks like a card number. Card numbers are never stored; "
                            "take card payments on the payment page or the card terminal.")
        elif len(text) > _LIMITS.get(name, 2):
            errors[name] = f"This is too long: at most {_LIMITS.get(name, 2)} characters."
    if not clean["address_1"]:
        errors.setdefault("address_1", "Enter the street address.")
    if not clean["city"]:
        errors.setdefault("city", "Enter the city.")
    if not clean["postcode"]:
        errors.setdefault("postcode", "Enter the postcode.")
    if len(clean["country"]) != 2 or not clean["country"].isalpha():
        errors.setdefault("country", "Enter the country as its two-letter code, such as US or GB.")
    if errors:
        raise ValidationError("Some of the address needs a look; nothing was saved.", fields=errors)
    return clean


def list_addresses(db: Database, *, actor: Actor, customer_id: int) -> list[AddressRecord]:
    """The customer's addresses, defaults first (shipping before billing). Raises PermissionDenied."""
    access.require(db, actor, Permission.VIEW_CUSTOMER, customer_id=customer_id)
    with db.read() as s:
        rows = s.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == customer_id)
                         .order_by(CustomerAddress.is_default.desc(), CustomerAddress.kind.desc(),
                                   CustomerAddress.id)).all()
        return [_record(a) for a in rows]


def save_address(
    db: Database,
    *,
    actor: Actor,
    customer_id: int,
    values: Mapping[str, Any],
    kind: AddressKind | str = AddressKind.SHIPPING,
    make_default: bool = False,
    address_id: int | None = None,
) -> Changes:
    """Add an address to a customer (`address_id` None) or change one of theirs.

    `make_default` makes it the default of its kind (the one the web store keeps and
    phone orders ship to). Audited with field names only; the store is told through the
    outbox. Raises ValidationError (a sentence per field), NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.EDIT_CUSTOMER, customer_id=customer_id)
    kind = AddressKind(kind)
    if kind not in KIND_WORDS:
        raise ValidationError("An address is for billing or for shipping.", fields={"kind": "Choose one."})
    with db.begin() as s:
        region = shop_default_country(s)
        clean = clean_address(values, default_country=region)
        customer = s.get(Customer, customer_id, with_for_update={"read": True})
        if customer is None:
            raise NotFound("This customer is no longer here (erased, merged or removed at another desk); nothing was saved.")
        if not can_edit(customer):
            raise ValidationError("This customer was erased or merged into another one; "
                                  "their addresses cannot be changed.")
        if address_id is None:
            address = CustomerAddress(customer_id=customer_id, kind=kind, is_default=False)
            s.add(address)
            changed = [n for n, v in clean.items() if v]
            action = "add_customer_address"
        else:
            address = s.get(CustomerAddress, address_id)
            if address is None or address.customer_id != customer_id:
                raise NotFound("That address is no longer on this customer; nothing was saved.")
            changed = [n for n, v in clean.items() if (getattr(address, n) or "") != v]
            if address.kind != kind:
                changed.append("kind")
            action = "update_customer_address"
        for name, value in clean.items():
            setattr(address, name, value)
        address.kind = kind
        has_default = s.scalar(select(CustomerAddress.id).where(
            CustomerAddress.customer_id == customer_id, CustomerAddress.kind == kind,
            CustomerAddress.is_default.is_(True), CustomerAddress.id != (address.id or -1)))
        if make_default or has_default is None:
            # One default of each kind: the one the store keeps.
            if has_default is not None:
                s.execute(update(CustomerAddress).where(
                    CustomerAddress.customer_id == customer_id, CustomerAddress.kind == kind,
                    CustomerAddress.id != (address.id or -1)).values(is_default=False))
            if not address.is_default:
                changed.append("is_default")
            address.is_default = True
        s.flush()
        if not changed:
            return Changes()
        reindex_customer(s, customer_id, default_region=region)
        audit.record(s, actor, action, entity_type="customer", entity_id=customer_id,
                     customer_id=customer_id, fields=sorted(set(changed)))
        if address.is_default:
            # The store keeps the default billing and shipping addresses only.
            _outbox(s, OutboxKind.UPDATE_CUSTOMER, customer_id, {"fields": [kind.value]})
    return Changes(customers=frozenset({customer_id}), outbox=True)


def ship_to_source(s, customer_id: int, choice: int | Mapping[str, Any] | None) -> Any | None:
    """Where a phone order ships, inside `place_phone_order`'s unit of work after its check:
    None for the customer's default, one of the customer's own addresses (by id), or a
    one-off address typed for this order (checked like a kept one; never kept)."""
    if choice is None:
        return None
    if isinstance(choice, Mapping):
        try:
            clean = clean_address(choice, default_country=shop_default_country(s))
        except ValidationError as exc:
            raise ValidationError("The shipping address needs a look; nothing was saved.",
                                  fields={f"ship_to.{k}": v for k, v in (exc.fields or {}).items()}) from None
        return CustomerAddress(kind=AddressKind.SHIPPING, **clean)
    address = s.get(CustomerAddress, int(choice))
    if address is None or address.customer_id != customer_id:
        raise ValidationError("That address is not one of this customer's any more; pick another. "
                              "Nothing was saved.", fields={"ship_to": "Pick another address."})
    return address
