"""Newsletter lists (email, SMS, postal), subscriptions, consent evidence and suppressions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.domain.base import Base, personal, utcnow
from backoffice.domain.enums import Channel, ConsentAction, SubscriptionStatus, enum_column


class NewsletterList(Base):
    __tablename__ = "newsletter_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    description: Mapped[str] = mapped_column(Text, default="")
    # The wording a person agrees to when they opt in; kept with each consent event.
    consent_wording: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Subscription(Base):
    """A person's current status on one list."""

    __tablename__ = "subscriptions"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("newsletter_lists.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(enum_column(SubscriptionStatus))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("list_id", "customer_id"),)


class ConsentEvent(Base):
    """Evidence of an opt-in, confirmation or opt-out: when, how, who took it, the wording."""

    __tablename__ = "consent_events"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("newsletter_lists.id", ondelete="CASCADE"), index=True)
    action: Mapped[ConsentAction] = mapped_column(enum_column(ConsentAction))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    method: Mapped[str] = mapped_column(String(40))  # web form, phone, letter, email link, import
    wording: Mapped[str] = mapped_column(Text, default="")
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    evidence: Mapped[str] = mapped_column(Text, default="", info=personal("free_text", erase="null"))


class Suppression(Base):
    """An address that must never be mailed again on a channel.

    Holds a keyed hash of the normalised email, phone or postal address, not the
    address itself, so it survives erasure without keeping the person's data.
    """

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    key_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("channel", "key_hash"),)
