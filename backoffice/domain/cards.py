"""The one card-number detector: every stored, imported, synced or logged text passes it.

The shop never holds a card number (promise P1). Whatever this module finds is masked
to its last 4 digits before anything is written.

How a number is found
=====================

1. **Chains.** A chain is a run of digit groups joined by anything a person could type
   between them, in any number: whitespace of any kind and length (line breaks, tabs,
   the ideographic space), format characters (zero-width spaces and joiners, the soft
   hyphen, direction marks), every dash and hyphen (also the minus sign and the
   full-width hyphen), and ``/ , _ .`` with their full-width twins. Digits of any script
   count (full-width, Arabic-Indic, Devanagari ...). Letters and other signs end a
   chain but do not hide it: "cc4111111111111111" holds a card. A group of digits run
   together is read whole: a 22-digit USPS number written without spaces is one number,
   not a card with digits around it.
2. **Windows.** Every stretch of whole groups of a chain with 12 to 19 digits that
   passes the Luhn check is looked at. It is a card when it matches an issuer range
   with a length that issuer uses (see ``_ISSUERS``: Visa 4 with 13/16/19 digits,
   Mastercard 51-55 and 2221-2720 with 16, American Express 34/37 with 15, Discover
   6011/644-649/65 with 16-19, JCB 3528-3589 with 16-19, Diners Club 300-305/3095/36/
   38-39 with 14-19, UnionPay 62/81 with 16-19, Maestro 5018/5020/5038/5893/6304/6759/
   6761-6763 with 12-19, and Mir, RuPay, Dankort, Troy, Verve, InterPayment,
   InstaPayment), or when it has 13 to 19 digits and starts inside an issuer range or
   is the whole chain. So every Luhn-valid number of 13 to 19 digits is a card, known
   issuer or not, unless the evidence below says it is something else. A 12-digit
   window is a card only inside a 12-digit issuer range (Maestro).
3. **Masking.** Overlapping windows are masked as one stretch; what is left of the
   chain after it, when at most 8 digits ("12 26 123"), goes with it, and so does an
   expiry date right after it ("exp 12/28", "valid thru 12-2028"). A short quantity
   before it stays ("Qty 2 [card number removed, ends 4242]").
4. **Security codes.** A 3-4 digit code after a word that names one (CVV, CVV2, CVC,
   CID, CSC, "security code", Sicherheitscode, cryptogramme ...), on its own or next
   to a card number, is replaced by ``[security code removed]``: PCI DSS forbids
   keeping one after authorisation.

False alarms are accepted (a table of numbers may lose a row); a missed card breaks
the promise.

When a number is something else
===============================

Evidence that *overrides* an issuer match (it is as strong as a card's own format):

- **IBAN**: the run lies inside an IBAN (an upper-case country code that uses them)
  that passes its mod-97 check
  ("GB82 WEST 1234 5698 7654 32").
- **UUID**: the run lies inside an 8-4-4-4-12 hexadecimal UUID.
- **Tracking number**: in a tracking field (``context="tracking"``) or after a carrier
  or tracking word, a chain written with spaces or dashes whose carrier check digit is
  right (USPS 20/22 digits or with its ZIP routing code, FedEx 12/15, DHL 10).
- **International phone number**, at most 15 digits (the E.164 limit):
  a ``+`` right before the run ("+49 170 1234 5678") and libphonenumber finds the
  number possible; or a bracketed area code right before it ("(030) ...", "+44 (0) ...")
  with at most 15 digits in all; or the run is written exactly in the international
  grouping of a valid phone number, the country code as its first group of 1-3 digits
  ("49 170 12345678", "86 138 0013 8000").
- **Product code**: in a product field (``context="product"``) or right after a product
  word (EAN, GTIN, UPC, ISBN, SKU, barcode), a run of at most 13 digits whose GS1 check
  digit is right ("EAN 4006381333931").

Evidence that clears only a number starting in *no* issuer range, and only when no
card word (card, Karte, carte, Visa, Amex, CC, credit, debit, CVV, exp, ...)
stands on the same line within 24 characters before it:

- **By context or label**: ``context="phone"`` or a phone word right before the run
  (Tel, Phone, Mobile, Fax, ...) for runs of at most 15 digits; ``context="tracking"``
  or a carrier or tracking word right before the run (Tracking, FedEx, UPS, USPS, DHL,
  Canada Post, Sendung, ...), which covers FedEx 12/15, Canada Post 16, DPD 14 digits;
  ``context="reference"`` or an order, invoice or transaction word, or ``#``, right
  before the run; ``context="product"`` or a product word right before the run.
  "Right before" means on the same line with no digit in between, at most 24
  characters after the word.
- **By value** of the whole chain, kept narrow: no card range starts with these digits,
  and the last two need a chain written without separators (machines print these;
  people group card numbers):

  - a decimal number: two groups joined by one dot ("0.12345678901234567");
  - an international ``00`` prefix: the run starts with ``00`` and has at most 17
    digits (``00`` plus at most 15);
  - an epoch timestamp: exactly 13, 16 or 19 digits starting with ``1`` (milli-, micro-
    or nanoseconds between 2001-09-09 and 2033-05-18);
  - a compact date-time ``YYYYMMDDhhmmss`` (14 digits) or with milliseconds (17 digits),
    a real date in the years 2000-2099.

Everything else that is Luhn-valid with 13 to 19 digits is treated as a card. Short
order numbers, 10-digit DHL numbers and "AB123456789GB" Royal Mail numbers never reach
the Luhn test at all.

Masking
=======

Each masked stretch is replaced by ``[card number removed, ends 1111]`` (one such marker
per card in it), so the text keeps none of the number's other digits. Whatever is
derived from a text (phone keys, search terms) is made from the masked text, after any
tidying: tidy first, check last.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from backoffice.domain.text import join_words
from backoffice.errors import ValidationError

__all__ = [
    "CardMatch",
    "Context",
    "GuardResult",
    "MaskResult",
    "PayloadGuardResult",
    "contains_card_number",
    "find_card_numbers",
    "fit_checked",
    "format_path",
    "guard_payload",
    "guard_text",
    "is_card_joiner",
    "luhn_valid",
    "mask_card_numbers",
    "mask_for",
    "may_contain_card_number",
    "may_contain_security_code",
    "validate_last4",
]

Context = Literal["text", "phone", "tracking", "reference", "product"]
_CONTEXTS = frozenset({"text", "phone", "tracking", "reference", "product"})

MASK_TEMPLATE = "[card number removed, ends {last4}]"
CODE_MASK = "[security code removed]"
_ADVICE = (
    "This shop never stores card numbers: take card payments on the payment page "
    "or the card terminal."
)

# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class CardMatch:
    """One card number found in a text."""

    start: int
    """Where the number starts in the original text."""
    end: int
    """Where it ends (exclusive); separators between its digits are inside the span."""
    digits: str
    """The bare digits, ASCII."""
    last4: str
    brand: str
    """"Visa", "Mastercard", ..., or "Unknown" outside the known issuer ranges."""


@dataclass(frozen=True, slots=True)
class MaskResult:
    """A text with every card number masked, and what was found."""

    text: str
    matches: tuple[CardMatch, ...]
    changed: bool
    message: str
    """A sentence for the person at the desk; empty when nothing was found."""


@dataclass(frozen=True, slots=True)
class GuardResult:
    """One field after the card check: the value to store and what to tell the person."""

    value: str | None
    field: str
    matches: tuple[CardMatch, ...]
    changed: bool
    message: str


PathPart = str | int
Path = tuple[PathPart, ...]


@dataclass(frozen=True, slots=True)
class PayloadGuardResult:
    """A cleaned copy of a payload and every card number found in it, by path.

    It unpacks as ``value, found``.
    """

    value: Any
    found: tuple[tuple[Path, CardMatch], ...]
    codes: tuple[Path, ...] = ()
    """Where a security code was removed (with no card number, or with one)."""

    def __iter__(self) -> Iterator[Any]:
        return iter((self.value, self.found))

    @property
    def changed(self) -> bool:
        return bool(self.found or self.codes)

    @property
    def message(self) -> str:
        if not self.changed:
            return ""
        paths = {p for p, _ in self.found} | set(self.codes)
        places = join_words(sorted({format_path(p) or "the data" for p in paths}))
        return _message([m for _, m in self.found], places, codes=len(self.codes))


# --------------------------------------------------------------------------- issuers

# (first prefix, last prefix, brand, lengths); both prefixes have the same length.
_ISSUERS: tuple[tuple[str, str, str, tuple[int, ...]], ...] = (
    ("4", "4", "Visa", (13, 16, 19)),
    ("51", "55", "Mastercard", (16,)),
    ("2221", "2720", "Mastercard", (16,)),
    ("34", "34", "American Express", (15,)),
    ("37", "37", "American Express", (15,)),
    ("6011", "6011", "Discover", tuple(range(16, 20))),
    ("644", "649", "Discover", tuple(range(16, 20))),
    ("65", "65", "Discover", tuple(range(16, 20))),
    ("3528", "3589", "JCB", tuple(range(16, 20))),
    ("300", "305", "Diners Club", tuple(range(14, 20))),
    ("3095", "3095", "Diners Club", tuple(range(14, 20))),
    ("36", "36", "Diners Club", tuple(range(14, 20))),
    ("38", "39", "Diners Club", tuple(range(14, 20))),
    ("62", "62", "UnionPay", tuple(range(16, 20))),
    ("81", "81", "UnionPay", tuple(range(16, 20))),
    ("5018", "5018", "Maestro", tuple(range(12, 20))),
    ("5020", "5020", "Maestro", tuple(range(12, 20))),
    ("5038", "5038", "Maestro", tuple(range(12, 20))),
    ("5893", "5893", "Maestro", tuple(range(12, 20))),
    ("6304", "6304", "Maestro", tuple(range(12, 20))),
    ("6759", "6759", "Maestro", tuple(range(12, 20))),
    ("6761", "6763", "Maestro", tuple(range(12, 20))),
    ("2200", "2204", "Mir", tuple(range(16, 20))),
    ("60", "60", "RuPay", (16,)),
    ("82", "82", "RuPay", (16,)),
    ("508", "508", "RuPay", (16,)),
    ("5019", "5019", "Dankort", (16,)),
    ("9792", "9792", "Troy", (16,)),
    ("636", "636", "InterPayment", tuple(range(16, 20))),
    ("637", "639", "InstaPayment", (16,)),
    ("506099", "506198", "Verve", (16, 18, 19)),
    ("507865", "507964", "Verve", (16, 18, 19)),
    ("650002", "650027", "Verve", (16, 18, 19)),
)


_IssuerTable = dict[str, tuple[tuple[str, tuple[int, ...]], ...]]


def _build_issuer_index() -> tuple[tuple[int, _IssuerTable], ...]:
    by_width: dict[int, dict[str, list[tuple[str, tuple[int, ...]]]]] = {}
    for first, last, brand, lengths in _ISSUERS:
        width = len(first)
        table = by_width.setdefault(width, {})
        for value in range(int(first), int(last) + 1):
            table.setdefault(str(value).zfill(width), []).append((brand, lengths))
    # Most specific prefix first, so 6011 (Discover) wins over 60 (RuPay).
    return tuple(
        (width, {k: tuple(v) for k, v in table.items()})
        for width, table in sorted(by_width.items(), reverse=True)
    )


_ISSUER_INDEX = _build_issuer_index()


def _issuer(digits: str) -> str | None:
    """The brand whose range and lengths fit these digits, or None."""
    n = len(digits)
    for width, table in _ISSUER_INDEX:
        for brand, lengths in table.get(digits[:width], ()):
            if n in lengths:
                return brand
    return None


# --------------------------------------------------------------------------- checks

_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(digits: str) -> bool:
    """True when the ASCII digits pass the Luhn check used by every card number."""
    total = 0
    odd = False
    for ch in reversed(digits):
        d = ord(ch) - 48
        total += _DOUBLED[d] if odd else d
        odd = not odd
    return total % 10 == 0


def _gs1_valid(digits: str) -> bool:
    """The GS1 (EAN/UPC/GTIN/ISBN-13) check digit."""
    body, check = digits[:-1], ord(digits[-1]) - 48
    total = sum((ord(ch) - 48) * (3 if i % 2 == 0 else 1) for i, ch in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _iban_valid(compact: str) -> bool:
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    try:
        number = "".join(str(int(ch, 36)) for ch in rearranged)
    except ValueError:
        return False
    return int(number) % 97 == 1


def _compact_datetime(digits: str) -> bool:
    if len(digits) not in (14, 17) or not digits.startswith("20"):
        return False
    try:
        datetime.strptime(digits[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- patterns

# What people put between digit groups: any whitespace (str.isspace: spaces of every
# width, tabs, line breaks), every format character (Unicode category Cf: zero-width
# spaces and joiners, the soft hyphen, direction marks, the byte-order mark) and every
# dash (Pd), listed below as code point ranges (a test checks them against Python's
# Unicode tables), and the signs below with their full-width twins.
_FORMAT_AND_DASH_RANGES = (
    (0x002D, 0x002D), (0x00AD, 0x00AD), (0x058A, 0x058A), (0x05BE, 0x05BE),
    (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x1400, 0x1400), (0x1806, 0x1806),
    (0x180E, 0x180E), (0x200B, 0x2015), (0x202A, 0x202E), (0x2060, 0x2064),
    (0x2066, 0x206F), (0x2E17, 0x2E17), (0x2E1A, 0x2E1A), (0x2E3A, 0x2E3B),
    (0x2E40, 0x2E40), (0x2E5D, 0x2E5D), (0x301C, 0x301C), (0x3030, 0x3030),
    (0x30A0, 0x30A0), (0xFE31, 0xFE32), (0xFE58, 0xFE58), (0xFE63, 0xFE63),
    (0xFEFF, 0xFEFF), (0xFF0D, 0xFF0D), (0xFFF9, 0xFFFB), (0x10EAD, 0x10EAD),
    (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x13438), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
_OTHER_JOINERS = (
    "\u2212/,_.:;|*'~\\\u00b7\u2022\u2027\u2044\u2215\u30fb\u3001\u3002\ufe50\ufe52\ufe63\u02d7"
    "\uff07\uff0c\uff0e\uff0f\uff1a\uff1b\uff3c\uff3f\uff5c\uff5e\uff65\uff0a"
)


def _joiner_class() -> str:
    parts = [r"\s", re.escape(_OTHER_JOINERS)]
    for first, last in _FORMAT_AND_DASH_RANGES:
        parts.append(re.escape(chr(first)))
        if last > first:
            parts.append("-" + re.escape(chr(last)))
    return "[" + "".join(parts) + "]"


_JOIN = _joiner_class()
_ONE_JOINER = re.compile(_JOIN)
# The ASCII characters among them; \x1c-\x1f count as whitespace for str.isspace.
ASCII_CARD_JOINERS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f-/,_.:;|*'~\\"
_JOIN_ASCII = "[" + re.escape(ASCII_CARD_JOINERS) + "]"

# A chain: at least twelve digits of any script, joined by any number of joiners.
# Letters and every other sign end it. Plain ASCII texts, the usual case, use the
# ASCII twin, which is faster and finds the same chains in them.
_CHAIN = re.compile(rf"\d(?:{_JOIN}*\d){{11,}}")
_CHAIN_ASCII = re.compile(rf"[0-9](?:{_JOIN_ASCII}*[0-9]){{11,}}", re.ASCII)
_DIGIT_GROUP = re.compile(r"\d+")

_PLUS_BEFORE = re.compile(r"\+ ?$")
_HASH_BEFORE = re.compile(r"# ?$")
_BRACKET_BEFORE = re.compile(r"(?:\+ ?(\d{1,3}) ?)?\((\+? ?\d{1,5})\)[ \-]?$")
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# An IBAN starts with the upper-case code of a country that uses them.
_IBAN_COUNTRIES = (
    "AD AE AL AT AZ BA BE BG BH BI BR BY CH CR CY CZ DE DJ DK DO EE EG ES FI FK FO FR GB GE "
    "GI GL GR GT HR HU IE IL IQ IS IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MN MR MT MU "
    "NI NL NO OM PK PL PS PT QA RO RS RU SA SC SD SE SI SK SM SO ST SV TL TN TR UA VA VG XK YE"
)
_IBAN = re.compile(
    rf"(?<![A-Za-z0-9])(?:{_IBAN_COUNTRIES.replace(' ', '|')})\d{{2}}(?: ?[A-Za-z0-9]){{11,30}}"
)

_LABEL_WORDS = {
    "phone": (
        r"tel|t[eé]l[eé]?phone|telefon|tel[eé]fono|phone|mobile?|mobil|handy|cell(?:phone)?"
        r"|fax|whatsapp|sms|call"
    ),
    "tracking": (
        r"track(?:ing)?|sendung(?:snummer|sverfolgung)?|shipment|parcel|package|consignment"
        r"|waybill|awb|colis|paket|fedex|ups|usps|dhl|dpd|gls|hermes|evri|royal\s+mail"
        r"|parcelforce|canada\s+post|postes\s+canada|australia\s+post|postnl|la\s+poste"
        r"|colissimo|chronopost|correos|bpost|tnt|purolator|ontrac|aramex"
    ),
    "reference": (
        r"order|orders|bestellung|bestellnummer|bestellnr|commande|pedido|invoice|rechnung"
        r"|facture|receipt|transaction|txn|reference|ref|referenz|id"
    ),
    "product": r"ean|gtin|upc|isbn|sku|barcode|mpn|artikelnummer",
}
_CARD_WORD_BEFORE = re.compile(
    r"(?i)(?<![^\W\d_])(?:cards?|carte|karte|kreditkarte|tarjeta|cart[aã]o|visa"
    r"|master\s?card|amex|american\s+express|discover|maestro|jcb|diners|union\s?pay"
    r"|cc|credit|debit|kk|pan|cvv|cvc|exp|expiry|expires)(?![^\W\d_])[^\d\n]{0,24}$"
)
_LABEL_BEFORE = re.compile(
    r"(?i)(?<![^\W\d_])(?:"
    + "|".join(f"(?P<{kind}>{words})" for kind, words in _LABEL_WORDS.items())
    + r")(?![^\W\d_])[^\d\n]{0,24}$"
)

# An expiry date right after a removed number, with or without its label:
# "exp 12/28", "valid thru 12-2028", "12/28", "ablauf 1228".
_EXPIRY_WORD = (
    r"exp(?:iry|ires|iration)?(?:\s*date)?|valid(?:\s+(?:thru|through|until|to))?|good\s+thru"
    r"|g[üu]ltig(?:\s+bis)?|ablauf(?:datum)?|date|mm\s*/\s*yy"
)
_EXPIRY_AFTER = re.compile(
    # A few letters may touch the number ("cc4111...x exp 12/28").
    rf"(?i)(?:[^\W\d_]{{1,3}}(?=[^\w\n]))?[^\w\n]{{0,6}}(?:(?:(?:{_EXPIRY_WORD})\.?[^\w\n]{{0,4}})?\d{{1,2}}\s*[/\-.]\s*\d{{2}}(?:\d{{2}})?"
    rf"|(?:{_EXPIRY_WORD})\.?[^\w\n]{{0,4}}\d{{4}})(?!\d)"
    # A bare 3-4 digit security code right after the expiry.
    r"(?:[^\w\n]{0,3}\d{3,4}(?!\d))?"
)
# A card's security code after the word that names it, wherever it is typed, with or
# without a number: PCI DSS forbids keeping one after authorisation.
_SECURITY_CODE = re.compile(
    r"(?i)(?<![^\W\d_])(?:cvv2?|cvc2?|cvn2?|cvd|cav2?|cid|csc|cvk|spc"
    r"|(?:card\s*)?security\s*(?:code|number|no\.?)|sec\.?\s*code"
    r"|(?:card\s*)?verification(?:\s*(?:code|value|number))?"
    r"|sicherheits(?:code|nummer)|(?:karten)?pr[üu]f(?:nummer|ziffer|code)"
    r"|cryptogramme(?:\s+visuel)?|code\s+de\s+s[ée]curit[ée]"
    r"|c[óo]digo\s+de\s+seguran[çc]a|c[óo]digo\s+de\s+seguridad|codice\s+di\s+sicurezza)"
    r"(?![^\W\d_])[^\d]{0,24}?(?<!\d)(?P<code>\d{3,4})(?!\d)"
)

# --------------------------------------------------------------------------- scanning


@dataclass(frozen=True, slots=True)
class _Run:
    start: int
    end: int
    digits: str
    groups: tuple[tuple[int, int, str], ...]  # (start, end, ascii digits) per group
    separators: str


def _ascii_digits(s: str) -> str:
    if s.isascii():
        return s
    return "".join(str(unicodedata.decimal(ch)) for ch in s)


def _parse_run(text: str, start: int, end: int) -> _Run:
    groups = tuple(
        (m.start(), m.end(), _ascii_digits(m.group()))
        for m in _DIGIT_GROUP.finditer(text, start, end)
    )
    return _sub_run(text, groups)


def _sub_run(text: str, groups: tuple[tuple[int, int, str], ...]) -> _Run:
    separators = "".join(
        text[a[1] : b[0]] for a, b in zip(groups, groups[1:], strict=False)
    )
    return _Run(groups[0][0], groups[-1][1], "".join(g[2] for g in groups), groups, separators)


def _label_before(text: str, start: int) -> str | None:
    m = _LABEL_BEFORE.search(text, max(0, start - 48), start)
    if m is None:
        return None
    return m.lastgroup


def _inside(pattern: re.Pattern[str], text: str, start: int, end: int) -> bool:
    lo, hi = max(0, start - 40), min(len(text), end + 40)
    return any(m.start() <= start and m.end() >= end for m in pattern.finditer(text, lo, hi))


def _inside_iban(text: str, start: int, end: int) -> bool:
    lo, hi = max(0, start - 40), min(len(text), end + 40)
    for m in _IBAN.finditer(text, lo, hi):
        if not (m.start() <= start and m.end() >= end):
            continue
        # The pattern may run on into the following words: try every length that
        # still covers the run.
        compact = ""
        for i in range(m.start(), m.end()):
            if text[i] != " ":
                compact += text[i].upper()
                if i >= end - 1 and _iban_valid(compact):
                    return True
    return False


def _phone_possible(digits: str) -> bool:
    import phonenumbers  # late: its country data takes half a second to load; few texts need it

    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


def _written_as_phone(run: _Run) -> bool:
    """The run is grouped exactly as libphonenumber writes a valid international number."""
    if len(run.groups) < 2 or len(run.groups[0][2]) > 3 or len(run.digits) > 15:
        return False
    if any(sep not in " -" for sep in run.separators):
        return False
    import phonenumbers  # late: its country data takes half a second to load; few texts need it

    try:
        number = phonenumbers.parse("+" + run.digits, None)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(number):
        return False
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return [len(g) for g in re.findall(r"\d+", written)] == [len(g[2]) for g in run.groups]


_FEDEX_WEIGHTS = (1, 3, 7)


def _carrier_valid(digits: str) -> str | None:
    """The carrier whose check digit these digits carry, by length: USPS (20, 22, or
    with its ZIP routing code 30 and 34), FedEx (12 Express, 15 Ground, 20 and 22
    SmartPost) or DHL Express (10)."""
    n = len(digits)
    if n == 10 and int(digits[:9]) % 7 == ord(digits[9]) - 48:
        return "DHL"
    if n == 12:
        total = sum((ord(ch) - 48) * _FEDEX_WEIGHTS[i % 3]
                    for i, ch in enumerate(reversed(digits[:11])))
        if total % 11 % 10 == ord(digits[11]) - 48:
            return "FedEx"
        return None
    if n in (15, 20, 22, 30, 34) and _gs1_valid(digits):
        return "USPS" if n != 15 else "FedEx"
    return None


def _other_thing(
    text: str, run: _Run, chain: _Run, digits: str, issuer: str | None, context: str
) -> str | None:
    """Why the digits of ``run`` (a window of ``chain``) are not a card, or None when
    they are one. ``issuer`` is set only when they fit an issuer's range and length."""
    n = len(digits)
    start = run.start
    # Evidence strong enough to beat an issuer match.
    before = text[max(0, start - 48) : start]
    if n <= 15:
        if _PLUS_BEFORE.search(before) and _phone_possible(digits):
            return "phone number (+ prefix)"
        bracket = _BRACKET_BEFORE.search(before)
        if bracket:
            cc = bracket.group(1) or ""
            area = re.sub(r"\D", "", bracket.group(2))
            if len(cc) + (0 if area == "0" else len(area)) + n <= 15:
                return "phone number (bracketed area code)"
        if _written_as_phone(run):
            return "phone number (international grouping)"
    label = _label_before(text, start)
    if (context == "product" or label == "product") and n <= 13 and _gs1_valid(digits):
        return "product code"
    if _inside(_UUID, text, run.start, run.end):
        return "UUID"
    if _inside_iban(text, run.start, run.end):
        return "IBAN"
    # A tracking number whose check digit is right for its carrier, in a tracking field
    # or after a carrier's or tracking word.
    if (
        chain.separators.strip(" -") == ""
        and _carrier_valid(chain.digits)
        and (context == "tracking" or _label_before(text, chain.start) == "tracking")
    ):
        return "tracking number (check digit)"
    if issuer is not None or _prefix_only(digits):
        return None
    # Evidence that clears only numbers outside every issuer range, and only when no
    # card word stands right before the number.
    if _CARD_WORD_BEFORE.search(before):
        return None
    if chain.separators == "." and len(chain.groups) == 2:
        return "decimal number"
    # These read the whole chain: a part of a number cleared by its value is cleared too.
    whole = chain.digits
    if whole.startswith("00") and len(whole) <= 17:
        return "phone number (00 prefix)"
    if not chain.separators:
        if len(whole) in (13, 16, 19) and whole[0] == "1":
            return "epoch timestamp"
        if _compact_datetime(whole):
            return "date-time"
    if (context == "phone" or label == "phone") and n <= 15:
        return "phone number (labelled)"
    if context == "tracking" or label == "tracking":
        return "tracking number"
    if context == "reference" or label == "reference" or _HASH_BEFORE.search(before):
        return "reference number"
    if context == "product" or label == "product":
        return "product code"
    return None


