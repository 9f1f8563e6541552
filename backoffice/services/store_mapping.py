"""Mapping between the web store's records (plain dicts) and the back office's rows, both ways.

Pure functions only: no session, no HTTP. The sync reads records with these into
plain dicts of column values and bulk-writes them, and builds the payloads it sends
from rows read at send time.

Customers carry a composite digest of the store's copy (`Customer.store_digest`):
one 8-hex-digit part for the whole record (unchanged means skip) and one for each
field group the desk can edit (first name, last name, email, phone, billing and
shipping address). The group parts are the base of a three-way merge: a group whose
store value no longer matches its part was changed on the store, one whose local
value no longer matches was changed here.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import orjson

from backoffice.domain.cards import (
    ASCII_CARD_JOINERS,
    SECURITY_CODE_HINTS,
    fit_checked,
    format_path,
    guard_payload,
    is_card_joiner,
    may_contain_security_code,
)
from backoffice.domain.customer_fields import contact_columns  # noqa: F401  (the sync's customer columns)
from backoffice.domain.emails import normalize_email
from backoffice.domain.enums import OrderStatus
from backoffice.domain.text import fold
from backoffice.store.connector import ORDER_REFERENCE_META_KEY, page_problem

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: The meta key most tracking plugins (WooCommerce Shipment Tracking) keep parcels under.
TRACKING_META_KEY = "_wc_shipment_tracking_items"
#: Simpler one-parcel keys some plugins use.
SIMPLE_TRACKING_KEYS = ("_tracking_number", "_tracking_provider")

ADDRESS_FIELDS = (
    "first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country",
    "phone", "email",
)
# Column widths of AddressFields; PostgreSQL refuses longer values.
_ADDRESS_WIDTHS = {
    "first_name": 120, "last_name": 120, "company": 200, "address_1": 200, "address_2": 200, "city": 120,
    "state": 80, "postcode": 20, "country": 2, "phone": 40, "email": 254,
}
# Which address fields each customer group compares (phone of the billing address is
# the customer's phone group, so it is left out of the billing group).
BILLING_GROUP_FIELDS = (
    "first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country", "email",
)
SHIPPING_GROUP_FIELDS = (
    "first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode", "country", "phone",
)
CUSTOMER_GROUPS = ("first_name", "last_name", "email", "phone", "billing", "shipping")
_PART = 8  # hex digits per digest part

_KNOWN_STATUSES = {s.value: s for s in OrderStatus}


# --- small readers --------------------------------------------------------------------


def parse_store_time(value: Any) -> datetime | None:
    """Read a `*_gmt` timestamp of the store ("2026-11-22T04:44:55") as aware UTC, or None."""
    if not value or not isinstance(value, str):
        return None
    try:
        if len(value) == 19:
            # The store's own form, "2026-11-22T04:44:55", is UTC.
            return datetime.fromisoformat(value + "+00:00")
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1] in "Zz" else value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def to_money(value: Any) -> Decimal:
    """Read the store's amount (a string with two decimals, or a number) as a Decimal."""
    if value is None or value == "" or isinstance(value, bool):
        return ZERO
    if isinstance(value, float):
        value = repr(value)
    return _money_from_text(str(value))


@lru_cache(maxsize=65536)
def _money_from_text(text: str) -> Decimal:
    # Amounts repeat (prices, shipping, "0.00"): read each text once.
    try:
        return Decimal(text).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return ZERO


def money_text(value: Decimal | None) -> str:
    """An amount as the store writes it: a string with two decimals."""
    return str((value or ZERO).quantize(CENT, rounding=ROUND_HALF_UP))


def _text(value: Any, width: int | None = None) -> str:
    """The value as text of at most `width` characters; a cut text is checked for card
    numbers again, since the records were guarded whole."""
    if type(value) is str:
        return value if width is None or len(value) <= width else fit_checked(value, width)
    if value is None:
        return ""
    text = str(value)
    return fit_checked(text, width) if width is not None and len(text) > width else text


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number or None


def order_status(value: Any) -> OrderStatus | None:
    """The store's status as an `OrderStatus`, or None for one the back office does not know."""
    return _KNOWN_STATUSES.get(str(value or ""))


def meta_value(record: Mapping[str, Any], key: str) -> Any:
    """The value of the first `meta_data` entry with this key, or None."""
    for meta in record.get("meta_data") or ():
        if isinstance(meta, Mapping) and meta.get("key") == key:
            return meta.get("value")
    return None


#: How the reference of an order made only to read the store's figures begins (never imported).
QUOTE_REFERENCE_PREFIX = "bo-quote-"


def order_reference(record: Mapping[str, Any]) -> str | None:
    """The back office reference an order carries (`_backoffice_ref`), or None."""
    value = meta_value(record, ORDER_REFERENCE_META_KEY)
    return None if value in (None, "") else str(value)[:64]


def digest(value: Any) -> str:
    """A stable digest of a JSON-able value (texts and lists of texts take a quicker road)."""
    if type(value) is str:
        text = "s" + value
    elif type(value) is list and all(type(v) is str for v in value):
        text = "l" + "\x1f".join(value)
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# orjson writes sorted compact JSON byte for byte as `json.dumps(sort_keys=True,
# separators=(",", ":"), ensure_ascii=False)` does for texts, whole numbers, booleans,
# null, lists and objects with text keys, about ten times faster; floats it writes in
# its own way. A float is a number token holding "." or "e" right after "[", ":" or ","
# (a text that merely looks like one only costs the slower road), and orjson writes NaN
# and infinities as null, so a record with a null takes the slower road too.
_ORJSON_SAFE = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS \
    | orjson.OPT_PASSTHROUGH_SUBCLASS
_FLOAT_TOKEN = re.compile(rb"[\[:,]-?[0-9]+[.eE]")


def _refuse(value: Any) -> Any:
    raise TypeError


def record_digest(record: Any) -> str:
    """`digest` of a record decoded from JSON (dicts, lists, texts, numbers, booleans, None), faster."""
    try:
        blob = orjson.dumps(record, default=_refuse, option=_ORJSON_SAFE)
    except TypeError:
        return digest(record)
    if type(record) is not dict or b"null" in blob or _FLOAT_TOKEN.search(blob) is not None:
        return digest(record)
    return hashlib.sha256(blob).hexdigest()


# --- the card-number guard, fast ------------------------------------------------------

# What the back office keeps of each kind of record. Only these fields are mapped and
# stored, so only they pass the card-number guard; the key names (and so the guard's
# sense of a field, such as "phone" or "tracking_number") stay as the store sent them.
_ORDER_FIELDS = (
    "id", "number", "status", "currency", "date_created_gmt", "date_modified_gmt", "date_paid_gmt",
    "date_completed_gmt", "discount_total", "shipping_total", "total", "total_tax", "customer_id", "order_key",
    "billing", "shipping", "payment_method", "payment_method_title", "transaction_id", "customer_note",
    "payment_url",
)
_LINE_FIELDS = ("id", "name", "product_id", "variation_id", "quantity", "subtotal", "total", "sku", "price",
                "meta_data")
