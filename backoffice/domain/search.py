"""The customer search index: lookup terms per customer, fed from the declared personal columns.

Every way the desk finds a customer is an indexed lookup on both databases:

* `customer_search` holds one row per (customer, kind, term). Terms are folded
  (accent- and case-insensitive) name and company words, email keys, phone digits
  reversed (so "ends with 0199" is a prefix), normalised postcodes and order
  numbers. A prefix query is a range scan on the (kind, term) index:
  ``term >= :p AND term < :p || U+10FFFF``; an exact query is an equality on it.
  The term column is compared byte-wise on both databases (SQLite's BINARY,
  PostgreSQL's "C" collation), which is code point order for UTF-8.
  An email is also stored with its part before the "@" reversed
  ("maria.garcia@example.com" as "aicrag.airam@example.com"), so the end of that
  part ("garcia@", "cia@exam") is a prefix too. And from one, two and three
  characters before each dot, dash or other punctuation of that part on
  ("a.garcia@example.com", "ia.garcia@…", "ria.garcia@…"), so that a fragment
  across the punctuation ("ria.gar") is a prefix too; the longest of them carries
  the rest of the part reversed after a space, so that a fragment reaching further
  back ("aria.gar") is checked on the term itself.
* `customer_search_word` holds every word of the customers' names and companies
  once, as its own first ending, with each of its other endings of at least
  MIN_FRAGMENT letters ("mith" for "smith"): a fragment inside a word is a prefix
  of an ending, which leads to the word, and the word is a prefix of its
  customers' name or company terms. The beginning of a word leads to the whole
  words so too: "mar smi" is "maria smi", "mark smi", ..., each a prefix of the
  names written from that word on. It says nothing about whose words they are; a
  word no customer has any more is deleted (`forget_customer_text`, `prune_words`).
* `customer_search_text` holds one folded line per customer for every other
  fragment (across words, inside an email address). SQLite indexes it with an FTS5
  table using the trigram tokenizer (kept in step by triggers); PostgreSQL with a
  pg_trgm GIN index. Both answer ``body LIKE '%fragment%'`` from the index.
  Each email address is in the line twice: as written, and `squashed` (without
  dots, dashes and the like: "maria.garcia@example.com" also as
  "mariagarcia@examplecom"). pg_trgm splits text into words at punctuation, so the
  trigrams of "ria.gar" are those of "ria" and "gar" ending and starting a word,
  which half the shop's addresses have; "riagar" is one word whose trigrams pick
  out the address. A fragment with punctuation is looked up squashed and checked
  whole on the rows.

What feeds the index is declared once in `SOURCES`, against the personal-data
registry: every personal column of the customer's own tables is either a source
of some kind of term or deliberately left out, and the check fails when a new
column is neither. The index's own columns are personal data too (erasure clears
them, export leaves them out: they only repeat what the record holds).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import (
    Connection,
    ForeignKey,
    Index,
    String,
    Text,
    and_,
    bindparam,
    delete,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.orm import Mapped, Session, mapped_column

from backoffice.domain import personal_data
from backoffice.domain.base import Base, personal
from backoffice.domain.cards import contains_card_number, fit_checked, may_contain_card_number
from backoffice.domain.customers import Customer, CustomerAddress
from backoffice.domain.emails import email_key
from backoffice.domain.enums import CustomerStatus
from backoffice.domain.orders import Order
from backoffice.domain.phones import normalize_phone, phone_suffix_key
from backoffice.domain.settings import shop_default_country
from backoffice.domain.text import fold, search_tokens

TERM_LENGTH = 255
BODY_LENGTH = 1000
# The shortest fragment looked up inside words (shorter ones match too much to help).
MIN_FRAGMENT = 3
# Appended to a prefix, it is greater than every string that starts with the prefix.
PREFIX_END = "\U0010ffff"

# Byte-wise comparison on PostgreSQL too, so that prefix ranges use the index and
# mean the same thing as on SQLite whatever the database's default collation.
_TERM_TYPE = String(TERM_LENGTH).with_variant(String(TERM_LENGTH, collation="C"), "postgresql")


class TermKind(StrEnum):
    """What a search term was made from (one letter: the index holds millions of them)."""

    NAME = "n"
    COMPANY = "c"
    EMAIL = "e"
    EMAIL_END = "r"  # the email with its part before the "@" reversed
    EMAIL_JOINT = "j"  # the email from just before a punctuation of that part on
    PHONE = "p"
    POSTCODE = "z"
    ORDER = "o"


# The kinds as plain strings, for the hot loops that build millions of terms.
_NAME, _COMPANY, _EMAIL, _EMAIL_END, _EMAIL_JOINT, _PHONE, _POSTCODE, _ORDER = (k.value for k in TermKind)


class CustomerSearchTerm(Base):
    """One lookup term of a customer (see the module docstring)."""

    __tablename__ = "customer_search"
    __subject__ = "customer_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(1))
    # Nullable so that erasure can clear it in place like any other personal column.
    term: Mapped[str | None] = mapped_column(
        _TERM_TYPE, info=personal("search", erase="null", export=False)
    )


class CustomerSearchText(Base):
    """A customer's names, companies and email addresses folded into one line, for fragments."""

    __tablename__ = "customer_search_text"
    __subject__ = "customer_id"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    body: Mapped[str | None] = mapped_column(Text, info=personal("search", erase="null", export=False))