def _luhn_sums(digits: str) -> tuple[list[int], list[int], list[int], list[int]]:
    """Running sums for the Luhn check of any slice: plain and doubled digit values at
    even and at odd positions."""
    even, odd, even2, odd2 = [0], [0], [0], [0]
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        dd = _DOUBLED[d]
        if i % 2:
            even.append(even[-1]), even2.append(even2[-1])
            odd.append(odd[-1] + d), odd2.append(odd2[-1] + dd)
        else:
            even.append(even[-1] + d), even2.append(even2[-1] + dd)
            odd.append(odd[-1]), odd2.append(odd2[-1])
    return even, odd, even2, odd2


def _prefix_only(digits: str) -> bool:
    """The digits start inside an issuer range, whatever their length."""
    return any(digits[:width] in table for width, table in _ISSUER_INDEX)


@dataclass(frozen=True, slots=True)
class _Found:
    """A stretch of text to replace: one or more cards (with any expiry after them), or a
    security code alone (no cards)."""

    start: int
    end: int
    cards: tuple[CardMatch, ...]


def _judge_chain(text: str, start: int, end: int, context: str) -> list[_Found]:
    """The cards in one chain of digit groups (see the module doc)."""
    chain = _parse_run(text, start, end)
    groups = chain.groups
    count = len(groups)
    digits = chain.digits
    offsets = [0]
    for g in groups:
        offsets.append(offsets[-1] + len(g[2]))
    # A long chain has many windows: running sums make each Luhn check one subtraction.
    sums = _luhn_sums(digits) if len(digits) > 40 else None
    # Every window of whole groups with 12 to 19 digits that could be a card.
    windows: dict[int, list[tuple[int, bool]]] = {}
    for i in range(count):
        lo = offsets[i]
        for j in range(i, count):
            hi = offsets[j + 1]
            size = hi - lo
            if size > 19:
                break
            if size < 12:
                continue
            if sums is None:
                window = digits[lo:hi]
                if not luhn_valid(window):
                    continue
            else:
                even, odd, even2, odd2 = sums
                # The last digit is never doubled: digits at its parity count plain.
                if (hi - 1) % 2:
                    total = odd[hi] - odd[lo] + even2[hi] - even2[lo]
                else:
                    total = even[hi] - even[lo] + odd2[hi] - odd2[lo]
                if total % 10:
                    continue
                window = digits[lo:hi]
            issuer = _issuer(window)
            if issuer is None and (size == 12 or not (
                (i == 0 and j == count - 1) or _prefix_only(window)
            )):
                continue
            run = _sub_run(text, groups[i : j + 1]) if (i, j) != (0, count - 1) else chain
            if _other_thing(text, run, chain, window, issuer, context) is not None:
                continue
            windows.setdefault(i, []).append((j, issuer is not None))
    if not windows:
        return []
    found: list[_Found] = []
    i = min(windows)
    while i < count:
        if i not in windows:
            i += 1
            continue
        # One block of overlapping windows is masked whole; within it, the cards named
        # are picked from the left, issuer-shaped and longer ones first.
        block_end = i
        k = i
        while k <= block_end:
            if k in windows:
                block_end = max(block_end, max(j for j, _ in windows[k]))
            k += 1
        cards: list[CardMatch] = []
        k = i
        while k <= block_end:
            if k in windows:
                j = max(windows[k], key=lambda w: (w[1], w[0]))[0]
                card_digits = digits[offsets[k] : offsets[j + 1]]
                cards.append(CardMatch(groups[k][0], groups[j][1], card_digits, card_digits[-4:],
                                       _issuer(card_digits) or "Unknown"))
                k = j + 1
            else:
                k += 1
        stop = groups[block_end][1]
        # What is left of the chain, up to 8 digits, is an expiry date and security code.
        if block_end + 1 < count and offsets[count] - offsets[block_end + 1] <= 8:
            stop = end
            block_end = count - 1
        found.append(_Found(groups[i][0], stop, tuple(cards)))
        i = block_end + 1
    return found


