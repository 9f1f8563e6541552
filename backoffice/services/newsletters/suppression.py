"""The suppression list: keyed hashes of addresses that opted out or bounced.

The hash is an HMAC-SHA256 keyed with a secret kept in the keyring (through
`backoffice.secrets`), so the table holds nothing that can be turned back into an
address by hashing guesses, and it stays after a person's erasure.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _random

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backoffice import secrets
from backoffice.db import Database
from backoffice.domain.emails import email_key
from backoffice.domain.enums import Channel
from backoffice.domain.newsletters import Suppression, SuppressionKey
from backoffice.domain.phones import normalize_phone
from backoffice.domain.staff import Actor, Permission
from backoffice.domain.text import fold
from backoffice.errors import UserFacingError, ValidationError
from backoffice.services import access, audit

EVERY_LIST = 0

audit.register_action("show_suppression_key", "Suppression key shown to copy to another desk")
audit.register_action("set_suppression_key", "Suppression key stored on this desk")

_FINGERPRINT_LABEL = b"backoffice suppression key check"


def _fingerprint(key: bytes) -> str:
    return hmac.new(key, _FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def suppression_secret(s: Session) -> bytes:
    """The secret the hashes are keyed with; made (and its fingerprint saved) on first use.

    Raises UserFacingError when this desk's keyring holds no secret, or another one,
    while the database already has suppressions keyed with a secret: hashing with the
    wrong key would let suppressed addresses through.
    """
    stored = s.execute(select(SuppressionKey.fingerprint).order_by(SuppressionKey.id).limit(1)).scalar()
    text = secrets.newsletter_suppression_key()
    if text is None and stored is None:
        text = _random.token_hex(32)
        secrets.set_newsletter_suppression_key(text)
        s.add(SuppressionKey(fingerprint=_fingerprint(text.encode())))
        s.flush()
        return text.encode()
    if text is None or (stored is not None and _fingerprint(text.encode()) != stored):
        raise UserFacingError(
            "This computer does not hold the key the shop's suppression list is kept with, so "
            "opted-out addresses cannot be checked here; nothing was changed. On a desk that has "
            "it, `backoffice lists suppression-key --show` prints it; here, `backoffice lists "
            "suppression-key --set` keeps it in the keyring (or set BACKOFFICE_SUPPRESSION_KEY).")
    if stored is None:
        s.add(SuppressionKey(fingerprint=_fingerprint(text.encode())))
        s.flush()
    return text.encode()


def normalised_address(channel: Channel, address: str, *, region: str = "US") -> str:
    """The form of an address that is hashed: a lower-case email, an E.164 number, or a
    folded postal address; empty when there is nothing to key on."""
    address = (address or "").strip()
    if not address:
        return ""
    if channel is Channel.EMAIL:
        return email_key(address) if "@" in address else ""
    if channel is Channel.SMS:
        phone = normalize_phone(address, default_region=region)
        return (phone.e164 or phone.digits) if phone is not None else ""
    return " ".join(fold(address).split())


def key_hash(secret: bytes, channel: Channel, normalised: str) -> str:
    """The keyed hash of a normalised address on a channel."""
    return hmac.digest(secret, f"{channel.value}:{normalised}".encode(), "sha256").hex()


def is_suppressed(s: Session, secret: bytes, channel: Channel, list_id: int, normalised: str) -> bool:
    """Whether the address may not be put back on this list without new consent."""
    if not normalised:
        return False
    digest = key_hash(secret, channel, normalised)
    return s.execute(select(Suppression.id).where(
        Suppression.channel == channel, Suppression.key_hash == digest,
        Suppression.list_id.in_((EVERY_LIST, list_id))).limit(1)).first() is not None


def suppressed_hashes(s: Session, channel: Channel, list_id: int) -> set[str]:
    """Every hash suppressed for this list (for checking many rows at once)."""
    return set(s.execute(select(Suppression.key_hash).where(
        Suppression.channel == channel, Suppression.list_id.in_((EVERY_LIST, list_id)))).scalars())


def suppress(s: Session, secret: bytes, channel: Channel, list_id: int, normalised: str, reason: str) -> None:
    """Put the address on the suppression list for one list (or `EVERY_LIST`)."""
    if not normalised:
        return
    digest = key_hash(secret, channel, normalised)
    exists = s.execute(select(Suppression.id).where(
        Suppression.channel == channel, Suppression.key_hash == digest,
        Suppression.list_id == list_id)).first()
    if exists is None:
        s.add(Suppression(channel=channel, key_hash=digest, list_id=list_id, reason=reason[:120]))


def lift(s: Session, secret: bytes, channel: Channel, list_id: int, normalised: str) -> None:
    """Take the address off the suppression list for this list: only after new consent."""
    if not normalised:
        return
    digest = key_hash(secret, channel, normalised)
    s.execute(delete(Suppression).where(
        Suppression.channel == channel, Suppression.key_hash == digest,
        Suppression.list_id.in_((EVERY_LIST, list_id))))


def key_matches(s: Session, text: str) -> bool:
    """Whether `text` is the secret the shop's suppressions are keyed with (True when none is set yet)."""
    stored = s.execute(select(SuppressionKey.fingerprint).order_by(SuppressionKey.id).limit(1)).scalar()
    return stored is None or _fingerprint(text.encode()) == stored


def show_key(db: Database, *, actor: Actor) -> str:
    """This desk's suppression key, to copy to another desk (owner only). Raises PermissionDenied,
    UserFacingError when this desk does not hold it."""
    access.require(db, actor, Permission.MANAGE_SETTINGS)
    with db.begin() as s:
        key = suppression_secret(s)
        audit.record(s, actor, "show_suppression_key", entity_type="suppression_key")
    return key.decode()


def set_key(db: Database, *, actor: Actor, text: str) -> bool:
    """Keep a suppression key copied from another desk in this desk's keyring (owner only).

    Returns False when it could only be kept in memory for this run. Raises
    PermissionDenied, ValidationError when it is not the shop's key.
    """
    access.require(db, actor, Permission.MANAGE_SETTINGS)
    text = (text or "").strip()
    with db.begin() as s:
        if not text or not key_matches(s, text):
            raise ValidationError("This is not the key the shop's suppression list is kept with; "
                                  "nothing was stored.")
        kept = secrets.set_newsletter_suppression_key(text)
        audit.record(s, actor, "set_suppression_key", entity_type="suppression_key")
    return kept