class CustomerSearchWord(Base):
    """One ending of a word found in some customer's name or company, or the word
    itself (see the module docstring).

    Not tied to a customer: the words only lead to the terms that hold them.
    """

    __tablename__ = "customer_search_word"
    # On SQLite the primary key is the table: one b-tree, read in suffix order.
    __table_args__ = {"sqlite_with_rowid": False}

    suffix: Mapped[str] = mapped_column(_TERM_TYPE, primary_key=True)
    word: Mapped[str] = mapped_column(_TERM_TYPE, primary_key=True)


Index("ix_customer_search_lookup", CustomerSearchTerm.kind, CustomerSearchTerm.term,
      CustomerSearchTerm.customer_id)
Index("ix_customer_search_customer_id", CustomerSearchTerm.customer_id)
_TERMS = CustomerSearchTerm.__table__
_TEXTS = CustomerSearchText.__table__
_WORDS = CustomerSearchWord.__table__

# Addresses by customer (every foreign-key lookup uses it), holding what a search hit
# shows of the default address: the hit list reads no address rows.
Index("ix_customer_addresses_customer_id", CustomerAddress.customer_id, CustomerAddress.is_default,
      CustomerAddress.id, CustomerAddress.postcode, CustomerAddress.city)
# Keyset paging of the customers list: (sort key, id) in index order.
Index("ix_customers_sort_name_id", Customer.sort_name, Customer.id)
Index("ix_customers_created_at_id", Customer.created_at, Customer.id)
# The customers list as shown (merged customers left out), with the status it may be filtered
# on: counting it, finding where each block of rows starts and reading a block are scans of
# these alone, never of the table (backoffice.services.customers, the list). merged_into_id
# is always NULL in them; SQLite reads an index alone only when it holds every column the
# query names, the one of the partial condition included.
_SHOWN = Customer.merged_into_id.is_(None)
Index("ix_customers_shown_by_name", Customer.sort_name, Customer.id, Customer.status, Customer.merged_into_id,
      sqlite_where=_SHOWN, postgresql_where=_SHOWN)
Index("ix_customers_shown_by_created", Customer.created_at, Customer.id, Customer.status,
      Customer.merged_into_id, sqlite_where=_SHOWN, postgresql_where=_SHOWN)
# The customers of one status, in the list's two orders (they serve any look-up by status as
# well): a list filtered on a status few customers have is laid out, counted and read from
# these alone, already in its order.
Index("ix_customers_status_by_name", Customer.status, Customer.sort_name, Customer.id, Customer.merged_into_id)
Index("ix_customers_status_by_created", Customer.status, Customer.created_at, Customer.id, Customer.merged_into_id)


