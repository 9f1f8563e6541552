"""The one card-number detector: every stored, imported, synced or logged text passes it.

The shop never holds a card number (promise P1). Whatever this module finds is masked
to its last 4 digits before anything is written.

How a number is found
=====================

1. **Runs.** A run is a maximal sequence of digits in which digit groups are joined by
   exactly one separator: a space (also no-break, figure, thin and narrow no-break
   space), a dash (hyphen-minus, Unicode hyphens, en and em dash, minus sign) or a dot.
   Any other character (two spaces, a slash, a comma, a letter, a line break) ends the
   run. Runs are taken whole: a 22-digit USPS number is one run of 22 digits and is never
   searched for a 16-digit card inside it. Unicode digits (for example full-width) count
   as digits.
2. **Identifiers.** A run that touches a letter on either side ("1Z999AA10123456784",
   "DE89...", "ab4111...") is part of an identifier and is not a card. A card number
   typed straight against letters, as in "cc4111111111111111", is therefore not found;
   people separate a card number from words, identifiers do not.
3. **The whole run is a card** when it has 12 to 19 digits, passes the Luhn check, and
   either matches an issuer range with a length that issuer uses (see ``_ISSUERS``: Visa
   4 with 13/16/19 digits, Mastercard 51-55 and 2221-2720 with 16, American Express
   34/37 with 15, Discover 6011/644-649/65 with 16-19, JCB 3528-3589 with 16-19, Diners
   Club 300-305/3095/36/38-39 with 14-19, UnionPay 62/81 with 16-19, Maestro
   5018/5020/5038/5893/6304/6759/6761-6763 with 12-19, and Mir, RuPay, Dankort, Troy,
   Verve, InterPayment, InstaPayment), or has 13 to 19 digits. So every Luhn-valid
   number of 13 to 19 digits is a card, known issuer or not, unless the evidence below
   says it is something else. A 12-digit run is a card only inside a 12-digit issuer
   range (Maestro).
4. **A card with something attached.** A run that is not a card as a whole is split at
   its separators only when it falls apart exactly into: an optional leading group of
   1-3 digits (a quantity), one or more numbers that each match an issuer range and
   length and pass Luhn, and an optional tail of at most 8 digits (expiry date and
   security code). "4111 1111 1111 1111 12 26 123" is caught this way, and the whole
   run, tail included, is masked. Tracking numbers never split this way: no USPS,
   FedEx or DHL number of 20 or more digits starts inside an issuer range.
5. **Loosely spaced cards.** Digit groups joined by two or three spaces, a tab, or a
   dash or dot with spaces around it ("4111  1111  1111  1111", "4111 - 1111 - ...")
   form a loose run, looked at wherever no card of rule 3 or 4 was found: a slip of
   the space bar ("4111 1111 1111  1111") or a tab between groups is still caught. A
   loose run is a card only inside an issuer range (as a whole, or split as in rule
   4), since such spacing also separates the columns of a table.

When a number is something else
===============================

Evidence that *overrides* an issuer match (it is as strong as a card's own format):

- **IBAN**: the run lies inside an IBAN that passes its mod-97 check
  ("GB82 WEST 1234 5698 7654 32").
- **UUID**: the run lies inside an 8-4-4-4-12 hexadecimal UUID.
- **Decimal number**: the run has exactly one separator and it is a dot
  ("0.12345678901234567"); nobody writes a card number with one decimal point.
- **International phone number**, at most 15 digits (the E.164 limit):
  a ``+`` right before the run ("+49 170 1234 5678") and libphonenumber finds the
  number possible; or a bracketed area code right before it ("(030) ...", "+44 (0) ...")
  with at most 15 digits in all; or the run is written exactly in the international
  grouping of a valid phone number, the country code as its first group of 1-3 digits
  ("49 170 12345678", "86 138 0013 8000").
- **Product code**: in a product field (``context="product"``) or right after a product
  word (EAN, GTIN, UPC, ISBN, SKU, barcode), a run of at most 13 digits whose GS1 check
  digit is right ("EAN 4006381333931").

Evidence that clears only a number matching *no* issuer range and length, and only
when no card word (card, Karte, carte, Visa, Amex, CC, credit, debit, CVV, exp, ...)
stands on the same line within 24 characters before it:

- **By context or label**: ``context="phone"`` or a phone word right before the run
  (Tel, Phone, Mobile, Fax, ...) for runs of at most 15 digits; ``context="tracking"``
  or a carrier or tracking word right before the run (Tracking, FedEx, UPS, USPS, DHL,
  Canada Post, Sendung, ...), which covers FedEx 12/15, Canada Post 16, DPD 14 digits;
  ``context="reference"`` or an order, invoice or transaction word, or ``#``, right
  before the run; ``context="product"`` or a product word right before the run.
  "Right before" means on the same line with no digit in between, at most 24
  characters after the word.
- **By value**, kept narrow: no card range starts with these digits, and the last two
  need a run written without separators (machines print these; people group card
  numbers):

  - an international ``00`` prefix: the run starts with ``00`` and has at most 17
    digits (``00`` plus at most 15);
  - an epoch timestamp: exactly 13, 16 or 19 digits starting with ``1`` (milli-, micro-
    or nanoseconds between 2001-09-09 and 2033-05-18);
  - a compact date-time ``YYYYMMDDhhmmss`` (14 digits) or with milliseconds (17 digits),
    a real date in the years 2000-2099.

Everything else that is Luhn-valid with 13 to 19 digits is treated as a card. Short
order numbers, 10-digit DHL numbers, 20-22 digit USPS and FedEx numbers, "1Z" UPS and
"AB123456789GB" Royal Mail numbers never reach the Luhn test at all.

Masking
=======

Each masked run is replaced by ``[card number removed, ends 1111]`` (one such marker per
card in the run), so the text keeps none of the number's other digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

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
    "format_path",
    "guard_payload",
    "guard_text",
    "luhn_valid",
    "mask_card_numbers",
    "mask_for",
    "may_contain_card_number",
    "validate_last4",
]

Context = Literal["text", "phone", "tracking", "reference", "product"]
_CONTEXTS = frozenset({"text", "phone", "tracking", "reference", "product"})

MASK_TEMPLATE = "[card number removed, ends {last4}]"
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


class PayloadGuardResult(NamedTuple):
    """A cleaned copy of a payload and every card number found in it, by path."""

    value: Any
    found: tuple[tuple[Path, CardMatch], ...]

    @property
    def changed(self) -> bool:
        return bool(self.found)

    @property
    def message(self) -> str:
        if not self.found:
            return ""
        places = join_words(sorted({format_path(p) or "the data" for p, _ in self.found}))
        return _message([m for _, m in self.found], places)


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

_SPACES = " \u00a0\u2007\u2009\u202f"
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_SEPARATORS = frozenset(_SPACES + _DASHES + ".")
_SEP = "[" + re.escape(_SPACES + _DASHES + ".") + "]"

# Rule 5: digit groups joined more loosely, by two or three spaces, a tab, or a dash or
# dot with a space around it ("4111  1111  1111  1111", "4111 - 1111 - 1111 - 1111").
_LOOSE_SPACE = "[ \t\u00a0\u2007\u2009\u202f]"
_LOOSE_DASH = "[" + re.escape(_DASHES + ".") + "]"
_LOOSE_SEP = rf"(?:{_LOOSE_SPACE}{{1,3}}|{_LOOSE_SPACE}?{_LOOSE_DASH}{_LOOSE_SPACE}?)"
_LOOSE_RUN = re.compile(rf"\d(?<!\d\d)(?:{_LOOSE_SEP}?\d){{11,}}")
# What joins two digit groups loosely (two or three spaces, a tab, a spaced dash or dot).
_LOOSE_JOINT_PATTERN = (rf"(?:{_LOOSE_SPACE}{{2,3}}|\t|{_LOOSE_SPACE}{_LOOSE_DASH}{_LOOSE_SPACE}?"
                        rf"|{_LOOSE_DASH}{_LOOSE_SPACE})\d")

# One pass finds every run of rule 1 with at least twelve digits (the branch holding
# the "run" group) and notes whether any two digits are joined loosely (the other
# branch, one digit long), so the loose pass of rule 5 runs only on the few texts that
# need it. The pattern leads with a digit outside any branch so the regex engine scans
# fast to the next digit; the lookbehinds then reject a start inside a run at once, so
# a short run is walked only once. Plain ASCII texts, the usual case, use the ASCII
# twin, which is about a third faster.
_SCAN_PATTERN = (
    rf"\d(?:(?<!\d\d)(?<!\d{_SEP}\d)(?P<run>(?:{_SEP}?\d){{11,}})"
    rf"|(?={_LOOSE_JOINT_PATTERN}))"
)
_SCAN = re.compile(_SCAN_PATTERN)
_SCAN_ASCII = re.compile(_SCAN_PATTERN, re.ASCII)
# A loose joint right after a run of rule 1 (whose last digit the run took).
_LOOSE_JOINT = re.compile(_LOOSE_JOINT_PATTERN)

_PLUS_BEFORE = re.compile(r"\+ ?$")
_HASH_BEFORE = re.compile(r"# ?$")
_BRACKET_BEFORE = re.compile(r"(?:\+ ?(\d{1,3}) ?)?\((\+? ?\d{1,5})\)[ \-]?$")
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}")

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


_DIGIT_GROUP = re.compile(r"\d+")


def _parse_run(text: str, start: int, end: int) -> _Run:
    groups = tuple(
        (m.start(), m.end(), _ascii_digits(m.group()))
        for m in _DIGIT_GROUP.finditer(text, start, end)
    )
    separators = "".join(
        text[a[1] : b[0]] for a, b in zip(groups, groups[1:], strict=False)
    )
    return _Run(start, end, "".join(g[2] for g in groups), groups, separators)


def _touches_letter(text: str, start: int, end: int) -> bool:
    return (start > 0 and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha())


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
    import phonenumbers

    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


def _written_as_phone(run: _Run) -> bool:
    """The run is grouped exactly as libphonenumber writes a valid international number."""
    if len(run.groups) < 2 or len(run.groups[0][2]) > 3 or len(run.digits) > 15:
        return False
    import phonenumbers

    try:
        number = phonenumbers.parse("+" + run.digits, None)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(number):
        return False
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return [len(g) for g in re.findall(r"\d+", written)] == [len(g[2]) for g in run.groups]


def _other_thing(
    text: str, run: _Run, start: int, digits: str, issuer: str | None, context: str
) -> str | None:
    """Why these digits are not a card, or None when they are one."""
    n = len(digits)
    whole = start == run.start and n == len(run.digits)
    # Evidence strong enough to beat an issuer match.
    if whole and run.separators == ".":
        return "decimal number"
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
        if whole and _written_as_phone(run):
            return "phone number (international grouping)"
    label = _label_before(text, start)
    if (context == "product" or label == "product") and n <= 13 and _gs1_valid(digits):
        return "product code"
    if _inside(_UUID, text, run.start, run.end):
        return "UUID"
    if _inside_iban(text, run.start, run.end):
        return "IBAN"
    if issuer is not None:
        return None
    # Evidence that clears only numbers outside every issuer range, and only when no
    # card word stands right before the number.
    if _CARD_WORD_BEFORE.search(before):
        return None
    if digits.startswith("00") and n <= 17:
        return "phone number (00 prefix)"
    if whole and not run.separators:
        if n in (13, 16, 19) and digits[0] == "1":
            return "epoch timestamp"
        if _compact_datetime(digits):
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


def _card(run: _Run, first: int, last: int) -> CardMatch:
    """The card made of groups first..last (inclusive) of the run."""
    digits = "".join(g[2] for g in run.groups[first : last + 1])
    return CardMatch(
        start=run.groups[first][0],
        end=run.groups[last][1],
        digits=digits,
        last4=digits[-4:],
        brand=_issuer(digits) or "Unknown",
    )


def _split(text: str, run: _Run, context: str) -> list[CardMatch]:
    """Cards inside a run that is not one as a whole (see rule 4 in the module doc)."""
    groups = run.groups
    count = len(groups)
    if count < 2:
        return []
    offsets = [0]
    for g in groups:
        offsets.append(offsets[-1] + len(g[2]))
    total = offsets[-1]
    # nxt[i]: end group (exclusive) of the card starting at group i in the chosen cover,
    # 0 when the rest from i is a tail (or nothing), -1 when no cover exists.
    nxt = [-1] * (count + 1)
    nxt[count] = 0
    for i in range(count - 1, -1, -1):
        j = i + 1
        while j < count and offsets[j + 1] - offsets[i] <= 19:
            j += 1
        for j in range(j, i, -1):
            size = offsets[j] - offsets[i]
            if size < 12:
                break
            if size > 19 or nxt[j] == -1:
                continue
            digits = run.digits[offsets[i] : offsets[j]]
            issuer = _issuer(digits)
            if issuer and luhn_valid(digits) and _other_thing(
                text, run, groups[i][0], digits, issuer, context
            ) is None:
                nxt[i] = j
                break
        if nxt[i] == -1 and i > 0 and total - offsets[i] <= 8:
            nxt[i] = 0
    for first in (0, 1):
        if first == 1 and len(groups[0][2]) > 3:
            break
        if nxt[first] > 0:
            cards = []
            i = first
            while i < count and nxt[i] > 0:
                cards.append(_card(run, i, nxt[i] - 1))
                i = nxt[i]
            return cards
    return []


def _judge(text: str, run: _Run, context: str, *, loose: bool) -> list[CardMatch]:
    """The cards in one run; rules 2-5 of the module doc."""
    if _touches_letter(text, run.start, run.end):
        return []
    digits = run.digits
    n = len(digits)
    if 12 <= n <= 19 and luhn_valid(digits):
        issuer = _issuer(digits)
        if issuer is not None or (n >= 13 and not loose):
            if _other_thing(text, run, run.start, digits, issuer, context) is not None:
                return []
            return [CardMatch(run.start, run.end, digits, digits[-4:], issuer or "Unknown")]
        if not loose:
            return []
    return _split(text, run, context)


def _scan(text: str, context: str) -> list[tuple[_Run, list[CardMatch]]]:
    if context not in _CONTEXTS:
        raise ValueError(f"unknown context {context!r}; use one of {sorted(_CONTEXTS)}")
    if len(text) < 12:
        return []
    found: list[tuple[_Run, list[CardMatch]]] = []
    judged: list[tuple[int, int]] = []  # runs of rule 1, judged strictly
    carded: list[tuple[int, int]] = []  # those of them that held a card
    loose = False
    for m in (_SCAN_ASCII if text.isascii() else _SCAN).finditer(text):
        if m.lastgroup != "run":
            loose = True
            continue
        span = m.span()
        judged.append(span)
        if not loose and _LOOSE_JOINT.match(text, span[1]):
            loose = True
        run = _parse_run(text, *span)
        cards = _judge(text, run, context, loose=False)
        if cards:
            found.append((run, cards))
            carded.append(span)
    if loose:
        for m in _LOOSE_RUN.finditer(text):
            start, end = m.span()
            if (start, end) in judged or any(a < end and start < b for a, b in carded):
                continue
            run = _parse_run(text, start, end)
            cards = _judge(text, run, context, loose=True)
            if cards:
                found.append((run, cards))
        found.sort(key=lambda item: item[0].start)
    return found


# --------------------------------------------------------------------------- public API


def find_card_numbers(text: str, *, context: Context = "text") -> list[CardMatch]:
    """Every card number in ``text``, in order.

    ``context`` names the field the text comes from: "text" (notes, addresses, anything
    free), "phone", "tracking", "reference" (order, invoice and transaction numbers) or
    "product" (SKU, EAN). It only helps clear numbers that match no card issuer range.
    Raises ValueError for an unknown context.
    """
    return [card for _, cards in _scan(text, context) for card in cards]


def may_contain_card_number(text: str) -> bool:
    """A cheap first look: False means ``find_card_numbers`` surely finds nothing.

    Use it to skip large batches (a page of web store records as JSON text) without
    walking them; whatever passes must still go through the detector.
    """
    if len(text) < 12:
        return False
    for m in (_SCAN_ASCII if text.isascii() else _SCAN).finditer(text):
        if m.lastgroup == "run":
            return True
        # Loosely joined digits: a loose run may start well before this mark, behind
        # single-spaced groups ("3 0 0 0<tab>0000000004"), so look over the whole text.
        # Every run of the first pass is also a loose run, so this answer is final.
        return _LOOSE_RUN.search(text) is not None
    return False


def contains_card_number(text: str, *, context: Context = "text") -> bool:
    """True when ``text`` holds at least one card number."""
    return bool(_scan(text, context))


def mask_for(last4: str) -> str:
    """The text that stands in for a removed card number."""
    return MASK_TEMPLATE.format(last4=last4)


def mask_card_numbers(
    text: str, *, context: Context = "text", field: str = "the text"
) -> MaskResult:
    """``text`` with each card number replaced by a marker that keeps its last 4 digits.

    ``field`` names the place in the sentence for the person ("Order note").
    """
    found = _scan(text, context)
    if not found:
        return MaskResult(text=text, matches=(), changed=False, message="")
    parts: list[str] = []
    pos = 0
    matches: list[CardMatch] = []
    for run, cards in found:
        parts.append(text[pos : run.start])
        parts.append(" ".join(mask_for(c.last4) for c in cards))
        pos = run.end
        matches.extend(cards)
    parts.append(text[pos:])
    return MaskResult(
        text="".join(parts),
        matches=tuple(matches),
        changed=True,
        message=_message(matches, field),
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
    value = _walk(obj, (), context, found)
    return PayloadGuardResult(value=value, found=tuple(found))


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


def _message(matches: list[CardMatch], where: str) -> str:
    endings = join_words([m.last4 for m in matches])
    if len(matches) == 1:
        head = (
            f"A card number was removed from {where}; "
            f"only its last 4 digits ({endings}) were kept."
        )
    else:
        head = (
            f"{len(matches)} card numbers were removed from {where}; "
            f"only their last 4 digits ({endings}) were kept."
        )
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


def _walk(obj: Any, path: Path, context: str, found: list[tuple[Path, CardMatch]]) -> Any:
    if isinstance(obj, str):
        result = mask_card_numbers(obj, context=context)
        found.extend((path, m) for m in result.matches)
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
            new_key = _walk(key, path + (name,), context, found) if isinstance(key, str) else key
            out[new_key] = _walk(item, path + (name,), item_context, found)
        return out
    if isinstance(obj, list | tuple):
        items = [_walk(item, path + (i,), context, found) for i, item in enumerate(obj)]
        return type(obj)(items) if isinstance(obj, tuple) else items
    return obj
