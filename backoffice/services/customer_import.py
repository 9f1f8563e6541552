"""Importing a customer list from a CSV file (a spreadsheet's export): preview, import, rows left out.

How a file is read
==================

* **As a stream**: line by line, never whole, so a file of any size takes the same
  memory. What the preview finds is kept in temporary owner-only files that vanish
  with it (the rows ready to write, and the rows left out with their reasons), not
  in lists.
* **Encoding**: UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's
  "Unicode text"); a file whose beginning is not UTF-8 is read as Windows-1252, with a
  note saying so. A line of a UTF-8 file holding bytes that are not UTF-8 is left out
  and reported with its line number.
* **Delimiter**: comma, semicolon or tab, whichever splits the first lines into the
  most consistent columns (an Excel ``sep=;`` first line is obeyed). Quoted cells may
  hold the delimiter, doubled quotes and line breaks.
* **Columns**: the first line names them. Common English names are recognised
  (`HEADER_NAMES`), with or without a "billing" or "customer" in front; a single
  "Name" column is split into first and last name. Columns the import does not know
  are listed as ignored, never guessed.
* **Broken rows** are reported with their line number and left out, and the rest of
  the file is read on: a cell longer than the csv module's limit (131,072 characters),
  a NUL byte, bytes that are not text in the file's encoding, a quote never closed,
  the wrong number of cells.

What happens to each row
========================

Tidy first, check last. Each value is first put in the form it is stored in
(whitespace collapsed, the name split, the email normalised, the phone written in
international form for another country), and then that final form passes the
card-number detector (promise P1): a card number is masked to its last 4 digits in
names, company, addresses and the note, and makes the row rejected when it is in the
email or the phone. The phone keys, the email key, the sort name and the search
entry are derived from the checked values only. Then a row is

* **rejected** when it has the wrong number of cells, neither a name, a company nor
  an email address, or a detail the customer form would refuse (email, phone,
  lengths), or an unknown country;
* a **duplicate** when its email address is already on file or on an earlier line of
  the file: it is skipped, never merged into anyone;
* otherwise **imported**: a customer, their billing address and a note.

Rejected and duplicate rows are kept, card numbers masked, for a "rejected rows" CSV:
the original columns plus the reason, so the person can fix them and import that file
again. That file is written owner-only, with cells a spreadsheet would run as a
formula neutralised, never over the database, the imported file or, without say-so,
any existing file (`backoffice.private_files`).

The import writes in one transaction, in chunks: nothing is half imported, a
cancelled import leaves nothing behind, and a second run finds the first run's
customers as duplicates instead of adding them twice. Each new customer's search entry
is written in that transaction; the rest of the search index is left as it is.

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
import heapq
import io
import logging
import marshal
import os
import re
import sqlite3
import tempfile
import unicodedata
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from email_validator import SPECIAL_USE_DOMAIN_NAMES
from phonenumbers import PhoneNumber, PhoneNumberFormat, format_number
from phonenumbers.geodata.locale import LOCALE_DATA
from sqlalchemy import func, select, text

from backoffice.collector import calm_gc
from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.cards import guard_payload, mask_for, may_contain_card_number
from backoffice.domain.customer_fields import customer_columns
from backoffice.domain.customers import Customer, CustomerAddress, CustomerNote
from backoffice.domain.emails import email_key, validate_email
from backoffice.domain.enums import AddressKind, CustomerStatus
from backoffice.domain.phones import normalize_phone
from backoffice.domain.search import (
    CustomerSearchTerm,
    CustomerSearchText,
    add_words,
    contact_entry,
    entry_words,
)
from backoffice.domain.staff import Actor, Permission
from backoffice.domain.text import fold
from backoffice.errors import UserFacingError, ValidationError
from backoffice.private_files import private_csv, spreadsheet_safe
from backoffice.services import access, audit
from backoffice.services.changes import Changes, IdSet
from backoffice.services.page_mapper import PageMapper
from backoffice.services.settings import shop_default_country

__all__ = [
    "FIELD_LABELS",
    "HEADER_NAMES",
    "KEPT_PROBLEMS",
    "REASON_HEADER",
    "STORE_NOTE",
    "ColumnMapping",
    "ImportPreview",
    "ImportResult",
    "ProblemKind",
    "RejectedRow",
    "RowProblem",
    "import_customers",
    "preview_import",
    "rejected_rows_csv",
    "split_name",
    "write_rejected_rows",
]

log = logging.getLogger(__name__)

audit.register_action("import_customers", "Customers imported from a file")

Progress = Callable[[int, int, str], None]
Source = bytes | str | os.PathLike


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
# How much of the file's beginning decides its encoding, and how many lines its delimiter.
_HEAD_BYTES = 1 << 16
_SNIFF_LINES = 50
# A physical line longer than this is not read whole: the row it is in is left out.
# Above the csv module's own limit for a cell, so that limit speaks first.
LINE_LIMIT = 1 << 20
_READ_BLOCK = 1 << 16
# Marks the place of bytes that are not text in the file's encoding; a lone surrogate
# never comes out of decoding valid UTF-8 or UTF-16.
_UNREADABLE = "\udcff"


def _mark_unreadable(error: UnicodeDecodeError) -> tuple[str, int]:
    return _UNREADABLE, error.end


def _as_latin1(error: UnicodeDecodeError) -> tuple[str, int]:
    # Five byte values have no Windows-1252 character; Latin-1 reads every byte.
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("backoffice.import.unreadable", _mark_unreadable)
codecs.register_error("backoffice.import.latin1", _as_latin1)


class _Source:
    """The file to import: bytes in memory (tests, small files) or a path, opened as a stream."""

    def __init__(self, data: bytes | None, path: str | os.PathLike | None) -> None:
        if (data is None) == (path is None):
            raise TypeError("pass either data or path")
        self.data = data
        self.path = Path(path) if path is not None else None

    def open(self) -> IO[bytes]:
        if self.data is not None:
            return io.BytesIO(self.data)
        try:
            return open(self.path, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as exc:
            raise UserFacingError(f"The file {self.path.name} could not be read ({exc.strerror or exc}); "
                                  "nothing was imported.") from None

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def digest(self) -> str:
        """SHA-256 of the bytes, read in blocks."""
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        h = hashlib.sha256()
        with self.open() as fh:
            while block := fh.read(1 << 20):
                h.update(block)
        return h.hexdigest()


@dataclass(frozen=True)
class _Encoding:
    codec: str
    name: str  # as told to the person
    skip: int  # bytes of the byte-order mark
    errors: str
    note: str


def _refuse_workbooks(head: bytes) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise ValidationError("This is an Excel workbook (.xlsx), not a CSV file; nothing was imported. "
                              "In the spreadsheet, choose Save As and the CSV format, then import that file.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationError("This is an old Excel workbook (.xls), not a CSV file; nothing was imported. "
                              "In the spreadsheet, choose Save As and the CSV format, then import that file.")


def _encoding(head: bytes) -> _Encoding:
    """The file's encoding, from its first bytes."""
    _refuse_workbooks(head)
    for bom, codec, name in ((codecs.BOM_UTF8, "utf-8", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
                             (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16")):
        if head.startswith(bom):
            return _Encoding(codec, name, len(bom), "backoffice.import.unreadable", "")
    try:
        # A character cut at the end of the sample is fine: final=False.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        note = ("The file is not UTF-8, so it was read as Windows-1252 (Western European, what Excel "
                "saves by default); check that accented letters look right.")
        return _Encoding("cp1252", "Windows-1252", 0, "backoffice.import.latin1", note)
    return _Encoding("utf-8", "UTF-8", 0, "backoffice.import.unreadable", "")


class _Lines:
    """The decoded lines of a stream, for csv.reader, remembering what each record spans.

    csv.reader asks for one line at a time and never reads ahead, so the lines taken
    since the last record are exactly the current record's lines.
    """

    def __init__(self, raw: IO[bytes], enc: _Encoding) -> None:
        self.raw = raw
        self.encoding = enc.name
        raw.seek(enc.skip)
        self.text = io.TextIOWrapper(raw, encoding=enc.codec, errors=enc.errors, newline="")
        self.number = 0  # lines read so far
        self.start = 1  # first line of the current record
        self.taken: list[str] = []  # the current record's lines, as read
        self.flags: set[str] = set()
        self.ended = False
        self._pushed: list[tuple[str, frozenset[str]]] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line, flags = self._pushed.pop() if self._pushed else self.read()
        self.number += 1
        self.flags |= flags
        self.taken.append(line)
        return line

    def read(self) -> tuple[str, frozenset[str]]:
        """The next physical line and what is wrong with it; StopIteration at the end."""
        flags = set()
        line = self.text.readline(LINE_LIMIT)
        if not line:
            self.ended = True
            raise StopIteration
        if len(line) >= LINE_LIMIT and not line.endswith(("\n", "\r")):
            # Skip the rest of the physical line without holding it.
            while (more := self.text.readline(LINE_LIMIT)) and not more.endswith(("\n", "\r")):
                pass
            flags.add("long")
            line = "\n"
        if "\x00" in line:
            flags.add("nul")
            line = line.replace("\x00", "")
        if _UNREADABLE in line:
            flags.add("unreadable")
            line = line.replace(_UNREADABLE, "\ufffd")
        return line, frozenset(flags)

    def ahead(self, n: int) -> list[tuple[str, frozenset[str]]]:
        """Up to `n` lines read ahead, to be read again after `push`."""
        out = []
        try:
            while len(out) < n:
                out.append(self.read())
        except StopIteration:
            self.ended = False
        return out

    def push(self, lines: Sequence[tuple[str, frozenset[str]]]) -> None:
        """Lines read ahead, to be read again, in order."""
        self._pushed.extend(reversed(lines))

    def next_record(self) -> None:
        self.start = self.number + 1
        self.taken = []
        self.flags = set()

    def position(self) -> int:
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return 0


def _sniff(lines: Sequence[str]) -> str:
    best, best_score = ",", (-1, 0)
    for delimiter in _DELIMITERS:
        try:
            rows = [r for r in csv.reader(lines, delimiter=delimiter) if r]
        except csv.Error:
            continue
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


_RAW_KEPT = 200_000


def _broken(lines: _Lines, why: str) -> _Record:
    raw = "".join(lines.taken).rstrip("\r\n")
    if len(raw) > _RAW_KEPT:
        raw = raw[:_RAW_KEPT] + "…"
    return _Record(lines.start, max(lines.number, lines.start), [raw], why)


def _ends_inside_quote(taken: Sequence[str], delimiter: str) -> bool:
    try:
        for _ in csv.reader(taken, delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _records(lines: _Lines, delimiter: str) -> Iterator[_Record]:
    """The file's records, each with the lines it spans; a broken one carries why."""
    reader = csv.reader(lines, delimiter=delimiter)
    limit = csv.field_size_limit()
    while True:
        lines.next_record()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                why = (f"a cell is longer than {limit:,} characters (a quote on line {lines.start} may not "
                       "be closed)")
            else:
                why = f"it could not be read as CSV ({exc})"
            yield _broken(lines, why)
            continue
        flags = lines.flags
        if "long" in flags:
            yield _broken(lines, f"a line is longer than {LINE_LIMIT:,} characters")
        elif "nul" in flags:
            yield _broken(lines, "it holds a NUL byte, which a text file never does")
        elif "unreadable" in flags:
            yield _broken(lines, f"it holds bytes that are not {lines.encoding} text (the rejected-rows file "
                                 "shows them as \ufffd)")
        elif lines.ended and lines.number > lines.start and _ends_inside_quote(lines.taken, delimiter):
            yield _broken(lines, f"a quote on line {lines.start} is never closed, so lines {lines.start} to "
                                 f"{lines.number} were read as one cell")
        else:
            yield _Record(lines.start, lines.number, cells)


# --- Reports ---------------------------------------------------------------------------------

# The problems a report keeps to show (the command prints fewer, the dialog lists these);
# every row left out is in the rejected-rows file whatever its number.
KEPT_PROBLEMS = 1000


class ProblemKind(StrEnum):
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    MASKED = "masked"


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
class RejectedRow:
    """A row left out, with its cells as read (card numbers masked) and the reason."""

    line: int
    cells: tuple[str, ...]
    reason: str


def _dump(fh: IO[bytes], items: list) -> None:
    """Append `items` to a spool file as one block: its length, then its marshal form."""
    if items:
        block = marshal.dumps(items)
        fh.write(len(block).to_bytes(8, "little"))
        fh.write(block)
        items.clear()


def _load(fh: IO[bytes]) -> Iterator[list]:
    """The blocks of a spool file, in order. Each is read whole and then decoded: marshal
    reading from the file itself asks it for every value separately."""
    fh.flush()
    fh.seek(0)
    while size := fh.read(8):
        yield marshal.loads(fh.read(int.from_bytes(size, "little")))


class _Spool:
    """What a preview found, in two temporary files (owner-only, without a name, gone
    when closed or collected): the rows ready to write and the rows left out. Card
    numbers are masked before anything is written to them."""

    def __init__(self) -> None:
        self.ready = tempfile.TemporaryFile()
        self.left_out = tempfile.TemporaryFile()

    def ready_chunks(self) -> Iterator[list[tuple]]:
        return _load(self.ready)

    def rejected(self) -> Iterator[RejectedRow]:
        for chunk in _load(self.left_out):
            for line, cells, reason in chunk:
                yield RejectedRow(line, tuple(cells), reason)

    def close(self) -> None:
        self.ready.close()
        self.left_out.close()


@dataclass(frozen=True)
class ImportPreview:
    """What importing the file would do (or, in a result, did): nothing written.

    `problems` holds the first `KEPT_PROBLEMS` problems in line order; `problem_count`
    says how many there are; `rejected_rows()` reads every row left out.
    """

    encoding: str
    delimiter: str
    headers: tuple[str, ...]
    columns: tuple[ColumnMapping, ...]
    rows: int  # data rows, blank ones not counted
    blank_rows: int
    new: int  # rows that would be imported as new customers
    duplicates: int
    rejected: int
    masked: int  # cells in which a card number was masked
    problems: tuple[RowProblem, ...]
    problem_count: int
    notes: tuple[str, ...]
    digest: str = field(repr=False)
    region: str = ""
    _spool: _Spool | None = field(default=None, repr=False, compare=False)

    @property
    def left_out(self) -> int:
        """Rows in the rejected-rows file: rejected and duplicates."""
        return self.duplicates + self.rejected

    def rejected_rows(self) -> Iterator[RejectedRow]:
        """Every row left out, in line order, cells as read with card numbers masked."""
        return self._spool.rejected() if self._spool is not None else iter(())

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
    customer_ids: IdSet
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
_MAX_LENGTH.update({name: Customer.__table__.c[name].type.length
                    for name in ("first_name", "last_name", "company", "email", "phone")})
_NAME_FIELDS = ("first_name", "last_name", "company")
_CARD_IN_FIELD = ("This looks like a card number, so this row was left out; card numbers are never "
                  "stored.")

# The common shape of an address, which email-validator accepts as it is (domain in lower
# case): the full check runs only for the others, and is many times slower. Before the @
# sign it also takes letters of any script (María, jürgen), which the full check takes as
# they are when they are letters and already in their composed (NFC) form; both are checked
# on the address before it takes the quick path.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+([A-Za-z]{2,63})")
_PLAIN_EMAIL_LETTERS = re.compile(
    r"(?:[A-Za-z0-9_%+-]|[^\x00-\x7f])+(?:\.(?:[A-Za-z0-9_%+-]|[^\x00-\x7f])+)*"
    r"@(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\.)+([A-Za-z]{2,63})")


def _quick_email(value: str) -> re.Match | None:
    """The match of an address the quick path takes, or None."""
    if value.isascii():
        return _PLAIN_EMAIL.fullmatch(value)
    m = _PLAIN_EMAIL_LETTERS.fullmatch(value)
    if m is None:
        return None
    local = value[:value.index("@")]
    if (all(c.isalpha() for c in local if not c.isascii()) and unicodedata.is_normalized("NFC", local)
            and len(value.encode("utf-8")) <= 254):
        return m
    return None


def _checked_email(value: str) -> str:
    """The address to store, or ValidationError: `validate_email`, with a fast path for
    plain addresses."""
    m = _quick_email(value)
    if (m is not None and len(value) <= 254 and value.index("@") <= 64
            and m.group(1).lower() not in SPECIAL_USE_DOMAIN_NAMES
            and all(len(label) <= 63 for label in value[value.index("@") + 1:].split("."))):
        local, _, domain = value.rpartition("@")
        return f"{local}@{domain.lower()}"
    return validate_email(value)


def _tidy(value: str) -> str:
    return " ".join(value.split())


def _guard_cells(headers: Sequence[str], columns: Sequence[ColumnMapping], cells: Sequence[str],
                 line: int, problems: list[RowProblem]) -> list[str]:
    """The row's cells as read, every card number masked (for the rejected-rows file);
    each masked cell is reported. A cell whose number shows only once its whitespace is
    collapsed is written collapsed and masked."""
    if not _may_hold_card(cells):
        return list(cells)
    keys = [(columns[i].field or columns[i].header) if i < len(columns) else "" for i in range(len(cells))]
    out = list(cells)
    for i, (key, cell) in enumerate(zip(keys, cells)):
        guarded = _guard_value(key, cell) if _may_hold_card((cell,)) else None
        if guarded is not None:
            out[i], endings = guarded
            column = headers[i] if i < len(headers) else f"cell {i + 1}"
            problems.append(_masked_problem(line, column, endings))
    return out


# Whitespace other than single spaces: where collapsing it can join digit groups.
_LOOSE_WHITESPACE = re.compile(r"[^\S ]|  ")


def _may_hold_card(values: Iterable[str]) -> bool:
    """False when no value, as it is or with its whitespace collapsed, holds a card number.

    Collapsing only brings digit groups closer, so the collapsed text answers for both."""
    joined = "\x00".join(values)
    if _LOOSE_WHITESPACE.search(joined):
        joined = "\x00".join(_tidy(v) for v in joined.split("\x00"))
    return may_contain_card_number(joined)


@lru_cache(maxsize=1 << 15)
def _guard_value(key: str, value: str) -> tuple[str, tuple[str, ...]] | None:
    """`value` with its card numbers masked and their last 4 digits, or None if it has none.

    Looks at the value as it is, and also with its whitespace collapsed (line breaks and
    runs of spaces between digit groups), so that a number is not kept because of how it
    was spaced."""
    tidy = _tidy(value)
    for form in (value, tidy) if tidy != value else (value,):
        if not may_contain_card_number(form):
            continue
        guarded = guard_payload({"key": key, "value": form})
        if guarded.found:
            return guarded.value["value"], tuple(match.last4 for _, match in guarded.found)
    return None


def _masked_problem(line: int, column: str, endings: Sequence[str]) -> RowProblem:
    marks = ", ".join(mask_for(e) for e in endings)
    what = "A card number was" if len(endings) == 1 else f"{len(endings)} card numbers were"
    return RowProblem(line, column, f"{what} replaced by {marks}; card numbers are never stored.",
                      ProblemKind.MASKED)


def _international(found, country: str) -> str:
    """A valid number written the international way ("+44 20 7946 0958", with its extension)."""
    # The number as reading its E.164 form would give it, without reading it: the calling
    # code, then the national number, whose leading zeros (Italy's "06 ...") are counted apart.
    national = found.national_digits
    number = PhoneNumber(country_code=int(found.digits[:len(found.digits) - len(national)]),
                         national_number=int(national))
    if len(national) > 1 and national[0] == "0":
        number.italian_leading_zero = True
        zeros = min(len(national) - len(national.lstrip("0")), len(national) - 1)
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    if found.extension:
        number.extension = found.extension
    return format_number(number, PhoneNumberFormat.INTERNATIONAL)


@dataclass(slots=True)
class _Checked:
    """One row checked: ready to write (`values`), or left out (`problems`)."""

    record: _Record
    key: str = ""
    values: tuple | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    masked: list[RowProblem] = field(default_factory=list)
    # The cells as read hold nothing the card detector could take for a card number.
    cells_clear: bool = False


class _Checker:
    """Checks rows one by one: tidy each value, check it, then derive keys from it."""

    def __init__(self, headers: tuple[str, ...], columns: tuple[ColumnMapping, ...], region: str) -> None:
        self.headers = headers
        self.columns = columns
        self.region = region
        self.where = {c.field: c.index for c in columns if c.field}
        self.tidied = tuple((name, i) for name, i in self.where.items() if name != "notes")
        self.width = len(headers)
        self.phones: dict[tuple[str, str], tuple] = {}

    def column(self, name: str) -> str:
        if name in self.where:
            return self.headers[self.where[name]]
        if name in ("first_name", "last_name") and "name" in self.where:
            return self.headers[self.where["name"]]
        return ""

    def check(self, record: _Record) -> _Checked:
        out = _Checked(record)
        if record.unreadable:
            out.problems.append(("", f"This row was left out: {record.unreadable}."))
            return out
        cells = record.cells
        if len(cells) != self.width:
            extra = cells[self.width:]
            if len(cells) > self.width and not any(c.strip() for c in extra):
                cells = cells[:self.width]
            elif record.last_line > record.line:
                out.problems.append(("", f"Lines {record.line} to {record.last_line} were read as one row of "
                                         f"{len(cells)} cells (the first line names {self.width} columns): a "
                                         f"quote on line {record.line} is probably not closed."))
                return out
            else:
                out.problems.append(("", f"This row has {len(cells)} cells but the first line names "
                                         f"{self.width} columns; a delimiter may be missing or one too many."))
                return out
        self._check(out, cells)
        return out

    def _check(self, out: _Checked, cells: Sequence[str]) -> None:
        problems = out.problems
        # Tidy first: every value in the form it is stored in.
        values = {name: " ".join(cells[i].split()) for name, i in self.tidied}
        first, last = values.get("first_name", ""), values.get("last_name", "")
        if not (first or last) and values.get("name"):
            first, last = split_name(values["name"])
        final = {"first_name": first, "last_name": last, "company": values.get("company", "")}
        final.update({k: values.get(k, "") for k in _ADDRESS_FIELDS})
        final["notes"] = cells[self.where["notes"]].strip() if "notes" in self.where else ""
        country = ""
        if values.get("country"):
            country = country_code(values["country"]) or ""
            if not country:
                problems.append((self.column("country"),
                                 f"The country “{values['country'][:40]}” is not known; write it as a "
                                 "two-letter code such as US or GB, or as its English name."))
        email = values.get("email", "")
        if email:
            try:
                email = _checked_email(email)
            except ValidationError as exc:
                problems.append((self.column("email"), exc.fields.get("email", exc.message)))
        phone, found = values.get("phone", ""), None
        if phone:
            phone, found = self._phone(phone, country)
            if found is None:
                problems.append((self.column("phone"), phone))
        if problems:
            return
        final["email"] = email
        # Check last: the final forms pass the card-number detector. One first look takes
        # the cells as read along (for the rejected-rows file): usually neither holds one.
        # The phone is looked at alone: written for another country it has the twelve
        # digits or more of a card number, which would send the whole row value by value.
        out.cells_clear = not _may_hold_card(dict.fromkeys((*final.values(), *out.record.cells)))
        phone_suspect = bool(phone) and _may_hold_card((phone,))
        final["phone"] = phone
        if phone_suspect or (not out.cells_clear and _may_hold_card(final.values())):
            # One value at a time: only those that may hold one go to the detector.
            suspects = {name for name, value in final.items()
                        if value and name != "phone" and not out.cells_clear and _may_hold_card((value,))}
            if phone_suspect:
                suspects.add("phone")
            for name in ("email", "phone"):
                if name in suspects and _guard_value(name, final[name]) is not None:
                    problems.append((self.column(name), _CARD_IN_FIELD))
            if problems:
                return
            for name in (*_NAME_FIELDS, *_ADDRESS_FIELDS, "notes"):
                guarded = _guard_value(name, final[name]) if name in suspects else None
                if guarded is not None:
                    final[name], endings = guarded
                    column = self.column(name) or self.column("notes")
                    out.masked.append(_masked_problem(out.record.line, column, endings))
        for name, limit in _MAX_LENGTH.items():
            if len(final[name]) > limit:
                problems.append((self.column(name), f"This is too long: at most {limit} characters."))
        if problems:
            return
        if not (final["first_name"] or final["last_name"] or final["company"] or final["email"]):
            problems.append(("", "This row has no name, company or email address, so there is nothing "
                                 "to know the customer by."))
            return
        has_address = any(final[k] for k in _ADDRESS_FIELDS)
        email = final["email"]
        # An ASCII address checked above is trimmed, so its key is it in lower case.
        out.key = (email.lower() if email.isascii() else email_key(email)) if email else ""
        # Derived only from the checked values above.
        out.values = (
            out.key, final["first_name"], final["last_name"], final["company"], final["email"], final["phone"],
            found.e164 if found is not None else "",
            *(final[k] for k in _ADDRESS_FIELDS), (country or self.region) if has_address else "",
            final["notes"])

    def _phone(self, phone: str, country: str):
        """(the phone to store, its parsed form), or (a sentence, None).

        Remembered by the number's plain form and the row's country: the same number
        written with other spaces or punctuation is the same number (`_phone_key`)."""
        key = (_phone_key(phone), country)
        known = self.phones.get(key)
        if known is None:
            known = self._parse_phone(phone, country)
            if len(self.phones) >= _PHONES_KEPT:
                self.phones.clear()
            self.phones[key] = known
        international, found = known
        if found is None:
            return international, None
        return international or phone, found

    def _parse_phone(self, phone: str, country: str):
        """(the international form to store instead of what was typed, or "", the parsed
        form), or (a sentence, None)."""
        if country and country != self.region and not phone.startswith(("+", "00")):
            found = normalize_phone(phone, default_region=country)
            if found is not None and found.is_valid:
                return _international(found, country), found
        found = normalize_phone(phone, default_region=self.region)
        if found is None:
            return "A phone number needs digits, as in +1 713 555 0199.", None
        if not found.is_valid:
            return (f"This is not a valid phone number in {self.region}. For a number from another country, "
                    "start with + and the country code, as in +44 20 7946 0958."), None
        return "", found


# A phone written with digits, spaces and the usual punctuation only, a "+" first if any:
# libphonenumber reads it from its digits alone, so it is remembered by them.
_PLAIN_PHONE = re.compile(r"\+?[0-9 ().\-/]*")
_NOT_DIGIT = re.compile(r"[^0-9]+")
# How many parsed numbers a preview remembers (a bound, so memory stays flat).
_PHONES_KEPT = 1 << 15


def _phone_key(phone: str) -> str:
    """What a phone is remembered by: its digits for a plain one, after a mark for how it
    starts ("+", "00" or neither, which decide how it is read), else as typed."""
    if _PLAIN_PHONE.fullmatch(phone):
        start = "+" if phone.startswith("+") else "=" if phone.startswith("00") else ""
        return start + _NOT_DIGIT.sub("", phone)
    return "\x00" + phone


# --- Reading and checking the whole file --------------------------------------------------------

CHUNK = 2000
# A file of up to this many chunks is checked without a helper process (its start costs more).
_CHUNKS_ALONE = 2

# The helper process's checker, kept from chunk to chunk of a file (its phones remembered).
_HELPER_CHECKER: dict[tuple, _Checker] = {}


def _check_chunk(job: tuple) -> list[_Checked]:
    """`_Checker.check` of each row of a chunk: (headers, columns, region, rows). Runs in the
    preview's helper process (`page_mapper.PageMapper`); the checker is made there once a file."""
    headers, columns, region, rows = job
    key = (headers, columns, region)
    checker = _HELPER_CHECKER.get(key)
    if checker is None:
        _HELPER_CHECKER.clear()
        checker = _HELPER_CHECKER[key] = _Checker(headers, columns, region)
    return [checker.check(row) for row in rows]


class _SeenKeys:
    """Email keys of the rows read so far, with their line, for duplicates within the file.

    Kept in a private temporary SQLite database on disk (gone when closed), so memory does
    not grow with the file; only a hash of each key is kept there.
    """

    def __init__(self) -> None:
        self.conn = sqlite3.connect("")
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA synchronous = OFF")
        self.conn.execute("CREATE TABLE seen (key BLOB PRIMARY KEY, line INTEGER) WITHOUT ROWID")

    @staticmethod
    def _hash(key: str) -> bytes:
        return hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()

    def earlier(self, keys: Iterable[str]) -> dict[str, int]:
        """The keys among `keys` seen before, with the line of their first row."""
        by_hash = {self._hash(k): k for k in keys}
        found: dict[str, int] = {}
        hashes = list(by_hash)
        for start in range(0, len(hashes), 500):
            part = hashes[start:start + 500]
            marks = ",".join("?" * len(part))
            for h, line in self.conn.execute(f"SELECT key, line FROM seen WHERE key IN ({marks})", part):
                found[by_hash[h]] = line
        return found

    def add(self, pairs: Iterable[tuple[str, int]]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)",
                              [(self._hash(k), line) for k, line in pairs])

    def close(self) -> None:
        self.conn.close()


class _Tally:
    """Counts, the first problems, and the spool, as the rows go by."""

    def __init__(self, spool: _Spool) -> None:
        self.spool = spool
        self.rows = self.blank = self.new = self.duplicates = self.rejected = self.masked = 0
        self.problems: list[RowProblem] = []
        self.problem_count = 0
        self._ready: list[tuple] = []
        self._left_out: list[tuple] = []

    def problem(self, p: RowProblem) -> None:
        self.problem_count += 1
        if p.kind is ProblemKind.MASKED:
            self.masked += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(replace(p, message=_checked_sentence(p.message)))

    def ready(self, line: int, values: tuple, cells: Sequence[str]) -> None:
        self.new += 1
        self._ready.append((line, values, tuple(cells)))

    def left_out(self, line: int, cells: Sequence[str], reason: str, *, duplicate: bool) -> None:
        if duplicate:
            self.duplicates += 1
        else:
            self.rejected += 1
        self._left_out.append((line, tuple(cells), _checked_sentence(reason)))

    def flush(self) -> None:
        _dump(self.spool.ready, self._ready)
        _dump(self.spool.left_out, self._left_out)


def _checked_sentence(text: str) -> str:
    """A sentence about a row, card numbers masked: it may quote what was typed (an
    unknown country, the part of an email before the @ sign)."""
    guarded = _guard_value("", text)
    return guarded[0] if guarded is not None else text


def _reason(found: Sequence[tuple[str, str]]) -> str:
    return "; ".join(f"{col}: {text}" if col else text for col, text in found)


def _on_file(conn_or_session, keys: Iterable[str]) -> dict[str, int]:
    """Email keys already on file, with the customer holding each (the first added, when
    several do)."""
    keys = list(dict.fromkeys(k for k in keys if k))
    found: dict[str, int] = {}
    for start in range(0, len(keys), 500):
        # Not sorted by the database: sorting by id there can make it walk the whole table
        # in id order instead of looking the keys up in their index.
        for cid, key in conn_or_session.execute(
            select(Customer.id, Customer.email_key).where(Customer.email_key.in_(keys[start:start + 500]))
        ):
            if key not in found or cid < found[key]:
                found[key] = cid
    return found


def _on_file_sentence(cid: int) -> str:
    # Said without the record's internal id: staff find that customer by the email itself.
    return ("A customer here already has this email address; this row was skipped, not merged. "
            "Search the Customers screen for the email to see them.")


def _analyse(db: Database, source: _Source, region: str, progress: Progress | None) -> ImportPreview:
    digest = source.digest()
    total = source.size()
    with source.open() as raw:
        head = raw.read(_HEAD_BYTES)
        enc = _encoding(head)
        lines = _Lines(raw, enc)
        read = lines.ahead(_SNIFF_LINES + 2)
        ahead = [line for line, _ in read]
        if not any(line.strip() for line in ahead):
            raise ValidationError("The file is empty; nothing was imported.")
        # A NUL byte on one line of a text file is a broken row; in its first lines, or all
        # over its beginning, the file is not text at all.
        if enc.codec not in ("utf-16-le", "utf-16-be") and (
                b"\x00" in b"\n".join(head.split(b"\n", 4)[:4]) or head.count(b"\x00") > len(head) // 100):
            raise ValidationError("This is not a text file (it holds binary data), so it is not a CSV file; "
                                  "nothing was imported.")
        delimiter = None
        skip = 0
        if re.fullmatch(r"sep=(.)\r?\n?", ahead[0], re.IGNORECASE):
            delimiter, skip = ahead[0][4], 1
        while skip < len(ahead) and not ahead[skip].strip():
            skip += 1
        delimiter = delimiter or _sniff(ahead[skip:])
        # The lines skipped still count: line numbers are the file's own.
        lines.number = skip
        lines.push(read[skip:])
        records = _records(lines, delimiter)
        header = next(records)
        if header.unreadable:
            raise ValidationError(f"The first line of the file could not be read ({header.unreadable}); "
                                  "nothing was imported.")
        headers = tuple(_tidy(_checked_sentence(h)) for h in header.cells)
        columns = map_columns(headers)
        if not any(c.field for c in columns):
            shown = ", ".join(f"“{h[:30]}”" for h in headers[:6])
            raise ValidationError(
                f"None of the column names on line {header.line} ({shown}) is one this import knows, "
                "so nothing was imported. The first line must name the columns, such as First name, "
                "Last name, Email, Phone.")
        checker = _Checker(headers, columns, region)
        email_column = checker.column("email")
        imported = {headers[c.index] for c in columns if c.field}
        spool = _Spool()
        tally = _Tally(spool)
        seen = _SeenKeys()
        helper = PageMapper(_check_chunk)
        try:
            batch: list[_Checked] = []

            def settle() -> None:
                # Duplicates are decided per chunk: within it, then against earlier chunks, then
                # against the customers on file.
                keys = [c.key for c in batch if c.key]
                earlier = seen.earlier(keys)
                with db.read() as s:
                    on_file = _on_file(s, keys)
                first_line: dict[str, int] = {}
                for c in batch:
                    line = c.record.line
                    if c.values is not None and c.key:
                        before = earlier.get(c.key) or first_line.get(c.key)
                        if before is not None:
                            c.problems.append((email_column, f"Line {before} has the same email address; "
                                                             "this row was skipped, not merged."))
                        elif c.key in on_file:
                            c.problems.append((email_column, _on_file_sentence(on_file[c.key])))
                        else:
                            first_line[c.key] = line
                        duplicate = bool(c.problems)
                    else:
                        duplicate = False
                    if c.values is not None and not c.problems:
                        masked = []
                        cells = c.record.cells if c.cells_clear else _guard_cells(
                            headers, columns, c.record.cells, line, masked)
                        # What is imported is reported from its final form; a card number in a
                        # column left out is reported too, so the person can clear it at the source.
                        if c.masked or masked:
                            shown = sorted([*c.masked, *(p for p in masked if p.column not in imported)],
                                           key=lambda p: headers.index(p.column) if p.column in headers else 1 << 20)
                            for p in shown:
                                tally.problem(p)
                        tally.ready(line, c.values, cells)
                        continue
                    cells = _guard_cells(headers, columns, c.record.cells, line, masked := [])
                    for p in masked:
                        tally.problem(p)
                    kind = ProblemKind.DUPLICATE if duplicate else ProblemKind.REJECTED
                    for col, sentence in c.problems:
                        tally.problem(RowProblem(line, col, sentence, kind))
                    tally.left_out(line, cells, _reason(c.problems), duplicate=duplicate)
                seen.add(first_line.items())
                tally.flush()
                batch.clear()

            # Each chunk of rows is checked in two halves, one here and one in a helper
            # process (a second core), split by phone number so that each number is read
            # (and remembered) by one process only; the helper's half of a chunk is checked
            # while this process checks its own and settles the chunk before, in the file's
            # order. A file of a few chunks, or one read where no process can start, is
            # checked here alone, as is a half the helper could not check.
            pending: deque[tuple[list[_Record], list[int], Any, list[_Checked]]] = deque()
            phone_at = checker.where.get("phone")

            def helpers_half(record: _Record) -> bool:
                cells = record.cells
                if phone_at is None or phone_at >= len(cells) or not cells[phone_at].strip():
                    return bool(record.line & 1)
                return bool(hash(_phone_key(" ".join(cells[phone_at].split()))) & 1)

            def settle_first() -> None:
                chunk, theirs, result, mine = pending.popleft()
                helped = result() if theirs else None
                if helped is None or len(helped) != len(theirs):  # the helper could not: checked here
                    helped = [checker.check(chunk[i]) for i in theirs]
                rows: list[Any] = [None] * len(chunk)
                for i, checked in zip(theirs, helped):
                    rows[i] = checked
                kept = iter(mine)
                batch.extend(row if row is not None else next(kept) for row in rows)
                settle()
                if progress is not None:
                    progress(lines.position(), total, f"Checking line {chunk[-1].last_line:,}")

            def check(chunk: list[_Record]) -> None:
                if chunk_count > _CHUNKS_ALONE:
                    helper.start()
                theirs = [i for i, record in enumerate(chunk) if helpers_half(record)] if helper.ready() else []
                handed = helper.ahead((headers, columns, region, [chunk[i] for i in theirs])) if theirs else None
                if handed is None:
                    theirs = []
                given = set(theirs)
                mine = [checker.check(record) for i, record in enumerate(chunk) if i not in given]
                pending.append((chunk, theirs, handed, mine))
                while len(pending) > 1:
                    settle_first()

            chunk: list[_Record] = []
            chunk_count = 0
            for record in records:
                if not record.unreadable and not any(c.strip() for c in record.cells):
                    tally.blank += 1
                    continue
                tally.rows += 1
                chunk.append(record)
                if len(chunk) >= CHUNK:
                    chunk_count += 1
                    check(chunk)
                    chunk = []
            if chunk:
                check(chunk)
            while pending:
                settle_first()
        except BaseException:
            spool.close()
            raise
        finally:
            helper.close()
            seen.close()
            # The remembered values may hold card numbers as typed: gone with the preview.
            _guard_value.cache_clear()
    notes = [n for n in (enc.note,) if n]
    if tally.blank:
        notes.append(f"{tally.blank:,} empty row{'' if tally.blank == 1 else 's'} skipped.")
    return ImportPreview(
        encoding=enc.name, delimiter=delimiter, headers=headers, columns=columns, rows=tally.rows,
        blank_rows=tally.blank, new=tally.new, duplicates=tally.duplicates, rejected=tally.rejected,
        masked=tally.masked, problems=tuple(tally.problems), problem_count=tally.problem_count,
        notes=tuple(notes), digest=digest, region=region, _spool=spool)


# --- The service -----------------------------------------------------------------------------


def _region(db: Database) -> str:
    with db.read() as s:
        return shop_default_country(s)


def preview_import(db: Database, *, actor: Actor, data: bytes | None = None,
                   path: str | os.PathLike | None = None, progress: Progress | None = None) -> ImportPreview:
    """Read a CSV file (`path`, or its bytes as `data`) and say what importing it would do,
    row by row; nothing is written.

    Raises PermissionDenied (the import adds customers, so it needs the permission to
    change customers), UserFacingError when the file cannot be opened, and
    ValidationError with a sentence when it cannot be read as a customer list at all
    (empty, a workbook, no known column). `progress(done, total, text)` counts bytes
    and may raise to cancel.
    """
    access.require(db, actor, Permission.EDIT_CUSTOMER)
    with calm_gc(fewer_young_collections=False):  # (young objects as often: memory stays flat)
        return _analyse(db, _Source(data, path), _region(db), progress)


def import_customers(
    db: Database, *, actor: Actor, data: bytes | None = None, path: str | os.PathLike | None = None,
    preview: ImportPreview | None = None, progress: Progress | None = None,
) -> ImportResult:
    """Import the customers of a CSV file; rows that cannot be imported are reported, not lost.

    Pass the `preview` of the same file to skip reading and checking it again (it is
    used only while the file is unchanged). Emails are checked against the database
    once more while writing, in the same transaction. Everything is written in one
    transaction; when `progress` raises (a cancelled task), nothing is imported.
    Audited with counts only. Raises as `preview_import` does.
    """
    access.require(db, actor, Permission.EDIT_CUSTOMER)
    with calm_gc(fewer_young_collections=False):  # (young objects as often: memory stays flat)
        return _import(db, actor, _Source(data, path), preview, progress)


def _import(db: Database, actor: Actor, source: _Source, preview: ImportPreview | None,
            progress: Progress | None) -> ImportResult:
    region = _region(db)
    if (preview is None or preview._spool is None or preview.region != region
            or preview.digest != source.digest()):
        preview = _analyse(db, source, region, progress)
    total = preview.new
    ids = array("q")  # eight bytes a customer: the one thing that grows with the file
    late: list[tuple] = []
    late_problems: list[RowProblem] = []
    column = next((preview.headers[c.index] for c in preview.columns if c.field == "email"), "")
    with db.begin() as s, _page_cache(s):
        if s.get_bind().dialect.name == "sqlite":
            # Take SQLite's write lock first: until commit no other desk adds a customer,
            # so the email check below holds and the ids after the highest one are free.
            s.execute(text("UPDATE customers SET id = id WHERE 1 = 0"))
        else:
            # The emails are looked up in their index while this transaction adds rows that
            # the planner's statistics do not count yet: without this, as the customers table
            # grows, each check of a chunk may read all of it. Only for this transaction.
            s.execute(text("SET LOCAL enable_seqscan = off"))
        done = 0
        writer = _Writer(s, actor, region)
        for chunk in preview._spool.ready_chunks():
            if progress is not None:
                progress(done, total, f"Importing customer {done + 1:,} of {total:,}")
            on_file = _on_file(s, (values[0] for _, values, _ in chunk))
            rows = []
            for line, values, cells in chunk:
                if values[0] and values[0] in on_file:
                    sentence = _on_file_sentence(on_file[values[0]])
                    late.append((line, cells, f"{column}: {sentence}" if column else sentence))
                    late_problems.append(RowProblem(line, column, sentence, ProblemKind.DUPLICATE))
                else:
                    rows.append(values)
            ids.extend(_write(writer, rows))
            done += len(chunk)
        if progress is not None:
            progress(total, total, "Saving")
        duplicates = preview.duplicates + len(late)
        # The trail holds names, never values: the counts travel as "imported-120".
        audit.record(s, actor, "import_customers", entity_type="customer_import", fields=[
            f"imported-{len(ids)}", f"duplicates-{duplicates}", f"rejected-{preview.rejected}",
            f"masked-{preview.masked}"])
    report = preview
    if late:
        report = _with_late_duplicates(preview, late, late_problems)
    # Held as they were collected, eight bytes each (a frozenset of two million would be 100 MB).
    new = IdSet(ids)
    return ImportResult(imported=len(new), report=report, customer_ids=new, changes=Changes(customers=new))


# SQLite's page cache while an import writes, in KiB (SQLite's own default is 2 MiB): the
# new rows go to the indexes (emails, phones, names, search terms) all over each of them,
# and with a small cache the same pages are written out and read back again and again.
IMPORT_PAGE_CACHE_KIB = 32 * 1024


@contextmanager
def _page_cache(s) -> Iterator[None]:
    """A larger SQLite page cache for the connection of `s` while the block runs; the
    connection's own size afterwards (its pages beyond it are let go then)."""
    if s.get_bind().dialect.name != "sqlite":
        yield
        return
    conn = s.connection()
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{IMPORT_PAGE_CACHE_KIB}")
    try:
        yield
    finally:
        try:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")
        except Exception as exc:  # noqa: BLE001 - a broken connection is dropped by the pool anyway
            log.info("the page cache size was not put back: %s", exc)


def _with_late_duplicates(preview: ImportPreview, late: list[tuple], problems: list[RowProblem]) -> ImportPreview:
    """The preview with the rows someone added meanwhile counted as duplicates."""
    spool = _Spool()
    merged: list[tuple] = []
    old = ((r.line, r.cells, r.reason) for r in preview.rejected_rows())
    for item in heapq.merge(old, iter(late), key=lambda item: item[0]):
        merged.append(item)
        if len(merged) >= CHUNK:
            _dump(spool.left_out, merged)
    _dump(spool.left_out, merged)
    shown = sorted([*preview.problems, *problems], key=lambda p: (p.line, p.kind is not ProblemKind.MASKED))
    return replace(preview, new=preview.new - len(late), duplicates=preview.duplicates + len(late),
                   problems=tuple(shown[:KEPT_PROBLEMS]), problem_count=preview.problem_count + len(problems),
                   _spool=spool)


_CUSTOMERS = Customer.__table__
_ADDRESSES = CustomerAddress.__table__
_NOTES = CustomerNote.__table__
_TERMS = CustomerSearchTerm.__table__
_TEXTS = CustomerSearchText.__table__


_CUSTOMER_COLUMNS = ("id", "status", "first_name", "last_name", "company", "email", "email_key", "phone",
                     "phone_e164", "phone_digits", "phone_rev", "sort_name", "restricted", "objected",
                     "created_at", "updated_at", "version")
_ADDRESS_COLUMNS = ("customer_id", "kind", "is_default", "first_name", "last_name", "company", "phone", "email",
                    *_ADDRESS_FIELDS, "country")
_NOTE_COLUMNS = ("customer_id", "staff_id", "created_at", "text")


class _Inserts:
    """Plain executemany statements for the import's tables: tuples straight to the driver,
    the few values that need the column type's conversion (times, states, flags) converted
    once per chunk."""

    def __init__(self, s) -> None:
        self.conn = s.connection()
        self.dialect = self.conn.dialect
        self.mark = "?" if self.dialect.paramstyle == "qmark" else "%s"

    def value(self, column, value):
        process = column.type.dialect_impl(self.dialect).bind_processor(self.dialect)
        return process(value) if process is not None else value

    def run(self, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if rows:
            self.conn.exec_driver_sql(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([self.mark] * len(columns))})",
                rows)


class _Writer:
    """The new customers' rows, their addresses, notes and search entries, sent a chunk at a time."""

    def __init__(self, s, actor: Actor, region: str) -> None:
        self.s = s
        self.actor = actor
        self.region = region
        self.db = db = _Inserts(s)
        self.now = db.value(_CUSTOMERS.c.created_at, utcnow())
        self.active = db.value(_CUSTOMERS.c.status, CustomerStatus.ACTIVE)
        self.billing = db.value(_ADDRESSES.c.kind, AddressKind.BILLING)
        self.yes, self.no = db.value(_ADDRESSES.c.is_default, True), db.value(_CUSTOMERS.c.restricted, False)
        self.note_time = db.value(_NOTES.c.created_at, utcnow())
        self.postgres = s.get_bind().dialect.name == "postgresql"
        self.top: int | None = None
        self.customers: list[tuple] = []
        self.addresses: list[tuple] = []
        self.notes: list[tuple] = []
        self.terms: list[tuple] = []
        self.texts: list[tuple] = []
        self.words: set[str] = set()

    def new_ids(self, n: int) -> list[int]:
        """Ids for `n` new customers, taken before inserting so the rows can be sent in bulk."""
        if self.postgres:
            return list(self.s.execute(text(
                "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :n)"
            ), {"n": n}).scalars())
        # SQLite: the import holds the write lock (see import_customers), so the ids after
        # the highest one stay free; those handed out but not yet sent are counted here.
        if self.top is None:
            self.top = self.s.execute(select(func.max(Customer.id))).scalar() or 0
        first, self.top = self.top + 1, self.top + n
        return list(range(first, self.top + 1))

    def add(self, rows: Sequence[tuple]) -> list[int]:
        ids = self.new_ids(len(rows))
        active, billing, yes, no, now = self.active, self.billing, self.yes, self.no, self.now
        staff, region = self.actor.staff_id, self.region
        customers, addresses, notes, terms, texts = (self.customers, self.addresses, self.notes, self.terms,
                                                     self.texts)
        words = self.words
        for cid, values in zip(ids, rows):
            key, first, last, company, email, phone, e164 = values[:7]
            postal, note = values[7:13], values[13]
            derived = customer_columns(first_name=first, last_name=last, company=company, email=email,
                                       phone_e164=e164, phone_digits=e164[1:])
            customers.append((cid, active, first, last, company, email or None, derived["email_key"], phone,
                              derived["phone_e164"], derived["phone_digits"], derived["phone_rev"],
                              derived["sort_name"], no, no, now, now, 1))
            if postal[-1]:
                addresses.append((cid, billing, yes, first, last, company, phone, email, *postal))
            if note:
                notes.append((cid, staff, self.note_time, note))
            # The search entry of a new customer, from the checked values only; the rest of
            # the index stays as it is. The phone's digits passed the card check when it was read.
            entry = contact_entry(
                first_name=first, last_name=last, company=company, email=email or None,
                email_key=derived["email_key"], phone=phone, phone_digits=derived["phone_digits"],
                address=bool(postal[-1]), postcode=postal[4], default_region=region, phone_digits_checked=True)
            terms.extend((cid, k, t) for k, t in entry.terms)
            if entry.body:
                texts.append((cid, entry.body))
            words |= entry_words(entry.terms)
        self.flush()
        return ids

    def flush(self) -> None:
        db = self.db
        db.run("customers", _CUSTOMER_COLUMNS, self.customers)
        db.run("customer_addresses", _ADDRESS_COLUMNS, self.addresses)
        db.run("customer_notes", _NOTE_COLUMNS, self.notes)
        db.run("customer_search", ("customer_id", "kind", "term"), self.terms)
        db.run("customer_search_text", ("customer_id", "body"), self.texts)
        add_words(self.s, self.words)
        for pending in (self.customers, self.addresses, self.notes, self.terms, self.texts, self.words):
            pending.clear()




def _write(writer: _Writer, rows: Sequence[tuple]) -> list[int]:
    """Insert a chunk of checked rows, their addresses, notes and search entries."""
    return writer.add(rows) if rows else []


# --- The rejected rows ---------------------------------------------------------------------------


def _rejected_lines(report: ImportPreview) -> Iterator[list[str]]:
    drop = {i for i, h in enumerate(report.headers) if _compact(h) == _compact(REASON_HEADER)}
    yield [REASON_HEADER, *(h for i, h in enumerate(report.headers) if i not in drop)]
    width = len(report.headers)
    for row in report.rejected_rows():
        # Short rows are padded so each cell stays under its column; extra cells follow.
        cells = list(row.cells) + [""] * (width - len(row.cells))
        yield [f"Line {row.line}: {row.reason}", *(c for i, c in enumerate(cells) if i not in drop)]


def rejected_rows_csv(report: ImportPreview) -> bytes:
    """The rows left out, as the bytes of the file `write_rejected_rows` writes (for a
    small report; the file is written as a stream)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=report.delimiter, lineterminator="\r\n")
    for row in _rejected_lines(report):
        writer.writerow([spreadsheet_safe(c) for c in row])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def write_rejected_rows(report: ImportPreview, path: str | os.PathLike, *, replace: bool = False,
                        protect: Iterable[str | os.PathLike] = ()) -> int:
    """Write the rows left out to a new CSV file at `path`; return how many rows it holds.

    The reason comes first, then the file's own columns; card numbers stay masked.
    UTF-8 with a byte-order mark and the file's own delimiter, so the spreadsheet that
    made the file opens it the same way; importing it again skips the reason column.
    The file is readable by its owner only, and a cell a spreadsheet would run as a
    formula is written with an apostrophe in front. Raises FileExistsRefused for an
    existing file unless `replace` (the person said so) and for any file in `protect`
    (the database, the imported file) whatever `replace` says, and UserFacingError
    when the file cannot be written.
    """
    count = 0
    try:
        with private_csv(path, replace=replace, protect=protect, delimiter=report.delimiter) as writer:
            for row in _rejected_lines(report):
                writer.writerow(row)
                count += 1
    except OSError as exc:
        raise UserFacingError(f"The rejected rows could not be saved to {path} ({exc.strerror or exc}); "
                              "nothing was written there.") from None
    return count - 1
