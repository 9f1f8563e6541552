"""Scan to pack: a slip's barcode opens its order, each item's SKU scanned ticks its line, a
wrong or extra item is named at once, and a fully scanned order is marked packed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from backoffice.db import Database
from backoffice.domain import Order
from backoffice.domain.base import utcnow
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import NotFound, UserFacingError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.fulfilment.slip_data import load_slips

audit.register_action("mark_packed", "Marked an order packed")


@dataclass(frozen=True)
class PackLine:
    sku: str
    name: str
    options: tuple[str, ...]
    quantity: int


@dataclass(frozen=True)
class PackingOrder:
    id: int
    number: str
    ship_to: tuple[str, ...]
    lines: tuple[PackLine, ...]
    packed_at: datetime | None


def _normal(code: str) -> str:
    return "".join((code or "").split()).casefold()


def open_for_packing(db: Database, *, actor: Actor, code: str) -> PackingOrder:
    """The order whose slip barcode (its number) was scanned, with what goes in the parcel
    (bundles as what is inside them). Raises PermissionDenied, NotFound."""
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    number = (code or "").strip().lstrip("#")
    with db.begin() as s:
        row = s.execute(select(Order.id, Order.packed_at, Order.customer_id).where(Order.number == number)
                        ).first()
        if row is None:
            raise NotFound(f"No order numbered {number or '(nothing scanned)'}; scan the barcode at the top of "
                           "a packing slip.")
        (slip,) = load_slips(s, [row.id])
        audit.record(s, actor, "view_order", entity_type="order", entity_id=row.id, customer_id=row.customer_id)
    lines: list[PackLine] = []
    stack = list(reversed(slip.lines))
    while stack:
        line = stack.pop()
        if line.contents:
            stack.extend(reversed(line.contents))
            continue
        lines.append(PackLine(line.sku, line.name, line.options, line.quantity))
    return PackingOrder(id=row.id, number=slip.number, ship_to=slip.ship_to, lines=tuple(lines),
                        packed_at=row.packed_at)


@dataclass(frozen=True)
class ScanResult:
    ok: bool
    message: str
    line: int | None = None  # the line ticked


@dataclass
class PackCheck:
    """What has been scanned into the parcel so far, against what should go in."""

    order: PackingOrder
    scanned: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.scanned:
            self.scanned = [0] * len(self.order.lines)

    def scan(self, code: str) -> ScanResult:
        """Tick one of the scanned SKU; a SKU not on the order, or one too many, is refused."""
        sku = _normal(code)
        matches = [i for i, line in enumerate(self.order.lines) if line.sku and _normal(line.sku) == sku]
        if not matches:
            return ScanResult(False, f"{code.strip()} is not in order {self.order.number}: take it out.")
        for i in matches:
            if self.scanned[i] < self.order.lines[i].quantity:
                self.scanned[i] += 1
                line = self.order.lines[i]
                left = self.remaining()
                tail = " All items are in: the order can be marked packed." if not left else f" {left} to go."
                return ScanResult(True, f"{line.sku} {self.scanned[i]} of {line.quantity}.{tail}", i)
        line = self.order.lines[matches[0]]
        return ScanResult(False, f"One {line.sku} too many: the order has {line.quantity}; take one out.")

    def tick(self, index: int) -> None:
        """Count a line as packed by hand (an item without a barcode)."""
        self.scanned[index] = self.order.lines[index].quantity

    def remaining(self) -> int:
        return sum(line.quantity - n for line, n in zip(self.order.lines, self.scanned))

    def missing(self) -> list[str]:
        return [f"{line.quantity - n} × {line.sku or line.name}" for line, n in zip(self.order.lines, self.scanned)
                if n < line.quantity]

    def complete(self) -> bool:
        return self.remaining() == 0


def mark_packed(db: Database, *, actor: Actor, order_id: int, check: PackCheck) -> Changes:
    """Mark the order packed once every item was scanned in. Raises PermissionDenied, NotFound,
    or UserFacingError naming what is still missing."""
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    if check.order.id != order_id or not check.complete():
        raise UserFacingError("Still missing: " + ", ".join(check.missing()) + ". The order was not marked packed.")
    with db.begin() as s:
        order = s.get(Order, order_id)
        if order is None:
            raise NotFound("This order is no longer here (it may have been deleted); nothing was marked.")
        order.packed_at = utcnow()
        audit.record(s, actor, "mark_packed", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id, fields=["packed_at"])
    return Changes(orders=frozenset({order_id}))
