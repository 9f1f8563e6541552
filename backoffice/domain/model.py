"""Every mapped class of the data model, imported together so that the mappers and the
metadata know every table (the migrations, the database's opening and the tests use it)."""

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
from backoffice.domain.search import CustomerSearchTerm, CustomerSearchText
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
