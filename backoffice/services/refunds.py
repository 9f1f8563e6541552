"""Refunds recorded at the desk: an amount, a reason and (optionally) the lines and quantities it
is for, kept here and sent to the web store by the sync (which records it there; the money goes
back through the gateway or by hand, as the shop does it)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.domain import Order, OrderLine, OrderRefund, Payment
from backoffice.domain.base import utcnow
from backoffice.domain.cards import guard_text
from backoffice.domain.enums import OrderStatus, OutboxKind, PaymentStatus
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import ConflictError, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.outbox import queue_message
from backoffice.services.phone_orders import lock_order

audit.register_action("record_refund", "Recorded a refund")

REASON_MAX = 500
CENT = Decimal("0.01")

# Orders no money is given back on from here.
_NO_REFUND = {
    OrderStatus.TRASH: "It was deleted on the web store, so it is not refunded here.",
    OrderStatus.DELETED: "It was deleted on the web store, so it is not refunded here.",
    OrderStatus.DRAFT: "It is a checkout not finished on the web store: nothing was paid.",
}


@dataclass(frozen=True)
class RefundLine:
    """A line of the order and how many of it the refund is for."""

    line_id: int
    quantity: int


def amount_paid(s: Session, order: Order) -> Decimal:
    """What the customer paid for the order: its total once paid, else the payments recorded as paid."""
    if order.paid_at is not None:
        return order.total
    paid = s.execute(select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.order_id == order.id, Payment.status == PaymentStatus.PAID)).scalar_one()
    return Decimal(paid or 0).quantize(CENT)


def amount_refunded(s: Session, order_id: int) -> Decimal:
    """What was refunded so far, on the store or here (sent or waiting to be sent)."""
    total = s.execute(select(func.coalesce(func.sum(OrderRefund.amount), 0))
                      .where(OrderRefund.order_id == order_id)).scalar_one()
    return Decimal(total or 0).quantize(CENT)


def why_not_refund(s: Session, order: Order) -> tuple[Decimal, str]:
    """What may still be refunded on `order`, and why nothing may (empty when something may)."""
    if order.status in _NO_REFUND:
        return Decimal("0.00"), _NO_REFUND[order.status]
    paid = amount_paid(s, order)
    if paid <= 0:
        return Decimal("0.00"), "It is not paid, so there is nothing to refund."
    left = paid - amount_refunded(s, order.id)
    if left <= 0:
        return Decimal("0.00"), "All that was paid has been refunded already."
    return left, ""


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        raise ValidationError("Type the amount to refund, such as 12.50; nothing was refunded.",
                              fields={"amount": "Type the amount to refund, such as 12.50."})
    if amount != amount.quantize(CENT):
        raise ValidationError("An amount has at most two decimals; nothing was refunded.",
                              fields={"amount": "Use at most two decimals."})
    if amount <= 0:
        raise ValidationError("The amount to refund must be more than zero; nothing was refunded.",
                              fields={"amount": "Type an amount more than zero."})
    return amount.quantize(CENT)


def _reason(reason: str) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationError("Say why the money goes back; nothing was refunded.",
                              fields={"reason": "Say why (the web store keeps it with the refund)."})
    if len(text) > REASON_MAX:
        raise ValidationError(f"The reason is too long (at most {REASON_MAX} characters); nothing was refunded.",
                              fields={"reason": "Shorten the reason."})
    guard = guard_text(text, field="the reason")
    if guard.changed:
        raise ValidationError(f"{guard.message} Nothing was refunded.", fields={"reason": guard.message})
    return text


def _lines(s: Session, order_id: int, wanted: Iterable[RefundLine | Mapping]) -> list[tuple[OrderLine, int]]:
    """The order's lines with the quantity refunded of each; raises ValidationError (field "lines")."""
    chosen: dict[int, int] = {}
    for item in wanted:
        line_id = item["line_id"] if isinstance(item, Mapping) else item.line_id
        quantity = item["quantity"] if isinstance(item, Mapping) else item.quantity
        if int(quantity) > 0:
            chosen[int(line_id)] = chosen.get(int(line_id), 0) + int(quantity)
    if not chosen:
        return []
    rows = {l.id: l for l in s.scalars(select(OrderLine).where(OrderLine.order_id == order_id,
                                                               OrderLine.id.in_(list(chosen))))}
    result = []
    for line_id, quantity in chosen.items():
        line = rows.get(line_id)
        if line is None:
            raise ValidationError("A chosen line is not on this order; nothing was refunded.",
                                  fields={"lines": "Choose lines of this order."})
        left = line.quantity - (line.refunded_quantity or 0)
        if quantity > left:
            sentence = (f"“{line.name}” was ordered {line.quantity} times and {line.refunded_quantity or 0} "
                        f"were refunded already, so at most {max(left, 0)} can be refunded.")
            raise ValidationError(f"{sentence} Nothing was refunded.", fields={"lines": sentence})
        result.append((line, quantity))
    return result