_SHIPPING_LINE_FIELDS = ("id", "method_title", "method_id", "total")
# Where gift-message plugins keep the buyer's message for the gift slip.
GIFT_MESSAGE_META_KEYS = ("gift_message", "_gift_message")
_KEPT_ORDER_META = frozenset({ORDER_REFERENCE_META_KEY, TRACKING_META_KEY, *SIMPLE_TRACKING_KEYS,
                              *GIFT_MESSAGE_META_KEYS})
_CUSTOMER_FIELDS = (
    "id", "date_created_gmt", "date_modified_gmt", "email", "first_name", "last_name", "username", "billing",
    "shipping",
)
_PRODUCT_FIELDS = (
    "id", "name", "sku", "price", "manage_stock", "stock_quantity", "status", "weight", "date_modified_gmt", "type",
    "parent_id", "backorders", "stock_status", "attributes",
)


def plain_text(value: Any) -> Any:
    """Text WordPress keeps filtered for HTML ("Ben &amp; Jerry"), as plain text ("Ben & Jerry").

    Decoded once, here at the edge, before the card guard reads it; everything after this
    holds plain text. Only the fields WordPress filters go through it (user names, product
    and line names): billing and shipping fields come back as they were typed.
    """
    if type(value) is str and "&" in value:
        return html.unescape(value)
    return value


def _line_view(item: Mapping[str, Any]) -> dict[str, Any]:
    view = {k: item.get(k) for k in _LINE_FIELDS}
    view["name"] = plain_text(view["name"])
    return view


def order_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a store order the back office keeps (same keys, same nesting)."""
    view = {k: record.get(k) for k in _ORDER_FIELDS}
    view["line_items"] = [_line_view(item) for item in record.get("line_items") or () if isinstance(item, Mapping)]
    view["shipping_lines"] = [{k: item.get(k) for k in _SHIPPING_LINE_FIELDS}
                              for item in record.get("shipping_lines") or () if isinstance(item, Mapping)]
    view["meta_data"] = [{"key": m.get("key"), "value": m.get("value")} for m in record.get("meta_data") or ()
                         if isinstance(m, Mapping) and m.get("key") in _KEPT_ORDER_META]
    view["fee_lines"] = [{"id": f.get("id"), "name": plain_text(f.get("name")), "total": f.get("total"),
                          "total_tax": f.get("total_tax")} for f in record.get("fee_lines") or ()
                         if isinstance(f, Mapping)]
    view["refunds"] = [{"id": r.get("id"), "reason": r.get("reason"), "total": r.get("total")}
                       for r in record.get("refunds") or () if isinstance(r, Mapping)]
    return view


def customer_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a store customer the back office keeps (names as plain text)."""
    view = {k: record.get(k) for k in _CUSTOMER_FIELDS}
    view["first_name"] = plain_text(view["first_name"])
    view["last_name"] = plain_text(view["last_name"])
    return view


def product_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a store product the back office keeps (its name as plain text)."""
    view = {k: record.get(k) for k in _PRODUCT_FIELDS}
    view["name"] = plain_text(view["name"])
    return view


# A cheap first look of our own, over the compact JSON of the kept fields (orjson writes
# it about fifteen times faster than the standard library). Digits become "0", every
# character that may join digit groups is dropped, anything else becomes "x": twelve
# zeros in a row then mean twelve digits joined by nothing but separators, which every
# number the detector can find has (its runs and loose runs join digits with at most
# three spaces, tabs, dashes or dots). A text without them cannot hold a card number;
# one with them goes to the detector's own first look, then to the guard. The set below
# is wider than the detector's on purpose (every Unicode space and dash), and a test
# keeps it a superset.
_ASCII_JOINERS = ASCII_CARD_JOINERS.encode("ascii")
# How JSON writes the control characters the detector reads as joiners.
_JSON_ESCAPED_JOINERS = (b"\\t", b"\\n", b"\\r", b"\\f", b"\\u000b", b"\\u000B", *(
    b"\\u001" + c for c in (b"c", b"d", b"e", b"f", b"C", b"D", b"E", b"F")))
# What every word that names a card's security code holds, in lower-cased UTF-8: one
# pattern per first letter, each beginning with that letter. The regular expression
# engine looks for a pattern's first letter quickly and tries the rest only there, which
# is several times faster than one pattern of all the words (tried at every character).
# A word found inside another's match cannot start a word (the hints hold no byte a hint
# starts with after a letter or a UTF-8 byte of theirs), so nothing a single pattern
# would find is lost, and a test compares the two.
_CODE_HINTS = tuple(
    re.compile(re.escape(first) + b"(?:" + b"|".join(re.escape(h[1:]) for h in hints) + b")")
    for first in dict.fromkeys(h.encode()[:1] for h in SECURITY_CODE_HINTS)
    for hints in [[h.encode() for h in SECURITY_CODE_HINTS if h.encode()[:1] == first]]
)
_ALNUM_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")


def _may_hold_code(blob: bytes) -> bool:
    """Whether some text in the JSON may hold a security code after its word: a hint that
    starts a word (random keys hold "cvd" inside), then the detector's own look."""
    # (A one-byte search first: two-byte ones run slowly over a whole page.)
    if b"\xef" in blob and (b"\xef\xbc" in blob or b"\xef\xbd" in blob):
        # Full-width forms (a Japanese keyboard's "ＣＶＶ"): the detector reads them itself.
        return may_contain_security_code(blob.decode("utf-8", "replace"))
    low = blob.lower()
    for hint in _CODE_HINTS:
        for m in hint.finditer(low):
            start = m.start()
            if start == 0 or low[start - 1] not in _ALNUM_BYTES:
                return may_contain_security_code(blob.decode("utf-8", "replace"))
    return False

_FIRST_LOOK = bytes(ord("0") if 0x30 <= b <= 0x39 else ord("x") for b in range(256))
_TWELVE_DIGITS = b"0" * 12
_HIGH_BYTES = bytes(b >= 0x80 for b in range(256))


def _ascii_look(blob: bytes) -> bytes:
    """`blob` with each stretch of non-ASCII characters replaced by what the first look needs:
    any script's digits as "0" (the detector's \\d takes them), spaces and dashes dropped,
    anything else as "x"."""
    marks = blob.translate(_HIGH_BYTES)
    pieces = []
    pos = 0
    while (start := marks.find(1, pos)) >= 0:
        end = marks.find(0, start)
        end = len(blob) if end < 0 else end
        pieces.append(blob[pos:start])
        chunk = blob[start:end].decode("utf-8", "surrogatepass")
        if chunk.isalpha():
            pieces.append(b"x")  # letters only, the usual case ("é", "ß")
        else:
            pieces.append("".join("0" if ch.isdecimal() else "" if is_card_joiner(ch) else "x"
                                  for ch in chunk).encode("ascii"))
        pos = end
    pieces.append(blob[pos:])
    return b"".join(pieces)


