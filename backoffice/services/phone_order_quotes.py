"""The store's own figures for a phone order before the caller is quoted: tax, shipping tax, total.

The web store computes what it computes (tax by address and rate, rounding per line,
shipping tax), so the desk does not work tax out itself: it asks the store. The store has
no calculation endpoint, so the quote is an order created there as pending with the
lines and the caller's address, read back and deleted for good at once. It carries the
meta `_backoffice_quote`, by which the sync leaves it out should it list it meanwhile;
it has no customer, so the store sends no mail for it.

When the store cannot be asked, the quote is the catalogue's sum, marked provisional,
and the screen says so; the payment is then made equal to what the store charges once
it has the order (the sync follows the store's total).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from backoffice.db import Database
from backoffice.domain import Customer, CustomerAddress, Product
from backoffice.domain.base import money
from backoffice.domain.enums import AddressKind
from backoffice.domain.orders import catalogue_totals
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import StoreError
from backoffice.services import access
from backoffice.services import store_mapping as sm
from backoffice.services.phone_orders import LineInput, NewCustomer, ShippingInput

__all__ = ["QUOTE_META_KEY", "OrderQuote", "quote_basis", "quote_phone_order"]

#: The meta key of an order made only to read the store's figures.
QUOTE_META_KEY = "_backoffice_quote"

_ADDRESS_NAMES = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode",
                  "country", "phone")


@dataclass(frozen=True)
class OrderQuote:
    """What an order would cost, as the web store works it out (or provisional, from the catalogue)."""

    subtotal: Decimal
    shipping_total: Decimal
    tax_total: Decimal
    fee_total: Decimal
    total: Decimal
    provisional: bool
    # What the quote was made for (`quote_basis`): placing checks it still matches.
    basis: tuple
    sentence: str = ""

    def matches(self, *, customer_id: int | None, new_customer: NewCustomer | None, lines: Sequence[LineInput],
                shipping: ShippingInput) -> bool:
        """Whether this quote was made for this very order (lines, shipping, where it goes)."""
        return self.basis == quote_basis(customer_id=customer_id, new_customer=new_customer, lines=lines,
                                         shipping=shipping)


def _merged(lines: Sequence[LineInput]) -> tuple[tuple[int, int], ...]:
    merged: dict[int, int] = {}
    for line in lines:
        merged[int(line.product_id)] = merged.get(int(line.product_id), 0) + int(line.quantity)
    return tuple(sorted(merged.items()))


def _cost(shipping: ShippingInput) -> Decimal:
    try:
        return money(Decimal(str(shipping.cost).strip() or "0"))
    except (ArithmeticError, ValueError):
        return Decimal("0.00")


def _new_address(new: NewCustomer) -> dict[str, str]:
    return {name: (getattr(new, name, "") or "").strip() for name in _ADDRESS_NAMES}


def quote_basis(*, customer_id: int | None, new_customer: NewCustomer | None, lines: Sequence[LineInput],
                shipping: ShippingInput) -> tuple:
    """A value that changes whenever something the store's figures depend on changes."""
    place = (customer_id,) if new_customer is None else tuple(
        _new_address(new_customer)[k].upper() for k in ("country", "state", "postcode", "city"))
    return (place, _merged(lines), (shipping.method_id or "").strip(), str(_cost(shipping)))


def _addresses(s, customer_id: int | None, new_customer: NewCustomer | None) -> tuple[dict, dict]:
    if new_customer is not None:
        address = _new_address(new_customer)
        return {**address, "email": ""}, address
    customer = s.get(Customer, customer_id) if customer_id is not None else None
    found: dict[AddressKind, CustomerAddress] = {}
    if customer is not None:
        for row in s.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == customer.id)
                             .order_by(CustomerAddress.is_default.desc(), CustomerAddress.id)):
            found.setdefault(row.kind, row)
    billing_row = found.get(AddressKind.BILLING) or found.get(AddressKind.SHIPPING)
    shipping_row = found.get(AddressKind.SHIPPING) or billing_row

    def values(row: CustomerAddress | None) -> dict[str, str]:
        return {name: (getattr(row, name, "") or "") if row is not None else "" for name in _ADDRESS_NAMES}

    # No email: the quote must not reach the caller's mailbox in any way.
    return {**values(billing_row), "email": ""}, values(shipping_row)


