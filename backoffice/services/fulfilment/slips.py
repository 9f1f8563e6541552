"""Packing slips and pick lists for a batch of orders: one PDF, written owner-only, and the
orders marked printed."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update

from backoffice.db import Database
from backoffice.documents.packing_slip import PAGE_SIZES, ShipFrom, Slip, SlipOptions, render_pdf
from backoffice.documents.pick_list import PickLine, PickList, sorted_lines, write_pick_list
from backoffice.domain import Order
from backoffice.domain.base import utcnow
from backoffice.domain.cards import guard_text
from backoffice.domain.enums import OrderStatus
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import NotFound, ValidationError
from backoffice.private_files import check_writable, open_private
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.fulfilment.slip_data import SORTS, load_slips
from backoffice.services.fulfilment.to_ship import to_ship_conditions
from backoffice.services.settings import all_settings

audit.register_action("print_slips", "Printed a packing slip")
audit.register_action("print_pick_list", "Printed a pick list")
audit.register_action("set_gift_message", "Changed an order's gift message")

MAX_BATCH = 5000
MAX_COPIES = 10
GIFT_MESSAGE_MAX = 500


@dataclass(frozen=True)
class SlipBatch:
    """A rendered batch: the PDF and the orders in it."""

    pdf: bytes
    order_ids: tuple[int, ...]
    slips: int


@dataclass(frozen=True)
class WrittenFile:
    path: str
    orders: int
    documents: int


def _check_batch(order_ids: Sequence[int], size: str, sort: str, copies: int = 1) -> list[int]:
    ids = list(dict.fromkeys(int(i) for i in order_ids))
    if not ids:
        raise ValidationError("Choose at least one order; nothing was printed.", fields={"orders": "No order chosen."})
    if len(ids) > MAX_BATCH:
        raise ValidationError(f"Print at most {MAX_BATCH:,} orders at once; nothing was printed.",
                              fields={"orders": "Too many orders."})
    if size not in PAGE_SIZES:
        raise ValidationError("The paper size is letter, a4 or 4x6; nothing was printed.",
                              fields={"size": "Choose letter, a4 or 4x6."})
    if sort not in SORTS:
        raise ValidationError("Items are sorted by sku or bin; nothing was printed.",
                              fields={"sort": "Choose sku or bin."})
    if not 1 <= copies <= MAX_COPIES:
        raise ValidationError(f"Print 1 to {MAX_COPIES} copies; nothing was printed.",
                              fields={"copies": f"1 to {MAX_COPIES}."})
    return ids


def _ship_from(db: Database) -> ShipFrom:
    settings = all_settings(db)
    name = settings["ship_from.name"] or settings["shop.name"]
    address = tuple(line.strip() for line in settings["ship_from.address"].splitlines() if line.strip())
    logo = None
    logo_path = settings["ship_from.logo"]
    if logo_path:
        try:
            logo = Path(logo_path).expanduser().read_bytes()
        except OSError:
            # A desk without the logo file still prints its slips.
            logo = None
    return ShipFrom(name=name, address=address, logo=logo)


@dataclass(frozen=True)
class PreparedSlips:
    """What a batch of slips prints, read from the database; drawing it needs no database."""

    slips: tuple[Slip, ...]
    ship_from: ShipFrom
    options: SlipOptions
    order_ids: tuple[int, ...]


def prepare_slips(db: Database, *, actor: Actor, order_ids: Sequence[int], size: str = "letter",
                  gift: bool = False, sort: str = "sku", copies: int = 1, collate: bool = True) -> PreparedSlips:
    """Read what the chosen orders' packing slips (or gift slips) show, in the order given.

    Slips carry no prices, no email address, the phone only where the shipping method's
    carrier needs it, and leave refunded items off. Reading them is audited per order.
    Draw them with `backoffice.documents.packing_slip.render_pdf`. Raises
    PermissionDenied, ValidationError, NotFound.
    """
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    ids = _check_batch(order_ids, size, sort, copies)
    ship_from = _ship_from(db)
    with db.begin() as s:
        customers = dict(s.execute(select(Order.id, Order.customer_id).where(Order.id.in_(ids))).all())
        missing = [i for i in ids if i not in customers]
        if missing:
            raise NotFound(f"{len(missing)} of the chosen orders were not found; nothing was printed.")
        slips = load_slips(s, ids, sort=sort)
        audit.record_views(s, actor, "print_slips", entity_type="order",
                           entities=((order_id, customers[order_id]) for order_id in ids))
    return PreparedSlips(slips=tuple(slips), ship_from=ship_from,
                         options=SlipOptions(size=size, gift=gift, copies=copies, collate=collate),
                         order_ids=tuple(ids))


def render_slips(db: Database, *, actor: Actor, order_ids: Sequence[int], size: str = "letter",
                 gift: bool = False, sort: str = "sku", copies: int = 1, collate: bool = True,
                 progress: Callable[[int, int], None] | None = None) -> SlipBatch:
    """One PDF with the chosen orders' slips (see `prepare_slips`); the orders are not marked
    printed here (see `mark_printed`, once they are printed). `progress(done, total)` may
    raise to stop. Raises as `prepare_slips`."""
    prepared = prepare_slips(db, actor=actor, order_ids=order_ids, size=size, gift=gift, sort=sort,
                             copies=copies, collate=collate)
    pdf = render_pdf(prepared.slips, prepared.ship_from, prepared.options, progress)
    return SlipBatch(pdf=pdf, order_ids=prepared.order_ids,
                     slips=len(prepared.slips) * max(1, prepared.options.copies))


def mark_printed(db: Database, *, actor: Actor, order_ids: Sequence[int]) -> Changes:
    """Mark the orders' slips printed now. Raises PermissionDenied."""
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    ids = list(dict.fromkeys(int(i) for i in order_ids))
    if not ids:
        return Changes()
    with db.begin() as s:
        s.execute(update(Order).where(Order.id.in_(ids)).values(printed_at=utcnow())
                  .execution_options(synchronize_session=False))
    return Changes(orders=frozenset(ids))


