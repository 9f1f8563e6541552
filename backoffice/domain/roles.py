"""Roles and what each may do, and who is acting: pure rules, read before the database opens."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backoffice.domain.enums import Role


class Permission(StrEnum):
    """Actions a service checks before it acts."""

    MANAGE_SETTINGS = "manage_settings"
    MANAGE_STAFF = "manage_staff"
    READ_AUDIT = "read_audit"
    FIND_CUSTOMERS = "find_customers"
    VIEW_CUSTOMER = "view_customer"
    EDIT_CUSTOMER = "edit_customer"
    MERGE_CUSTOMERS = "merge_customers"
    TAKE_PHONE_ORDER = "take_phone_order"
    VIEW_OWN_ORDERS = "view_own_orders"
    VIEW_ALL_ORDERS = "view_all_orders"
    EDIT_ORDERS = "edit_orders"
    # Money going back to a customer: kept from order takers.
    REFUND_ORDERS = "refund_orders"
    RECORD_PAYMENT = "record_payment"
    MANAGE_NEWSLETTERS = "manage_newsletters"
    PRINT_DOCUMENTS = "print_documents"
    LOG_PRIVACY_REQUEST = "log_privacy_request"
    DECIDE_PRIVACY_REQUEST = "decide_privacy_request"
    EXPORT_PERSONAL_DATA = "export_personal_data"
    ERASE_PERSONAL_DATA = "erase_personal_data"
    RECORD_DISCLOSURE = "record_disclosure"
    RUN_SYNC = "run_sync"
    # A note on a customer (a delivery preference, a call back) is part of taking an order.
    ADD_CUSTOMER_NOTE = "add_customer_note"


_ORDER_TAKER = frozenset(
    {
        Permission.FIND_CUSTOMERS,
        Permission.VIEW_CUSTOMER,
        Permission.TAKE_PHONE_ORDER,
        Permission.VIEW_OWN_ORDERS,
        Permission.RECORD_PAYMENT,
        Permission.ADD_CUSTOMER_NOTE,
    }
)
_STAFF = _ORDER_TAKER | {
    Permission.EDIT_CUSTOMER,
    Permission.MERGE_CUSTOMERS,
    Permission.VIEW_ALL_ORDERS,
    Permission.EDIT_ORDERS,
    Permission.REFUND_ORDERS,
    Permission.MANAGE_NEWSLETTERS,
    Permission.PRINT_DOCUMENTS,
    Permission.LOG_PRIVACY_REQUEST,
    Permission.RUN_SYNC,
}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ORDER_TAKER: _ORDER_TAKER,
    Role.STAFF: frozenset(_STAFF),
    Role.OWNER: frozenset(Permission),
    Role.SCHEDULED_JOB: frozenset({Permission.RUN_SYNC}),
}

# What each permission lets a person do, as the end of "… accounts may not …" and of
# the audit screen's "Refused: …".
PERMISSION_WORDS = {
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

ROLE_LABELS = {Role.OWNER: "Owner", Role.STAFF: "Staff", Role.ORDER_TAKER: "Order taker",
               Role.SCHEDULED_JOB: "Scheduled job"}


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in staff member at a desk (or a scheduled job)."""

    staff_id: int | None
    login: str
    role: Role
    desk: str = ""

    def may(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]
