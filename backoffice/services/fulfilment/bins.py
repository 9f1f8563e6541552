"""Where each product sits in the stock room (its bin location), kept by the owner, so slips
and pick lists can be sorted in the order a person walks the shelves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from backoffice.db import Database
from backoffice.domain.cards import guard_text
from backoffice.domain.catalog import Product
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes

audit.register_action("set_bin_locations", "Changed bin locations")

BIN_MAX = 32
MAX_PRODUCTS = 10_000


@dataclass(frozen=True)
class BinRow:
    product_id: int
    sku: str
    name: str
    bin_location: str


def list_bin_locations(db: Database, *, actor: Actor) -> tuple[BinRow, ...]:
    """The shop's products by SKU with their bin locations. Raises PermissionDenied."""
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    with db.read() as s:
        rows = s.execute(select(Product.id, Product.sku, Product.name, Product.bin_location)
                         .order_by(Product.sku.is_(None), Product.sku, Product.name).limit(MAX_PRODUCTS)).all()
    return tuple(BinRow(r.id, r.sku or "", r.name, r.bin_location or "") for r in rows)


def set_bin_locations(db: Database, *, actor: Actor, bins: Mapping[int, str]) -> Changes:
    """Set the bin locations of products (empty clears one): all of them, or none and each
    problem named. Raises PermissionDenied, ValidationError (fields by product id)."""
    access.require(db, actor, Permission.MANAGE_SETTINGS)
    cleaned: dict[int, str | None] = {}
    problems: dict[str, str] = {}
    for product_id, raw in bins.items():
        text = " ".join((raw or "").split())
        if guard_text(text, field="the bin location").changed:
            problems[str(product_id)] = "That looks like a card number, not a bin location."
        elif len(text) > BIN_MAX:
            problems[str(product_id)] = f"A bin location has at most {BIN_MAX} characters."
        else:
            cleaned[int(product_id)] = text or None
    if problems:
        raise ValidationError(" ".join(sorted(set(problems.values()))) + " No bin location was changed.",
                              fields=problems)
    with db.begin() as s:
        products = {p.id: p for p in s.scalars(select(Product).where(Product.id.in_(list(cleaned))))}
        changed = set()
        for product_id, value in cleaned.items():
            product = products.get(product_id)
            if product is not None and product.bin_location != value:
                product.bin_location = value
                changed.add(product_id)
        if changed:
            audit.record(s, actor, "set_bin_locations", entity_type="product", fields=["bin_location"])
    return Changes(products=frozenset(changed))