# --- What feeds the index -------------------------------------------------------------

# Every personal column of these tables must be named in SOURCES.
INDEXED_TABLES = ("customers", "customer_addresses")

# table.column -> the kind of term it feeds, or None with the reason it is left out.
SOURCES: dict[str, TermKind | str] = {
    "customers.first_name": TermKind.NAME,
    "customers.last_name": TermKind.NAME,
    "customers.company": TermKind.COMPANY,
    "customers.email": "indexed through email_key",
    "customers.email_key": TermKind.EMAIL,
    "customers.phone": "indexed through phone_digits (read from phone when missing)",
    "customers.phone_e164": "indexed through phone_digits",
    "customers.phone_digits": TermKind.PHONE,
    "customers.phone_rev": "indexed through phone_digits",
    "customers.sort_name": "indexed through first_name and last_name",
    "customers.username": "the store's login name; callers do not know it",
    "customer_addresses.first_name": TermKind.NAME,
    "customer_addresses.last_name": TermKind.NAME,
    "customer_addresses.company": TermKind.COMPANY,
    "customer_addresses.address_1": "street lines are not looked up",
    "customer_addresses.address_2": "street lines are not looked up",
    "customer_addresses.city": "too many customers share a city for it to pick one out",
    "customer_addresses.state": "too many customers share a state for it to pick one out",
    "customer_addresses.postcode": TermKind.POSTCODE,
    "customer_addresses.phone": TermKind.PHONE,
    "customer_addresses.email": TermKind.EMAIL,
}
# Not personal data, but people read it out on the phone.
ORDER_NUMBER_SOURCE = "orders.number"


@cache
def source_columns(table: str) -> dict[str, TermKind]:
    """The columns of `table` that feed the index, with the kind of term each makes."""
    prefix = table + "."
    return {
        key[len(prefix):]: kind
        for key, kind in SOURCES.items()
        if key.startswith(prefix) and isinstance(kind, TermKind)
    }


def check_sources() -> None:
    """Raise LookupError unless SOURCES names exactly the registry's personal columns.

    A personal column added to a customer table must be declared here, as a source
    or as left out with a reason; a name here that is not a personal column is a typo.
    """
    declared = {f"{c.table}.{c.column}" for c in personal_data.personal_columns()
                if c.table in INDEXED_TABLES}
    missing = sorted(declared - SOURCES.keys())
    unknown = sorted(SOURCES.keys() - declared)
    if missing or unknown:
        raise LookupError(
            "The search index sources do not match the personal-data registry: "
            f"not declared in SOURCES: {missing}; not personal columns: {unknown}"
        )
    for table in ("customer_search", "customer_search_text"):
        if not any(t.table == table for t in personal_data.registry()):
            raise LookupError(f"{table} holds personal data but is not in the registry")


# --- Terms ------------------------------------------------------------------------------


_NOT_ASCII_ALNUM = re.compile(r"[^0-9a-z]+")
_NOT_ALNUM_ASCII = re.compile(r"[^0-9A-Za-z]")
_NOT_ASCII_DIGIT = re.compile(r"[^0-9]+")


def clip(term: str) -> str:
    return term[:TERM_LENGTH]


@lru_cache(maxsize=65536)
def words_of(value: str) -> tuple[str, ...]:
    """`search_tokens` of one value, remembered: names and companies repeat a lot."""
    return tuple(search_tokens(value))


