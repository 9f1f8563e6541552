"""Email addresses: the stored form, the lookup key, and validation with a readable message."""

from __future__ import annotations

import unicodedata

import email_validator

from backoffice.errors import ValidationError

__all__ = ["email_key", "normalize_email", "validate_email"]


def normalize_email(raw: str) -> str:
    """Return the address to store: trimmed, domain in lower case, local part as typed.

    The local part keeps its case because a mail server may, in principle, tell
    "Anna" from "anna"; compare addresses with `email_key` instead.
    Text without an "@" is only trimmed.
    """
    text = unicodedata.normalize("NFC", raw.strip())
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    return f"{local}@{domain.lower()}"


def email_key(raw: str) -> str:
    """Return the lookup key of an address: the stored form, all in lower case.

    Two addresses that differ only in case have the same key, which is what
    people expect when they look a customer up or check for a duplicate.
    """
    return normalize_email(raw).lower()


def _sentence(raw: str, error: email_validator.EmailNotValidError) -> str:
    text = raw.strip()
    if not text:
        return "Enter an email address."
    if "@" not in text:
        return "An email address needs an @ sign, as in name@example.com."
    if text.count("@") > 1:
        return "An email address has only one @ sign."
    local, _, domain = text.rpartition("@")
    if not local:
        return "Something must come before the @ sign, as in name@example.com."
    if not domain:
        return "A domain must come after the @ sign, as in name@example.com."
    if any(char.isspace() for char in text):
        return "An email address cannot contain spaces."
    if "." not in domain:
        return f"The part after the @ sign should have a dot, as in {local}@example.com."
    if "special-use or reserved" in str(error):
        return f"{domain} is a reserved name that cannot receive email."
    # email-validator's own messages are full sentences ("The part after the
    # @-sign is a special-use or reserved name that cannot be used with email.").
    return str(error)


def validate_email(raw: str) -> str:
    """Return the normalized address if it is well formed.

    The domain is not looked up (no network). Raises `ValidationError` with a
    sentence for the "email" field when the address cannot be used.
    """
    text = raw.strip()
    try:
        result = email_validator.validate_email(text, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        sentence = _sentence(text, error)
        raise ValidationError(sentence, fields={"email": sentence}) from None
    return normalize_email(result.normalized)