def _scan(text: str, context: str) -> list[_Found]:
    if context not in _CONTEXTS:
        raise ValueError(f"unknown context {context!r}; use one of {sorted(_CONTEXTS)}")
    found: list[_Found] = []
    if len(text) < 7 or not _has_digit(text):
        return found
    if len(text) >= 12:
        for m in (_CHAIN_ASCII if text.isascii() else _CHAIN).finditer(text):
            found.extend(_judge_chain(text, m.start(), m.end(), context))
    # An expiry date next to a removed number goes with it.
    for n, item in enumerate(found):
        expiry = _EXPIRY_AFTER.match(text, item.end)
        if expiry and (n + 1 == len(found) or expiry.end() <= found[n + 1].start):
            found[n] = _Found(item.start, expiry.end(), item.cards)
    codes = [
        _Found(m.start("code"), m.end("code"), ())
        for m in _security_codes(text)
        if not any(f.start < m.end("code") and m.start("code") < f.end for f in found)
    ]
    if codes:
        found = sorted(found + codes, key=lambda f: f.start)
    return found


_ANY_DIGIT = re.compile(r"\d")
# What every word of _SECURITY_CODE holds, for first looks over bytes lowered as ASCII
# (which leaves "Ü" and "Ó" as they are).
SECURITY_CODE_HINTS = (
    "cvv", "cvc", "cvn", "cvd", "cvk", "cid", "csc", "cav", "spc", "sec", "verif", "sicherh",
    "karten", "prüf", "prÜf", "pruf", "crypto", "code", "códig", "cÓdig", "codig", "codice",
)
# How each word of _SECURITY_CODE starts, in lower case: the pattern is tried only where
# one of these stands, which is several times faster than searching with it.
_CODE_WORD_START = re.compile("cv|cid|csc|cav|spc|sec|verif|sicherh|karten|pr[üu]f|crypto|c[oó]d")


