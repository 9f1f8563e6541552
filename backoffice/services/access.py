"""Permission checks done by services (not only by hiding buttons), audited when refused."""

from __future__ import annotations

from backoffice.domain.enums import AuditOutcome
from backoffice.domain.orders import Order
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import PermissionDenied
from backoffice.services import audit


def require(db, actor: Actor, permission: Permission, *, customer_id: int | None = None) -> None:
    """Raise PermissionDenied (and audit the refusal) unless `actor` may do `permission`.

    The refusal is written in its own transaction, so it stays recorded even though
    the caller's action does not happen.
    """
    if actor.may(permission):
        return
    audit.refuse(db, actor, permission, customer_id=customer_id)


def require_own_order(db, actor: Actor, order_id: int) -> None:
    """Raise PermissionDenied (and audit it) when an order taker reaches for an order
    someone else took; those who may see all orders, and unknown ids, pass (the caller
    says "not found" for those).
    """
    if actor.may(Permission.VIEW_ALL_ORDERS):
        return
    require(db, actor, Permission.VIEW_OWN_ORDERS)
    with db.begin() as s:
        row = s.get(Order, order_id)
        if row is None or row.created_by_staff_id == actor.staff_id:
            return
        number = row.number or f"(local {row.id})"
        audit.record(s, actor, f"denied:{Permission.VIEW_ALL_ORDERS.value}", entity_type="order",
                     entity_id=order_id, customer_id=row.customer_id, outcome=AuditOutcome.DENIED)
    raise PermissionDenied(
        f"Order {number} was taken by someone else, not one of yours; order taker accounts "
        "may only open the orders they took. Nothing was shown or changed."
    )