def name_terms(values: Sequence[str | None]) -> set[str]:
    """Terms for a person's name parts, in the order they are written.

    The whole name is stored forwards and backwards ("anna maria weber",
    "weber anna maria"), so a prefix of either finds it in one range; every other
    word is stored alone so "maria" and "weber" find it too.
    """
    parts = [p for p in (words_of(v) for v in values if v) if p]
    if not parts:
        return set()
    words = [w for p in parts for w in p]
    backward = [w for p in reversed(parts) for w in p]
    terms = {clip(" ".join(words)), clip(" ".join(backward))}
    if len(words) > 2:
        firsts = {words[0], backward[0]}
        terms.update(clip(w) for w in words if w not in firsts)
    elif len(words) == 2 and len(parts) == 1:
        terms.add(words[1])
    return terms


def company_terms(value: str | None) -> set[str]:
    """The whole company name, and each of its words but the first."""
    words = words_of(value or "")
    if not words:
        return set()
    return {clip(" ".join(words)), *(clip(w) for w in words[1:])}


def email_term(value: str | None) -> str | None:
    if not value or "@" not in value:
        return None
    return clip(email_key(value))


def email_end_term(folded_email: str) -> str | None:
    """The folded email with its part before the "@" reversed, or None without one.

    "maria.garcia@example.com" -> "aicrag.airam@example.com": what ends that part
    ("garcia@", "cia@exa") becomes a prefix.
    """
    local, at, domain = folded_email.rpartition("@")
    if not at or not local:
        return None
    return clip(f"{local[::-1]}@{domain}")


# How far before a punctuation of an email's part before the "@" its joint terms start.
JOINT_REACH = 3


def email_joint_terms(folded_email: str) -> list[str]:
    """The folded email from 1 to JOINT_REACH characters before each punctuation of
    its part before the "@"; the longest also holds, after a space, what comes
    before it reversed.

    "maria.garcia@example.com" -> "a.garcia@example.com", "ia.garcia@example.com",
    "ria.garcia@example.com am": a fragment across the dot ("ria.gar", "a.garc")
    is a prefix of one of them, and one reaching further back ("aria.gar") is a
    prefix of the longest whose reversed rest starts with what it has more ("a").
    """
    local, at, domain = folded_email.rpartition("@")
    if not at:
        return []
    terms = []
    # Only the punctuation is visited (in ASCII, what is not alphanumeric is [^0-9A-Za-z]).
    places = ((m.start() for m in _NOT_ALNUM_ASCII.finditer(local, 1)) if local.isascii()
              else (p for p in range(1, len(local)) if not local[p].isalnum()))
    for p in places:
        for k in range(1, min(JOINT_REACH, p) + 1):
            term = f"{local[p - k:]}@{domain}"
            if k == JOINT_REACH:
                term += " " + local[:p - k][::-1]
            terms.append(clip(term))
    return terms


def word_suffixes(word: str) -> list[str]:
    """The word itself, and the endings of `word` that a fragment inside it starts: from
    its second letter on, at least MIN_FRAGMENT long ("smith" -> "smith", "mith", "ith")."""
    return [word, *(word[i:] for i in range(1, len(word) - MIN_FRAGMENT + 1))]


def entry_words(terms: Iterable[tuple[str, str | None]]) -> set[str]:
    """The words of the name and company terms among `terms`."""
    return {
        w for kind, term in terms if term and kind in (_NAME, _COMPANY)
        for w in term.split(" ") if w
    }


_NOT_SQUASHED = re.compile(r"[^0-9A-Za-z@\s]+")


def squashed(text: str) -> str:
    """`text` without the characters that are neither letters, digits, "@" nor spaces:
    "maria.garcia-1@example.com" -> "mariagarcia1@examplecom" (see the module docstring)."""
    if text.isascii():
        return _NOT_SQUASHED.sub("", text)
    return "".join(c for c in text if c.isalnum() or c == "@" or c.isspace())


def postcode_key(value: str | None) -> str:
    """A postcode folded, without spaces or dashes: "SW1A 1AA" -> "sw1a1aa"."""
    folded = fold(value or "")
    if folded.isascii():
        return _NOT_ASCII_ALNUM.sub("", folded)
    return "".join(c for c in folded if c.isalnum())