def _has_digit(text: str) -> bool:
    # Ten substring searches beat the regex engine on long ASCII texts only.
    if len(text) > 300 and text.isascii():
        return any(d in text for d in "0123456789")
    return _ANY_DIGIT.search(text) is not None


def _security_codes(text: str) -> list[re.Match[str]]:
    """Each security code after its word (see _SECURITY_CODE), in order."""
    if not text.isascii():
        # Full-width letters ("ＣＶＶ") read as the letters they stand for, when that keeps
        # every character in its place.
        folded = unicodedata.normalize("NFKC", text)
        if len(folded) == len(text):
            text = folded
    low = text.lower()
    if len(low) != len(text):  # a few letters lower to two characters: search it all
        return list(_SECURITY_CODE.finditer(text))
    out: list[re.Match[str]] = []
    done = -1
    for start in _CODE_WORD_START.finditer(low):
        at = start.start()
        if at < done:
            continue
        m = _SECURITY_CODE.match(text, at)
        if m is not None:
            out.append(m)
            done = m.end()
    return out


# --------------------------------------------------------------------------- public API


def is_card_joiner(char: str) -> bool:
    """True when the detector reads ``char`` as what people put between digit groups."""
    return _ONE_JOINER.fullmatch(char) is not None


def fit_checked(text: str, width: int, *, context: Context = "text") -> str:
    """``text`` cut to at most ``width`` characters, with card numbers masked after the cut.

    Cutting can make a card number of digits that were none before ("4111 1111 1111
    11112" cut by one character): tidy first, check last.
    """
    if len(text) <= width and (
        len(text) < 7 or not _has_digit(text) or (len(text) < 12 and not _CODE_WORD_START.search(text.lower()))
    ):
        return text  # nothing to cut, and nothing to find: the usual case, kept cheap
    for _ in range(8):
        cut = text[:width]
        masked = mask_card_numbers(cut, context=context).text
        if masked == cut:
            return cut
        text = masked
    return ""