def _json_bytes(value: Any) -> bytes:
    """Compact JSON of `value` for the card scan only (never stored)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        # Beyond what orjson writes (integers past 64 bits, non-text keys, lone surrogates).
        text = json.dumps(value, ensure_ascii=False, check_circular=False, default=str)
        return text.encode("utf-8", "surrogatepass")


def _may_hold_card(blob: bytes) -> bool:
    if _may_hold_code(blob):
        return True  # a security code after its word (read across the JSON): let the detector look
    if b"\\" in blob:
        for escaped in _JSON_ESCAPED_JOINERS:
            if escaped in blob:
                blob = blob.replace(escaped, b" ")
    if b"+" in blob and b"e+" in blob:
        # A float written with an exponent may stand for a whole number of 16 digits or
        # more, which the guard reads as digits: let the detector look.
        return True
    if not blob.isascii():
        blob = _ascii_look(blob)
    return _TWELVE_DIGITS in blob.translate(_FIRST_LOOK, _ASCII_JOINERS)


def _has_long_digits(value: Any) -> bool:
    """False when no text in `value` (values, keys, whole numbers) can hold a card number.

    What passes goes straight to `guard_payload`.
    """
    return _may_hold_card(_json_bytes(value))


@dataclass
class GuardReport:
    """How many card numbers the guard removed, and where (paths for people)."""

    found: int = 0
    places: list[str] = field(default_factory=list)

    def add(self, count: int, place: str) -> None:
        self.found += count
        if place not in self.places and len(self.places) < 20:
            self.places.append(place)

    def merge(self, other: GuardReport) -> None:
        """Add what another report (of a page mapped elsewhere) found."""
        self.found += other.found
        for place in other.places:
            if place not in self.places and len(self.places) < 20:
                self.places.append(place)


def guard_records(records: Sequence[Mapping[str, Any]], report: GuardReport | None = None) -> list[dict]:
    """The records with every card number masked, as `guard_payload` masks them.

    Records in which no text can hold a card number are returned as they are (no copy),
    which keeps the guard off the sync's hot path. Pass views (`order_view` ...) to guard
    only what is kept.
    """
    if not records:
        return []
    if not _may_hold_card(_json_bytes(records)):
        return list(records)  # type: ignore[arg-type]
    out = []
    for record in records:
        if not _has_long_digits(record):
            out.append(record)
            continue
        result = guard_payload(record)
        if result.changed and report is not None:
            for path in [p for p, _match in result.found] + list(result.codes):
                report.add(1, format_path(path) or "the record")
        out.append(result.value)
    return out


def map_order_page(records: Sequence[Mapping[str, Any]] | bytes) -> tuple[list[OrderData], GuardReport]:
    """A page of store orders as the sync writes them: the kept part of each (`order_view`),
    card numbers masked (`guard_records`), mapped (`order_data`); and what the guard removed.

    Runs in the sync's mapping process (see `page_mapper.PageMapper`), so pure and
    picklable. The page may come as the store's JSON answer (`Page.body`), decoded here.
    """
    if isinstance(records, bytes):
        records = orjson.loads(records)
    report = GuardReport()
    views = guard_records([order_view(r) for r in records], report)
    return [order_data(v) for v in views], report


@dataclass
class RawOrderPage:
    """A page of orders read from the store's undecoded answer (`map_raw_order_page`)."""

    #: The orders the pull can read, mapped, with what the card guard removed from them.
    items: list[OrderData]
    report: GuardReport
    #: A sentence for each record left out (`screen_records`).
    problems: list[str]
    #: How many records were kept, and the store id of the last one (0: none).
    count: int
    last_id: int
    #: (store customer id, when the order was placed) of each kept order with a customer.
    customers: list[tuple[int, datetime | None]]


def map_raw_order_page(job: tuple[bytes, int, int, int, int]) -> RawOrderPage | None:
    """`map_order_page` of a page as the store sent it: (JSON body, page number, records per
    page, the store's count of records and of pages). None when the body is not the whole
    page the store counted (`connector.page_problem`): it is read again, where any
    unreadable page is. The records are screened (`screen_records`) before they are mapped.

    Runs in the sync's mapping process, so the page is decoded once, there.
    """
    body, number, per_page, total, total_pages = job
    try:
        records = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if page_problem(records, number, per_page, total, total_pages) is not None:
        return None
    kept, problems = screen_records(records, "order", page=number, body=body)
    customers = []
    for record in kept:
        cid = record.get("customer_id")
        if isinstance(cid, int) and cid > 0:
            customers.append((cid, parse_store_time(record.get("date_created_gmt"))))
    last = kept[-1].get("id") if kept else None
    items, report = map_order_page(kept)
    return RawOrderPage(items, report, problems, len(kept), last if type(last) is int else 0, customers)


def remap_raw_order_page(body: bytes, number: int) -> dict[int, OrderData]:
    """Store id -> the whole `OrderData` of each order of a page `map_raw_order_page` read
    (its problems and guard report were taken from that run)."""
    kept, _problems = screen_records(orjson.loads(body), "order", page=number, body=body)
    return {item.store_id: item for item in map_order_page(kept)[0]}


def guard_record(record: Mapping[str, Any], report: GuardReport | None = None) -> dict:
    """One record with every card number masked (see `guard_records`)."""
    return guard_records([record], report)[0]


# --- products ---------------------------------------------------------------------------


def product_values(record: Mapping[str, Any], parent_name: str | None = None) -> dict[str, Any]:
    """Product columns from a store product, or from one of its variations (with `parent_name`:
    "T-Shirt - S", as the store names the order line)."""
    kind = _text(record.get("type"), 20) or "simple"
    name = _text(record.get("name"), 200)
    if kind == "variation" and parent_name:
        name = _text(f"{parent_name} - {name}" if name else parent_name, 200)
    weight = record.get("weight")
    grams = None
    try:
        if weight not in (None, ""):
            grams = int(Decimal(str(weight)) * 1000)
    except (InvalidOperation, ValueError):
        grams = None
    stock = record.get("stock_quantity")
    return {
        "store_id": int(record["id"]),
        "sku": _text(record.get("sku"), 64) or None,
        "name": name,
        "name_key": fold(name)[:200],
        "price": to_money(record.get("price")),
        "manage_stock": bool(record.get("manage_stock")),
        "stock_quantity": int(stock) if isinstance(stock, int | float) else None,
        "status": _text(record.get("status"), 20) or "publish",
        "kind": kind if kind in ("variable", "variation") else "simple",
        "parent_store_id": _int(record.get("parent_id")) if kind == "variation" else None,
        "backorders": _text(record.get("backorders"), 10) or "no",
        "stock_status": _text(record.get("stock_status"), 20) or "instock",
        "weight_grams": grams,
        "store_modified_at": parse_store_time(record.get("date_modified_gmt")),
    }


# --- orders -----------------------------------------------------------------------------


_ADDRESS_ITEMS = tuple((name, _ADDRESS_WIDTHS[name]) for name in ADDRESS_FIELDS)


def address_values(part: Mapping[str, Any] | None) -> dict[str, str]:
    """An address dict of the store as AddressFields values (missing fields blank)."""
    part = part or {}
    values = {}
    for name, width in _ADDRESS_ITEMS:
        value = part.get(name)
        if type(value) is not str or len(value) > width:
            value = _text(value, width)
        values[name] = value
    values["country"] = values["country"].upper()
    return values


def is_blank_address(values: Mapping[str, str]) -> bool:
    return not any(map(values.get, ADDRESS_FIELDS))