def order_number_key(value: str | None) -> str:
    """An order number folded, without "#" or spaces: "#WC-1042" -> "wc-1042"."""
    return "".join(fold(value or "").lstrip("#").split())


def phone_term(digits: str | None) -> str | None:
    if not digits:
        return None
    return clip(phone_suffix_key(digits))


def _digits(text: str) -> str:
    if text.isascii():
        return _NOT_ASCII_DIGIT.sub("", text)
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the index holds for one customer: its terms and its fragment line."""

    terms: frozenset[tuple[str, str]]
    body: str | None


EMPTY_ENTRY = IndexEntry(frozenset(), None)


def customer_entry(
    customer: Mapping,
    addresses: Iterable[Mapping] = (),
    order_numbers: Iterable[str | None] = (),
    *,
    default_region: str | None = "US",
) -> IndexEntry:
    """Build the index entry of one customer from plain column values.

    `customer` and each of `addresses` map column names to values (ORM objects'
    `__dict__`, Core row mappings); only the columns named in SOURCES are read, plus
    `status` and `merged_into_id`: an erased or merged customer is not indexed.
    """
    if customer.get("merged_into_id") is not None or customer.get("status") in (
        CustomerStatus.ERASED, CustomerStatus.ERASED.value
    ):
        return EMPTY_ENTRY
    terms: set[tuple[str, str]] = set()
    body: dict[str, None] = {}  # folded parts, in order, once each
    seen: set[tuple] = set()  # values already turned into terms (addresses repeat the account's)
    own_digits: set[str] = set()
    for table, rows in (("customers", (customer,)), ("customer_addresses", addresses)):
        sources = source_columns(table)
        name_cols = [col for col, kind in sources.items() if kind is TermKind.NAME]
        for row in rows:
            names = tuple(row.get(col) for col in name_cols)
            if any(names) and (TermKind.NAME, names) not in seen:
                seen.add((TermKind.NAME, names))
                found = name_terms(names)
                terms.update((_NAME, t) for t in found)
                if found:
                    body[" ".join(w for v in names if v for w in words_of(v))] = None
            for col, kind in sources.items():
                value = row.get(col)
                if not value or kind is TermKind.NAME or (kind, value) in seen:
                    continue
                seen.add((kind, value))
                if kind is TermKind.COMPANY:
                    found = company_terms(value)
                    terms.update((_COMPANY, t) for t in found)
                    if found:
                        body[" ".join(words_of(value))] = None
                elif kind is TermKind.EMAIL:
                    term = email_term(value)
                    if term:
                        _add_email(term, terms, body)
                elif kind is TermKind.POSTCODE:
                    key = postcode_key(value)
                    if key:
                        terms.add((_POSTCODE, clip(key)))
                elif kind is TermKind.PHONE:
                    digits = _phone_digits(table, col, value, own_digits, default_region)
                    if digits:
                        own_digits.add(digits)
                        terms.add((_PHONE, phone_term(digits)))
    for number in order_numbers:
        key = order_number_key(number)
        if key:
            terms.add((_ORDER, clip(key)))
    return _checked_entry(terms, " ".join(body))


def contact_entry(
    *, first_name: str, last_name: str, company: str, email: str | None, email_key: str | None,
    phone: str, phone_digits: str | None, address: bool, postcode: str, default_region: str | None,
    phone_digits_checked: bool = False,
) -> IndexEntry:
    """What `customer_entry` builds for a new customer with one address that repeats
    their names, company, phone and email (what a file import adds), without its walk
    over SOURCES: the same terms and fragment line, several times faster.

    `address` says whether there is one; `postcode` is its. `phone_digits_checked` says
    that "+" and `phone_digits` already passed `contains_card_number(context="phone")`
    (`normalize_phone` checked them), which `customer_entry` would check again.
    """
    terms: set[tuple[str, str]] = set()
    body: dict[str, None] = {}
    # The account's names, company, email key and phone digits, in SOURCES' order.
    if first_name or last_name:
        found, line = _name_part(first_name, last_name)
        if found:
            terms.update(found)
            body[line] = None
    if company:
        found, line = _company_part(company)
        if found:
            terms.update(found)
            body[line] = None
    # The account's key, then the address's email as written (the same term, usually).
    emails = (email_key, email) if address and email != email_key else (email_key,)
    for value in emails:
        if value and value.isascii() and value == value.lower() and value == value.strip():
            term = clip(value) if "@" in value else None  # what email_term gives for it
        else:
            term = email_term(value)
        if term and (_EMAIL, term) not in terms:
            _add_email(term, terms, body)
    own: set[str] = set()
    phone_terms = []
    if phone_digits:
        if phone_digits_checked or not contains_card_number("+" + phone_digits, context="phone"):
            own.add(phone_digits)
            phone_terms.append((_PHONE, phone_term(phone_digits)))
    if address:
        if postcode:
            key = postcode_key(postcode)
            if key:
                terms.add((_POSTCODE, clip(key)))
        if phone and phone != phone_digits:
            digits = _phone_digits("customer_addresses", "phone", phone, own, default_region)
            if digits:
                phone_terms.append((_PHONE, phone_term(digits)))
    line = " ".join(body)
    # The usual entry: every term and the line plain ASCII, and one look over them all
    # finds nothing a card number could be made of; then nothing is cut or masked.
    texts = [term for _, term in terms]
    texts.append(line)
    joined = "\x00".join(texts)
    if joined.isascii() and len(line) <= BODY_LENGTH and not may_contain_card_number(joined):
        terms.update(phone_terms)
        return IndexEntry(frozenset(terms), line or None)
    terms.update(phone_terms)
    return _checked_entry(terms, line)


def _add_email(term: str, terms: set[tuple[str, str]], body: dict[str, None]) -> None:
    """An email's terms (whole, its end, its parts across dots) and its words on the fragment line."""
    terms.add((_EMAIL, term))
    folded = term if term.isascii() else fold(term)
    body[folded] = None
    body[squashed(folded)] = None
    end = email_end_term(folded)
    if end:
        terms.add((_EMAIL_END, end))
    terms.update((_EMAIL_JOINT, t) for t in email_joint_terms(folded))