def find_card_numbers(text: str, *, context: Context = "text") -> list[CardMatch]:
    """Every card number in ``text``, in order.

    ``context`` names the field the text comes from: "text" (notes, addresses, anything
    free), "phone", "tracking", "reference" (order, invoice and transaction numbers) or
    "product" (SKU, EAN). It only helps clear numbers that match no card issuer range.
    Raises ValueError for an unknown context.
    """
    return [card for found in _scan(text, context) for card in found.cards]


def may_contain_card_number(text: str) -> bool:
    """A cheap first look: False means ``mask_card_numbers`` surely leaves ``text`` as it is
    (no card number, no security code).

    Use it to skip large batches (a page of web store records as JSON text) without
    walking them; whatever passes must still go through the detector.
    """
    if len(text) < 7 or not _has_digit(text):
        return False
    if len(text) >= 12 and (_CHAIN_ASCII if text.isascii() else _CHAIN).search(text):
        return True
    return bool(_security_codes(text))


def may_contain_security_code(text: str) -> bool:
    """True when ``text`` holds a security code after its word (CVV 123), as
    ``mask_card_numbers`` removes it."""
    return len(text) >= 5 and _has_digit(text) and bool(_security_codes(text))


def contains_card_number(text: str, *, context: Context = "text") -> bool:
    """True when ``text`` holds a card number or a card's security code (anything
    ``mask_card_numbers`` would remove)."""
    return bool(_scan(text, context))