def save_pdf(pdf: bytes, path: str | Path, *, replace: bool = False, protect: Sequence[str] = ()) -> str:
    """Write a rendered PDF (it holds names and addresses) owner-only; never over a file unless
    `replace`."""
    with open_private(path, "wb", replace=replace, protect=protect) as fh:
        fh.write(pdf)
    return str(path)


def write_slips_file(db: Database, *, actor: Actor, order_ids: Sequence[int], path: str | Path,
                     size: str = "letter", gift: bool = False, sort: str = "sku", copies: int = 1,
                     collate: bool = True, replace: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> WrittenFile:
    """Render the slips to a PDF file and mark the orders printed (both, or neither).

    Raises PermissionDenied, ValidationError, NotFound, or a UserFacingError when the
    file may not be written.
    """
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    check_writable(path, replace=replace, protect=_database_files(db))
    batch = render_slips(db, actor=actor, order_ids=order_ids, size=size, gift=gift, sort=sort, copies=copies,
                         collate=collate, progress=progress)
    save_pdf(batch.pdf, path, replace=replace, protect=_database_files(db))
    mark_printed(db, actor=actor, order_ids=batch.order_ids)
    return WrittenFile(path=str(path), orders=len(batch.order_ids), documents=batch.slips)


def _database_files(db: Database) -> tuple[str, ...]:
    path = db.sqlite_path
    return (str(path),) if path else ()


def pick_list(db: Database, *, actor: Actor, order_ids: Sequence[int], sort: str = "bin") -> PickList:
    """The products to pick for the chosen orders: each SKU (and bin) once, quantities summed,
    refunded quantities left off, bundles as what is inside them. Raises PermissionDenied,
    ValidationError."""
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    ids = _check_batch(order_ids, "letter", sort)
    with db.begin() as s:
        slips = load_slips(s, ids, sort=sort)
        audit.record_views(s, actor, "print_pick_list", entity_type="order",
                           entities=((order_id, None) for order_id in ids))
    # One line per product, options and bin; the quantity summed and the orders counted.
    totals: dict[tuple, list] = {}
    for slip in slips:
        seen = set()
        stack = list(slip.lines)
        while stack:
            line = stack.pop()
            if line.contents:
                # A bundle is picked as the products inside it.
                stack.extend(line.contents)
                continue
            key = (line.sku or line.name, line.options, line.bin_location)
            entry = totals.setdefault(key, [line, 0, 0])
            entry[1] += line.quantity
            if key not in seen:
                entry[2] += 1
                seen.add(key)
    lines = [PickLine(sku=first.sku, name=first.name, options=first.options, bin_location=first.bin_location,
                      quantity=quantity, orders=orders) for first, quantity, orders in totals.values()]
    return PickList(made_at=datetime.now().astimezone(), order_numbers=tuple(s.number for s in slips),
                    lines=sorted_lines(lines, sort))


def render_pick_list(db: Database, *, actor: Actor, order_ids: Sequence[int], size: str = "letter",
                     sort: str = "bin") -> bytes:
    """The batch's pick list as a PDF. Raises as `pick_list`."""
    if size not in PAGE_SIZES:
        raise ValidationError("The paper size is letter, a4 or 4x6; nothing was printed.",
                              fields={"size": "Choose letter, a4 or 4x6."})
    out = io.BytesIO()
    write_pick_list(out, pick_list(db, actor=actor, order_ids=order_ids, sort=sort), size)
    return out.getvalue()


def write_pick_list_file(db: Database, *, actor: Actor, order_ids: Sequence[int], path: str | Path,
                         size: str = "letter", sort: str = "bin", replace: bool = False) -> WrittenFile:
    """Write the batch's pick list to a PDF file. Raises as `pick_list`, or UserFacingError for the file."""
    if size not in PAGE_SIZES:
        raise ValidationError("The paper size is letter, a4 or 4x6; nothing was printed.",
                              fields={"size": "Choose letter, a4 or 4x6."})
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    check_writable(path, replace=replace, protect=_database_files(db))
    pick = pick_list(db, actor=actor, order_ids=order_ids, sort=sort)
    out = io.BytesIO()
    pages = write_pick_list(out, pick, size)
    save_pdf(out.getvalue(), path, replace=replace, protect=_database_files(db))
    return WrittenFile(path=str(path), orders=len(pick.order_numbers), documents=pages)


def choose_orders(db: Database, *, actor: Actor, status: OrderStatus | None = None,
                  numbers: Sequence[str] = (), not_printed: bool = False, to_ship: bool = False,
                  limit: int = MAX_BATCH) -> tuple[int, ...]:
    """Ids of the orders to print, oldest first: those with the order `numbers`, or else those in
    `status` (only the ones not printed yet with `not_printed`, only the paid ones not shipped
    yet with `to_ship`).

    Raises PermissionDenied, or NotFound naming the order numbers that are not here.
    """
    access.require(db, actor, Permission.PRINT_DOCUMENTS)
    stmt = select(Order.id, Order.number)
    wanted = [n.strip().lstrip("#") for n in numbers if n.strip()]
    if wanted:
        stmt = stmt.where(Order.number.in_(wanted))
    if status is not None:
        stmt = stmt.where(Order.status == OrderStatus(status))
    if not_printed:
        stmt = stmt.where(Order.printed_at.is_(None))
    if to_ship:
        stmt = stmt.where(*to_ship_conditions())
    with db.read() as s:
        rows = s.execute(stmt.order_by(Order.created_at, Order.id).limit(limit)).all()
    if wanted:
        missing = sorted(set(wanted) - {r.number for r in rows})
        if missing:
            raise NotFound("No order numbered " + ", ".join(missing) + " here"
                           + (f" with the status {OrderStatus(status).value}" if status else "")
                           + "; nothing was printed.")
    return tuple(r.id for r in rows)


def set_gift_message(db: Database, *, actor: Actor, order_id: int, message: str) -> Changes:
    """Keep the message printed on the order's gift slip (empty clears it).

    A card number in it is refused and nothing is saved. Raises PermissionDenied,
    NotFound, ValidationError.
    """
    access.require(db, actor, Permission.EDIT_ORDERS)
    text = "\n".join(line.rstrip() for line in (message or "").strip().splitlines())
    guard = guard_text(text, field="the gift message")
    if guard.changed:
        raise ValidationError(guard.message + " The gift message was not saved.",
                              fields={"gift_message": guard.message})
    if len(text) > GIFT_MESSAGE_MAX:
        raise ValidationError(f"A gift message has at most {GIFT_MESSAGE_MAX} characters; it was not saved.",
                              fields={"gift_message": f"At most {GIFT_MESSAGE_MAX} characters."})
    with db.begin() as s:
        order = s.get(Order, order_id)
        if order is None:
            raise NotFound("This order is no longer here (it may have been deleted); the gift message was not saved.")
        order.gift_message = text
        audit.record(s, actor, "set_gift_message", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id, fields=["gift_message"])
    return Changes(orders=frozenset({order_id}))
