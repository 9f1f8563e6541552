"""The closed sets of values the model uses (statuses, roles, channels)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Enum as SAEnum


def enum_column(enum_cls: type[StrEnum]) -> SAEnum:
    """A portable column type storing an enum's values as short strings."""
    from sqlalchemy import Enum as SAEnum  # late: the enums themselves are read before SQLAlchemy loads

    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    ERASED = "erased"


class AddressKind(StrEnum):
    BILLING = "billing"
    SHIPPING = "shipping"
    OTHER = "other"


class OrderStatus(StrEnum):
    """The web store's order statuses (WooCommerce names)."""

    PENDING = "pending"
    PROCESSING = "processing"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    FAILED = "failed"
    DRAFT = "checkout-draft"
    TRASH = "trash"  # deleted on the web store (moved to its trash), kept here
    DELETED = "deleted"  # deleted for good on the web store (in none of its listings), kept here


class OrderOrigin(StrEnum):
    WEB = "web"
    PHONE = "phone"


class PaymentMethod(StrEnum):
    """How an order was or will be paid; none of them lets a card number in."""

    PAY_LINK = "pay_link"  # the store's own order-pay page
    TERMINAL = "terminal"  # keyed on the gateway's own terminal, recorded by reference
    INVOICE = "invoice"
    BANK_TRANSFER = "bank_transfer"
    CASH_ON_PICKUP = "cash_on_pickup"
    STORE = "store"  # paid on the web store at checkout


class PaymentStatus(StrEnum):
    AWAITING = "awaiting"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"


class Role(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    ORDER_TAKER = "order_taker"
    # An account for unattended jobs (`backoffice sync` from cron); nobody signs in as it.
    SCHEDULED_JOB = "scheduled_job"


class RequestKind(StrEnum):
    ACCESS = "access"
    CORRECTION = "correction"
    DELETION = "deletion"
    DEACTIVATION = "deactivation"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    MARKETING_OPT_OUT = "marketing_opt_out"


class RequestStatus(StrEnum):
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    AWAITING_REVIEW = "awaiting_review"
    FULFILLED = "fulfilled"
    PARTLY_FULFILLED = "partly_fulfilled"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    POSTAL = "postal"


class SubscriptionStatus(StrEnum):
    UNCONFIRMED = "unconfirmed"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    CLEANED = "cleaned"  # the address bounced for good; only a new opt-in brings it back


class ConsentAction(StrEnum):
    OPT_IN = "opt_in"
    CONFIRM = "confirm"
    OPT_OUT = "opt_out"
    CLEAN = "clean"  # the mail tool reported a hard bounce


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after repeated refusals; shown to staff
    CONFLICT = "conflict"  # waits for a person to choose


class OutboxKind(StrEnum):
    CREATE_ORDER = "create_order"
    UPDATE_ORDER_STATUS = "update_order_status"
    MARK_ORDER_PAID = "mark_order_paid"
    ADD_TRACKING = "add_tracking"
    CREATE_REFUND = "create_refund"  # a refund recorded at the desk, for the store to record too
    CREATE_CUSTOMER = "create_customer"
    UPDATE_CUSTOMER = "update_customer"
    ERASE_CUSTOMER = "erase_customer"
    UPDATE_CONSENT = "update_consent"
    MERGE_CUSTOMERS = "merge_customers"
    SEND_PAY_LINK = "send_pay_link"  # the store emails the order's pay link to the customer
    # Erasure on the store: an order anonymised as WooCommerce's own eraser does, and an account
    # deleted for good; each names store ids only, never the person's data.
    ANONYMISE_STORE_ORDER = "anonymise_store_order"
    DELETE_STORE_CUSTOMER = "delete_store_customer"


class AuditOutcome(StrEnum):
    OK = "ok"
    DENIED = "denied"
    FAILED = "failed"