def mask_for(last4: str) -> str:
    """The text that stands in for a removed card number."""
    return MASK_TEMPLATE.format(last4=last4)


def mask_card_numbers(
    text: str, *, context: Context = "text", field: str = "the text"
) -> MaskResult:
    """``text`` with each card number replaced by a marker that keeps its last 4 digits,
    an expiry date right after it removed with it, and each security code after its
    word (CVV, CVC, CID, CSC, "security code", ...) replaced by a marker.

    ``field`` names the place in the sentence for the person ("Order note").
    """
    found = _scan(text, context)
    if not found:
        return MaskResult(text=text, matches=(), changed=False, message="")
    parts: list[str] = []
    pos = 0
    matches: list[CardMatch] = []
    codes = 0
    for item in found:
        parts.append(text[pos : item.start])
        if item.cards:
            parts.append(" ".join(mask_for(c.last4) for c in item.cards))
        else:
            parts.append(CODE_MASK)
            codes += 1
        pos = item.end
        matches.extend(item.cards)
    parts.append(text[pos:])
    return MaskResult(
        text="".join(parts),
        matches=tuple(matches),
        changed=True,
        message=_message(matches, field, codes=codes),
    )


def guard_text(value: str | None, *, field: str, context: Context = "text") -> GuardResult:
    """Check one field before it is stored: the value to keep and what to tell the person.

    ``field`` is the field's label as the person sees it ("Order note").
    """
    if not value:
        return GuardResult(value=value, field=field, matches=(), changed=False, message="")
    masked = mask_card_numbers(value, context=context, field=field)
    return GuardResult(
        value=masked.text,
        field=field,
        matches=masked.matches,
        changed=masked.changed,
        message=masked.message,
    )


