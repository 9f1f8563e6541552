"""Keyed hashes (HMAC-SHA256) of emails and phones: recognise an address again without keeping it.

The key lives in the keyring (`backoffice.secrets`), never in the database, so a copy of
the database alone cannot test guesses against the hashes. Without a keyring the key is
made for this run only, and hashes made in another run do not match.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as token_source

from backoffice import secrets
from backoffice.domain.emails import email_key
from backoffice.domain.phones import normalize_phone

_KIND, _NAME = "privacy", "hash-key"


def _key() -> bytes:
    key = secrets.get_secret(_KIND, _NAME)
    if not key:
        key = token_source.token_hex(32)
        secrets.set_secret(_KIND, _NAME, key)
    return key.encode("ascii")


def normalised_contact(contact: str, *, region: str = "US") -> str:
    """An email in lower case, or a phone as E.164 (its digits when it does not parse); "" for nothing."""
    text = (contact or "").strip()
    if not text:
        return ""
    if "@" in text:
        try:
            return "email:" + email_key(text)
        except Exception:  # a malformed address still hashes as typed, in lower case
            return "email:" + text.lower()
    phone = normalize_phone(text, default_region=region)
    if phone is None:
        return ""
    return "phone:" + (phone.e164 or phone.digits)


def keyed_hash(contact: str, *, region: str = "US") -> str | None:
    """The keyed hash of an email or phone, or None when `contact` holds neither."""
    value = normalised_contact(contact, region=region)
    if not value:
        return None
    return hmac.new(_key(), value.encode("utf-8"), hashlib.sha256).hexdigest()
