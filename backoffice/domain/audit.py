"""The audit trail: who did what to which record, chained so tampering shows.

An audit event holds ids and field names only, never personal data values, so
erasure never has to touch it and it never repeats what was erased. `seq` numbers the
entries without gaps; `mac` is a keyed MAC (HMAC-SHA256, key in the desk's keyring)
over the entry's place, id, content and the MAC before it, so someone who can only
write to the database cannot forge a consistent trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.domain.base import Base, utcnow
from backoffice.domain.enums import AuditOutcome, enum_column


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    desk: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[int | None]
    customer_id: Mapped[int | None] = mapped_column(index=True)
    # Names of the fields touched, as JSON text, e.g. ["email", "phone"].
    fields: Mapped[str] = mapped_column(Text, default="[]")
    outcome: Mapped[AuditOutcome] = mapped_column(enum_column(AuditOutcome), default=AuditOutcome.OK)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")
    # 1, 2, 3 ... in the order written; unlike ids (a sequence on PostgreSQL) never skips.
    seq: Mapped[int] = mapped_column(index=True, unique=True)
    # Empty on entries written before the trail was keyed, or by a desk without the key.
    mac: Mapped[str] = mapped_column(String(64), default="")
