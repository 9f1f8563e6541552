"""Products of the shop's catalogue, as synced from the web store."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.domain.base import Base, utcnow


class Product(Base):
    """A product (or variation) the shop sells."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int | None] = mapped_column(unique=True)
    sku: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), default="", index=True)
    price: Mapped[Decimal] = mapped_column(default=Decimal("0.00"))
    manage_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    stock_quantity: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(20), default="publish")
    # "simple", "variable" (sold only as one of its variations) or "variation".
    kind: Mapped[str] = mapped_column(String(20), default="simple", server_default="simple")
    # A variation's parent product on the store (sent with the variation on an order line).
    parent_store_id: Mapped[int | None] = mapped_column(index=True)
    # The store's backorder setting ("no", "notify", "yes") and its stock status, as it reports them.
    backorders: Mapped[str] = mapped_column(String(10), default="no", server_default="no")
    stock_status: Mapped[str] = mapped_column(String(20), default="instock", server_default="instock")
    weight_grams: Mapped[int | None]
    # Where it sits in the stock room ("A-03-2"); pick lists and slips can be sorted by it.
    bin_location: Mapped[str | None] = mapped_column(String(32))
    store_modified_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def in_stock(self, quantity: int = 1) -> bool:
        """Whether `quantity` can be sold now: unmanaged stock is always available, and so is
        managed stock the store takes backorders for (its stock then goes below zero)."""
        if self.backorders not in (None, "", "no"):
            return True
        return not self.manage_stock or (self.stock_quantity or 0) >= quantity