def guard_payload(obj: Any, *, context: Context = "text") -> PayloadGuardResult:
    """A copy of nested dicts, lists and strings (web store JSON, CSV rows) with every
    card number masked, and each one found with its path.

    Key names set the context of their values ("billing_phone" is a phone field,
    "tracking_number" a tracking field, "sku" a product field, "transaction_id" a
    reference); a ``{"key": ..., "value": ...}`` pair (WooCommerce meta data) uses its
    key. Whole numbers are checked too: a card number sent as a JSON number comes back
    as the masked string. Dict keys are checked like values.
    """
    if context not in _CONTEXTS:
        raise ValueError(f"unknown context {context!r}; use one of {sorted(_CONTEXTS)}")
    found: list[tuple[Path, CardMatch]] = []
    codes: list[Path] = []
    value = _walk(obj, (), context, found, codes)
    return PayloadGuardResult(value=value, found=tuple(found), codes=tuple(codes))


def format_path(path: Path) -> str:
    """A payload path as people read it: ``line_items[0].meta_data[2].value``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def validate_last4(value: str) -> str:
    """The last 4 digits of a card, spaces removed; raises ValidationError otherwise."""
    compact = "".join((value or "").split())
    if len(compact) == 4 and all(ch in "0123456789" for ch in compact):
        return compact
    if compact and sum(ch.isdigit() for ch in compact) >= 12:
        sentence = (
            "This looks like a whole card number. Enter only its last 4 digits; "
            "the shop never stores card numbers."
        )
    elif not compact:
        sentence = "Enter the last 4 digits of the card."
    else:
        sentence = "Enter exactly 4 digits: the last 4 digits of the card."
    raise ValidationError(sentence, fields={"last4": sentence})


# --------------------------------------------------------------------------- helpers


def _message(matches: list[CardMatch], where: str, *, codes: int = 0) -> str:
    endings = join_words([m.last4 for m in matches])
    if not matches:
        head = (f"A card security code was removed from {where}."
                if codes == 1 else f"{codes} card security codes were removed from {where}.")
    elif len(matches) == 1:
        head = (
            f"A card number was removed from {where}; "
            f"only its last 4 digits ({endings}) were kept."
        )
    else:
        head = (
            f"{len(matches)} card numbers were removed from {where}; "
            f"only their last 4 digits ({endings}) were kept."
        )
    if matches and codes:
        head += " Its security code was removed too." if codes == 1 else (
            " Their security codes were removed too.")
    return f"{head} {_ADVICE}"


_KEY_TOKENS = re.compile(r"[a-z0-9]+")
_PHONE_KEYS = frozenset({"phone", "tel", "telephone", "telefon", "mobile", "mobil", "cell", "fax"})
_PRODUCT_KEYS = frozenset({"sku", "ean", "gtin", "upc", "isbn", "barcode", "mpn"})
_REFERENCE_LAST = frozenset({"id", "ids", "ref", "reference", "txn", "number", "no", "nr"})
_REFERENCE_KEYS = frozenset({"transaction", "txn", "invoice", "receipt"})


def _context_for_key(key: str, default: str) -> str:
    tokens = _KEY_TOKENS.findall(re.sub(r"([a-z])([A-Z])", r"\1_\2", key).lower())
    if not tokens:
        return default
    if any(t in _PHONE_KEYS for t in tokens):
        return "phone"
    if any(t.startswith("track") or t in ("shipment", "awb", "waybill") for t in tokens):
        return "tracking"
    if any(t in _PRODUCT_KEYS or t.startswith(("gtin", "ean")) for t in tokens):
        return "product"
    if any(t in _REFERENCE_KEYS for t in tokens) or (
        tokens[-1] in _REFERENCE_LAST
        and not any("card" in t or t in ("cc", "pan") for t in tokens)
    ):
        return "reference"
    return default


def _walk(
    obj: Any, path: Path, context: str, found: list[tuple[Path, CardMatch]], codes: list[Path]
) -> Any:
    if isinstance(obj, str):
        result = mask_card_numbers(obj, context=context)
        found.extend((path, m) for m in result.matches)
        codes.extend(path for _ in range(result.text.count(CODE_MASK) - obj.count(CODE_MASK)))
        return result.text
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int) or (isinstance(obj, float) and obj.is_integer() and abs(obj) < 1e20):
        as_text = str(int(obj))
        result = mask_card_numbers(as_text, context=context)
        if result.changed:
            found.extend((path, m) for m in result.matches)
            return result.text
        return obj
    if isinstance(obj, Mapping):
        meta_key = obj.get("key") if isinstance(obj.get("key"), str) else None
        out: dict[Any, Any] = {}
        for key, item in obj.items():
            name = key if isinstance(key, str) else str(key)
            if meta_key is not None and name in ("value", "display_value"):
                item_context = _context_for_key(meta_key, context)
            else:
                item_context = _context_for_key(name, context)
            new_key = (_walk(key, path + (name,), context, found, codes)
                       if isinstance(key, str) else key)
            out[new_key] = _walk(item, path + (name,), item_context, found, codes)
        return out
    if isinstance(obj, list | tuple):
        items = [_walk(item, path + (i,), context, found, codes) for i, item in enumerate(obj)]
        return type(obj)(items) if isinstance(obj, tuple) else items
    return obj