def _lines_text(lines: list[tuple[OrderLine, int]]) -> str:
    """The refunded lines as the order page shows them: "1 × Blue Mug (12.50)", one a line."""
    return "\n".join(f"{q} × {line.name} ({(line.unit_price * q).quantize(CENT)})" for line, q in lines)


def record_refund(db: Database, *, actor: Actor, order_id: int, amount, reason: str,
                  lines: Iterable[RefundLine | Mapping] = (), expected_version: int | None = None) -> Changes:
    """Record money given back on an order and queue it for the web store.

    `amount` may not exceed what was paid less what was refunded before (on the store or
    here); `lines` (optional) say which lines and how many of each, at most what is left
    of each. The refund, the refunded quantities, its outbox message and the audit entry
    are written in one transaction; the refund shows as waiting to be sent until the
    store has it. The reason is checked for card numbers and kept on the refund, not in
    the outbox.

    Raises PermissionDenied, NotFound, ConflictError (the order changed since it was
    opened) and ValidationError (fields "amount", "reason", "lines"), each a sentence.
    """
    access.require(db, actor, Permission.REFUND_ORDERS)
    value = _amount(amount)
    text = _reason(reason)
    with db.begin() as s:
        order = lock_order(s, order_id)
        if expected_version is not None and order.version != expected_version:
            raise ConflictError("Someone else changed this order since it was opened; nothing was refunded. "
                                "Look at it again, then record the refund.")
        left, why = why_not_refund(s, order)
        if why:
            raise ValidationError(f"{why} Nothing was refunded.", fields={"amount": why})
        if value > left:
            paid = amount_paid(s, order)
            sentence = (f"At most {left} {order.currency} can be refunded: {paid} was paid and "
                        f"{paid - left} refunded already.")
            raise ValidationError(f"{sentence} Nothing was refunded.", fields={"amount": sentence})
        chosen = _lines(s, order.id, lines)
        refund = OrderRefund(order_id=order.id, amount=value, reason=text, lines=_lines_text(chosen),
                             refunded_at=utcnow())
        s.add(refund)
        for line, quantity in chosen:
            line.refunded_quantity = (line.refunded_quantity or 0) + quantity
        s.flush()
        message = queue_message(s, OutboxKind.CREATE_REFUND, "refund", refund.id)
        # Which lines and how many: ids and counts only; the reason is read from the refund when sent.
        # The SKU and name find the line again should the store's copy of the order replace its lines.
        message.payload = json.dumps({"order_id": order.id,
                                      "lines": [{"line_id": line.id, "quantity": q, "sku": line.sku or ""}
                                                for line, q in chosen]})
        audit.record(s, actor, "record_refund", entity_type="order", entity_id=order.id,
                     customer_id=order.customer_id, fields=["amount", "reason"] + (["lines"] if chosen else []))
    return Changes(orders=frozenset({order_id}), outbox=True)