@dataclass
class OrderData:
    """One store order mapped to plain values: the order's columns and its children."""

    store_id: int
    values: dict[str, Any]
    status: OrderStatus | None
    reference: str | None
    customer_store_id: int | None
    lines: list[dict[str, Any]]
    shipping_lines: list[dict[str, Any]]
    billing: dict[str, str]
    shipping: dict[str, str]
    tracking: list[dict[str, Any]]
    transaction_id: str
    created_at: datetime | None
    modified_at: datetime | None
    paid_at: datetime | None
    fees: list[dict[str, Any]] = field(default_factory=list)
    # Refunds as the order lists them: store id, amount (positive), reason.
    refunds: list[dict[str, Any]] = field(default_factory=list)
    #: Its rows for the database when it is new there, made in the mapping process
    #: (`sync_common.NewOrderRows`), or None.
    rows: Any = None
    #: False when only `rows` and the fields outside `values`, `lines`, `shipping_lines`,
    #: `billing` and `shipping` are filled (what an order new here needs): an order
    #: already here is mapped again whole (`remap_raw_order_page`).
    whole: bool = True


# Kept with a line's options at most; a packing slip has room for a few.
OPTIONS_MAX = 2000


_TAG = re.compile(r"<[^>]*>")


def line_options(meta: Any) -> str:
    """A line item's variation attributes and the options the buyer chose, as JSON pairs
    [["Size", "M"]]: the store's visible meta data (keys without a leading underscore)."""
    pairs = []
    for m in meta or ():
        if not isinstance(m, Mapping):
            continue
        key = m.get("key")
        if not isinstance(key, str) or not key or key.startswith("_"):
            continue
        label = m.get("display_key") if isinstance(m.get("display_key"), str) else key
        value = m.get("display_value", m.get("value"))
        if isinstance(value, (dict, list)) or value is None:
            continue
        # The store may send the value as HTML (a linked attribute); the slip wants its text.
        text = _TAG.sub("", str(value)).strip()
        if text:
            pairs.append([_text(label, 120), _text(text, 300)])
    encoded = json.dumps(pairs, ensure_ascii=False) if pairs else ""
    return encoded if len(encoded) <= OPTIONS_MAX else ""


def _money(value: Any) -> Decimal:
    """`to_money`, with the store's usual text amounts read straight from the cache."""
    if type(value) is str and value:
        return _money_from_text(value)
    return to_money(value)


class _Meta:
    """The first value of each meta key an order's mapping reads, found in one pass."""

    __slots__ = ("values",)

    def __init__(self, record: Mapping[str, Any]) -> None:
        values: dict[Any, Any] = {}
        for meta in record.get("meta_data") or ():
            if isinstance(meta, Mapping):
                key = meta.get("key")
                if type(key) is str and key in _KEPT_ORDER_META and key not in values:
                    values[key] = meta.get("value")
        self.values = values

    def get(self, key: str) -> Any:
        return self.values.get(key)


def _line_data(item: Mapping[str, Any]) -> tuple[dict[str, Any], Decimal]:
    """One line item's columns, and what it adds to the order's subtotal."""
    quantity = item.get("quantity") or 0
    if type(quantity) is not int:
        try:
            quantity = int(quantity)
        except (TypeError, ValueError):
            quantity = 0
    line_total = _money(item.get("total"))
    line_subtotal = item.get("subtotal")
    price = item.get("price")
    unit = to_money(price) if price not in (None, "") else (
        (line_total / quantity).quantize(CENT) if quantity else ZERO)
    sku = item.get("sku")
    name = item.get("name")
    meta = item.get("meta_data")
    return {
        "store_line_id": _int(item.get("id")),
        "product_store_id": _int(item.get("variation_id")) or _int(item.get("product_id")),
        "sku": sku if type(sku) is str and len(sku) <= 64 else _text(sku, 64),
        "name": (name if type(name) is str and len(name) <= 200 else _text(name, 200)) or "(no name)",
        "quantity": quantity,
        "unit_price": unit,
        "total": line_total,
        "options": line_options(meta) if meta else "",
    }, (line_total if line_subtotal is None or line_subtotal == "" else _money(line_subtotal))


def order_data(record: Mapping[str, Any]) -> OrderData:
    """Map a store order (already guarded) to `OrderData`."""
    lines = []
    subtotal = ZERO
    for item in record.get("line_items") or ():
        line, amount = _line_data(item)
        lines.append(line)
        subtotal += amount
    shipping_lines = [
        {
            "store_line_id": _int(item.get("id")),
            "method_id": _text(item.get("method_id"), 64),
            "method_title": _text(item.get("method_title"), 120),
            "total": _money(item.get("total")),
        }
        for item in record.get("shipping_lines") or ()
    ]
    get = record.get
    modified = parse_store_time(get("date_modified_gmt"))
    meta = _Meta(record)
    values = {
        "store_id": int(record["id"]),
        "number": _text(get("number") or get("id"), 32),
        "currency": _text(get("currency"), 3) or "USD",
        "subtotal": subtotal.quantize(CENT),
        "shipping_total": _money(get("shipping_total")),
        "discount_total": _money(get("discount_total")),
        "tax_total": _money(get("total_tax")),
        "total": _money(get("total")),
        "customer_note": _text(get("customer_note")),
        "payment_method": _text(get("payment_method"), 64),
        "payment_method_title": _text(get("payment_method_title"), 120),
        "payment_url": _text(get("payment_url"), 500) or None,
        "order_key": _text(get("order_key"), 64) or None,
        "completed_at": parse_store_time(get("date_completed_gmt")),
        "store_modified_at": modified,
    }
    for key in GIFT_MESSAGE_META_KEYS:
        message = meta.get(key)
        if isinstance(message, str):
            # Only a message the store has replaces one typed here.
            values["gift_message"] = _text(message.strip(), 500)
            break
    reference = meta.get(ORDER_REFERENCE_META_KEY)
    fees = get("fee_lines")
    refunds = get("refunds")
    return OrderData(
        store_id=values["store_id"],
        values=values,
        status=_KNOWN_STATUSES.get(str(get("status") or "")),
        reference=None if reference in (None, "") else str(reference)[:64],
        customer_store_id=_int(get("customer_id")),
        lines=lines,
        shipping_lines=shipping_lines,
        billing=address_values(get("billing")),
        shipping=address_values(get("shipping")),
        tracking=tracking_items(meta) if meta.values else [],
        transaction_id=_text(get("transaction_id"), 64),
        created_at=parse_store_time(get("date_created_gmt")),
        modified_at=modified,
        paid_at=parse_store_time(get("date_paid_gmt")),
        fees=[{"store_line_id": _int(f.get("id")), "name": _text(f.get("name"), 200) or "Fee",
               "total": to_money(f.get("total")), "total_tax": to_money(f.get("total_tax"))}
              for f in fees] if fees else [],
        refunds=[{"store_id": _int(r.get("id")), "amount": abs(to_money(r.get("total"))),
                  "reason": _text(r.get("reason"))} for r in refunds if _int(r.get("id"))] if refunds else [],
    )


