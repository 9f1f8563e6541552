"""Phone numbers: one stored form for whatever people type, and phone searches.

Storing a phone
---------------
`normalize_phone` turns what was typed into a `Phone`:

* A number that parses as valid (with ``default_region`` for numbers typed without
  a country code) gets its E.164 form: ``e164="+17135550199"``,
  ``digits="17135550199"`` (E.164 without the plus), ``national_digits="7135550199"``
  (the national significant number, without trunk prefix) and the ``region`` the
  number belongs to.
* A number that cannot be parsed as valid ("555-0199", a typo, a number from a plan
  the metadata does not know) loses nothing: ``e164`` is ``None``, ``region`` is
  ``None``, and ``digits`` keeps every digit typed, in order. Only an international
  prefix written as "+" or "00" is left out, so that ``digits`` starts with the
  country code as it does for valid numbers. ``national_digits`` is the part after
  an explicitly typed country code, or ``digits`` when none was typed.
* An extension ("ext. 12", "x12", "#12") goes to ``extension`` and is not part of
  ``digits``.
* Text without any digit is not a phone: the result is ``None``.

Searching by phone
------------------
Store ``digits`` and ``phone_suffix_key(digits)`` (the digits reversed) in two
indexed columns. `phone_query` reads a search box string as a phone search when it
holds only digits and phone punctuation with at least four digits, and returns:

* ``exact``: digit strings that are the whole number: the E.164 digits and the
  national significant number when the text parses as a valid number, else the
  digits typed.
* ``suffix``: the digits a stored number must end with: the national significant
  number when the text parses as a valid number; otherwise the digits typed, with
  leading zeros (trunk or international prefix) dropped when eight or more digits
  were typed, so that "0199" keeps its zero but "07911 123456" matches +447911123456.

A stored number matches when its ``digits`` is in ``exact`` or ends with ``suffix``;
rank the exact matches first. "Ends with" is a prefix search on the reversed digits,
which both SQLite and PostgreSQL answer from a plain index with a range
(`PhoneQuery.key_range`): ``key >= low AND key < high``. So "+1 (713) 555-0199",
"7135550199", "713-555-0199", "555 0199" and "0199" all find a customer stored as
+17135550199.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from backoffice.domain.cards import contains_card_number

__all__ = [
    "Phone",
    "PhoneQuery",
    "normalize_phone",
    "phone_query",
    "phone_suffix_key",
]

# Characters people put between the digits of a phone number.
_PHONE_PUNCTUATION = frozenset(" +-.()/\u00a0\u2010\u2011\u2012\u2013\u2014\u2212")
_EXTENSION = re.compile(
    r"\s*(?:;\s*ext=|(?:e?xt(?:ension)?\.?|x|#)\s*)(\d{1,7})\s*#?\s*$", re.IGNORECASE
)
_MIN_QUERY_DIGITS = 4
# Below this many digits a leading zero is part of what was typed ("0199");
# from it on, leading zeros are a trunk or international prefix.
_FULL_NUMBER_DIGITS = 8


@dataclass(frozen=True, slots=True)
class Phone:
    """A phone number as stored: E.164 when valid, the typed digits always."""

    e164: str | None
    digits: str
    national_digits: str
    region: str | None
    extension: str | None = None

    @property
    def is_valid(self) -> bool:
        """True when the number parsed as a valid number and has an E.164 form."""
        return self.e164 is not None


@dataclass(frozen=True, slots=True)
class PhoneQuery:
    """A search box string read as a phone search (see the module docstring)."""

    exact: tuple[str, ...]
    suffix: str

    @property
    def suffix_key(self) -> str:
        """The reversed suffix: a prefix of the stored `phone_suffix_key`."""
        return phone_suffix_key(self.suffix)

    def key_range(self) -> tuple[str, str | None]:
        """Return ``(low, high)`` so that ``low <= key < high`` means "ends with suffix".

        ``high`` is ``None`` when there is no upper bound (a suffix key of only nines).
        """
        return self.suffix_key, _prefix_upper_bound(self.suffix_key)

    def matches(self, digits: str) -> bool:
        """Return True if a number stored with these `digits` answers this search."""
        return digits in self.exact or digits.endswith(self.suffix)


def _prefix_upper_bound(key: str) -> str | None:
    """The smallest digit string greater than every string starting with `key`."""
    stripped = key.rstrip("9")
    if not stripped:
        return None
    return stripped[:-1] + chr(ord(stripped[-1]) + 1)


def phone_suffix_key(digits: str) -> str:
    """Return the digits of `digits` reversed, for "ends with" searches on an index."""
    if not (digits.isascii() and digits.isdigit()):
        digits = _digits_of(digits)
    return digits[::-1]


def _digits_of(text: str) -> str:
    """Every decimal digit in `text`, in order, as ASCII (any script's digits)."""
    if text.isascii():
        return "".join(c for c in text if "0" <= c <= "9")
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def _split_extension(text: str) -> tuple[str, str | None]:
    match = _EXTENSION.search(text)
    if match is None or not _digits_of(text[: match.start()]):
        return text, None
    return text[: match.start()], match.group(1)


_Valid = tuple[phonenumbers.PhoneNumber, str]


@lru_cache(maxsize=None)
def _found_by_pattern(region: str) -> bool:
    """Whether `region_code_for_number` picks `region`, the first of a calling code's
    regions, by its number patterns (not by leading digits)."""
    metadata = PhoneMetadata.metadata_for_region(region, None)
    return metadata is not None and metadata.leading_digits is None


def _parse_valid(text: str, region: str | None) -> _Valid | None:
    """The number and the region it belongs to, when `text` parses as a valid number."""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    # What `is_valid_number` does, keeping the region it works out (the costly part)
    # instead of working it out a second time for the result.
    regions = COUNTRY_CODE_TO_REGION_CODE.get(number.country_code)
    if regions and (len(regions) == 1 or _found_by_pattern(regions[0])):
        # The code's only region, or its main one (tried first, by its number patterns):
        # a number valid there is that region's. One pattern check instead of two.
        if phonenumbers.is_valid_number_for_region(number, regions[0]):
            return number, regions[0]
        if len(regions) == 1:
            return None
    number_region = phonenumbers.region_code_for_number(number)
    if phonenumbers.is_valid_number_for_region(number, number_region):
        return number, number_region
    return None


def _valid_number(text: str, digits: str, region: str | None) -> _Valid | None:
    """Parse `text` as a valid number, trying the usual ways people write one.

    `digits` are the digits of `text` without any extension.
    """
    found = _parse_valid(text, region)
    if found is not None or text.lstrip().startswith("+"):
        return found
    if digits.startswith("00") and len(digits) > 4:
        # "00" is the international prefix in most of the world, even when the
        # default region dials out with another one (011 in North America).
        found = _parse_valid("+" + digits[2:], None)
    elif len(digits) >= 11 and not digits.startswith("0"):
        # A full international number copied without its "+" ("4915112345678").
        # Ten digits or fewer stay national, so no North American number is
        # ever read as a foreign one.
        found = _parse_valid("+" + digits, None)
    return found


def normalize_phone(raw: str, *, default_region: str | None = "US") -> Phone | None:
    """Return the stored form of a typed phone number, or None if it has no digit or its
    digits are a card number (whatever stood between them).

    `default_region` (ISO 3166 code) applies to numbers typed without a country
    code. Numbers that do not parse as valid keep their typed digits with
    ``e164=None``; see the module docstring for the exact rule.
    """
    # The same number comes back often (a customer and each of their orders, a scan of
    # every customer, a search typed again); the answer is a pure function of the two.
    return _normalize_cached(raw, default_region)


@lru_cache(maxsize=16384)
def _normalize_cached(raw: str, default_region: str | None) -> Phone | None:
    phone = _normalize_unchecked(raw, default_region)
    if phone is not None and _is_card_number(phone):
        return None
    return phone


@lru_cache(maxsize=4096)
def _normalize_unchecked(raw: str, default_region: str | None) -> Phone | None:
    return _normalize(raw, default_region)


def _is_card_number(phone: Phone) -> bool:
    """The digits kept as the phone's keys are a card number: they are no phone number.

    The digits are checked as they will be stored (every digit of the text, whatever
    stood between them); a valid number is checked with its "+", which clears an
    international number that happens to start inside a card range.
    """
    digits = ("+" if phone.is_valid else "") + phone.digits
    return contains_card_number(digits, context="phone")


def _normalize(raw: str, default_region: str | None) -> Phone | None:
    text = unicodedata.normalize("NFKC", raw).strip()
    body, extension = _split_extension(text)
    digits = _digits_of(body)
    if not digits:
        return None
    region = default_region.upper() if default_region else None
    found = _valid_number(text, digits, region)
    if found is not None:
        number, number_region = found
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        return Phone(
            e164=e164,
            digits=e164[1:],
            national_digits=phonenumbers.national_significant_number(number),
            region=number_region,
            extension=number.extension or extension,
        )
    national = digits
    has_plus = body.lstrip().startswith("+")
    if has_plus or (digits.startswith("00") and len(digits) > 4):
        if not has_plus:
            digits = digits[2:]
        try:
            parsed = phonenumbers.parse("+" + digits, None)
        except NumberParseException:
            national = digits
        else:
            national = phonenumbers.national_significant_number(parsed) or digits
    return Phone(
        e164=None, digits=digits, national_digits=national, region=None, extension=extension
    )


def _looks_like_phone(text: str) -> bool:
    count = 0
    for char in text:
        if char.isdecimal():
            count += 1
        elif char not in _PHONE_PUNCTUATION and not char.isspace():
            return False
    return count >= _MIN_QUERY_DIGITS


def phone_query(text: str, *, default_region: str | None = "US") -> PhoneQuery | None:
    """Read a search box string as a phone search, or return None if it is not one.

    It is one when it holds only digits and phone punctuation (spaces, "+-.()/")
    with at least four digits. See the module docstring for the matching rule.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    if not _looks_like_phone(text):
        return None
    # A search is not stored: what was typed is read as it is, card-shaped or not.
    phone = _normalize_unchecked(text, default_region)
    if phone is None:
        return None
    typed = _digits_of(text)
    if phone.is_valid and typed.endswith(phone.national_digits):
        exact = (phone.digits, phone.national_digits)
        return PhoneQuery(exact=exact, suffix=phone.national_digits)
    # Not a valid number, or one whose national form is not what was typed (a
    # few regions insert digits): match on the digits as typed.
    suffix = typed.lstrip("0") if len(typed) >= _FULL_NUMBER_DIGITS else typed
    exact = tuple(dict.fromkeys((typed, phone.digits)))
    return PhoneQuery(exact=exact, suffix=suffix or typed)