def quote_phone_order(
    db: Database,
    connector,
    *,
    actor: Actor,
    customer_id: int | None = None,
    new_customer: NewCustomer | None = None,
    lines: Sequence[LineInput],
    shipping: ShippingInput,
) -> OrderQuote:
    """Ask the web store what this order costs (tax included) before the caller is quoted.

    Returns the store's figures, or the catalogue's sum marked provisional (with a
    sentence why) when the store cannot be asked or a product is not on it. `connector`
    None means the store is not set up. Raises PermissionDenied.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    basis = quote_basis(customer_id=customer_id, new_customer=new_customer, lines=lines, shipping=shipping)
    wanted = _merged(lines)
    cost = _cost(shipping)
    with db.read() as s:
        products = {p.id: (p.store_id, p.sku or "", p.price, p.kind, p.parent_store_id) for p in s.scalars(
            select(Product).where(Product.id.in_([pid for pid, _ in wanted])))}
        billing, ship_to = _addresses(s, customer_id, new_customer)
    totals = catalogue_totals(((products[pid][2], q) for pid, q in wanted if pid in products), cost)

    def provisional(why: str) -> OrderQuote:
        return OrderQuote(subtotal=totals.subtotal, shipping_total=totals.shipping, tax_total=Decimal("0.00"),
                          fee_total=Decimal("0.00"), total=totals.total, provisional=True, basis=basis,
                          sentence=f"Provisional total, without tax: {why} The caller pays what the web store "
                                   "charges once it has the order.")

    if not wanted:
        return provisional("there is nothing on the order yet.")
    if connector is None:
        return provisional("the web store is not set up.")
    items = []
    for pid, quantity in wanted:
        store_id, sku, _price, kind, parent = products.get(pid, (None, "", None, "simple", None))
        if kind == "variable":
            return provisional("pick the variation (such as the size) of each product.")
        if store_id and kind == "variation" and parent:
            items.append({"product_id": int(parent), "variation_id": int(store_id), "quantity": quantity})
        elif store_id:
            items.append({"product_id": int(store_id), "quantity": quantity})
        elif sku:
            items.append({"sku": sku, "quantity": quantity})
        else:
            return provisional("a product on this order is not on the web store yet.")
    body = {
        "status": "pending",
        "customer_id": 0,
        "billing": billing,
        "shipping": ship_to,
        "line_items": items,
        "shipping_lines": [{"method_id": (shipping.method_id or "flat_rate").strip(),
                            "method_title": shipping.title or shipping.method_id or "Shipping",
                            "total": sm.money_text(cost)}],
        "meta_data": [{"key": QUOTE_META_KEY, "value": "yes"}],
    }
    try:
        record = connector.create_order(body, reference=sm.QUOTE_REFERENCE_PREFIX + uuid.uuid4().hex).record
    except StoreError as exc:
        return provisional(f"the web store could not be asked ({exc.message.rstrip('.')}).")
    try:
        connector.delete_order(int(record["id"]), force=True)
    except StoreError:
        pass  # Left on the store, the quote stays out of the desk's orders by its meta.
    shipping_total = sm.to_money(record.get("shipping_total"))
    fees = sum((sm.to_money(f.get("total")) for f in record.get("fee_lines") or ()), Decimal("0.00"))
    lines_total = sum((sm.to_money(i.get("total")) for i in record.get("line_items") or ()), Decimal("0.00"))
    return OrderQuote(subtotal=money(lines_total), shipping_total=shipping_total,
                      tax_total=sm.to_money(record.get("total_tax")), fee_total=money(fees),
                      total=sm.to_money(record.get("total")), provisional=False, basis=basis,
                      sentence="The web store's figures, tax included.")