def tracking_items(record: Mapping[str, Any] | _Meta) -> list[dict[str, Any]]:
    """Parcels the order's meta data names: [{carrier, tracking_number, shipped_at}]."""
    found: list[dict[str, Any]] = []
    if not isinstance(record, _Meta):
        record = _Meta(record)
    items = record.get(TRACKING_META_KEY)
    if isinstance(items, str):
        try:
            items = json.loads(items)
        except ValueError:
            items = None
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, Mapping):
            continue
        number = _text(item.get("tracking_number"), 64).strip()
        if not number:
            continue
        carrier = _text(item.get("custom_tracking_provider") or item.get("tracking_provider"), 40)
        shipped = None
        stamp = item.get("date_shipped")
        try:
            if stamp not in (None, ""):
                shipped = datetime.fromtimestamp(int(stamp), timezone.utc)
        except (TypeError, ValueError, OverflowError, OSError):
            shipped = None
        found.append({"carrier": carrier, "tracking_number": number, "shipped_at": shipped})
    number = record.get("_tracking_number")
    if number and not any(f["tracking_number"] == str(number) for f in found):
        found.append({
            "carrier": _text(record.get("_tracking_provider"), 40),
            "tracking_number": _text(number, 64),
            "shipped_at": None,
        })
    return found


def tracking_note(carrier: str, tracking_number: str) -> str:
    """The note the customer sees on their order page and gets by email."""
    by = f" with {carrier}" if carrier else ""
    return f"Your order has been shipped{by}. Tracking number: {tracking_number}"


def tracking_meta(shipments: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The tracking meta value for all of an order's parcels (the whole list: safe to send twice)."""
    items = []
    for s in shipments:
        shipped = s.get("shipped_at")
        items.append({
            "tracking_provider": fold(s.get("carrier") or "").replace(" ", "-"),
            "custom_tracking_provider": s.get("carrier") or "",
            "custom_tracking_link": "",
            "tracking_number": s["tracking_number"],
            "date_shipped": str(int(shipped.timestamp())) if shipped else "",
            "tracking_id": hashlib.md5(str(s["tracking_number"]).encode()).hexdigest(),  # noqa: S324 - an id, not security
        })
    return items


# --- customers --------------------------------------------------------------------------


@dataclass
class CustomerData:
    """One store customer mapped to plain values."""

    store_id: int
    email: str | None
    first_name: str
    last_name: str
    company: str
    phone: str
    username: str | None
    billing: dict[str, str]
    shipping: dict[str, str]
    created_at: datetime | None
    modified_at: datetime | None
    whole: str  # digest part of the whole record

    def groups(self) -> dict[str, Any]:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email or "",
            "phone": self.phone,
            "billing": [self.company if f == "company" else self.billing.get(f, "") for f in BILLING_GROUP_FIELDS],
            "shipping": [self.shipping.get(f, "") for f in SHIPPING_GROUP_FIELDS],
        }

    def store_digest(self) -> str:
        return compose_digest(self.whole, group_digests(self.groups()))


def customer_data(record: Mapping[str, Any]) -> CustomerData:
    """Map a store customer (already guarded) to `CustomerData`."""
    billing = address_values(record.get("billing"))
    shipping = address_values(record.get("shipping"))
    email = _text(record.get("email")).strip()
    return CustomerData(
        store_id=int(record["id"]),
        email=normalize_email(email)[:254] if email else None,
        first_name=_text(record.get("first_name"), 120),
        last_name=_text(record.get("last_name"), 120),
        company=billing["company"],
        phone=billing["phone"],
        username=_text(record.get("username"), 120) or None,
        billing=billing,
        shipping=shipping,
        created_at=parse_store_time(record.get("date_created_gmt")),
        modified_at=parse_store_time(record.get("date_modified_gmt")),
        whole=record_digest(record)[:_PART],
    )


def local_groups(customer: Mapping[str, Any], billing: Mapping[str, Any] | None,
                 shipping: Mapping[str, Any] | None) -> dict[str, Any]:
    """The same groups as `CustomerData.groups`, from the local customer and address rows."""
    billing = billing or {}
    shipping = shipping or {}
    return {
        "first_name": customer.get("first_name") or "",
        "last_name": customer.get("last_name") or "",
        "email": customer.get("email") or "",
        "phone": customer.get("phone") or "",
        "billing": [(customer.get("company") or "") if f == "company" else (billing.get(f) or "")
                    for f in BILLING_GROUP_FIELDS],
        "shipping": [shipping.get(f) or "" for f in SHIPPING_GROUP_FIELDS],
    }


def group_digests(groups: Mapping[str, Any]) -> dict[str, str]:
    return {name: digest(groups[name])[:_PART] for name in CUSTOMER_GROUPS}


def compose_digest(whole: str, parts: Mapping[str, str]) -> str:
    """`Customer.store_digest`: the whole record's part, then one part per group."""
    return whole + "".join(parts[name] for name in CUSTOMER_GROUPS)


def same_details_digest(stored: str | None, item: CustomerData) -> str | None:
    """`item`'s digest when the details the back office keeps of the customer (its groups)
    are those of the copy `stored` was taken from: only what is not kept changed on the store
    (its modified time, meta of plugins); else None."""
    _whole, parts = split_digest(stored)
    if parts is None or parts != group_digests(item.groups()):
        return None
    return compose_digest(item.whole, parts)


def split_digest(value: str | None) -> tuple[str | None, dict[str, str] | None]:
    """The whole-record part and the group parts of a stored digest (None when unusable)."""
    size = _PART * (1 + len(CUSTOMER_GROUPS))
    if not value or len(value) != size:
        return (value[:_PART] if value else None), None
    parts = {name: value[_PART * (i + 1): _PART * (i + 2)] for i, name in enumerate(CUSTOMER_GROUPS)}
    return value[:_PART], parts


def group_fields(group: str) -> tuple[str, ...]:
    """The conflict field names a group is shown as ("billing.city", or the group itself)."""
    if group == "billing":
        return tuple(f"billing.{f}" for f in BILLING_GROUP_FIELDS)
    if group == "shipping":
        return tuple(f"shipping.{f}" for f in SHIPPING_GROUP_FIELDS)
    return (group,)


def group_field_values(group: str, value: Any) -> dict[str, str]:
    """A group's value spread over its conflict field names."""
    if group in ("billing", "shipping"):
        return dict(zip(group_fields(group), value, strict=True))
    return {group: value}


def group_from_fields(group: str, values: Mapping[str, str]) -> Any:
    """The inverse of `group_field_values`."""
    if group in ("billing", "shipping"):
        return [values[name] for name in group_fields(group)]
    return values[group]


def group_of_field(field_name: str) -> str:
    return field_name.split(".", 1)[0]


@dataclass(frozen=True)
class Merge:
    """What a three-way merge of one customer decided, by group."""

    apply: frozenset[str]  # take the store's value here
    send: frozenset[str]  # local changes the store has not got
    conflicts: dict[str, tuple[str, str]]  # field -> (local value, store value)
    parts: dict[str, str]  # new base digest parts