@lru_cache(maxsize=1 << 14)
def _name_part(first_name: str, last_name: str) -> tuple[frozenset[tuple[str, str]], str]:
    """The name terms of a first and last name and their part of the fragment line
    (remembered: names repeat)."""
    names = (first_name, last_name)
    found = name_terms(names)
    return frozenset((_NAME, t) for t in found), " ".join(w for v in names if v for w in words_of(v))


@lru_cache(maxsize=1 << 14)
def _company_part(company: str) -> tuple[frozenset[tuple[str, str]], str]:
    found = company_terms(company)
    return frozenset((_COMPANY, t) for t in found), " ".join(words_of(company))


def _checked_entry(terms: set[tuple[str, str]], body: str) -> IndexEntry:
    """The entry with each term and the fragment line checked for card numbers in the form
    they are stored: folding, joining words and cutting happen first and can make a card
    number of digits the column held apart (tidy first, check last). Phone terms are the
    reversed digits of phone keys, which were checked before they were reversed."""
    clear = _clear_of_cards([body, *(term for kind, term in terms if kind != _PHONE)])
    checked = frozenset(
        (kind, term if kind == _PHONE or (term in clear and len(term) <= TERM_LENGTH)
         else fit_checked(term, TERM_LENGTH))
        for kind, term in terms
    )
    if not (body in clear and len(body) <= BODY_LENGTH):
        body = fit_checked(body, BODY_LENGTH)
    return IndexEntry(checked, body or None)


def _clear_of_cards(texts: list[str]) -> frozenset[str]:
    """The plain ASCII ones among `texts`, when one first look over them together, apart by
    NUL, finds nothing (whatever the detector would find in one of them, that look finds in
    the joined text); else none. The usual entry is cleared at once this way."""
    plain = [t for t in texts if t.isascii()]
    if plain and not may_contain_card_number("\x00".join(plain)):
        return frozenset(plain)
    return frozenset()


