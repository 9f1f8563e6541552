"""What an order's packing slip may show, read from the database: only what delivery needs.

The ship-to address carries a name and a postal address; the phone only when the order's
shipping method is one whose carrier needs it (a shop setting); never an email address,
never a price. Refunded quantities are left off, bundles list what is inside them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.documents.packing_slip import Slip, SlipLine
from backoffice.domain import Order, OrderAddress, OrderLine, ShippingLine
from backoffice.domain.catalog import Product
from backoffice.domain.enums import AddressKind
from backoffice.domain.settings import SETTINGS_BY_KEY, ShopSetting

SORTS = ("sku", "bin")

# What a slip may print of an address: no email; the phone is chosen separately.
_ADDRESS_COLUMNS = (OrderAddress.order_id, OrderAddress.kind, OrderAddress.first_name, OrderAddress.last_name,
                    OrderAddress.company, OrderAddress.address_1, OrderAddress.address_2, OrderAddress.city,
                    OrderAddress.state, OrderAddress.postcode, OrderAddress.country, OrderAddress.phone)


def _address_lines(a) -> tuple[str, ...]:
    """The address as printed lines, empty parts left out (as `AddressFields.lines`)."""
    name = f"{a.first_name} {a.last_name}".strip()
    city_line = " ".join(p for p in (a.city, a.state, a.postcode) if p)
    return tuple(p for p in (name, a.company, a.address_1, a.address_2, city_line, a.country) if p)


def phone_methods(s: Session) -> frozenset[str]:
    """The shipping methods (ids or titles, folded) whose carrier needs the phone."""
    raw = s.execute(select(ShopSetting.value).where(ShopSetting.key == "shipping.phone_for_methods")
                    ).scalar_one_or_none()
    spec = SETTINGS_BY_KEY["shipping.phone_for_methods"]
    text = spec.decode(raw) if raw is not None else spec.default
    return frozenset(part.strip().casefold() for part in text.split(",") if part.strip())


def line_options(raw: str) -> tuple[str, ...]:
    """A line's variation attributes as "Label: value" texts (stored as JSON pairs)."""
    if not raw:
        return ()
    try:
        pairs = json.loads(raw)
    except ValueError:
        return ()
    out = []
    for pair in pairs if isinstance(pairs, list) else ():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            out.append(f"{pair[0]}: {pair[1]}")
    return tuple(out)


def _line_key(sort: str):
    if sort == "bin":
        return lambda line: (line.bin_location == "", line.bin_location, line.sku == "", line.sku, line.name)
    return lambda line: (line.sku == "", line.sku, line.name)


def load_slips(s: Session, order_ids: Sequence[int], *, sort: str = "sku") -> list[Slip]:
    """The slips of `order_ids`, in the order given (ids not found are left out)."""
    if not order_ids:
        return []
    ids = list(dict.fromkeys(order_ids))
    needs_phone = phone_methods(s)
    orders = {o.id: o for o in s.execute(
        select(Order.id, Order.number, Order.created_at, Order.customer_note, Order.gift_message)
        .where(Order.id.in_(ids))).all()}
    # Plain rows, not ORM objects: a batch of 500 orders reads 1,000 addresses.
    addresses: dict[int, dict[AddressKind, Any]] = defaultdict(dict)
    for a in s.execute(select(*_ADDRESS_COLUMNS).where(OrderAddress.order_id.in_(ids))):
        addresses[a.order_id][a.kind] = a
    methods: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for r in s.execute(select(ShippingLine.order_id, ShippingLine.method_id, ShippingLine.method_title)
                       .where(ShippingLine.order_id.in_(ids)).order_by(ShippingLine.id)):
        methods[r.order_id].append((r.method_id, r.method_title))
    lines: dict[int, list] = defaultdict(list)
    for r in s.execute(
            select(OrderLine.id, OrderLine.order_id, OrderLine.sku, OrderLine.name, OrderLine.quantity,
                   OrderLine.refunded_quantity, OrderLine.options, OrderLine.bundled_in_line_id,
                   Product.bin_location)
            .outerjoin(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id.in_(ids)).order_by(OrderLine.id)):
        lines[r.order_id].append(r)
    slips = []
    for order_id in ids:
        order = orders.get(order_id)
        if order is None:
            continue
        kinds = addresses.get(order_id, {})
        ship_to = kinds.get(AddressKind.SHIPPING)
        if ship_to is None or not (ship_to.address_1 or ship_to.city):
            ship_to = kinds.get(AddressKind.BILLING)
        order_methods = methods.get(order_id, [])
        phone = ""
        if ship_to is not None and any(m.casefold() in needs_phone or t.casefold() in needs_phone
                                       for m, t in order_methods):
            phone = ship_to.phone or (kinds.get(AddressKind.BILLING).phone
                                      if kinds.get(AddressKind.BILLING) else "")
        slips.append(Slip(
            number=order.number or f"L{order.id}",
            order_date=order.created_at.date(),
            shipping_method=", ".join(t or m for m, t in order_methods),
            ship_to=_address_lines(ship_to) if ship_to is not None else (),
            lines=_slip_lines(lines.get(order_id, []), sort),
            phone=phone,
            customer_note=order.customer_note or "",
            gift_message=order.gift_message or "",
        ))
    return slips


def _slip_lines(rows: Iterable, sort: str) -> tuple[SlipLine, ...]:
    inside: dict[int, list] = defaultdict(list)
    top = []
    for r in rows:
        (inside[r.bundled_in_line_id] if r.bundled_in_line_id else top).append(r)

    def make(r) -> SlipLine | None:
        quantity = max(0, r.quantity - (r.refunded_quantity or 0))
        if quantity <= 0:
            return None
        contents = tuple(x for x in (make(c) for c in inside.get(r.id, ())) if x is not None)
        return SlipLine(sku=r.sku or "", name=r.name, quantity=quantity, options=line_options(r.options),
                        bin_location=r.bin_location or "", contents=contents)

    made = [x for x in (make(r) for r in top) if x is not None]
    return tuple(sorted(made, key=_line_key(sort)))