def merge_customer(
    local: Mapping[str, Any], store: Mapping[str, Any], base: Mapping[str, str] | None, *, local_pending: bool
) -> Merge:
    """Three-way merge of a customer's groups (local values, store values, base digests).

    Without a local change waiting, the store's copy wins everywhere. With one, a group
    changed only here is sent, one changed only on the store is taken, and one changed
    on both sides to different values becomes conflicts, field by field; the base of
    such a group stays as it was until a person chooses.
    """
    store_parts = group_digests(store)
    if not local_pending:
        return Merge(frozenset(CUSTOMER_GROUPS), frozenset(), {}, store_parts)
    local_parts = group_digests(local)
    if base is None:
        # No known base: the local change wins, nothing of the store's is taken.
        send = frozenset(g for g in CUSTOMER_GROUPS if local_parts[g] != store_parts[g])
        return Merge(frozenset(), send, {}, dict(store_parts))
    changed_here = {g for g in CUSTOMER_GROUPS if local_parts[g] != base[g]}
    changed_there = {g for g in CUSTOMER_GROUPS if store_parts[g] != base[g]}
    conflicts: dict[str, tuple[str, str]] = {}
    parts = dict(base)
    apply = set()
    for g in CUSTOMER_GROUPS:
        if g in changed_there and g not in changed_here:
            apply.add(g)
            parts[g] = store_parts[g]
        elif g in changed_there and g in changed_here:
            if local_parts[g] == store_parts[g]:
                parts[g] = store_parts[g]
                continue
            mine = group_field_values(g, local[g])
            theirs = group_field_values(g, store[g])
            for name in mine:
                if mine[name] != theirs[name]:
                    conflicts[name] = (mine[name], theirs[name])
    send = frozenset(changed_here - changed_there)
    return Merge(frozenset(apply), send, conflicts, parts)


def customer_payload(local: Mapping[str, Any], billing_row: Mapping[str, Any] | None,
                     shipping_row: Mapping[str, Any] | None, groups: Iterable[str] | None = None) -> dict[str, Any]:
    """The store payload for a customer's groups (all when `groups` is None)."""
    wanted = set(CUSTOMER_GROUPS if groups is None else groups)
    billing_row = billing_row or {}
    shipping_row = shipping_row or {}
    body: dict[str, Any] = {}
    if "first_name" in wanted:
        body["first_name"] = local.get("first_name") or ""
    if "last_name" in wanted:
        body["last_name"] = local.get("last_name") or ""
    if "email" in wanted and local.get("email"):
        body["email"] = local["email"]
    billing: dict[str, str] = {}
    if "billing" in wanted:
        for name in BILLING_GROUP_FIELDS:
            if name == "company":
                billing[name] = local.get("company") or ""
            else:
                billing[name] = billing_row.get(name) or ""
        billing["first_name"] = billing["first_name"] or local.get("first_name") or ""
        billing["last_name"] = billing["last_name"] or local.get("last_name") or ""
        billing["email"] = billing["email"] or local.get("email") or ""
    if "phone" in wanted:
        billing["phone"] = local.get("phone") or ""
    if billing:
        body["billing"] = billing
    if "shipping" in wanted:
        body["shipping"] = {name: shipping_row.get(name) or "" for name in SHIPPING_GROUP_FIELDS}
    return body


def address_payload(values: Mapping[str, Any] | None, *, with_email: bool) -> dict[str, str]:
    """An order's billing or shipping address as the store takes it."""
    values = values or {}
    names = ADDRESS_FIELDS if with_email else tuple(f for f in ADDRESS_FIELDS if f != "email")
    return {name: values.get(name) or "" for name in names}


#: What an anonymised order keeps of a person on the store.
ANONYMISED_ADDRESS = {
    "first_name": "[deleted]", "last_name": "[deleted]", "company": "", "address_1": "", "address_2": "",
    "city": "", "state": "", "postcode": "", "phone": "",
}
ANONYMISED_EMAIL = "deleted@site.invalid"


def anonymised_order_payload() -> dict[str, Any]:
    """An order update that replaces every personal field with a neutral value."""
    return {
        "billing": {**ANONYMISED_ADDRESS, "email": ANONYMISED_EMAIL},
        "shipping": dict(ANONYMISED_ADDRESS),
        "customer_note": "",
        "customer_id": 0,
    }


def refund_lines_text(refund: Mapping[str, Any]) -> str:
    """A refund's lines as the order page shows them: "1 × Blue Mug (12.50)", one a line."""
    out = []
    for item in refund.get("line_items") or ():
        if not isinstance(item, Mapping):
            continue
        quantity = abs(_int(item.get("quantity")) or 0)
        amount = abs(to_money(item.get("total")))
        name = plain_text(_text(item.get("name"), 200)) or "(no name)"
        out.append(f"{quantity} × {name} ({money_text(amount)})" if quantity else f"{name} ({money_text(amount)})")
    return "\n".join(out)


#: The meta key WooCommerce puts on a refund's line: the id of the order line it refunds.
REFUNDED_ITEM_META_KEY = "_refunded_item_id"


def refunded_items(refund: Mapping[str, Any]) -> list[tuple[int, int]]:
    """What a refund takes back: (the order line's store id, how many), one per refunded line
    (the store lists the quantities below zero; a line without a quantity refunds an amount only)."""
    out = []
    for item in refund.get("line_items") or ():
        if not isinstance(item, Mapping):
            continue
        line_id, quantity = _int(meta_value(item, REFUNDED_ITEM_META_KEY)), _int(item.get("quantity"))
        if line_id and quantity:
            out.append((line_id, abs(quantity)))
    return out


# --- records the store should not have sent ----------------------------------------------

#: The longest text kept from any one field of a store record; a longer one means a broken record.
LONGEST_TEXT = 100_000
#: The largest id, count or quantity the database keeps (a 32-bit whole number).
LARGEST_NUMBER = 2**31 - 1
#: The largest amount kept from the store, either way.
LARGEST_AMOUNT = Decimal("1000000000000")

_ID, _OPTIONAL_ID, _TEXT, _AMOUNT, _COUNT, _DATE, _ADDRESS, _LIST, _ANY = (
    "id", "optional id", "text", "amount", "count", "date", "address", "list", "any")

_LINE_SPEC = {"id": _OPTIONAL_ID, "name": _TEXT, "product_id": _OPTIONAL_ID, "variation_id": _OPTIONAL_ID,
              "quantity": _COUNT, "subtotal": _AMOUNT, "total": _AMOUNT, "sku": _TEXT, "price": _AMOUNT,
              "meta_data": _LIST}
_SHIPPING_LINE_SPEC = {"id": _OPTIONAL_ID, "method_title": _TEXT, "method_id": _TEXT, "total": _AMOUNT}
_FEE_SPEC = {"id": _OPTIONAL_ID, "name": _TEXT, "total": _AMOUNT, "total_tax": _AMOUNT}
_REFUND_SPEC = {"id": _OPTIONAL_ID, "reason": _TEXT, "total": _AMOUNT}
_NESTED = {"line_items": _LINE_SPEC, "shipping_lines": _SHIPPING_LINE_SPEC, "fee_lines": _FEE_SPEC,
           "refunds": _REFUND_SPEC}

