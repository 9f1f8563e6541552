"""Importing a customer list from a CSV file (a spreadsheet's export): preview, import, rows left out.

How a file is read
==================

* **Encoding**: UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's
  "Unicode text"); anything else is read as Windows-1252, with a note saying so.
* **Delimiter**: comma, semicolon or tab, whichever splits the first lines into the
  most consistent columns (an Excel ``sep=;`` first line is obeyed). Quoted cells may
  hold the delimiter, doubled quotes and line breaks.
* **Columns**: the first line names them. Common English names are recognised
  (`HEADER_NAMES`), with or without a "billing" or "customer" in front; a single
  "Name" column is split into first and last name. Columns the import does not know
  are listed as ignored, never guessed.

What happens to each row
========================

Every cell first passes the card-number detector (promise P1): a card number is
masked to its last 4 digits wherever it is, the row is imported masked, and the
report names the line and column. Then a row is

* **rejected** when it has the wrong number of cells, neither a name, a company nor
  an email address, or a detail the customer form would refuse (the customer
  service's own `validate_changes`: email, phone, lengths), or an unknown country;
* a **duplicate** when its email address is already on file or on an earlier line of
  the file: it is skipped, never merged into anyone;
* otherwise **imported**: a customer, their billing address and a note.

Rejected and duplicate rows are kept, masked, for a "rejected rows" CSV: the original
columns plus the reason, so the person can fix them and import that file again.

The import writes in one transaction, in chunks: nothing is half imported, a
cancelled import leaves nothing behind, and a second run finds the first run's
customers as duplicates instead of adding them twice. A small import indexes each new
customer for the search box in that transaction; a large one (compared with the
customers already on file) rebuilds the whole search index once it is committed, as
the sync does, which is many times faster.

Imported customers stay in the back office: no web store account is opened for
them (the store would send each one a welcome email). A customer who has, or later
opens, a store account with the same email address is linked to it by the next sync
(`sync_pull.upsert_customers` links a store account to a local customer with the same
email and no store account yet), so the sync does not add them a second time.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from phonenumbers import PhoneNumberFormat, format_number, parse as parse_phone
from phonenumbers.geodata.locale import LOCALE_DATA
from sqlalchemy import func, insert, select, text

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.cards import guard_payload, mask_card_numbers, mask_for, may_contain_card_number
from backoffice.domain.customers import Customer, CustomerAddress, CustomerNote
from backoffice.domain.emails import email_key
from backoffice.domain.enums import AddressKind, CustomerStatus
from backoffice.domain.phones import normalize_phone, phone_suffix_key
from backoffice.domain.search import (
    customer_entry,
    write_entry,
    shop_default_region,
)
from backoffice.domain.staff import Actor, Permission
from backoffice.domain.text import fold
from backoffice.errors import Cancelled, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.customers import validate_changes
from backoffice.services.search_index import rebuild_search_index

__all__ = [
    "FIELD_LABELS",
    "HEADER_NAMES",
    "REASON_HEADER",
    "STORE_NOTE",
    "ColumnMapping",
    "ImportPreview",
    "ImportResult",
    "ProblemKind",
    "RejectedRow",
    "RowOutcome",
    "RowProblem",
    "RowVerdict",
    "import_customers",
    "preview_import",
    "rejected_rows_csv",
    "split_name",
    "write_rejected_rows",
]

log = logging.getLogger(__name__)

audit.register_action("import_customers", "Customers imported from a file")

Progress = Callable[[int, int, str], None]

# --- Columns ---------------------------------------------------------------------------------

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "name": "Name (split into first and last name)",
    "company": "Company",
    "email": "Email",
    "phone": "Phone",
    "address_1": "Address line 1",
    "address_2": "Address line 2",
    "city": "City",
    "state": "State or county",
    "postcode": "Postcode",
    "country": "Country",
    "notes": "Note",
}

# Column names people use, compared without case, accents, spaces or punctuation.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "firstname", "given name", "forename", "first", "fname",
                   "christian name"),
    "last_name": ("last name", "lastname", "surname", "family name", "last", "lname"),
    "name": ("name", "full name", "customer name", "contact name", "customer", "client",
             "client name", "display name"),
    "company": ("company", "company name", "organisation", "organization", "business",
                "business name"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "email 1"),
    "phone": ("phone", "phone number", "telephone", "telephone number", "tel", "mobile",
              "mobile phone", "mobile number", "cell", "cell phone", "cellphone", "phone 1"),
    "address_1": ("address 1", "address line 1", "address1", "address", "street",
                  "street address", "addr 1", "line 1"),
    "address_2": ("address 2", "address line 2", "address2", "addr 2", "line 2"),
    "city": ("city", "town", "town city", "city town", "town or city"),
    "state": ("state", "county", "province", "region", "state province", "state county",
              "county state", "state or county"),
    "postcode": ("postcode", "post code", "postal code", "zip", "zip code", "zipcode",
                 "postcode zip", "zip postcode"),
    "country": ("country", "country code", "nation"),
    "notes": ("notes", "note", "comments", "comment", "remarks"),
}
_PREFIXES = ("billing", "customer", "contact", "primary")

# The column this import adds to a rejected-rows file; on the way back in it is skipped.
REASON_HEADER = "Not imported because"

STORE_NOTE = (
    "Imported customers are kept in the back office only: no web store account is opened "
    "for them, so nobody gets the store's welcome email. A customer who has or opens a store "
    "account with the same email address is linked to it at the next sync, not added twice."
)

_ADDRESS_FIELDS = ("address_1", "address_2", "city", "state", "postcode")


def _compact(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", fold(header))


_KNOWN = {_compact(name): f for f, names in HEADER_NAMES.items() for name in names}


def _field_for(header: str) -> tuple[str | None, str]:
    """The customer field a column name stands for, or None and why it is left out."""
    key = _compact(header)
    if not key:
        return None, "it has no name"
    if key == _compact(REASON_HEADER):
        return None, "it is the reason column of an earlier rejected-rows file"
    if key in _KNOWN:
        return _KNOWN[key], ""
    for prefix in _PREFIXES:
        if key.startswith(prefix) and key[len(prefix):] in _KNOWN:
            return _KNOWN[key[len(prefix):]], ""
    if key.startswith(("shipping", "delivery")):
        return None, "only one address is imported, the billing one"
    return None, "it is not a customer detail this import knows"


@dataclass(frozen=True)
class ColumnMapping:
    """One column of the file: what it is imported as, or why it is ignored."""

    index: int
    header: str
    field: str | None
    reason: str = ""

    @property
    def label(self) -> str:
        if self.field is None:
            return f"Ignored: {self.reason}"
        return FIELD_LABELS[self.field]


def map_columns(headers: Sequence[str]) -> tuple[ColumnMapping, ...]:
    """Match each column name to a customer field; the first column for a field wins."""
    taken: dict[str, str] = {}
    out = []
    for i, header in enumerate(headers):
        name, reason = _field_for(header)
        if name is not None and name in taken:
            out.append(ColumnMapping(i, header, None,
                                     f"the column “{taken[name]}” already gives the {FIELD_LABELS[name].lower()}"))
            continue
        if name is not None:
            taken[name] = header
        out.append(ColumnMapping(i, header, name, reason))
    return tuple(out)


# --- Names and countries ------------------------------------------------------------------------

_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "madam"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md"})
_PARTICLES = frozenset({"van", "von", "de", "der", "den", "du", "da", "di", "del", "della", "dos",
                        "das", "le", "la", "st", "ter", "ten", "bin", "al", "el"})


def split_name(name: str) -> tuple[str, str]:
    """Split a whole name into (first name, last name).

    "Smith, John" is last name first. Otherwise the last word is the last name, with
    the particles before it ("Ludwig van Beethoven") and a suffix after it ("John Smith
    Jr"); a leading title ("Mrs") is left out. A single word is a first name.
    """
    text = " ".join(name.split())
    if not text:
        return "", ""
    if text.count(",") == 1:
        last, first = (p.strip() for p in text.split(","))
        if last and first and fold(first).strip(".") not in _SUFFIXES:
            return first, last
    words = text.split(" ")
    while len(words) > 1 and fold(words[0]).rstrip(".") in _TITLES:
        words = words[1:]
    if len(words) == 1:
        return words[0], ""
    cut = len(words) - 1
    if fold(words[-1]).strip(".,") in _SUFFIXES and len(words) > 2:
        cut -= 1
    while cut > 1 and fold(words[cut - 1]) in _PARTICLES:
        cut -= 1
    return " ".join(words[:cut]), " ".join(words[cut:])


def _english_name(code: str) -> str | None:
    names = LOCALE_DATA.get(code) or {}
    name = names.get("en")
    while isinstance(name, str) and name.startswith("*"):
        name = names.get(name[1:])
    return name


_COUNTRY_CODES = frozenset(code for code in LOCALE_DATA if len(code) == 2 and code.isalpha())
_COUNTRY_NAMES = {fold(n): code for code in _COUNTRY_CODES if (n := _english_name(code))}
_COUNTRY_NAMES.update({
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "u.k.": "GB", "great britain": "GB", "britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "holland": "NL",
    "the netherlands": "NL", "deutschland": "DE", "czech republic": "CZ",
})


def country_code(value: str) -> str | None:
    """The two-letter code for what was written in a country cell, or None if unknown."""
    text = " ".join(value.split())
    if len(text) == 2 and text.isalpha():
        code = text.upper()
        return "GB" if code == "UK" else (code if code in _COUNTRY_CODES else None)
    return _COUNTRY_NAMES.get(fold(text))


# --- Reading the file -----------------------------------------------------------------------

_DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


@dataclass(frozen=True)
class _Text:
    text: str
    encoding: str
    note: str


def _decode(data: bytes) -> _Text:
    if data.startswith(b"PK\x03\x04"):
        raise ValidationError("This is an Excel workbook (.xlsx), not a CSV file; nothing was imported. "
                              "In the spreadsheet, choose Save As and the CSV format, then import that file.")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationError("This is an old Excel workbook (.xls), not a CSV file; nothing was imported. "
                              "In the spreadsheet, choose Save As and the CSV format, then import that file.")
    for bom, name in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                      (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return _checked(data[len(bom):].decode(name), name.upper().replace("-LE", "").replace("-BE", ""), "")
            except UnicodeDecodeError:
                break
    try:
        return _checked(data.decode("utf-8"), "UTF-8", "")
    except UnicodeDecodeError:
        pass
    note = ("The file is not UTF-8, so it was read as Windows-1252 (Western European, what Excel "
            "saves by default); check that accented letters look right.")
    try:
        return _checked(data.decode("cp1252"), "Windows-1252", note)
    except UnicodeDecodeError:
        # Five byte values have no Windows-1252 character; Latin-1 reads every byte.
        return _checked(data.decode("latin-1"), "ISO-8859-1",
                        note.replace("Windows-1252", "ISO-8859-1 (Latin-1)"))


def _checked(text: str, encoding: str, note: str) -> _Text:
    if "\x00" in text:
        raise ValidationError("This is not a text file (it holds binary data), so it is not a CSV file; "
                              "nothing was imported.")
    return _Text(text, encoding, note)


def _sniff(lines: Sequence[str]) -> str:
    sample = lines[:50]
    best, best_score = ",", (-1, 0)
    for delimiter in _DELIMITERS:
        rows = [r for r in csv.reader(sample, delimiter=delimiter) if r]
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        score = (sum(len(r) == width for r in rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


@dataclass(slots=True)
class _Record:
    line: int
    last_line: int
    cells: list[str]
    unreadable: str = ""


def _records(lines: list[str], delimiter: str, first: int, end: int | None = None) -> Iterator[_Record]:
    """The file's records from line index `first` on (up to `end`), each with the lines it spans."""
    source = iter(lines[first:end])
    reader = csv.reader(source, delimiter=delimiter)
    consumed = 0
    while True:
        start = consumed
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            consumed = reader.line_num
            raw = "".join(lines[first + start:first + consumed]).rstrip("\r\n")
            yield _Record(first + start + 1, first + consumed, [raw], f"it could not be read ({exc})")
            continue
        consumed = reader.line_num
        yield _Record(first + start + 1, first + consumed, cells)


def _open_quote_at_end(lines: list[str], record: _Record, delimiter: str) -> bool:
    """True when the record runs to the end of the file inside a quoted cell."""
    raw = lines[record.line - 1:record.last_line]
    try:
        for _ in csv.reader(raw, delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


# --- Reports ---------------------------------------------------------------------------------


class ProblemKind(StrEnum):
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    MASKED = "masked"


class RowOutcome(StrEnum):
    IMPORT = "import"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Something the person should know about one line: why it is left out, or what was masked."""

    line: int
    column: str  # the column's name in the file, or "" for the whole row
    message: str
    kind: ProblemKind

    def sentence(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class RowVerdict:
    """What happens (or happened) to one data row of the file."""

    line: int
    outcome: RowOutcome
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row left out, with its cells as read (card numbers masked) and the reason."""

    line: int
    cells: tuple[str, ...]
    reason: str


# Joins the values of a row ready to write: a decoded file never holds it (such files are refused).
_SEP = "\x00"


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A row ready to write, packed into one string: a preview may hold a hundred thousand.

    `packed` holds the email's lookup key ("" without an email); first name, last name,
    company, email and phone as checked; the phone's E.164 form; the address fields and
    country code (all "" without an address); and the note.
    """

    line: int
    last_line: int
    packed: str

    @property
    def key(self) -> str:
        return self.packed[:self.packed.index(_SEP)]

    def unpack(self) -> tuple[str, tuple[str, ...], tuple[str, ...] | None, str]:
        """(key, (first, last, company, email, phone, e164), address or None, note)."""
        values = self.packed.split(_SEP)
        address = tuple(values[7:13])
        return values[0], tuple(values[1:7]), (address if address[-1] else None), values[13]


@dataclass(frozen=True)
class ImportPreview:
    """What importing the file would do (or, in a result, did): nothing written."""

    encoding: str
    delimiter: str
    headers: tuple[str, ...]
    columns: tuple[ColumnMapping, ...]
    rows: int  # data rows, blank ones not counted
    blank_rows: int
    verdicts: tuple[RowVerdict, ...]
    problems: tuple[RowProblem, ...]
    rejected_rows: tuple[RejectedRow, ...]
    notes: tuple[str, ...]
    digest: str = field(repr=False)
    region: str = ""
    _prepared: tuple[_Prepared, ...] = field(default=(), repr=False, compare=False)

    def _count(self, outcome: RowOutcome) -> int:
        return sum(1 for v in self.verdicts if v.outcome is outcome)

    @property
    def new(self) -> int:
        """Rows that would be imported as new customers."""
        return self._count(RowOutcome.IMPORT)

    @property
    def duplicates(self) -> int:
        return self._count(RowOutcome.DUPLICATE)

    @property
    def rejected(self) -> int:
        return self._count(RowOutcome.REJECTED)

    @property
    def masked(self) -> int:
        """Cells in which a card number was masked."""
        return sum(1 for p in self.problems if p.kind is ProblemKind.MASKED)

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))

    def summary(self) -> str:
        """One sentence with the counts."""
        parts = [f"{self.rows:,} row{'' if self.rows == 1 else 's'} read",
                 f"{self.new:,} new customer{'' if self.new == 1 else 's'}",
                 f"{self.duplicates:,} duplicate{'' if self.duplicates == 1 else 's'} skipped",
                 f"{self.rejected:,} rejected"]
        if self.masked:
            parts.append(f"{self.masked:,} card number{'' if self.masked == 1 else 's'} masked")
        return ", ".join(parts) + "."


@dataclass(frozen=True)
class ImportResult:
    """What an import did. `report` is the final preview: rows found to be duplicates
    while writing (someone added them meanwhile) are counted there as duplicates."""

    imported: int
    report: ImportPreview
    customer_ids: frozenset[int]
    changes: Changes

    @property
    def duplicates(self) -> int:
        return self.report.duplicates

    @property
    def rejected(self) -> int:
        return self.report.rejected

    def summary(self) -> str:
        r = self.report
        text = (f"Imported {self.imported:,} customer{'' if self.imported == 1 else 's'}; "
                f"{r.duplicates:,} duplicate{'' if r.duplicates == 1 else 's'} skipped, "
                f"{r.rejected:,} row{'' if r.rejected == 1 else 's'} rejected")
        if r.masked:
            text += f", {r.masked:,} card number{'' if r.masked == 1 else 's'} masked"
        return text + "."


# --- Checking rows ---------------------------------------------------------------------------

_MAX_LENGTH = {name: CustomerAddress.__table__.c[name].type.length for name in _ADDRESS_FIELDS}


def _masked_cells(headers: Sequence[str], columns: Sequence[ColumnMapping], cells: list[str],
                  line: int, problems: list[RowProblem]) -> list[str]:
    """The row's cells with every card number masked; each masked cell is reported."""
    if not may_contain_card_number("\n".join(cells)):
        return cells
    # Key each cell by its field (or its column name) so a phone column is read as phones.
    keys = [(columns[i].field or columns[i].header) if i < len(columns) else "" for i in range(len(cells))]
    guarded = guard_payload([{"key": k, "value": c} for k, c in zip(keys, cells)])
    if not guarded.changed:
        return cells
    by_cell: dict[int, list[str]] = {}
    for path, match in guarded.found:
        by_cell.setdefault(int(path[0]), []).append(match.last4)
    for i, endings in sorted(by_cell.items()):
        column = headers[i] if i < len(headers) else f"cell {i + 1}"
        marks = ", ".join(mask_for(e) for e in endings)
        what = "A card number was" if len(endings) == 1 else f"{len(endings)} card numbers were"
        problems.append(RowProblem(line, column, f"{what} replaced by {marks}; card numbers are never stored.",
                                   ProblemKind.MASKED))
    return [item["value"] for item in guarded.value]


def _international(phone: str, country: str) -> str | None:
    """A phone written without a country code, in international form for `country`."""
    if not phone or phone.lstrip().startswith(("+", "00")):
        return None
    found = normalize_phone(phone, default_region=country)
    if found is None or not found.is_valid:
        return None
    number = parse_phone(found.e164, None)
    if found.extension:
        number.extension = found.extension
    return format_number(number, PhoneNumberFormat.INTERNATIONAL)


@dataclass
class _Checker:
    """Checks rows one by one; remembers the emails seen, for duplicates within the file."""

    headers: tuple[str, ...]
    columns: tuple[ColumnMapping, ...]
    region: str
    seen: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.where = {c.field: c.index for c in self.columns if c.field}
        self.width = len(self.headers)

    def column(self, name: str) -> str:
        if name in self.where:
            return self.headers[self.where[name]]
        if name in ("first_name", "last_name") and "name" in self.where:
            return self.headers[self.where["name"]]
        return ""

    def check(self, record: _Record, cells: list[str]) -> tuple[_Prepared | None, list[tuple[str, str]], bool]:
        """The row made ready to write, or None and its problems as (column, sentence);
        the flag is True when the row is left out as a duplicate."""
        prepared, problems = self._check(record, cells)
        return prepared, problems, self._duplicate

    def _check(self, record: _Record, cells: list[str]) -> tuple[_Prepared | None, list[tuple[str, str]]]:
        self._duplicate = False
        if record.unreadable:
            return None, [("", f"This row was left out: {record.unreadable}.")]
        if len(cells) != self.width:
            extra = cells[self.width:]
            if len(cells) > self.width and not any(c.strip() for c in extra):
                cells = cells[:self.width]
            elif record.last_line > record.line:
                return None, [("", f"Lines {record.line} to {record.last_line} were read as one row of "
                                   f"{len(cells)} cells (the first line names {self.width} columns): a quote "
                                   f"on line {record.line} is probably not closed.")]
            else:
                return None, [("", f"This row has {len(cells)} cells but the first line names {self.width} "
                                   "columns; a delimiter may be missing or one too many.")]
        values = {name: cells[i].strip() for name, i in self.where.items()}
        first, last = values.get("first_name", ""), values.get("last_name", "")
        if not (first or last) and values.get("name"):
            first, last = split_name(values["name"])
        problems: list[tuple[str, str]] = []
        country = ""
        if values.get("country"):
            country = country_code(values["country"]) or ""
            if not country:
                problems.append((self.column("country"),
                                 f"The country “{values['country'][:40]}” is not known; write it as a "
                                 "two-letter code such as US or GB, or as its English name."))
        phone = values.get("phone", "")
        if phone and country and country != self.region:
            phone = _international(phone, country) or phone
        wanted = {"first_name": first, "last_name": last, "company": values.get("company", ""),
                  "email": values.get("email", ""), "phone": phone}
        clean: dict[str, Any] = {}
        try:
            clean = validate_changes(wanted, default_country=self.region)
        except ValidationError as exc:
            for name, sentence in exc.fields.items():
                problems.append((self.column(name), sentence))
        address = {k: " ".join(values.get(k, "").split()) for k in _ADDRESS_FIELDS}
        for k, v in address.items():
            if len(v) > _MAX_LENGTH[k]:
                problems.append((self.column(k), f"This is too long: at most {_MAX_LENGTH[k]} characters."))
        if problems:
            return None, problems
        if not (clean["first_name"] or clean["last_name"] or clean["company"] or clean["email"]):
            return None, [("", "This row has no name, company or email address, so there is nothing to "
                               "know the customer by.")]
        key = email_key(clean["email"]) if clean["email"] else ""
        if key:
            earlier = self.seen.get(key)
            if earlier is not None:
                self._duplicate = True
                return None, [(self.column("email"),
                               f"Line {earlier} has the same email address; this row was skipped, "
                               "not merged.")]
            self.seen[key] = record.line
        phone = normalize_phone(clean["phone"], default_region=self.region) if clean["phone"] else None
        has_address = any(address.values())
        packed = _SEP.join((
            key, clean["first_name"], clean["last_name"], clean["company"], clean["email"], clean["phone"],
            (phone.e164 or "") if phone else "", *address.values(), (country or self.region) if has_address else "",
            values.get("notes", "").strip()))
        return _Prepared(record.line, record.last_line, packed), []


def _analyse(data: bytes, region: str, progress: Progress | None) -> ImportPreview:
    decoded = _decode(data)
    lines = _LINES.findall(decoded.text)
    first = 0
    delimiter = None
    if lines and re.fullmatch(r"sep=(.)\r?\n?", lines[0], re.IGNORECASE):
        delimiter = lines[0][4]
        first = 1
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first >= len(lines):
        raise ValidationError("The file is empty; nothing was imported.")
    delimiter = delimiter or _sniff(lines[first:])
    records = _records(lines, delimiter, first)
    header_record = next(records)
    headers = tuple(mask_card_numbers(h).text.strip() for h in header_record.cells)
    columns = map_columns(headers)
    if not any(c.field for c in columns):
        shown = ", ".join(f"“{h[:30]}”" for h in headers[:6])
        raise ValidationError(
            f"None of the column names on line {header_record.line} ({shown}) is one this import knows, "
            "so nothing was imported. The first line must name the columns, such as First name, "
            "Last name, Email, Phone.")
    checker = _Checker(headers, columns, region)
    problems: list[RowProblem] = []
    verdicts: list[RowVerdict] = []
    rejected: list[RejectedRow] = []
    prepared: list[_Prepared] = []
    blank = 0
    total = len(lines)
    for record in records:
        if not any(c.strip() for c in record.cells):
            blank += 1
            continue
        if record.last_line == len(lines) and record.last_line > record.line and \
                _open_quote_at_end(lines, record, delimiter):
            record.unreadable = (f"a quote on line {record.line} is never closed, so lines {record.line} to "
                                 f"{record.last_line} were read as one cell")
        cells = _masked_cells(headers, columns, record.cells, record.line, problems)
        ready, found, duplicate = checker.check(record, cells)
        if ready is not None:
            prepared.append(ready)
            verdicts.append(RowVerdict(record.line, RowOutcome.IMPORT))
        else:
            kind = ProblemKind.DUPLICATE if duplicate else ProblemKind.REJECTED
            problems.extend(RowProblem(record.line, col, text, kind) for col, text in found)
            reason = "; ".join(f"{col}: {text}" if col else text for col, text in found)
            outcome = RowOutcome.DUPLICATE if duplicate else RowOutcome.REJECTED
            verdicts.append(RowVerdict(record.line, outcome, reason))
            rejected.append(RejectedRow(record.line, tuple(cells), reason))
        if progress is not None and len(verdicts) % 1000 == 0:
            progress(record.last_line, total, f"Checking line {record.last_line:,} of {total:,}")
    notes = [n for n in (decoded.note,) if n]
    if blank:
        notes.append(f"{blank:,} empty row{'' if blank == 1 else 's'} skipped.")
    return ImportPreview(
        encoding=decoded.encoding, delimiter=delimiter, headers=headers, columns=columns,
        rows=len(verdicts), blank_rows=blank, verdicts=tuple(verdicts), problems=tuple(problems),
        rejected_rows=tuple(rejected), notes=tuple(notes), digest=hashlib.sha256(data).hexdigest(),
        region=region, _prepared=tuple(prepared),
    )


_KEY_BATCH = 500


def _on_file(conn_or_session, keys: Iterable[str]) -> dict[str, int]:
    """Email keys already on file, with the customer holding each."""
    keys = list(dict.fromkeys(k for k in keys if k))
    found: dict[str, int] = {}
    for start in range(0, len(keys), _KEY_BATCH):
        for cid, key in conn_or_session.execute(
            select(Customer.id, Customer.email_key)
            .where(Customer.email_key.in_(keys[start:start + _KEY_BATCH])).order_by(Customer.id)
        ):
            found.setdefault(key, cid)
    return found


def _cells_again(data: bytes, preview: ImportPreview, rows: Sequence[_Prepared]) -> dict[int, tuple[str, ...]]:
    """The cells of some rows read from the file again, card numbers masked (rows ready to
    write keep only what they write; a duplicate found late goes to the rejected rows whole)."""
    lines = _LINES.findall(_decode(data).text)
    out = {}
    for p in rows:
        record = next(_records(lines, preview.delimiter, p.line - 1, p.last_line))
        out[p.line] = tuple(_masked_cells(preview.headers, preview.columns, record.cells, p.line, []))
    return out


def _with_duplicates(preview: ImportPreview, on_file: Mapping[str, int], data: bytes) -> ImportPreview:
    """The preview with the rows whose email is already on file moved to the duplicates."""
    late = {p.line: (p, on_file[p.key]) for p in preview._prepared if p.key in on_file}
    if not late:
        return preview
    cells = _cells_again(data, preview, [p for p, _ in late.values()])
    by_line = {}
    column = next((preview.headers[c.index] for c in preview.columns if c.field == "email"), "")
    problems = list(preview.problems)
    rejected = list(preview.rejected_rows)
    for line, (p, cid) in late.items():
        text = (f"Customer {cid} already has this email address; this row was skipped, "
                "not merged.")
        by_line[line] = text
        problems.append(RowProblem(line, column, text, ProblemKind.DUPLICATE))
        rejected.append(RejectedRow(line, cells[line], f"{column}: {text}" if column else text))
    verdicts = tuple(
        RowVerdict(v.line, RowOutcome.DUPLICATE, f"{column}: {by_line[v.line]}" if column else by_line[v.line])
        if v.line in by_line else v for v in preview.verdicts)
    problems.sort(key=lambda p: (p.line, p.kind is not ProblemKind.MASKED))
    rejected.sort(key=lambda r: r.line)
    return replace(preview, verdicts=verdicts, problems=tuple(problems), rejected_rows=tuple(rejected),
                   _prepared=tuple(p for p in preview._prepared if p.line not in late))


# --- The service -----------------------------------------------------------------------------


def _region(db: Database) -> str:
    with db.read() as s:
        return shop_default_region(s)


def preview_import(db: Database, *, actor: Actor, data: bytes, progress: Progress | None = None) -> ImportPreview:
    """Read a CSV file and say what importing it would do, row by row; nothing is written.

    Raises PermissionDenied (the import adds customers, so it needs the permission to
    change customers), and ValidationError with a sentence when the file cannot be
    read as a customer list at all (empty, a workbook, no known column).
    `progress(done, total, text)` may raise to cancel.
    """
    access.require(db, actor, Permission.EDIT_CUSTOMER)
    preview = _analyse(data, _region(db), progress)
    with db.read() as s:
        on_file = _on_file(s, (p.key for p in preview._prepared))
    return _with_duplicates(preview, on_file, data)


CHUNK = 2000
# Indexing customers one by one costs about twenty times what a rebuild of the whole
# search index spends per customer: a large import rebuilds it once it is committed.
_ONE_BY_ONE = 200
_REBUILD_RATIO = 20


def _rebuild_index(s, new: int) -> bool:
    if new <= _ONE_BY_ONE:
        return False
    total = s.execute(select(func.count()).select_from(Customer)).scalar_one()
    return new * _REBUILD_RATIO >= total + new


def import_customers(
    db: Database, *, actor: Actor, data: bytes, preview: ImportPreview | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the customers of a CSV file; rows that cannot be imported are reported, not lost.

    Pass the `preview` of the same bytes to skip checking every row again. Emails are
    checked against the database once more while writing, in the same transaction.
    Everything is written in one transaction; when `progress` raises (a cancelled
    task), nothing is imported. Audited with counts only. Raises PermissionDenied
    and ValidationError (see `preview_import`).
    """
    access.require(db, actor, Permission.EDIT_CUSTOMER)
    region = _region(db)
    digest = hashlib.sha256(data).hexdigest()
    if preview is None or preview.digest != digest or preview.region != region:
        preview = _analyse(data, region, progress)
    total = len(preview._prepared)
    ids: list[int] = []
    with db.begin() as s:
        if s.get_bind().dialect.name == "sqlite":
            # Take SQLite's write lock first: until commit no other desk adds a customer,
            # so the email check below holds and the ids after the highest one are free.
            s.execute(text("UPDATE customers SET id = id WHERE 1 = 0"))
        on_file = _on_file(s, (p.key for p in preview._prepared))
        report = _with_duplicates(preview, on_file, data)
        rows = report._prepared
        rebuild = _rebuild_index(s, len(rows))
        for start in range(0, len(rows), CHUNK):
            if progress is not None:
                progress(start, total, f"Importing customer {start + 1:,} of {len(rows):,}")
            ids.extend(_write(s, actor, rows[start:start + CHUNK], region, index=not rebuild))
        if progress is not None:
            progress(total, total, "Saving")
        # The trail holds names, never values: the counts travel as "imported-120".
        audit.record(s, actor, "import_customers", entity_type="customer_import", fields=[
            f"imported-{len(ids)}", f"duplicates-{report.duplicates}", f"rejected-{report.rejected}",
            f"masked-{report.masked}"])
    report = replace(report, _prepared=())
    if rebuild:
        # The customers are saved: from here on, cancelling would only leave them out of
        # the search, so the rebuild runs to its end, and a failure is told, not raised.
        try:
            rebuild_search_index(db, _steady(progress) if progress is not None else None)
        except Exception:
            log.exception("the search index could not be rebuilt after an import")
            report = replace(report, notes=(*report.notes, (
                "The customers were imported, but the customer search could not be brought up to "
                "date, so the search box may not find them yet; they are in the customers list. "
                "The details are in the log.")))
    return ImportResult(imported=len(ids), report=report, customer_ids=frozenset(ids),
                        changes=Changes(customers=frozenset(ids)))


def _steady(progress: Progress) -> Progress:
    """`progress` that keeps reporting after a cancel instead of raising."""
    def report(done: int, total: int, text: str) -> None:
        try:
            progress(done, total, text)
        except Cancelled:
            pass
    return report


_CUSTOMERS = Customer.__table__
_ADDRESSES = CustomerAddress.__table__
_NOTES = CustomerNote.__table__


def _new_ids(s, n: int) -> list[int]:
    """Ids for `n` new customers, taken before inserting so the rows can be sent in bulk."""
    if s.get_bind().dialect.name == "postgresql":
        return list(s.execute(text(
            "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :n)"
        ), {"n": n}).scalars())
    # SQLite: the import holds the write lock (see import_customers).
    top = s.execute(select(func.max(Customer.id))).scalar() or 0
    return list(range(top + 1, top + n + 1))


def _write(s, actor: Actor, rows: Sequence[_Prepared], region: str, *, index: bool) -> list[int]:
    now = utcnow()
    ids = _new_ids(s, len(rows))
    customer_rows = []
    unpacked = [p.unpack() for p in rows]
    for cid, (key, customer, _, _) in zip(ids, unpacked):
        first, last, company, email, phone, e164 = customer
        digits = e164[1:]
        customer_rows.append({
            "id": cid, "status": CustomerStatus.ACTIVE, "first_name": first, "last_name": last,
            "company": company, "email": email or None, "email_key": key or None,
            "phone": phone, "phone_e164": e164 or None, "phone_digits": digits or None,
            "phone_rev": phone_suffix_key(digits) if digits else None,
            "sort_name": fold(f"{last} {first}".strip() or company),
            "restricted": False, "objected": False, "created_at": now, "updated_at": now, "version": 1,
        })
    s.execute(insert(_CUSTOMERS), customer_rows)
    addresses, notes, entries = [], [], []
    for cid, (_, _, postal, note), row in zip(ids, unpacked, customer_rows):
        address = None
        if postal is not None:
            address = {"customer_id": cid, "kind": AddressKind.BILLING, "is_default": True,
                       "first_name": row["first_name"], "last_name": row["last_name"],
                       "company": row["company"], "phone": row["phone"], "email": row["email"] or "",
                       **dict(zip((*_ADDRESS_FIELDS, "country"), postal))}
            addresses.append(address)
        if note:
            notes.append({"customer_id": cid, "staff_id": actor.staff_id, "created_at": now, "text": note})
        if index:
            entries.append((cid, customer_entry({**row, "id": cid, "merged_into_id": None},
                                                (address,) if address else (), default_region=region)))
    for table, values in ((_ADDRESSES, addresses), (_NOTES, notes)):
        if values:
            s.execute(insert(table), values)
    for cid, entry in entries:
        write_entry(s, cid, entry)
    return ids


# --- The rejected rows ---------------------------------------------------------------------------


def rejected_rows_csv(report: ImportPreview) -> bytes:
    """The rows left out, as a CSV file: the reason first, then the file's own columns.

    Card numbers stay masked. UTF-8 with a byte-order mark and the file's own delimiter,
    so the spreadsheet that made the file opens it the same way; importing it again
    skips the reason column.
    """
    drop = {i for i, h in enumerate(report.headers) if _compact(h) == _compact(REASON_HEADER)}
    out = io.StringIO()
    writer = csv.writer(out, delimiter=report.delimiter, lineterminator="\r\n")
    writer.writerow([REASON_HEADER, *(h for i, h in enumerate(report.headers) if i not in drop)])
    width = len(report.headers)
    for row in report.rejected_rows:
        # Short rows are padded so each cell stays under its column; extra cells follow.
        cells = list(row.cells) + [""] * (width - len(row.cells))
        writer.writerow([f"Line {row.line}: {row.reason}", *(c for i, c in enumerate(cells) if i not in drop)])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def write_rejected_rows(report: ImportPreview, path) -> int:
    """Write `rejected_rows_csv` to `path`; return how many rows it holds."""
    from pathlib import Path

    Path(path).write_bytes(rejected_rows_csv(report))
    return len(report.rejected_rows)