def _phone_digits(table: str, col: str, value: str, known: set[str], region) -> str | None:
    """The digits to index for a phone column; cheap when they are already stored."""
    if table == "customers" and col == "phone_digits":
        # Keys stored before card numbers were kept out of them are checked here too.
        return None if contains_card_number("+" + value, context="phone") else value
    typed = _digits(value)
    if not typed:
        return None
    # An address usually repeats the account's phone in another format: skip the parse.
    if any(d.endswith(typed.lstrip("0")) for d in known):
        return None
    phone = normalize_phone(value, default_region=region)
    return phone.digits if phone else None


def with_derived_keys(customer: Mapping, region) -> Mapping:
    """The customer's columns, with the email key and phone digits derived if never stored."""
    missing_phone = not customer.get("phone_digits") and customer.get("phone")
    missing_email = not customer.get("email_key") and customer.get("email")
    if not (missing_phone or missing_email):
        return customer
    row = dict(customer)
    if missing_phone:
        phone = normalize_phone(row["phone"], default_region=region)
        row["phone_digits"] = phone.digits if phone else None
    if missing_email:
        row["email_key"] = email_term(row["email"])
    return row


# --- Keeping the index in step ------------------------------------------------------------

def _source_select_columns(model, table: str, extra: Sequence[str]) -> list:
    t = model.__table__
    names = list(dict.fromkeys([*extra, *source_columns(table)]))
    return [t.c[n] for n in names]


def customer_source_columns() -> list:
    return _source_select_columns(
        Customer, "customers", ("id", "status", "merged_into_id", "phone", "email")
    )


def address_source_columns() -> list:
    return _source_select_columns(CustomerAddress, "customer_addresses", ("customer_id",))


def load_entry(session: Session, customer_id: int, *, default_region: str | None = "US") -> IndexEntry:
    """Read a customer's source columns and build its index entry (empty if it is gone)."""
    row = session.execute(
        select(*customer_source_columns()).where(Customer.id == customer_id)
    ).mappings().first()
    if row is None:
        return EMPTY_ENTRY
    addresses = session.execute(
        select(*address_source_columns()).where(CustomerAddress.customer_id == customer_id)
        .order_by(CustomerAddress.id)
    ).mappings().all()
    numbers = session.execute(
        select(Order.number).where(Order.customer_id == customer_id)
    ).scalars().all()
    return customer_entry(with_derived_keys(row, default_region), addresses, numbers,
                          default_region=default_region)


def reindex_customer(session: Session, customer_id: int, *, default_region: str | None = None) -> None:
    """Rewrite one customer's search entry from the record, in the caller's transaction.

    Call it after changing anything SOURCES lists (names, email, phone, addresses,
    orders' customer) and after erasing or merging; flushes pending ORM changes first.
    `default_region` reads phones that were stored without digits; None means the
    shop's default country (`shop_default_country`).
    """
    session.flush()
    if default_region is None:
        default_region = shop_default_country(session)
    entry = load_entry(session, customer_id, default_region=default_region)
    write_entry(session, customer_id, entry)


def write_entry(session: Session, customer_id: int, entry: IndexEntry) -> None:
    """Replace what the index holds for `customer_id` with `entry`.

    Words the customer no longer has leave the word table when nobody else has them.
    """
    old = session.execute(
        delete(_TERMS).where(_TERMS.c.customer_id == customer_id).returning(_TERMS.c.kind, _TERMS.c.term)
    ).all()
    session.execute(delete(_TEXTS).where(_TEXTS.c.customer_id == customer_id))
    if entry.terms:
        session.execute(
            insert(_TERMS),
            [{"customer_id": customer_id, "kind": k, "term": t} for k, t in sorted(entry.terms)],
        )
    if entry.body:
        session.execute(insert(_TEXTS), [{"customer_id": customer_id, "body": entry.body}])
    old_words = entry_words(old)
    new_words = entry_words(entry.terms)
    add_words(session, new_words - old_words)
    prune_words(session, old_words - new_words)


