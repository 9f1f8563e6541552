"""The data model and the pure business rules of the back office."""

from backoffice.domain.audit import AuditEvent
from backoffice.domain.base import Base
from backoffice.domain.catalog import Product
from backoffice.domain.customers import Customer, CustomerAddress, CustomerNote
from backoffice.domain.newsletters import (
    ConsentEvent,
    ConsentWording,
    NewsletterList,
    Subscription,
    Suppression,
    SuppressionKey,
)
from backoffice.domain.orders import (
    Order,
    OrderAddress,
    OrderFee,
    OrderLine,
    OrderRefund,
    Payment,
    Shipment,
    ShippingLine,
)
from backoffice.domain.privacy import Disclosure, PrivacyRequest
from backoffice.domain.search import CustomerSearchTerm, CustomerSearchText  # noqa: F401
from backoffice.domain.settings import ShopSetting
from backoffice.domain.staff import StaffUser
from backoffice.domain.sync import OutboxMessage, SyncConflict, SyncCursor, SyncRun

__all__ = [
    "AuditEvent",
    "Base",
    "ConsentEvent",
    "ConsentWording",
    "Customer",
    "CustomerAddress",
    "CustomerNote",
    "Disclosure",
    "NewsletterList",
    "Order",
    "OrderAddress",
    "OrderFee",
    "OrderLine",
    "OrderRefund",
    "OutboxMessage",
    "Payment",
    "PrivacyRequest",
    "Product",
    "Shipment",
    "ShippingLine",
    "ShopSetting",
    "StaffUser",
    "Subscription",
    "Suppression",
    "SuppressionKey",
    "SyncConflict",
    "SyncCursor",
    "SyncRun",
]
