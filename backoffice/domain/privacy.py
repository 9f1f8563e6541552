"""Privacy requests (access, correction, deletion, restriction, objection) and disclosures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.domain.base import Base, personal, utcnow
from backoffice.domain.enums import RequestKind, RequestStatus, enum_column

CLOSED_REQUEST_STATUSES = frozenset(
    {RequestStatus.FULFILLED, RequestStatus.PARTLY_FULFILLED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN}
)


class PrivacyRequest(Base):
    """A person's request about their data, on a legal clock."""

    __tablename__ = "privacy_requests"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind))
    status: Mapped[RequestStatus] = mapped_column(
        enum_column(RequestStatus), default=RequestStatus.RECEIVED, index=True
    )
    channel: Mapped[str] = mapped_column(String(20), default="email")
    # Who asked, as they gave it, when no customer record matches (yet).
    requester_name: Mapped[str] = mapped_column(String(200), default="", info=personal("name"))
    requester_contact: Mapped[str] = mapped_column(String(254), default="", info=personal("contact"))
    details: Mapped[str] = mapped_column(Text, default="", info=personal("free_text", erase="null"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(index=True)
    identity_verified_at: Mapped[datetime | None]
    identity_method: Mapped[str] = mapped_column(String(120), default="")
    identity_verified_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    logged_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    # What was kept and why, as JSON text: [{"what": "...", "why": "..."}].
    kept_items: Mapped[str] = mapped_column(Text, default="[]")
    reminded_at: Mapped[datetime | None]
    # A keyed hash (HMAC) of the requester's email or phone: recognises a repeat request
    # after erasure without keeping the address itself.
    requester_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # What fulfilment did, as JSON text: {"erased": [...], "kept": [...], "store": [...]}.
    outcome: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def is_open(self) -> bool:
        return self.status not in CLOSED_REQUEST_STATUSES


class Disclosure(Base):
    """Personal data given to a third party because the law required it."""

    __tablename__ = "disclosures"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    authority: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(120), default="")
    what_given: Mapped[str] = mapped_column(Text, default="")
    disclosed_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The owner may keep a disclosure out of the person's own export (a court may forbid telling).
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)


class PrivacyRequestEvent(Base):
    """One step in a request's history: logged, identity checked, decided, fulfilled."""

    __tablename__ = "privacy_request_events"
    __subject__ = "request_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    action: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="", info=personal("free_text", erase="null"))


class PolicyNotice(Base):
    """A change in how the shop uses personal data, announced to every customer ahead of time."""

    __tablename__ = "policy_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    effective_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))


class PolicyNoticeDelivery(Base):
    """A policy-change notice logged as sent to one person (a transactional message)."""

    __tablename__ = "policy_notice_deliveries"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("policy_notices.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    sent_to: Mapped[str] = mapped_column(String(254), default="", info=personal("contact", erase="null"))
    logged_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_policy_notice_deliveries_notice_customer", PolicyNoticeDelivery.notice_id,
      PolicyNoticeDelivery.customer_id, unique=True)