#: What the pull reads of each kind of record, and which fields a whole record always has
#: (one without them was cut short, and mapping it would blank what is kept here).
_RECORD_SPECS: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "order": ({
        "id": _ID, "number": _TEXT, "status": _TEXT, "currency": _TEXT, "date_created_gmt": _DATE,
        "date_modified_gmt": _DATE, "date_paid_gmt": _DATE, "date_completed_gmt": _DATE,
        "discount_total": _AMOUNT, "shipping_total": _AMOUNT, "total": _AMOUNT, "total_tax": _AMOUNT,
        "customer_id": _OPTIONAL_ID, "order_key": _TEXT, "billing": _ADDRESS, "shipping": _ADDRESS,
        "payment_method": _TEXT, "payment_method_title": _TEXT, "transaction_id": _TEXT, "customer_note": _TEXT,
        "payment_url": _TEXT, "line_items": _LIST, "shipping_lines": _LIST, "fee_lines": _LIST, "refunds": _LIST,
        "meta_data": _LIST,
    }, ("id", "status", "billing", "shipping", "line_items", "total")),
    "customer": ({
        "id": _ID, "date_created_gmt": _DATE, "date_modified_gmt": _DATE, "email": _TEXT, "first_name": _TEXT,
        "last_name": _TEXT, "username": _TEXT, "billing": _ADDRESS, "shipping": _ADDRESS, "meta_data": _LIST,
        "role": _TEXT,
    }, ("id", "email", "first_name", "last_name", "billing", "shipping")),
    "product": ({
        "id": _ID, "name": _TEXT, "sku": _TEXT, "price": _AMOUNT, "manage_stock": _ANY, "stock_quantity": _COUNT,
        "status": _TEXT, "weight": _AMOUNT, "date_modified_gmt": _DATE, "type": _TEXT, "parent_id": _OPTIONAL_ID,
        "backorders": _TEXT, "stock_status": _TEXT, "attributes": _LIST,
    }, ("id",)),
}

# Control characters other than tab, line feed and carriage return: PostgreSQL refuses
# NUL in a text, and the others only garble a label or a terminal.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# How JSON (orjson) writes them: a page without these holds none, and is not walked.
# Every escape begins with the backslash, which the engine looks for quickly (an
# alternation beginning with different characters is tried at every byte, ten times
# slower on a page whose names the store escapes, "Nov\u00e1k"); DEL is looked for apart.
_JSON_CONTROL = re.compile(rb"\\(?:u00[01][0-9a-fA-F]|[bf])")
# How any JSON may write them (the store's own answer: DEL escaped as well).
_ANY_JSON_CONTROL = re.compile(rb"\\(?:u00[01][0-9a-fA-F]|u007[fF]|[bf])")


def _json_control(pattern: re.Pattern[bytes], blob: bytes) -> bool:
    """Whether the JSON `blob` may hold a control character: DEL, or an escape `pattern` finds."""
    if b"\x7f" in blob:
        return True
    return (b"\\u00" in blob or b"\\b" in blob or b"\\f" in blob) and pattern.search(blob) is not None


def _kind_of(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, Mapping):
        return "a set of fields"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def _shown(value: Any) -> str:
    """A short, safe glimpse of a value for the sync log (never more than 20 characters)."""
    text = _CONTROL.sub("?", value if isinstance(value, str) else repr(value))
    return repr(fit_checked(text, 20) + ("…" if len(text) > 20 else ""))


