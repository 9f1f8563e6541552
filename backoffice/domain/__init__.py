"""The data model and the pure business rules of the back office.

Importing this package loads nothing: the window paints before SQLAlchemy is imported. The
mapped classes are in `backoffice.domain.model` (all of them at once) and are also found here
by name (`from backoffice.domain import Customer` imports the model on first use).
"""

from __future__ import annotations


_MODEL_NAMES = frozenset({
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
})


def __getattr__(name: str):
    # Only the mapped classes: `from backoffice.domain import text` asks for submodules this way too.
    if name not in _MODEL_NAMES:
        raise AttributeError(f"module 'backoffice.domain' has no attribute {name!r}")
    import importlib  # late: only when a mapped class is first asked for by this name

    # The model brings SQLAlchemy, which start-up defers.
    model = importlib.import_module("backoffice.domain.model")
    try:
        return getattr(model, name)
    except AttributeError:
        raise AttributeError(f"module 'backoffice.domain' has no attribute {name!r}") from None
