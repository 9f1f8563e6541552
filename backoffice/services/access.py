"""Permission checks done by services (not only by hiding buttons), audited when refused."""

from __future__ import annotations

from backoffice.domain.enums import AuditOutcome
from backoffice.domain.staff import ROLE_LABELS, Actor, Permission
from backoffice.errors import PermissionDenied

_ACTION_WORDS = {
    Permission.MANAGE_SETTINGS: "change the shop's settings",
    Permission.MANAGE_STAFF: "manage staff accounts",
    Permission.READ_AUDIT: "read the audit trail",
    Permission.FIND_CUSTOMERS: "search customers",
    Permission.VIEW_CUSTOMER: "view a customer's details",
    Permission.EDIT_CUSTOMER: "change a customer's details",
    Permission.ADD_CUSTOMER_NOTE: "add a note to a customer",
    Permission.MERGE_CUSTOMERS: "merge customers",
    Permission.TAKE_PHONE_ORDER: "take phone orders",
    Permission.VIEW_OWN_ORDERS: "view orders",
    Permission.VIEW_ALL_ORDERS: "view all orders",
    Permission.EDIT_ORDERS: "change orders",
    Permission.REFUND_ORDERS: "refund orders",
    Permission.RECORD_PAYMENT: "record payments",
    Permission.MANAGE_NEWSLETTERS: "manage newsletter lists",
    Permission.PRINT_DOCUMENTS: "print packing slips",
    Permission.LOG_PRIVACY_REQUEST: "log privacy requests",
    Permission.DECIDE_PRIVACY_REQUEST: "decide privacy requests",
    Permission.EXPORT_PERSONAL_DATA: "export personal data",
    Permission.ERASE_PERSONAL_DATA: "erase personal data",
    Permission.RECORD_DISCLOSURE: "record disclosures",
    Permission.RUN_SYNC: "sync with the web store",
}


def require(db, actor: Actor, permission: Permission, *, customer_id: int | None = None) -> None:
    """Raise PermissionDenied (and audit the refusal) unless `actor` may do `permission`.

    The refusal is written in its own transaction, so it stays recorded even though
    the caller's action does not happen.
    """
    if actor.may(permission):
        return
    from backoffice.services import audit

    with db.begin() as s:
        audit.record(
            s, actor, f"denied:{permission.value}", customer_id=customer_id,
            outcome=AuditOutcome.DENIED,
        )
    raise PermissionDenied(
        f"{ROLE_LABELS[actor.role]} accounts may not {_ACTION_WORDS.get(permission, permission.value)}. "
        "Ask the shop owner if you need this."
    )


def require_own_order(db, actor: Actor, order_id: int) -> None:
    """Raise PermissionDenied (and audit it) when an order taker reaches for an order
    someone else took; those who may see all orders, and unknown ids, pass (the caller
    says "not found" for those).
    """
    if actor.may(Permission.VIEW_ALL_ORDERS):
        return
    require(db, actor, Permission.VIEW_OWN_ORDERS)
    from backoffice.domain.orders import Order
    from backoffice.services import audit

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