def forget_customer_text(session: Session, customer_id: int) -> None:
    """Delete everything the search index holds of a customer, in the caller's transaction.

    For erasure: the customer's terms and fragment line go, and so do the words
    of their name and company that no other customer has. Deleted text may still
    sit in the fragment index's older segments and in the SQLite write-ahead log:
    run `backoffice.services.search_index.compact_search_index` after the commit.
    """
    write_entry(session, customer_id, EMPTY_ENTRY)


def add_words(session: Session | Connection, words: Iterable[str]) -> None:
    """Put `words` and their endings in the word table (those already there stay as they are)."""
    rows = [{"suffix": s, "word": w} for w in sorted(words) for s in word_suffixes(w)]
    if not rows:
        return
    dialect = session.get_bind().dialect.name if isinstance(session, Session) else session.dialect.name
    module = pg_dialect if dialect == "postgresql" else sqlite_dialect
    session.execute(module.insert(_WORDS).on_conflict_do_nothing(), rows)


def prune_words(session: Session | Connection, words: Iterable[str] | None = None) -> int:
    """Delete from the word table the words (all of them when None) that no name or
    company term starts with any more; return the number of rows deleted."""
    # The kinds written out, so that the statement also runs as an executemany.
    unused = ~select(1).where(
        _TERMS.c.kind.in_([literal_column(f"'{_NAME}'"), literal_column(f"'{_COMPANY}'")]),
        _TERMS.c.term >= _WORDS.c.word,
        _TERMS.c.term < _WORDS.c.word + PREFIX_END,
    ).exists()
    if words is None:
        return session.execute(delete(_WORDS).where(unused)).rowcount
    pairs = [{"s": s, "w": w} for w in sorted(words) for s in word_suffixes(w)]
    if not pairs:
        return 0
    stmt = delete(_WORDS).where(
        and_(_WORDS.c.suffix == bindparam("s"), _WORDS.c.word == bindparam("w")), unused
    )
    result = session.execute(stmt, pairs)
    return result.rowcount


# --- Database-specific parts (created by migration 0002, recreated by a rebuild) ----------

SQLITE_FTS_TABLE = "customer_search_fts"
SQLITE_FTS_DDL = (
    "CREATE VIRTUAL TABLE customer_search_fts USING fts5(body, content='customer_search_text', "
    "content_rowid='customer_id', tokenize='trigram', detail='none')"
)
SQLITE_TRIGGERS = {
    "customer_search_text_ai": (
        "CREATE TRIGGER customer_search_text_ai AFTER INSERT ON customer_search_text BEGIN "
        "INSERT INTO customer_search_fts(rowid, body) VALUES (new.customer_id, new.body); END"
    ),
    "customer_search_text_ad": (
        "CREATE TRIGGER customer_search_text_ad AFTER DELETE ON customer_search_text BEGIN "
        "INSERT INTO customer_search_fts(customer_search_fts, rowid, body) "
        "VALUES ('delete', old.customer_id, old.body); END"
    ),
    "customer_search_text_au": (
        "CREATE TRIGGER customer_search_text_au AFTER UPDATE ON customer_search_text BEGIN "
        "INSERT INTO customer_search_fts(customer_search_fts, rowid, body) "
        "VALUES ('delete', old.customer_id, old.body); "
        "INSERT INTO customer_search_fts(rowid, body) VALUES (new.customer_id, new.body); END"
    ),
}
PG_TRGM_INDEX = "ix_customer_search_text_body_trgm"
PG_TRGM_DDL = (
    f"CREATE INDEX {PG_TRGM_INDEX} ON customer_search_text USING gin (body gin_trgm_ops)"
)
