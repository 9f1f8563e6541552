"""The customer's derived columns (email key, phone keys, sort name): the one rule for them.

Every path that writes a customer (the desk, a phone order, a file import, the store
sync) sets these columns from here, so a customer is found and sorted the same way
whichever path wrote them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backoffice.domain.customers import Customer
from backoffice.domain.emails import email_key
from backoffice.domain.phones import normalize_phone, phone_suffix_key
from backoffice.domain.text import fold

__all__ = ["DERIVED_FROM", "contact_columns", "customer_columns", "derived_columns_for", "sort_name"]

_EMAIL_KEY_MAX = Customer.__table__.c.email_key.type.length
_PHONE_DIGITS_MAX = Customer.__table__.c.phone_digits.type.length
_SORT_NAME_MAX = Customer.__table__.c.sort_name.type.length

#: Which typed fields each derived column is computed from.
DERIVED_FROM: dict[str, tuple[str, ...]] = {
    "email_key": ("email",),
    "phone_e164": ("phone",),
    "phone_digits": ("phone",),
    "phone_rev": ("phone",),
    "sort_name": ("first_name", "last_name", "company", "email"),
}


def sort_name(first_name: str, last_name: str, company: str, email: str | None) -> str:
    """The folded "last first" a customer sorts by; the company when there is no name, the
    email address when there is neither; cut to the column's length."""
    shown = f"{last_name or ''} {first_name or ''}".strip() or company or email or ""
    return fold(shown)[:_SORT_NAME_MAX]


def customer_columns(
    *, first_name: str, last_name: str, company: str, email: str | None,
    phone_e164: str | None, phone_digits: str | None,
) -> dict[str, Any]:
    """The derived columns from checked values and an already parsed phone (its E.164 form
    and its digits, both None when there is no phone)."""
    digits = (phone_digits or "")[:_PHONE_DIGITS_MAX] or None
    return {
        "email_key": email_key(email)[:_EMAIL_KEY_MAX] if email else None,
        "phone_e164": phone_e164 or None,
        "phone_digits": digits,
        "phone_rev": phone_suffix_key(digits) if digits else None,
        "sort_name": sort_name(first_name, last_name, company, email),
    }


def contact_columns(
    *, first_name: str, last_name: str, company: str, email: str | None, phone: str, region: str
) -> dict[str, Any]:
    """The derived columns, the phone read as the shop's region (`region`) would read it."""
    parsed = normalize_phone(phone, default_region=region) if phone else None
    return customer_columns(
        first_name=first_name, last_name=last_name, company=company, email=email,
        phone_e164=parsed.e164 if parsed else None, phone_digits=parsed.digits if parsed else None)


def derived_columns_for(changed: Iterable[str]) -> set[str]:
    """The derived columns to set again when the typed fields `changed` changed."""
    changed = set(changed)
    return {column for column, sources in DERIVED_FROM.items() if changed.intersection(sources)}