def _whole_number(value: Any) -> int | None:
    """`value` as a whole number when the store sent one (or its digits as text), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        return int(value)
    return None


@lru_cache(maxsize=65536)
def _amount_text_ok(text: str) -> bool:
    try:
        amount = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return False
    return amount.is_finite() and abs(amount) <= LARGEST_AMOUNT


def _looks_fine(kind: str, value: Any) -> bool:
    """The quick look for the usual values of a field (the sync reads thousands of records a
    second); whatever it does not vouch for gets the full look of `_field_problem`."""
    kind_of = type(value)
    if value is None:
        return kind is not _ID
    if kind is _TEXT:
        return (kind_of is str and len(value) <= LONGEST_TEXT) or kind_of is int or kind_of is bool
    if kind is _AMOUNT:
        return kind_of is str and (value == "" or _amount_text_ok(value))
    if kind is _ID or kind is _OPTIONAL_ID or kind is _COUNT:
        return kind_of is int and (1 if kind is _ID else 0) <= value <= LARGEST_NUMBER
    if kind is _DATE:
        return kind_of is str and (not value or (len(value) == 19 and parse_store_time(value) is not None))
    if kind is _ADDRESS:
        return kind_of is dict and all(
            type(v) is str and len(v) <= LONGEST_TEXT for v in value.values())
    return kind is _ANY


def _field_problem(key: str, kind: str, value: Any) -> str | None:
    """Why this value cannot be read as the field it is, or None when it can."""
    if _looks_fine(kind, value):
        return None
    name = key.replace("_gmt", "").replace("_", " ")
    if kind == _ANY:
        return None
    if value is None:
        return f"its {name} is empty (null)" if kind == _ID else None
    if kind in (_ID, _OPTIONAL_ID, _COUNT):
        if isinstance(value, str) and not value.strip() and kind != _ID:
            return None
        number = _whole_number(value)
        if number is None:
            return f"its {name} is {_kind_of(value)} {_shown(value)}, not a whole number" \
                if isinstance(value, str | int | float) else f"its {name} is {_kind_of(value)}, not a whole number"
        low = 1 if kind == _ID else (0 if kind == _OPTIONAL_ID else -LARGEST_NUMBER)
        if not low <= number <= LARGEST_NUMBER:
            return f"its {name} {number} is out of range"
        return None
    if kind == _AMOUNT:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return f"its {name} is {_kind_of(value)}, not an amount"
        if value == "":
            return None
        try:
            amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except (InvalidOperation, ValueError):
            return f"its {name} {_shown(value)} is not an amount"
        if not amount.is_finite() or abs(amount) > LARGEST_AMOUNT:
            return f"its {name} {_shown(value)} is not an amount a shop can have"
        return None
    if kind == _TEXT:
        if isinstance(value, Mapping | list | tuple):
            return f"its {name} is {_kind_of(value)}, not text"
        if isinstance(value, str) and len(value) > LONGEST_TEXT:
            return f"its {name} is {len(value):,} characters long"
        if isinstance(value, float) and not math.isfinite(value):
            return f"its {name} is not a number one can write"
        return None
    if kind == _DATE:
        if not isinstance(value, str):
            return f"its {name} is {_kind_of(value)}, not a date"
        if value and parse_store_time(value) is None and len(value) <= 40 and not value.startswith("0000"):
            return f"its {name} {_shown(value)} is not a date"
        if len(value) > 40:
            return f"its {name} is {len(value):,} characters long, not a date"
        return None
    if kind == _ADDRESS:
        if not isinstance(value, Mapping):
            return f"its {name} address is {_kind_of(value)}, not an address"
        for field_name in ADDRESS_FIELDS:
            problem = _field_problem(f"{name} {field_name}", _TEXT, value.get(field_name))
            if problem:
                return problem
        return None
    if kind == _LIST:
        if not isinstance(value, list):
            return f"its {name} are {_kind_of(value)}, not a list"
        spec = _NESTED.get(key)
        if spec is None:
            return None
        label = name.rstrip("s")
        for number, item in enumerate(value, 1):
            if not isinstance(item, Mapping):
                return f"its {label} {number} is {_kind_of(item)}, not a record"
            problem = _fields_problem(item, spec)
            if problem:
                return problem.replace("its ", f"its {label} {number}'s ", 1)
        return None
    return None


def _fields_problem(record: Mapping[str, Any], spec: dict[str, str]) -> str | None:
    """The first field of `record` that cannot be read as `spec` says, as `_field_problem` words it."""
    get = record.get
    for key, kind in spec.items():
        value = get(key)
        # The usual values, looked at inline: this runs for every field of every record.
        if value is None:
            if kind is not _ID:
                continue
        elif kind is _TEXT:
            if type(value) is str and len(value) <= LONGEST_TEXT:
                continue
        elif kind is _AMOUNT:
            if type(value) is str and (value == "" or _amount_text_ok(value)):
                continue
        elif kind is _OPTIONAL_ID or kind is _ID:
            if type(value) is int and 0 < value <= LARGEST_NUMBER:
                continue
        elif kind is _DATE:
            if type(value) is str and (not value or (len(value) == 19 and parse_store_time(value) is not None)):
                continue
        elif kind is _ADDRESS:
            if type(value) is dict and all(type(v) is str and len(v) <= LONGEST_TEXT for v in value.values()):
                continue
        elif kind is _LIST:
            if type(value) is list and (not value or key not in _NESTED):
                continue
        elif kind is _ANY:
            continue
        problem = _field_problem(key, kind, value)
        if problem:
            return problem
    return None


def record_problem(record: Any, kind: str) -> str | None:
    """Why a store record of this kind ("order", "customer", "product") cannot be read,
    as a short phrase ("its billing address is a list, not an address"), or None."""
    if not isinstance(record, Mapping):
        return f"it is {_kind_of(record)}, not a record"
    spec, required = _RECORD_SPECS[kind]
    for key in required:
        if key not in record:
            return f"its {key.replace('_', ' ')} is missing (the record was cut short)"
    return _fields_problem(record, spec)


def _fine_function(spec: dict[str, str], required: tuple[str, ...] = (), nested: str = "") -> str:
    """The source of a function telling True when every field of a record is one of the usual
    values `_fields_problem` finds no problem in (a narrower look than its own: anything else
    is False, and the record gets the full look). One line per field, no loop over the spec."""
    name = f"_fine{nested}"
    lines = [f"def {name}(record):"]
    lines += [f"    if {key!r} not in record: return False" for key in required]
    lines.append("    get = record.get")
    helpers = []
    for number, (key, kind) in enumerate(spec.items()):
        v = f"v{number}"
        lines.append(f"    {v} = get({key!r})")
        if kind is _ID:
            lines.append(f"    if type({v}) is not int or not 0 < {v} <= {LARGEST_NUMBER}: return False")
        elif kind is _OPTIONAL_ID or kind is _COUNT:
            lines.append(f"    if {v} is not None and (type({v}) is not int or not 0 <= {v} <= {LARGEST_NUMBER}):"
                         " return False")
        elif kind is _TEXT:
            lines.append(f"    if {v} is not None and (type({v}) is not str or len({v}) > {LONGEST_TEXT}): return False")
        elif kind is _AMOUNT:
            # A text the cache has read, or a number (line prices come as numbers); NaN fails too.
            lines.append(f"    if {v} is not None:")
            lines.append(f"        if type({v}) is str:")
            lines.append(f"            if {v} and not amount_ok({v}): return False")
            lines.append(f"        elif type({v}) is not float and type({v}) is not int: return False")
            lines.append(f"        elif not -{int(LARGEST_AMOUNT)} <= {v} <= {int(LARGEST_AMOUNT)}: return False")
        elif kind is _DATE:
            # `parse_store_time` of the store's own form; a date it cannot read raises ValueError.
            lines.append(f"    if {v} is not None and (type({v}) is not str or ({v} and len({v}) != 19)): return False")
            lines.append(f"    if {v}: from_iso({v} + '+00:00')")
        elif kind is _ADDRESS:
            # Every value a text (join raises TypeError otherwise), none longer than the longest.
            lines.append(f"    if {v} is not None and (type({v}) is not dict or len(''.join({v}.values())) > "
                         f"{LONGEST_TEXT}): return False")
        elif kind is _LIST:
            lines.append(f"    if {v} is not None and type({v}) is not list: return False")
            if key in _NESTED:
                inner = f"{nested}_{key}"
                helpers.append(_fine_function(_NESTED[key], nested=inner))
                lines.append(f"    if {v}:")
                lines.append(f"        for item in {v}:")
                lines.append(f"            if type(item) is not dict or not _fine{inner}(item): return False")
        elif kind is not _ANY:
            lines.append("    return False")
    lines.append("    return True")
    return "\n\n".join(helpers + ["\n".join(lines)])


def _fine_records(kind: str) -> Callable[[Any], bool]:
    """A function telling True when `record_problem(record, kind)` is surely None: a record of
    the usual values (see `_fine_function`). An error in it means the full look is needed."""
    spec, required = _RECORD_SPECS[kind]
    scope: dict[str, Any] = {"amount_ok": _amount_text_ok, "from_iso": datetime.fromisoformat}
    exec(_fine_function(spec, required), scope)  # noqa: S102 - our own source, made from the specs above
    fine = scope["_fine"]

    def usual(record: Any) -> bool:
        try:
            return type(record) is dict and fine(record)
        except Exception:  # noqa: BLE001 - whatever it is, the full look tells
            return False

    return usual


_FINE = {kind: _fine_records(kind) for kind in _RECORD_SPECS}


def record_name(record: Any, kind: str, position: int, page: int | None = None) -> str:
    """How the sync log names a record: "customer 1234", or "the 3rd order on page 2"
    when it has no id that can be read."""
    number = _whole_number(record.get("id")) if isinstance(record, Mapping) else None
    if number is not None and 0 < number <= LARGEST_NUMBER:
        return f"{kind} {number}"
    where = f" on page {page}" if page else ""
    suffix = "th" if 10 <= position % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(position % 10, "th")
    return f"the {position}{suffix} {kind}{where}"


def _without_controls(value: Any) -> Any:
    if type(value) is str:
        return _CONTROL.sub("", value)
    if isinstance(value, Mapping):
        return {k: _without_controls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_controls(v) for v in value]
    return value


def screen_records(records: Sequence[Any], kind: str, *, page: int | None = None,
                   body: bytes | None = None) -> tuple[list[dict], list[str]]:
    """Split a page of raw store records into those the pull can read and a sentence for each
    one it cannot ("customer 12: its billing address is a list, not an address").

    Kept records have a whole-number id (digits sent as text become a number) and no
    control characters in their texts; a page holding neither problem is returned as it
    is (no copy). `body` is the JSON the records were decoded from, when at hand: it is
    looked through for control characters instead of writing the records out again.
    """
    kept: list[dict] = []
    problems: list[str] = []
    usual = _FINE[kind]
    for position, record in enumerate(records, 1):
        problem = None if usual(record) else record_problem(record, kind)
        if problem is not None:
            problems.append(f"{record_name(record, kind, position, page)}: {problem}")
            continue
        if type(record.get("id")) is not int:
            record = {**record, "id": _whole_number(record["id"])}
        kept.append(record)
    if body is not None:
        if _json_control(_ANY_JSON_CONTROL, body):
            kept = [_without_controls(r) for r in kept]
    else:
        try:
            blob = orjson.dumps(kept, default=str)
        except (TypeError, orjson.JSONEncodeError):
            blob = b"\\u0000"
        if _json_control(_JSON_CONTROL, blob):
            kept = [_without_controls(r) for r in kept]
    if not problems and all(a is b for a, b in zip(kept, records)):
        return records, []  # type: ignore[return-value]
    return kept, problems
