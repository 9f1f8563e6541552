"""Newsletter lists (email, SMS, postal), subscriptions, consent evidence and suppressions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.domain.base import Base, personal, utcnow
from backoffice.domain.enums import Channel, ConsentAction, SubscriptionStatus, enum_column


class NewsletterList(Base):
    """A list the shop sends marketing on. Transactional messages (order confirmations,
    policy notices) are never lists, so nobody can be opted out of them here."""

    __tablename__ = "newsletter_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    description: Mapped[str] = mapped_column(Text, default="")
    # What the shop uses the list for, as told to the person ("monthly news and recipes").
    purpose: Mapped[str] = mapped_column(Text, default="")
    # The wording in force (the latest ConsentWording); each consent event keeps its own copy.
    consent_wording: Mapped[str] = mapped_column(Text, default="")
    # The list's name in the web store's consent meta value ("email_newsletter").
    store_key: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentWording(Base):
    """One version of a list's consent wording; versions are added, never changed."""

    __tablename__ = "consent_wordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("newsletter_lists.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))

    __table_args__ = (UniqueConstraint("list_id", "version"),)


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
    method: Mapped[str] = mapped_column(String(40))  # web_form, phone, paper, email, letter, import, store
    # The text as it was agreed to, kept here even when the list's wording changes later.
    wording: Mapped[str] = mapped_column(Text, default="")
    wording_id: Mapped[int | None] = mapped_column(ForeignKey("consent_wordings.id"))
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # Where the consent came from when known: the IP address of a web form's sender.
    source_address: Mapped[str] = mapped_column(
        String(64), default="", info=personal("identifier", erase="null"))
    evidence: Mapped[str] = mapped_column(Text, default="", info=personal("free_text", erase="null"))


class Suppression(Base):
    """An address that must never be mailed again on a channel, or on one list.

    Holds a keyed hash of the normalised email, phone or postal address, not the
    address itself, so it survives erasure without keeping the person's data.
    `list_id` 0 means every list of the channel (a bounce, or an opt-out of all).
    """

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    key_hash: Mapped[str] = mapped_column(String(64))
    list_id: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("channel", "key_hash", "list_id"),)


class SuppressionKey(Base):
    """A fingerprint of the secret the suppression hashes are keyed with.

    The secret itself lives in each desk's keyring; the fingerprint tells a desk with a
    different or missing secret that its hashes would not match, instead of letting
    suppressed addresses through.
    """

    __tablename__ = "suppression_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
