"""Sync bookkeeping: cursors, the transactional outbox, conflicts and the sync log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.domain.base import Base, personal, utcnow
from backoffice.domain.enums import OutboxKind, OutboxStatus, enum_column


class SyncCursor(Base):
    """How far a pull has come (for orders: the last `date_modified_gmt` seen)."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutboxMessage(Base):
    """A change waiting to be sent to the web store.

    Written in the same transaction as the change itself, so nothing is lost when
    the store is away; `reference` is sent along and kept by the store, so a
    message whose answer was lost is looked up instead of sent twice.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[OutboxKind] = mapped_column(enum_column(OutboxKind))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    # JSON text; built from the record when sent, so erasure leaves no copy here.
    payload: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    store_id: Mapped[int | None]


Index("ix_outbox_status_id", OutboxMessage.status, OutboxMessage.id)
# The sync and the pull look up a record's messages still waiting (or failed) by these.
Index("ix_outbox_entity_status", OutboxMessage.entity_type, OutboxMessage.entity_id, OutboxMessage.status)


class PayLinkOutcome(StrEnum):
    """What became of a "send the pay link" message, kept in its payload as `outcome` once done."""

    EMAILED = "emailed"  # the store confirmed it emailed the order's details with the link
    NO_EMAIL = "no_email"  # the order has no email address
    UNSUPPORTED = "unsupported"  # the store is too old to email order details
    NOT_NEEDED = "not_needed"  # paid, or no longer paid by pay link, before it went out


class SyncConflict(Base):
    """The same field changed here and on the store; a person chooses which stays."""

    __tablename__ = "sync_conflicts"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(80))
    local_value: Mapped[str] = mapped_column(Text, default="", info=personal("free_text", erase="null"))
    store_value: Mapped[str] = mapped_column(Text, default="", info=personal("free_text", erase="null"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    resolution: Mapped[str] = mapped_column(String(20), default="")


class SyncRun(Base):
    """One sync run, for the sync log screen and the status bar."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    ok: Mapped[bool | None]
    pulled_orders: Mapped[int] = mapped_column(default=0)
    pulled_customers: Mapped[int] = mapped_column(default=0)
    pulled_products: Mapped[int] = mapped_column(default=0)
    pushed: Mapped[int] = mapped_column(default=0)
    requests: Mapped[int] = mapped_column(default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
