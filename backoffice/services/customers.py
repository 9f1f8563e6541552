"""Finding customers as the phone rings, listing them, and keeping their records.

`search_customers` answers the one search box: part of a name in any script, part
of an email, a phone number in any format or its last digits, a postcode, an order
number or a company. Every kind of query is an indexed lookup on the search index
(`backoffice.domain.search`): on PostgreSQL one prepared statement, one round
trip; on SQLite a few small statements in this process. An answer takes under a
millisecond on a million customers, except fragments that only the trigram index
holds (across punctuation inside an email address). Best first: an exact phone,
email or order number; then a whole word; then a prefix; then a fragment.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import phonenumbers
from sqlalchemy import (
    Engine, Integer, and_, any_, bindparam, exists, func, literal, literal_column, select, true, tuple_, type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.exc import OperationalError

from backoffice.db import Database, cut_off_error, is_lock_conflict
from backoffice.domain.audit import AuditEvent
from backoffice.domain.base import Base, utcnow
from backoffice.domain.cards import contains_card_number, mask_card_numbers
from backoffice.domain.customer_fields import contact_columns, derived_columns_for
from backoffice.domain.customers import Customer, CustomerAddress, CustomerNote, lock_customers
from backoffice.domain.emails import email_key, validate_email
from backoffice.domain.enums import (
    AddressKind,
    AuditOutcome,
    ConsentAction,
    CustomerStatus,
    OrderStatus,
    OutboxKind,
    RequestKind,
    RequestStatus,
    SubscriptionStatus,
)
from backoffice.domain.newsletters import ConsentEvent, NewsletterList, Subscription
from backoffice.domain.orders import Order, Shipment
from backoffice.domain.phones import normalize_phone, phone_suffix_key
from backoffice.domain.privacy import CLOSED_REQUEST_STATUSES, PrivacyRequest
from backoffice.domain.search import (
    JOINT_REACH,
    MIN_FRAGMENT,
    PREFIX_END,
    TermKind,
    order_number_key,
    postcode_key,
    reindex_customer,
    squashed,
)
from backoffice.domain.staff import ROLE_LABELS, Actor, Permission, StaffUser
from backoffice.domain.text import fold, join_words, search_tokens
from backoffice.errors import ConflictError, NotFound, ValidationError, check_cancel
from backoffice.services import access, audit
from backoffice.services.audit import AuditRow
from backoffice.services.changes import Changes
from backoffice.services.record_labels import customer_name
from backoffice.services.newsletters.lists import ensure_default_lists
from backoffice.services.outbox import queue_message
from backoffice.services.search_index import rebuild_search_index, search_index_needs_rebuild
from backoffice.services.settings import shop_default_country

__all__ = [
    "CustomerChangedElsewhere",
    "CustomerDetail",
    "CustomerHit",
    "CustomerProfile",
    "CustomerRow",
    "CustomerSort",
    "Page",
    "add_note",
    "count_customers",
    "create_customer",
    "find_duplicates",
    "Duplicates",
    "get_customer",
    "list_customers_page",
    "merge_customers",
    "rebuild_search_index",
    "search_customers",
    "search_index_needs_rebuild",
    "similar_customers",
    "update_customer",
    "validate_changes",
]

for _action, _label in (
    ("view_customer", "Viewed a customer"),
    ("create_customer", "Customer added"),
    ("update_customer", "Customer changed"),
    ("add_customer_note", "Note added to a customer"),
    ("merge_customers", "Customers merged"),
):
    audit.register_action(_action, _label)


# --- Search -------------------------------------------------------------------------------

EXACT, WORD, PREFIX, FRAGMENT = 0, 1, 2, 3
MAX_LIMIT = 200
# A customer with no name, company or email, as lists and headings show them (never an internal id).
NO_NAME = "(no name)"
CUSTOMER_GONE = "This customer is no longer here (erased, merged or removed at another desk); nothing was done."
MIN_PHONE_SUFFIX = 4
# How many candidate rows one part of a query may bring back per hit wanted: a
# customer can match one prefix with several terms (the name both ways round).
_OVERFETCH = 2
_DRIVER_ROWS = 5000

_MATCH_WORDS = {
    TermKind.PHONE.value: "phone",
    TermKind.EMAIL.value: "email",
    TermKind.ORDER.value: "order",
    TermKind.NAME.value: "name",
    TermKind.COMPANY.value: "company",
    TermKind.POSTCODE.value: "postcode",
    "t": "text",
}
_PHONE, _EMAIL, _EMAIL_END, _EMAIL_JOINT, _ORDER, _NAME, _COMPANY, _POSTCODE = (
    k.value for k in (TermKind.PHONE, TermKind.EMAIL, TermKind.EMAIL_END, TermKind.EMAIL_JOINT,
                      TermKind.ORDER, TermKind.NAME, TermKind.COMPANY, TermKind.POSTCODE))
# Among hits of the same rank: the things that pick one person out come first.
_KIND_ORDER = {"p": 0, "e": 1, "o": 2, "n": 3, "c": 4, "z": 5, "t": 6}
_KIND_BY_ORDER = {order: kind for kind, order in _KIND_ORDER.items()}


@dataclass(frozen=True)
class CustomerHit:
    """One search result: enough to tell callers apart, and what matched."""

    id: int
    name: str
    company: str
    email: str
    phone: str
    postcode: str
    city: str
    status: CustomerStatus
    match: str  # "phone", "email", "order", "name", "company", "postcode" or "text"
    rank: int  # 0 exact, 1 whole word, 2 prefix, 3 fragment
    # Set by `similar_customers`: every way this customer looks like the one asked about
    # ("email", "phone", "name"), the first the same as `match`.
    reasons: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return self.rank == EXACT


@dataclass(frozen=True, slots=True)
class _Part:
    """One indexed lookup of a query: equality on some terms, or a prefix range."""

    op: str  # "in" or "range"
    kind: str  # a TermKind value
    rank: int
    values: tuple[str, ...]  # the terms for "in"; (low, high) for "range"
    tail: str = ""  # email ends: what the domain must start with
    # A range whose low end is a term of its own: the rank of a term equal to it
    # (one index range answers both "is" and "starts with").
    top: int | None = None


@dataclass(frozen=True)
class _Plan:
    parts: tuple[_Part, ...]
    tokens: tuple[str, ...] = ()  # words to intersect when the phrase finds too little
    # A fragment across a punctuation of an email: the low end of the range of email
    # joint terms, and what the term must hold reversed after its space.
    joint: tuple[str, str] | None = None
    inside: str | None = None  # one word's fragment, looked up among the word endings
    fragment: str | None = None  # for the trigram index, when the rest finds too little
    phrase: str = ""


def plan_query(query: str, *, default_region: str | None = "US") -> _Plan:
    """Read what was typed into the lookups that answer it (pure; for tests and benchmarks)."""
    raw = query.strip()
    if not raw:
        return _Plan(())
    parts: list[_Part] = []
    phone = phone_search(raw, default_region=default_region)
    if phone is not None:
        exact, suffix = phone
        keys = tuple(dict.fromkeys(phone_suffix_key(d) for d in exact if d))
        if keys:
            parts.append(_Part("in", _PHONE, EXACT, keys))
        if len(suffix) >= MIN_PHONE_SUFFIX:
            low = phone_suffix_key(suffix)
            parts.append(_Part("range", _PHONE, PREFIX, (low, low + PREFIX_END)))
    single = len(raw.split()) == 1
    number = order_number_key(raw)
    if number and single and any(c.isdigit() for c in number):
        if len(number) >= 3:
            parts.append(_Part("range", _ORDER, PREFIX, (number, number + PREFIX_END), top=EXACT))
        else:
            parts.append(_Part("in", _ORDER, EXACT, (number,)))
    if "@" in raw and single:
        key = email_key(raw)
        parts.append(_Part("range", _EMAIL, PREFIX, (key, key + PREFIX_END), top=EXACT))
        folded = fold(key)
        local, _, domain = folded.rpartition("@")
        if len(local) >= MIN_FRAGMENT:
            # What reaches the "@" from the left ends the part before it: a prefix
            # of the reversed emails, which finds every address holding the fragment.
            low = local[::-1]
            parts.append(_Part("range", _EMAIL_END, FRAGMENT, (low, low + PREFIX_END), tail=domain))
            return _Plan(tuple(parts))
        return _Plan(tuple(parts), fragment=_fragment(folded))
    postcode = postcode_key(raw)
    if (postcode and len(postcode) <= 10 and len(raw.split()) <= 2
            and any(c.isdigit() for c in postcode)):
        if len(postcode) >= 2:
            parts.append(_Part("range", _POSTCODE, PREFIX, (postcode, postcode + PREFIX_END), top=WORD))
        else:
            parts.append(_Part("in", _POSTCODE, WORD, (postcode,)))
    if phone is not None:
        return _Plan(tuple(parts))
    tokens = tuple(search_tokens(raw))
    if not tokens:
        return _Plan(tuple(parts))
    joint = None
    phrase = " ".join(tokens)
    parts.append(_Part("range", _NAME, PREFIX, (phrase, phrase + PREFIX_END)))
    parts.append(_Part("range", _COMPANY, PREFIX, (phrase, phrase + PREFIX_END)))
    if single:
        key = email_key(raw)
        parts.append(_Part("range", _EMAIL, PREFIX, (key, key + PREFIX_END)))
        joint = _joint(fold(key))
    inside = tokens[0] if len(tokens) == 1 and len(tokens[0]) >= MIN_FRAGMENT else None
    # Words typed apart are intersected; the pieces of one run ("her.lew", "jean-luc")
    # are found together by the phrase, or as a fragment.
    return _Plan(tuple(parts), tokens=tokens if len(tokens) > 1 and not single else (), joint=joint,
                 inside=inside, fragment=_fragment(fold(raw)), phrase=phrase)


def _joint(folded: str) -> tuple[str, str] | None:
    """A fragment across a punctuation of an email's part before the "@" ("ria.gar"):
    a prefix of the email joint terms (see `backoffice.domain.search.email_joint_terms`),
    and what reaches further back, reversed."""
    q = next((i for i, c in enumerate(folded) if not c.isalnum()), 0)
    if q == 0 or len(folded) < MIN_FRAGMENT:
        return None
    start = max(0, q - JOINT_REACH)
    return folded[start:], folded[:start][::-1]


_PHONE_PUNCTUATION = frozenset(" +-.()/\u00a0\u2010\u2011\u2012\u2013\u2014\u2212")


def phone_search(text: str, *, default_region: str | None = "US") -> tuple[tuple[str, ...], str] | None:
    """The digits a stored number may equal, and the digits it may end with; None if not a phone.

    The rule of `backoffice.domain.phones.phone_query`, without validating the
    number against the phone metadata: validation costs more than the whole search
    and a search needs none. Exact candidates are the digits as typed, and for a
    number typed without "+" the same digits after the default region's country
    code (with and without a trunk zero); for one typed with "+" or "00", the
    digits and the national part after the country code. The suffix is the national
    part, or the typed digits without leading zeros when eight or more were typed.
    """
    text = unicodedata.normalize("NFKC", text).strip()
    count = 0
    for char in text:
        if char.isdecimal():
            count += 1
        elif char not in _PHONE_PUNCTUATION and not char.isspace():
            return None
    if count < MIN_PHONE_SUFFIX:
        return None
    digits = text if text.isascii() and text.isdigit() else "".join(
        str(unicodedata.decimal(c)) for c in text if c.isdecimal())
    if text.startswith("+") or (digits.startswith("00") and len(digits) > 4):
        full = digits if text.startswith("+") else digits[2:]
        national = full
        for size in (1, 2, 3):
            if int(full[:size] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                national = full[size:]
                break
        return tuple(dict.fromkeys((full, national))), national or full
    exact = [digits]
    if default_region:
        code = phonenumbers.country_code_for_region(default_region.upper())
        if code:
            exact += [f"{code}{digits}", f"{code}{digits.lstrip('0')}"]
    suffix = digits.lstrip("0") if len(digits) >= 8 else digits
    return tuple(dict.fromkeys(exact)), suffix or digits


def _fragment(folded: str) -> str | None:
    # FTS5 trigram LIKE has no ESCAPE: drop "%"; a "_" only widens the probe, and the
    # whole fragment is checked on the rows.
    frag = folded.replace("%", "")
    return frag if len(frag) >= MIN_FRAGMENT else None


# Every trigram of a fragment is one more posting list to intersect; past this
# length the index is asked for a part only, and the whole is checked on the rows.
MAX_PROBE = 10


def fragment_probe(fragment: str, *, postgres: bool = False) -> str:
    """The part of a fragment the trigram index is asked for.

    On PostgreSQL a fragment of one run with punctuation ("ria.gar") is asked for
    squashed ("riagar"), as every email address is also indexed (see
    `backoffice.domain.search`): pg_trgm would split it into common word ends.
    Short fragments go whole. In a long one, the end of the part before an "@"
    (where addresses differ) or else its beginning: a shop's domains and common
    words would only add long posting lists to intersect.
    """
    if postgres and not any(c.isspace() for c in fragment):
        flat = squashed(fragment)
        if flat != fragment and len(flat) >= MIN_FRAGMENT:
            fragment = flat
    if len(fragment) <= MAX_PROBE:
        return fragment
    local, at, _ = fragment.partition("@")
    if at and len(local) >= MIN_FRAGMENT - 1:
        return (local + "@")[-MAX_PROBE:]
    return fragment[:MAX_PROBE]


# --- The search statements ---------------------------------------------------------------
#
# A search runs on the pooled DBAPI connection with SQL built once per query shape
# and database: SQLAlchemy's per-statement work would cost more than the lookups.
# Its steps:
#   found   the indexed lookups of the plan's parts, each a LIMITed index range;
#   complete  when the phrase has several words: the whole words the first one
#           begins, each followed by the rest of the phrase, as name prefixes
#           ("mar smi": "maria smi", "mark smi", ...);
#   words   when the phrase has several words: customers having a term starting
#           with each of them (the longest word drives);
#   joint   a fragment across a punctuation of an email ("ria.gar"): the email
#           joint terms starting with it;
#   inside  a fragment of one word: word endings starting with it, then the name
#           and company terms starting with those words;
#   frag    any other fragment, from the trigram index.
# Each later step runs only while the earlier ones found fewer customers than wanted
# and nothing exact, and each customer keeps its first step's best match.
#
# PostgreSQL gets all of it as one prepared statement (one round trip; once the
# server settles on a generic plan, no planning either): the steps are gated by an
# uncorrelated condition, which PostgreSQL evaluates once, before the step reads
# anything, and the chosen customers come back with their addresses. SQLite answers
# in this process, where a statement costs no round trip: there each step is its own
# small statement run only when needed, the ranking is done here (SQLite's window
# sort costs more than the lookups), and a last statement reads the chosen customers.
# Templates name their parameters ":name"; PostgreSQL's driver wants "%(name)s".

_PARAM = re.compile(r":(\w+)")
_SQL_CACHE: dict[tuple, str] = {}

_HIT_COLUMNS = (
    "c.id, c.first_name, c.last_name, c.company, c.email, c.phone, c.status, c.sort_name, "
    "a.postcode, a.city, a.is_default, a.id"
)


def _cached(dialect: str, key: tuple, build) -> str:
    sql = _SQL_CACHE.get((dialect, key))
    if sql is None:
        sql = build()
        if dialect == "postgresql":
            sql = _PARAM.sub(r"%(\1)s", sql)
        _SQL_CACHE[(dialect, key)] = sql
    return sql


def _shape(plan: _Plan) -> tuple:
    return tuple((p.op, p.kind, p.rank, len(p.values), bool(p.tail), p.top) for p in plan.parts)


def _bound(dialect: str, name: str) -> str:
    """A parameter bounding an index range.

    On PostgreSQL it is hidden from the planner behind a subquery. Seeing the
    values, the planner finds each custom plan so much cheaper than the generic one
    that it would plan the statement again on every search; not seeing them, it
    estimates both alike and keeps the generic plan, which is the same index ranges.
    """
    return f"(SELECT CAST(:{name} AS text))" if dialect == "postgresql" else f":{name}"


def _found_sql(dialect: str, shape: tuple, lim: int) -> str:
    """The plan's lookups: (customer_id, term, rnk, korder) rows, at most `lim` per part."""
    arms = []
    for i, (op, kind, rank, n_values, tail, top) in enumerate(shape):
        v = [_bound(dialect, f"v{i}_{j}") for j in range(n_values)]
        if op == "in":
            where = f"term IN ({', '.join(v)})" if n_values > 1 else f"term = {v[0]}"
        else:
            where = f"term >= {v[0]} AND term < {v[1]}"
        if tail:
            at = "strpos(term, '@')" if dialect == "postgresql" else "instr(term, '@')"
            where += f" AND substr(term, {at} + 1, :t{i}_n) = :t{i}"
        rank_sql = str(rank)
        if top is not None:
            rank_sql = f"CASE WHEN term = {v[0]} THEN {top} ELSE {rank} END"
        elif kind in (_NAME, _COMPANY):
            # A term equal to the phrase, or starting with it and a space, is a whole word.
            rank_sql = (f"CASE WHEN term = :phrase OR substr(term, 1, :plen) = :phrase_word "
                        f"THEN {WORD} ELSE {rank} END")
        korder = _KIND_ORDER[_EMAIL if kind == _EMAIL_END else kind]
        arms.append(
            f"SELECT customer_id, term, {rank_sql} AS rnk, {korder} AS korder "
            f"FROM (SELECT customer_id, term FROM customer_search WHERE kind = '{kind}' "
            f"AND {where} ORDER BY term LIMIT {lim}) AS p{i}"
        )
    return " UNION ALL ".join(arms)


def _words_parts(dialect: str, n_words: int) -> tuple[str, str, str]:
    """(columns, sources, conditions) of the words step."""
    checks = " AND ".join(
        f"EXISTS (SELECT 1 FROM customer_search t{i} WHERE t{i}.customer_id = s.customer_id "
        f"AND t{i}.kind IN ('n', 'c', 'z', 'e') AND t{i}.term >= {_bound(dialect, f'lo{i}')} "
        f"AND t{i}.term < {_bound(dialect, f'hi{i}')})"
        for i in range(1, n_words)
    )
    return (
        f"s.customer_id, s.term, {PREFIX} AS rnk, {_KIND_ORDER[_NAME]} AS korder",
        "(SELECT customer_id, term FROM customer_search WHERE kind IN ('n', 'c') "
        f"AND term >= {_bound(dialect, 'lo0')} AND term < {_bound(dialect, 'hi0')} "
        f"LIMIT {_DRIVER_ROWS}) AS s",
        checks,
    )


def _complete_parts(dialect: str) -> tuple[str, str, str]:
    """(columns, sources, conditions) of the step completing the first word typed:
    the whole words it begins, each followed by the rest as typed, as name prefixes."""
    # On SQLite, CROSS JOIN keeps the words as the outer loop.
    return (
        f"t.customer_id, t.term, {PREFIX} AS rnk, {_KIND_ORDER[_NAME]} AS korder",
        "customer_search_word w CROSS JOIN customer_search t",
        f"w.suffix >= {_bound(dialect, 'co_lo')} AND w.suffix < {_bound(dialect, 'co_hi')} "
        "AND w.suffix = w.word AND t.kind IN ('n', 'c') "
        "AND t.term >= w.word || :co_rest AND t.term < w.word || :co_rest || :end",
    )


def _joint_parts(dialect: str) -> tuple[str, str, str]:
    """(columns, sources, conditions) of the step reading email joint terms."""
    space = "strpos(term, ' ')" if dialect == "postgresql" else "instr(term, ' ')"
    return (
        f"customer_id, term, {FRAGMENT} AS rnk, {_KIND_ORDER[_EMAIL]} AS korder",
        "customer_search",
        f"kind = '{_EMAIL_JOINT}' AND term >= {_bound(dialect, 'jo_lo')} "
        f"AND term < {_bound(dialect, 'jo_hi')} AND substr(term, {space} + 1, :jo_n) = :jo_t",
    )


def _inside_parts(dialect: str) -> tuple[str, str, str]:
    """(columns, sources, conditions) of the word-endings step."""
    # On SQLite, CROSS JOIN keeps the word endings as the outer loop.
    return (
        f"t.customer_id, t.term, {FRAGMENT} AS rnk, {_KIND_ORDER['t']} AS korder",
        "customer_search_word w CROSS JOIN customer_search t",
        f"w.suffix >= {_bound(dialect, 'in_lo')} AND w.suffix < {_bound(dialect, 'in_hi')} "
        "AND w.suffix <> w.word AND t.kind IN ('n', 'c') AND t.term >= w.word AND t.term < w.word || :end",
    )


def _frag_parts(dialect: str, lim: int) -> tuple[str, str, str]:
    if dialect == "postgresql":
        # Planned for its own pattern inside the function (a generic plan cannot see it).
        return (f"f.id AS customer_id, '' AS term, {FRAGMENT} AS rnk, {_KIND_ORDER['t']} AS korder",
                f"customer_search_like(:pat, :whole, {lim}) AS f(id)", "TRUE")
    return (f"rowid AS customer_id, body AS term, {FRAGMENT} AS rnk, {_KIND_ORDER['t']} AS korder",
            "customer_search_fts", "body LIKE :pat AND instr(body, :whole) > 0")


def _pg_search_sql(plan: _Plan, limit: int) -> str:
    """PostgreSQL: the whole search as one statement, the chosen customers with their addresses."""
    key = ("search", limit, _shape(plan), min(len(plan.tokens), 5), plan.joint is not None,
           plan.inside is not None, plan.fragment is not None)
    return _cached("postgresql", key, lambda: _build_pg_search(*key[1:]))


def _build_pg_search(limit: int, shape: tuple, n_words: int, joint: bool, inside: bool, fragment: bool) -> str:
    lim = limit * _OVERFETCH
    ctes = [f"found AS MATERIALIZED ({_found_sql('postgresql', shape, lim)})"]
    steps = ["found"]

    def gated(name: str, parts: tuple[str, str, str]) -> None:
        columns, sources, where = parts
        # PostgreSQL stops at the first false condition: a later count is only
        # made when the lookups found too little.
        gate = "(SELECT go FROM more)"
        if len(steps) > 1:
            seen = " UNION ALL ".join(f"SELECT customer_id FROM {s}" for s in steps)
            gate += f" AND (SELECT count(DISTINCT customer_id) FROM ({seen}) AS g) < {limit}"
        ctes.append(f"{name} AS MATERIALIZED (SELECT {columns} FROM {sources} "
                    f"WHERE {gate} AND {where} LIMIT {lim})")
        steps.append(name)

    if n_words or joint or inside or fragment:
        # Whether the lookups found fewer customers than wanted, and nothing exact.
        ctes.append(f"more AS MATERIALIZED (SELECT count(DISTINCT customer_id) < {limit} "
                    f"AND NOT coalesce(bool_or(rnk = {EXACT}), false) AS go FROM found)")
    if n_words:
        gated("complete", _complete_parts("postgresql"))
        gated("words", _words_parts("postgresql", n_words))
    if joint:
        gated("joint", _joint_parts("postgresql"))
    if inside:
        gated("inside", _inside_parts("postgresql"))
    if fragment:
        gated("frag", _frag_parts("postgresql", lim))
    hits = " UNION ALL ".join(
        f"SELECT customer_id, rnk, korder, {n} AS step, term FROM {name}" for n, name in enumerate(steps)
    )
    # Each customer's best match, then the best customers.
    return (
        "WITH " + ", ".join(ctes) + " "
        f"SELECT {_HIT_COLUMNS}, b.rnk, b.korder FROM ("
        "SELECT customer_id, rnk, korder FROM ("
        "SELECT DISTINCT ON (customer_id) customer_id, rnk, korder, step, term "
        f"FROM ({hits}) AS h ORDER BY customer_id, step, rnk, korder, term) AS ranked "
        f"ORDER BY step, rnk, korder, term, customer_id LIMIT {limit}"
        ") AS b JOIN customers c ON c.id = b.customer_id "
        "LEFT JOIN customer_addresses a ON a.customer_id = c.id"
    )


def _sqlite_step_sql(kind: str, plan: _Plan, limit: int) -> str:
    lim = limit * _OVERFETCH
    if kind == "found":
        key = ("found", lim, _shape(plan))
        return _cached("sqlite", key, lambda: _found_sql("sqlite", key[2], lim))
    if kind == "complete":
        parts, key = _complete_parts("sqlite"), ("complete", lim)
    elif kind == "words":
        parts = _words_parts("sqlite", min(len(plan.tokens), 5))
        key = ("words", lim, min(len(plan.tokens), 5))
    elif kind == "joint":
        parts, key = _joint_parts("sqlite"), ("joint", lim)
    elif kind == "inside":
        parts, key = _inside_parts("sqlite"), ("inside", lim)
    else:
        parts, key = _frag_parts("sqlite", lim), ("frag", lim)
    columns, sources, where = parts
    return _cached("sqlite", key, lambda: f"SELECT {columns} FROM {sources} WHERE {where} LIMIT {lim}")


def _sqlite_hits_sql(n: int) -> str:
    """The chosen customers, each with its addresses (the default one is shown)."""
    return _cached("sqlite", ("hits", n), lambda: (
        f"SELECT {_HIT_COLUMNS} FROM customers c "
        "LEFT JOIN customer_addresses a ON a.customer_id = c.id WHERE c.id IN ("
        + ", ".join(f"?{k + 1}" for k in range(n)) + ")"
    ))


def _search_params(plan: _Plan, postgres: bool) -> dict[str, Any]:
    params: dict[str, Any] = {"phrase": plan.phrase, "phrase_word": plan.phrase + " ",
                              "plen": len(plan.phrase) + 1}
    for i, p in enumerate(plan.parts):
        for j, v in enumerate(p.values):
            params[f"v{i}_{j}"] = v
        if p.tail:
            params[f"t{i}"], params[f"t{i}_n"] = p.tail, len(p.tail)
    if plan.tokens:
        for i, w in enumerate(sorted(plan.tokens, key=len, reverse=True)[:5]):
            params[f"lo{i}"], params[f"hi{i}"] = w, w + PREFIX_END
        first = plan.tokens[0]
        params["co_lo"], params["co_hi"] = first, first + PREFIX_END
        params["co_rest"], params["end"] = " " + " ".join(plan.tokens[1:]), PREFIX_END
    if plan.joint is not None:
        low, back = plan.joint
        params["jo_lo"], params["jo_hi"], params["jo_t"], params["jo_n"] = low, low + PREFIX_END, back, len(back)
    if plan.inside is not None:
        params["in_lo"], params["in_hi"], params["end"] = plan.inside, plan.inside + PREFIX_END, PREFIX_END
    if plan.fragment is not None:
        probe = fragment_probe(plan.fragment, postgres=postgres)
        params["pat"] = f"%{probe}%"
        # The whole fragment is checked on the rows only when the index was asked for a part.
        params["whole"] = None if postgres and probe == plan.fragment else plan.fragment
    return params


# The shop's default country, read at most every REGION_TTL seconds per database.
REGION_TTL = 30.0
_regions: weakref.WeakKeyDictionary[Engine, tuple[str, float]] = weakref.WeakKeyDictionary()


def _default_region(db: Database) -> str:
    now = time.monotonic()
    cached = _regions.get(db.engine)
    if cached is not None and now - cached[1] < REGION_TTL:
        return cached[0]
    with db.engine.connect() as conn:
        region = shop_default_country(conn)
    _regions[db.engine] = (region, now)
    return region


_STATUSES = {s.value: s for s in CustomerStatus}


def _find(db: Database, query: str, limit: int) -> list[tuple]:
    """Search for `query`: one row per (customer, address) with the match's rank and kind order."""
    plan = plan_query(query, default_region=_default_region(db))
    if not plan.parts:
        return []
    postgres = db.engine.dialect.name == "postgresql"
    params = _search_params(plan, postgres)
    raw = db.engine.raw_connection()
    try:
        if postgres:
            # Reads only: skip the BEGIN and ROLLBACK round trips.
            raw.dbapi_connection.autocommit = True
        cur = raw.cursor()
        try:
            if postgres:
                cur.execute(_pg_search_sql(plan, limit), params, prepare=True)
                return cur.fetchall()
            return _sqlite_find(cur, plan, params, limit)
        finally:
            cur.close()
    except Exception as exc:
        lost = cut_off_error(db, exc, raw.dbapi_connection) if postgres else None
        if lost is not None:
            raw.invalidate(exc)
            raise lost from exc
        raise
    finally:
        if postgres and raw.is_valid:
            try:
                raw.dbapi_connection.autocommit = False
            except Exception:
                raw.invalidate()  # never hand an autocommit connection back to the pool
        raw.close()


def _sqlite_find(cur, plan: _Plan, params: dict[str, Any], limit: int) -> list[tuple]:
    """The steps as separate statements, each only when the ones before found too little."""
    cur.execute(_sqlite_step_sql("found", plan, limit), params)
    best: dict[int, tuple] = {}  # customer id -> (rank, kind order, term) of its best match
    for cid, term, rank, korder in cur.fetchall():
        old = best.get(cid)
        if old is None or (rank, korder, term) < old:
            best[cid] = (rank, korder, term)
    chosen: dict[int, tuple[int, int]] = {
        cid: best[cid][:2] for cid in sorted(best, key=lambda c: (*best[c], c))[:limit]
    }
    if not any(rank == EXACT for rank, _ in chosen.values()):
        for step, wanted in (("complete", plan.tokens), ("words", plan.tokens), ("joint", plan.joint),
                             ("inside", plan.inside), ("frag", plan.fragment)):
            if not wanted or len(chosen) >= limit:
                continue
            cur.execute(_sqlite_step_sql(step, plan, limit), params)
            for cid, _term, rank, korder in cur.fetchall():
                if len(chosen) >= limit:
                    break
                chosen.setdefault(cid, (rank, korder))
    if not chosen:
        return []
    cur.execute(_sqlite_hits_sql(len(chosen)), list(chosen))
    return [r + chosen[r[0]] for r in cur.fetchall()]


def search_customers(db: Database, *, actor: Actor, query: str, limit: int = 20) -> list[CustomerHit]:
    """The customers that best match what was typed, best first (see the module docstring).

    Merged and erased customers are not found. Read only: when the connection to
    the database server turns out to be cut off, the search runs once more on a
    new one. Raises PermissionDenied.
    """
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    limit = max(1, min(int(limit), MAX_LIMIT))
    if not query.strip():
        return []
    rows = db.run_read(lambda: _find(db, query, limit))
    if any(r[12] == EXACT for r in rows):
        # Someone matched exactly: leave out addresses that merely end the same way.
        rows = [r for r in rows if r[12] != FRAGMENT]
    # One row per (customer, address): keep the default address, else the first one.
    shown: dict[int, tuple] = {}
    for r in rows:
        old = shown.get(r[0])
        if old is None or (old[11] is not None and r[11] is not None
                           and (not r[10], r[11]) < (not old[10], old[11])):
            shown[r[0]] = r
    hits = []
    for cid, first, last, company, email, phone, status, sort_name, postcode, city, _d, _a, rank, korder \
            in shown.values():
        kind = _KIND_BY_ORDER[korder]
        name = f"{first} {last}".strip() or company or email or NO_NAME
        hits.append((
            (rank, korder, sort_name or "", cid),
            CustomerHit(
                id=cid, name=name, company=company or "", email=email or "", phone=phone or "",
                postcode=postcode or "", city=city or "", status=_STATUSES[status],
                match=_MATCH_WORDS[kind], rank=rank,
            ),
        ))
    hits.sort(key=lambda h: h[0])
    return [h for _, h in hits]


# --- The customers list -----------------------------------------------------------------------


class CustomerSort(StrEnum):
    """Orders the customers list can be shown in (each a keyset on an index)."""

    NAME = "name"
    NAME_DESC = "name_desc"
    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True)
class CustomerRow:
    """One light row of the customers list."""

    id: int
    name: str
    company: str
    email: str
    phone: str
    status: CustomerStatus
    created_at: datetime
    sort_key: Any  # the value the list is sorted on, for the next page's keyset


@dataclass(frozen=True)
class Page:
    """A keyset page: pass `next_key` as `after` for the next one (None: that was the last)."""

    rows: tuple[CustomerRow, ...]
    next_key: tuple[Any, int] | None


_SORTS = {
    CustomerSort.NAME: (Customer.sort_name, False),
    CustomerSort.NAME_DESC: (Customer.sort_name, True),
    CustomerSort.NEWEST: (Customer.created_at, True),
    CustomerSort.OLDEST: (Customer.created_at, False),
}


def _members(list_id: int):
    return select(Subscription.customer_id).where(
        Subscription.list_id == list_id, Subscription.status == SubscriptionStatus.SUBSCRIBED)


def _with_open_request():
    return select(PrivacyRequest.customer_id).where(
        PrivacyRequest.customer_id.is_not(None), PrivacyRequest.status.not_in(list(CLOSED_REQUEST_STATUSES)))


def _list_filters(status, list_id, has_open_request, *, as_sets: bool = False) -> list:
    """The list's conditions. By default each customer's subscription is checked on its own
    (EXISTS: right for reading a block, a few hundred rows from a key on); `as_sets` names
    the subscribers as a set of ids (right for reading or counting the whole list: the
    database reads the set once, from its own side). The customers with an open request
    are a set either way."""
    conditions = [Customer.merged_into_id.is_(None)]
    if status is not None:
        conditions.append(Customer.status == CustomerStatus(status))
    if list_id is not None:
        members = _members(list_id)
        conditions.append(Customer.id.in_(members) if as_sets
                          else exists(members.where(Subscription.customer_id == Customer.id)))
    if has_open_request is not None:
        # Always a set: the customers with an open request are a few hundred, read once rather
        # than looked up at every index entry a long list is counted along.
        with_open = _with_open_request()
        conditions.append(Customer.id.in_(with_open) if has_open_request else Customer.id.not_in(with_open))
    return conditions


def _list_rows(result) -> tuple[CustomerRow, ...]:
    return tuple(
        CustomerRow(
            id=r.id,
            name=f"{r.first_name} {r.last_name}".strip() or r.company or r.email or NO_NAME,
            company=r.company or "", email=r.email or "", phone=r.phone or "", status=r.status,
            created_at=r.created_at, sort_key=r.sort_key,
        )
        for r in result
    )


def _row_columns(column):
    return select(
        Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.email,
        Customer.phone, Customer.status, Customer.created_at, column.label("sort_key"),
    )


def list_customers_page(
    db: Database,
    *,
    actor: Actor,
    sort: CustomerSort | str = CustomerSort.NAME,
    after: tuple[Any, int] | None = None,
    start: tuple[Any, int] | None = None,
    skip: int = 0,
    from_end: bool = False,
    limit: int = 200,
    status: CustomerStatus | str | None = None,
    list_id: int | None = None,
    has_open_request: bool | None = None,
) -> Page:
    """One keyset page of the customers list, on (sort key, id); merged customers are left out.

    Where the page starts: after `after` (the previous page's `next_key`), or at `start`
    (a key from `customer_list_layout`, that row included), then `skip` rows further on
    (counted on the list's index alone). With `from_end` the page is the list's last
    `limit` rows (still in the list's order), `skip` rows before its end, or the `limit`
    rows just before `after`. Filters: `status`, subscribed to newsletter list
    `list_id`, with (True) or without (False) an open privacy request. Raises
    PermissionDenied.
    """
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    column, descending = _SORTS[CustomerSort(sort)]
    if from_end:
        descending = not descending
    limit = max(1, min(int(limit), 1000))
    conditions = _list_filters(status, list_id, has_open_request)
    key = tuple_(column, Customer.id)

    def ordered(stmt):
        if descending:
            return stmt.order_by(column.desc(), Customer.id.desc())
        return stmt.order_by(column, Customer.id)

    stmt = _row_columns(column).where(*conditions)
    if after is not None:
        stmt = stmt.where(key < tuple_(*after) if descending else key > tuple_(*after))
    since = []
    if start is not None:
        since = [key <= tuple_(*start) if descending else key >= tuple_(*start)]
    stmt = stmt.where(*since)
    with db.engine.connect() as conn:
        if after is None and start is None and skip <= 0:
            few = _at_most(conn, status, list_id, has_open_request)
            if few is not None and few <= SMALL_LIST // 10:
                # The list's first (or last) rows when the filters keep it very short: read from
                # the filters' side, not by walking the list's index past the customers they
                # leave out (a longer list's first rows come sooner along its index).
                sets = _list_filters(status, list_id, has_open_request, as_sets=True)
                result = conn.execute(_from_the_filters_side(db, _row_columns(column).where(*sets), column,
                                                             descending=descending).limit(limit)).all()
                rows = _list_rows(result)
                if from_end:
                    return Page(rows=rows[::-1], next_key=None)
                return Page(rows=rows, next_key=(rows[-1].sort_key, rows[-1].id) if len(rows) == limit else None)
        if skip > 0:
            # Find the first row's key on the index alone, then read the rows from there.
            found = conn.execute(ordered(select(column, Customer.id).where(*conditions, *since))
                                 .offset(int(skip)).limit(1)).first()
            if found is None:
                return Page(rows=(), next_key=None)
            stmt = stmt.where(key <= tuple_(*found) if descending else key >= tuple_(*found))
        result = conn.execute(ordered(stmt).limit(limit)).all()
    rows = _list_rows(result)
    if from_end:
        return Page(rows=rows[::-1], next_key=None)
    next_key = (rows[-1].sort_key, rows[-1].id) if len(rows) == limit else None
    return Page(rows=rows, next_key=next_key)


@dataclass(frozen=True)
class ListLayout:
    """Where the rows of the customers list are, for one sort column and filters.

    `keys[i]` is the (sort key, id) of row `i * stride` of the list in ascending order of
    the column (oldest first, names A to Z); `count` is how many rows the list has. A
    short list (up to SMALL_LIST rows) is laid out by every row's id instead, in `ids`
    (ascending), and `keys` is empty. One layout serves both directions of its column:
    see `list_customers_rows`.
    """

    stride: int
    keys: tuple[tuple[Any, int], ...]
    count: int
    ids: tuple[int, ...] | None = None


# A list with at most this many rows is laid out by its ids: any of its blocks is then read
# by primary key, however rare its rows are on the list's index.
SMALL_LIST = 50_000


# Sorts that read the same column, the other way round.
_REVERSED = {
    CustomerSort.NAME: CustomerSort.NAME_DESC,
    CustomerSort.NAME_DESC: CustomerSort.NAME,
    CustomerSort.NEWEST: CustomerSort.OLDEST,
    CustomerSort.OLDEST: CustomerSort.NEWEST,
}


def ascending_sort(sort: CustomerSort | str) -> CustomerSort:
    """The ascending sort on the same column as `sort` (the one its layout is read in)."""
    sort = CustomerSort(sort)
    return _REVERSED[sort] if _SORTS[sort][1] else sort


def _at_most(conn, status, list_id, has_open_request) -> int | None:
    """How many rows the filters allow at most, counted from their own side up to
    SMALL_LIST + 1 (None: no filter names a set of its own)."""
    sides = []
    if status is not None:
        sides.append(select(Customer.id).where(Customer.status == CustomerStatus(status)))
    if list_id is not None:
        sides.append(_members(list_id))
    if has_open_request:
        sides.append(_with_open_request())
    return min((int(conn.execute(select(func.count()).select_from(side.limit(SMALL_LIST + 1).subquery()))
                    .scalar_one()) for side in sides), default=None)


def _status_off_its_indexes(status) -> Any:
    """The customers of `status`, checked on each row SQLite reads some other way: a unary
    plus keeps it from reading them off the indexes that start with the status."""
    shown = type_coerce(literal_column(f"+{Customer.__tablename__}.status"), Customer.status.type)
    return shown == CustomerStatus(status)


def _from_the_sets(conn) -> None:
    """Tell PostgreSQL to read a short list from its filters' sets, each customer by primary
    key, for the rest of the transaction of `conn`: its planner, counting on reading whole
    tables faster than that, hashed the 20,000 SMS subscribers against all million customers
    (300 ms for the list's layout and 250 ms for its count, 130 and 70 ms by primary key)."""
    conn.exec_driver_sql("SET LOCAL enable_hashjoin = off")
    conn.exec_driver_sql("SET LOCAL enable_mergejoin = off")


def _from_the_filters_side(db: Database, stmt, column, *, descending: bool = False):
    """`stmt` in the list's order, read from the filters' side and then sorted: SQLite is
    kept from walking the list's index for the order (and checking every customer on it)
    by a unary plus on the order's columns; PostgreSQL's planner, which knows how many
    rows the sets hold, chooses for itself."""
    order = [column, Customer.id]
    if db.backend != "postgresql":
        order = [literal_column(f"+{Customer.__tablename__}.{c.key}") for c in order]
    return stmt.order_by(*(c.desc() for c in order) if descending else order)


def customer_list_layout(
    db: Database,
    *,
    actor: Actor,
    sort: CustomerSort | str = CustomerSort.NAME,
    stride: int = 1000,
    status: CustomerStatus | str | None = None,
    list_id: int | None = None,
    has_open_request: bool | None = None,
    cancel: Any = None,
) -> ListLayout:
    """The list's layout for the column `sort` is on (either direction) and these filters.

    Read inside the database: a list the filters keep short (SMALL_LIST) is read whole
    as ids, from the filters' side (the subscribers, the open requests, the status).
    A newsletter list's longer one is read whole in order, every `stride`-th key kept
    (checking each customer's subscription on the way along the list's index costs
    more). Any other is walked on the list's index, every step one seek and `stride`
    entries counted on: PostgreSQL in one recursive statement, SQLite a step at a time;
    the count is the keys' rows and the few from the last key to the end. Raises
    PermissionDenied, and Cancelled once `cancel` (a token) fires: nobody waits for the
    layout any more.
    """
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    column, _ = _SORTS[ascending_sort(sort)]
    stride = max(1, int(stride))
    sets = _list_filters(status, list_id, has_open_request, as_sets=True)
    key = tuple_(column, Customer.id)
    with db.engine.connect() as conn:
        few = _at_most(conn, status, list_id, has_open_request)
        if few is not None and few <= SMALL_LIST:
            if db.backend == "postgresql":
                _from_the_sets(conn)
            ids = tuple(conn.execute(_from_the_filters_side(db, select(Customer.id).where(*sets), column)).scalars())
            return ListLayout(stride=1, keys=(), count=len(ids), ids=ids)
        if list_id is not None:  # the subscribers in order, from the list's side
            # Only ids come back (on the driver's cursor, no rows built); the kept ones' keys after.
            ordered = conn.execute(_from_the_filters_side(db, select(Customer.id).where(*sets), column))
            stride = min(stride, 200)  # read whole anyway: a key for every block, none counted on
            kept, count = [], 0
            for count, (customer_id,) in enumerate(ordered.cursor, 1):
                if count % stride == 1 or stride == 1:
                    kept.append(customer_id)
                    if len(kept) % 100 == 0:
                        check_cancel(cancel)
            found = dict(conn.execute(select(Customer.id, column).where(Customer.id.in_(kept))).all())
            return ListLayout(stride=stride, keys=tuple((found[i], i) for i in kept), count=count)
        if db.backend == "postgresql":
            first = select(column.label("k"), Customer.id.label("id"), literal(0).label("n")).where(*sets) \
                .order_by(column, Customer.id).limit(1)
            walk = first.cte("walk", recursive=True)
            step = (select(column.label("k"), Customer.id.label("id")).where(
                *sets, key >= tuple_(walk.c.k, walk.c.id)).order_by(column, Customer.id)
                .offset(stride).limit(1).lateral("step"))
            walk = walk.union_all(select(step.c.k, step.c.id, walk.c.n + 1).select_from(walk.join(step, true())))
            keys = [(k, i) for k, i in conn.execute(select(walk.c.k, walk.c.id).order_by(walk.c.n))]
        else:
            ordered = select(column, Customer.id).where(*sets).order_by(column, Customer.id)
            step = (select(column, Customer.id)
                    .where(*sets, key >= tuple_(bindparam("k", type_=column.type), bindparam("i")))
                    .order_by(column, Customer.id).offset(stride).limit(1))
            found = conn.execute(ordered.limit(1)).first()
            keys = []
            while found is not None:
                keys.append((found[0], found[1]))
                if len(keys) % 20 == 0:
                    check_cancel(cancel)
                found = conn.execute(step, {"k": found[0], "i": found[1]}).first()
        tail = 0
        if keys:
            last = select(Customer.id).where(*sets, key >= tuple_(*keys[-1])).limit(stride)
            tail = int(conn.execute(select(func.count()).select_from(last.subquery())).scalar_one())
    return ListLayout(stride=stride, keys=tuple(keys), count=(len(keys) - 1) * stride + tail if keys else 0)


def list_customers_rows(
    db: Database,
    *,
    actor: Actor,
    layout: ListLayout | None,
    sort: CustomerSort | str = CustomerSort.NAME,
    first: int = 0,
    limit: int = 200,
    count: int | None = None,
    sample: tuple[tuple[Any, int], ...] | None = None,
    status: CustomerStatus | str | None = None,
    list_id: int | None = None,
    has_open_request: bool | None = None,
) -> tuple[CustomerRow, ...]:
    """Rows `first` to `first + limit - 1` of the list in `sort`'s order, found from its
    `layout` (read with the same filters, for the same column): one seek on the list's
    index, fewer than `layout.stride` index entries counted on, and the rows read; for a
    short list, the rows of its ids.

    Without a layout (`layout=None`, not read yet) the list's `count` places them: they
    are counted on from the nearer end of the list's index. That is quick only where the
    filters are on the index itself (`positional_reads_are_quick`). With the list's
    `sample` (`sample_customer_list`), rows away from its ends (`placed_by_sample`) are
    read from the sampled key nearest before them instead: consecutive rows of the list,
    about where they are (see `sample_customer_list`). Raises PermissionDenied.
    """
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    first, limit = max(0, int(first)), max(1, min(int(limit), 1000))
    filters = {"status": status, "list_id": list_id, "has_open_request": has_open_request}
    if layout is None:
        if count is None:
            raise ValueError("the rows of a list without its layout are placed by its count")
        if first >= count:
            return ()
        limit = min(limit, count - first)
        behind = count - first - limit  # rows after the last one wanted
        if sample and placed_by_sample(count, first, limit, len(sample)):
            up = ascending_sort(sort)
            if up != CustomerSort(sort):  # the same rows read the other way: from the end backwards
                first = behind
            at = min(len(sample) - 1, first * len(sample) // count)
            skip = max(0, first - at * count // len(sample))
            page = list_customers_page(db, actor=actor, sort=up, start=sample[at], skip=skip, limit=limit,
                                       **filters)
            return page.rows if up == CustomerSort(sort) else page.rows[::-1]
        if first <= behind:
            return list_customers_page(db, actor=actor, sort=sort, skip=first, limit=limit, **filters).rows
        return list_customers_page(db, actor=actor, sort=sort, from_end=True, skip=behind, limit=limit,
                                   **filters).rows
    count, stride = layout.count, layout.stride
    up = ascending_sort(sort)
    if first >= count:
        return ()
    if up != CustomerSort(sort):  # the same rows read the other way: from the end backwards
        start = max(0, count - first - limit)
        limit, first = count - first - start, start
    if layout.ids is not None:  # a short list: its rows by primary key
        ids = layout.ids[first:first + limit]
        with db.engine.connect() as conn:
            found = {r.id: r for r in _list_rows(conn.execute(_row_columns(_SORTS[up][0]).where(Customer.id.in_(ids))))}
        rows = tuple(found[i] for i in ids if i in found)
        return rows if up == CustomerSort(sort) else rows[::-1]
    key = layout.keys[first // stride]
    page = list_customers_page(db, actor=actor, sort=up, start=key, skip=first % stride, limit=limit, **filters)
    return page.rows if up == CustomerSort(sort) else page.rows[::-1]


# Ids looked at by `sample_customer_list`, spread evenly over the customers' ids.
SAMPLE_PROBES = 4000
# A sample with fewer of the list's rows than this places nothing (a list that rare among the
# customers is short, and its layout, its ids, comes as quickly).
SAMPLE_LEAST = 50
# Rows this near either end of a list are counted from that end, never placed by a sample
# (Ctrl+End shows the very last rows).
NEAR_END = 1000


def sample_customer_list(
    db: Database,
    *,
    actor: Actor,
    sort: CustomerSort | str = CustomerSort.NAME,
    status: CustomerStatus | str | None = None,
    list_id: int | None = None,
    has_open_request: bool | None = None,
    probes: int | None = None,
) -> tuple[tuple[Any, int], ...]:
    """The (sort key, id) of the list's rows among customers with ids spread evenly over all
    of theirs (`probes` of them, SAMPLE_PROBES by default), in the list's ascending order of
    `sort`'s column: one read by primary key, 15-45 ms at a million customers.

    Customers' ids are given in the order they were added, which says nothing of their
    names, so the sample's `i`-th key is about row `i * count / len(sample)` of a list of
    `count` rows (a few hundredths of the list off at most, with a thousand rows sampled),
    and the sampled keys place its rows before its layout is read (`list_customers_rows`).
    Empty when fewer than SAMPLE_LEAST rows are found. Raises PermissionDenied.
    """
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    column, _ = _SORTS[ascending_sort(sort)]
    probes = max(1, int(probes if probes is not None else SAMPLE_PROBES))
    with db.engine.connect() as conn:
        # (Each on its own: SQLite reads a lone min() or max() off the index, both together by
        # reading the whole table.)
        low, high = conn.execute(select(select(func.min(Customer.id)).scalar_subquery(),
                                        select(func.max(Customer.id)).scalar_subquery())).one()
        if low is None:
            return ()
        span = high - low + 1
        ids = sorted({low + i * span // probes for i in range(min(probes, span))})
        # The ids as one value (thousands of bound values cost more to write out than to read),
        # each probe's filters checked on its own: a few thousand rows, not the whole sets.
        if db.backend == "postgresql":
            probed = Customer.id == any_(bindparam("probes", ids, type_=ARRAY(Integer)))
            _from_the_sets(conn)  # (each probe looked up, not the list's subscribers hashed whole)
        else:
            probed = Customer.id.in_(select(func.json_each(json.dumps(ids)).table_valued("value").c.value))
            if status is not None:
                # (Else SQLite reads the probes' status off the customers of that status by
                # status index, all 970,000 active ones: 180 ms rather than 15.)
                probed = and_(probed, _status_off_its_indexes(status))
                status = None
        stmt = select(column, Customer.id).where(probed, *_list_filters(status, list_id, has_open_request))
        found = tuple((k, i) for k, i in conn.execute(_from_the_filters_side(db, stmt, column)))
    return found if len(found) >= SAMPLE_LEAST else ()


def placed_by_sample(count: int, first: int, limit: int, sampled: int) -> bool:
    """Whether `list_customers_rows` places rows `first` to `first + limit - 1` of a list of
    `count` rows by a sample of `sampled` rows (else they are counted from the nearer end):
    only away from the list's ends (NEAR_END), where the rows are about where they would be,
    and only in a long list (a short one's layout, its ids, comes as quickly, and a sample of
    it would hold too few of its rows to place them well)."""
    return (sampled >= SAMPLE_LEAST and count > SMALL_LIST and first > NEAR_END
            and count - first - limit > NEAR_END)


def near_an_end(count: int, first: int, limit: int) -> bool:
    """Whether rows `first` to `first + limit - 1` of a list of `count` rows are so near one
    of its ends (NEAR_END) that counting from it finds them quickly, whatever the filters: in
    a long list (more than SMALL_LIST rows, a twentieth of a million customers at least), the
    entries counted past on the list's index are its own often enough. A short list's layout,
    its ids, comes as quickly."""
    return count > SMALL_LIST and (first <= NEAR_END or count - first - limit <= NEAR_END)


def customer_list_position(
    db: Database,
    *,
    actor: Actor,
    layout: ListLayout,
    key: tuple[Any, int],
    sort: CustomerSort | str = CustomerSort.NAME,
    status: CustomerStatus | str | None = None,
    list_id: int | None = None,
    has_open_request: bool | None = None,
) -> int | None:
    """Which row of the list in `sort`'s order the customer with this (sort key, id) is, from
    the list's `layout`: the layout's key at or before it, then fewer than its stride rows
    counted on. None when the customer is not on the list. Raises PermissionDenied."""
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    up = ascending_sort(sort)
    column, _ = _SORTS[up]
    conditions = _list_filters(status, list_id, has_open_request)
    order_key = tuple_(column, Customer.id)
    with db.engine.connect() as conn:
        on_list = conn.execute(select(Customer.id).where(Customer.id == key[1], column == key[0], *conditions)).first()
        if on_list is None or not (layout.ids or layout.keys):
            return None
        if layout.ids is not None:
            position = layout.ids.index(key[1]) if key[1] in layout.ids else None
        else:
            # The last layout key at or before `key`, in the database's own order.
            low, high = 0, len(layout.keys)
            while high - low > 1:
                middle = (low + high) // 2
                before = conn.execute(select(tuple_(*layout.keys[middle]) <= tuple_(*key))).scalar_one()
                low, high = (middle, high) if before else (low, middle)
            # In the list's order, so that the database walks the list's index from the layout's key
            # (unordered, PostgreSQL read all the customers by id: 360 ms instead of 2).
            since = select(Customer.id).where(*conditions, order_key >= tuple_(*layout.keys[low]),
                                              order_key < tuple_(*key)).order_by(column, Customer.id)
            counted = conn.execute(select(func.count()).select_from(since.limit(layout.stride).subquery()))
            position = low * layout.stride + int(counted.scalar_one())
    if position is None:
        return None
    return position if up == CustomerSort(sort) else layout.count - 1 - position


def positional_reads_are_quick(count: int, *, status=None, list_id=None, has_open_request=None) -> bool:
    """True when the rows of a list of `count` rows can be found by counting along its index
    before its layout is read (`list_customers_rows` with `layout=None`): the filters are on
    the index itself, or leave out the few customers with an open request (a newsletter
    list's subscribers are too many to check at every entry counted past), and the list is
    long, so most entries counted past are its own (a short one's layout is its ids, read
    from the filter's side as quickly)."""
    return list_id is None and not has_open_request and count > SMALL_LIST


def count_customers(
    db: Database,
    *,
    actor: Actor,
    status: CustomerStatus | str | None = None,
    list_id: int | None = None,
    has_open_request: bool | None = None,
) -> int:
    """How many customers the list shows with these filters. Raises PermissionDenied."""
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    conditions = _list_filters(status, list_id, has_open_request, as_sets=True)
    with db.engine.connect() as conn:
        if db.backend == "postgresql" and (list_id is not None or has_open_request):
            few = _at_most(conn, status, list_id, has_open_request)
            if few is not None and few <= SMALL_LIST:
                _from_the_sets(conn)
        elif db.backend != "postgresql" and status is not None and list_id is None and not has_open_request:
            few = _at_most(conn, status, list_id, has_open_request)
            if few is not None and few > SMALL_LIST:
                # Most customers have this status: SQLite would count them on the status index,
                # looking each one up in the table; the list's own index holds the status too, and
                # counting along it reads nothing else (a unary plus keeps the status index out).
                conditions = _list_filters(None, list_id, has_open_request, as_sets=True) + [
                    _status_off_its_indexes(status)]
        return int(conn.execute(select(func.count()).select_from(Customer).where(*conditions)).scalar_one())


@dataclass(frozen=True)
class ListOption:
    id: int
    name: str


def newsletter_list_options(db: Database, *, actor: Actor) -> list[ListOption]:
    """The newsletter lists the customers list can be filtered by. Raises PermissionDenied."""
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    with db.begin() as s:
        # A new shop's default lists exist before anyone opens the Newsletters screen.
        ensure_default_lists(s)
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(NewsletterList.id, NewsletterList.name).order_by(NewsletterList.name)).all()
    return [ListOption(r.id, r.name) for r in rows]


# --- One customer's record -------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerProfile:
    id: int
    first_name: str
    last_name: str
    company: str
    email: str
    phone: str
    username: str
    status: CustomerStatus
    restricted: bool
    objected: bool
    created_at: datetime
    updated_at: datetime
    version: int
    store_id: int | None
    merged_into_id: int | None
    # The name of the customer this one was merged into, as staff know them.
    merged_into_name: str = ""

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.company or self.email or NO_NAME

    def value(self, field_name: str) -> str:
        """The current value of an editable field, as text."""
        return getattr(self, field_name) or ""


@dataclass(frozen=True)
class AddressView:
    id: int
    kind: AddressKind
    is_default: bool
    lines: tuple[str, ...]
    postcode: str
    country: str
    phone: str
    email: str


@dataclass(frozen=True)
class TrackingView:
    carrier: str
    tracking_number: str
    shipped_at: datetime


@dataclass(frozen=True)
class OrderSummary:
    id: int
    number: str
    status: OrderStatus
    created_at: datetime
    total: Decimal
    currency: str
    tracking: tuple[TrackingView, ...]
    # Whether the acting account may open it, and if not, why, in words.
    why_not: str = ""

    @property
    def may_open(self) -> bool:
        return not self.why_not


@dataclass(frozen=True)
class SubscriptionView:
    list_id: int
    list_name: str
    channel: str
    status: SubscriptionStatus
    updated_at: datetime


@dataclass(frozen=True)
class ConsentView:
    list_name: str
    action: ConsentAction
    at: datetime
    method: str
    wording: str


@dataclass(frozen=True)
class RequestView:
    id: int
    kind: RequestKind
    status: RequestStatus
    received_at: datetime
    due_at: datetime
    is_open: bool


@dataclass(frozen=True)
class NoteView:
    id: int
    created_at: datetime
    staff_name: str
    text: str


@dataclass(frozen=True)
class CustomerDetail:
    """Everything the customer page shows, read in one transaction."""

    profile: CustomerProfile
    addresses: tuple[AddressView, ...]
    orders: tuple[OrderSummary, ...]
    subscriptions: tuple[SubscriptionView, ...]
    consents: tuple[ConsentView, ...]
    requests: tuple[RequestView, ...]
    notes: tuple[NoteView, ...]
    # The owner only: this customer's audit events, newest first.
    audit: tuple[AuditRow, ...]
    audit_visible: bool
    can_edit: bool
    can_merge: bool
    # The country phone numbers typed without a country code belong to.
    phone_region: str
    # Why Edit (and adding addresses) is not offered, and why notes cannot be added; empty when they are.
    why_no_edit: str = ""
    why_no_note: str = ""

    @property
    def can_add_note(self) -> bool:
        return not self.why_no_note

    @property
    def id(self) -> int:
        return self.profile.id

    @property
    def version(self) -> int:
        return self.profile.version


MAX_ORDERS_SHOWN = 500
MAX_AUDIT_SHOWN = 500


def _profile(c: Customer) -> CustomerProfile:
    return CustomerProfile(
        id=c.id, first_name=c.first_name or "", last_name=c.last_name or "",
        company=c.company or "", email=c.email or "", phone=c.phone or "",
        username=c.username or "", status=c.status, restricted=bool(c.restricted),
        objected=bool(c.objected), created_at=c.created_at, updated_at=c.updated_at,
        version=c.version, store_id=c.store_id, merged_into_id=c.merged_into_id,
        merged_into_name=_kept_name(c) if c.merged_into_id is not None else "",
    )


def _kept_name(c: Customer) -> str:
    """The name of the customer `c` was merged into ("another customer" when it cannot be read)."""
    s = object_session(c)
    kept = s.get(Customer, c.merged_into_id) if s is not None and c.merged_into_id is not None else None
    return customer_name(kept) if kept is not None else "another customer"


def _detail(s: Session, actor: Actor, customer_id: int) -> CustomerDetail:
    c = s.get(Customer, customer_id, populate_existing=True)
    if c is None:
        raise NotFound(CUSTOMER_GONE)
    addresses = tuple(
        AddressView(id=a.id, kind=a.kind, is_default=bool(a.is_default), lines=tuple(a.lines()),
                    postcode=a.postcode or "", country=a.country or "", phone=a.phone or "",
                    email=a.email or "")
        for a in s.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == customer_id)
                           .order_by(CustomerAddress.is_default.desc(), CustomerAddress.id))
    )
    order_rows = s.execute(
        select(Order.id, Order.number, Order.status, Order.created_at, Order.total, Order.currency,
               Order.created_by_staff_id)
        .where(Order.customer_id == customer_id)
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(MAX_ORDERS_SHOWN)
    ).all()
    tracking: dict[int, list[TrackingView]] = {}
    if order_rows:
        for sh in s.execute(
            select(Shipment.order_id, Shipment.carrier, Shipment.tracking_number, Shipment.shipped_at)
            .where(Shipment.order_id.in_([o.id for o in order_rows])).order_by(Shipment.id)
        ):
            tracking.setdefault(sh.order_id, []).append(
                TrackingView(sh.carrier or "", sh.tracking_number, sh.shipped_at))
    orders = tuple(
        OrderSummary(id=o.id, number=o.number or f"(local {o.id})", status=o.status, created_at=o.created_at,
                     total=o.total, currency=o.currency, tracking=tuple(tracking.get(o.id, ())),
                     why_not=_why_not_open(actor, o.created_by_staff_id))
        for o in order_rows
    )
    subscriptions = tuple(
        SubscriptionView(list_id=sub.list_id, list_name=name, channel=str(channel),
                         status=sub.status, updated_at=sub.updated_at)
        for sub, name, channel in s.execute(
            select(Subscription, NewsletterList.name, NewsletterList.channel)
            .join(NewsletterList, NewsletterList.id == Subscription.list_id)
            .where(Subscription.customer_id == customer_id).order_by(NewsletterList.name))
    )
    consents = tuple(
        ConsentView(list_name=name, action=ev.action, at=ev.at, method=ev.method or "",
                    wording=ev.wording or "")
        for ev, name in s.execute(
            select(ConsentEvent, NewsletterList.name)
            .join(NewsletterList, NewsletterList.id == ConsentEvent.list_id)
            .where(ConsentEvent.customer_id == customer_id)
            .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc()))
    )
    requests = tuple(
        RequestView(id=r.id, kind=r.kind, status=r.status, received_at=r.received_at,
                    due_at=r.due_at, is_open=r.is_open())
        for r in s.scalars(select(PrivacyRequest).where(PrivacyRequest.customer_id == customer_id)
                           .order_by(PrivacyRequest.received_at.desc(), PrivacyRequest.id.desc()))
    )
    notes = tuple(
        NoteView(id=n.id, created_at=n.created_at, staff_name=staff_name or "", text=n.text or "")
        for n, staff_name in s.execute(
            select(CustomerNote, StaffUser.display_name)
            .outerjoin(StaffUser, StaffUser.id == CustomerNote.staff_id)
            .where(CustomerNote.customer_id == customer_id)
            .order_by(CustomerNote.created_at.desc(), CustomerNote.id.desc()))
    )
    audit_visible = actor.may(Permission.READ_AUDIT)
    audit_rows: tuple[AuditRow, ...] = ()
    if audit_visible:
        audit_rows = tuple(
            AuditRow(id=ev.id, at=ev.at, staff_id=ev.staff_id, staff_login=login or "",
                     desk=ev.desk, action=ev.action, entity_type=ev.entity_type,
                     entity_id=ev.entity_id, customer_id=ev.customer_id,
                     fields=tuple(json.loads(ev.fields or "[]")), outcome=ev.outcome)
            for ev, login in s.execute(
                select(AuditEvent, StaffUser.login)
                .outerjoin(StaffUser, StaffUser.id == AuditEvent.staff_id)
                .where(AuditEvent.customer_id == customer_id)
                .order_by(AuditEvent.id.desc()).limit(MAX_AUDIT_SHOWN))
        )
    return CustomerDetail(
        profile=_profile(c), addresses=addresses, orders=orders, subscriptions=subscriptions,
        consents=consents, requests=requests, notes=notes, audit=audit_rows,
        audit_visible=audit_visible, can_edit=actor.may(Permission.EDIT_CUSTOMER) and can_edit(c),
        can_merge=actor.may(Permission.MERGE_CUSTOMERS) and can_edit(c),
        phone_region=shop_default_country(s),
        why_no_edit=_why_closed(c) or ("" if actor.may(Permission.EDIT_CUSTOMER) else
                                       f"{ROLE_LABELS[actor.role]} accounts may not change a customer's "
                                       "details or addresses; ask staff or the owner."),
        why_no_note=_why_closed(c) or ("" if actor.may(Permission.ADD_CUSTOMER_NOTE) else
                                       f"{ROLE_LABELS[actor.role]} accounts may not add notes."),
    )


def _why_not_open(actor: Actor, taken_by: int | None) -> str:
    if actor.may(Permission.VIEW_ALL_ORDERS) or (taken_by is not None and taken_by == actor.staff_id):
        return ""
    return ("Taken by someone else: order taker accounts open only the orders they took. "
            "Ask staff or the owner.")


def _why_closed(c: Customer) -> str:
    if c.merged_into_id is not None:
        return f"This customer was merged into {_kept_name(c)}; change that record instead."
    if c.status is CustomerStatus.ERASED:
        return "This customer's data was erased; the record is closed."
    return ""


def can_edit(customer: Customer) -> bool:
    """An erased customer, or one merged into another, is not edited any more."""
    return customer.status is not CustomerStatus.ERASED and customer.merged_into_id is None


def get_customer(db: Database, *, actor: Actor, customer_id: int) -> CustomerDetail:
    """A customer's whole record for the customer page; the view is audited.

    The owner also gets the customer's audit trail. Raises NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.VIEW_CUSTOMER, customer_id=customer_id)
    with db.begin() as s:
        # Recorded first, so the owner's audit tab shows this very view too.
        audit.record(s, actor, "view_customer", entity_type="customer", entity_id=customer_id,
                     customer_id=customer_id)
        detail = _detail(s, actor, customer_id)
    return detail


# --- Changing a customer ---------------------------------------------------------------------

EDITABLE_FIELDS = ("first_name", "last_name", "company", "email", "phone")
FIELD_LABELS = {
    "first_name": "first name",
    "last_name": "last name",
    "company": "company",
    "email": "email address",
    "phone": "phone number",
}
_MAX_LENGTH = {"first_name": 120, "last_name": 120, "company": 200, "phone": 40}


def validate_changes(changes: Mapping[str, Any], *, default_country: str = "US") -> dict[str, Any]:
    """Check edited fields; return the cleaned values, or raise ValidationError.

    The error's `fields` maps each field to a sentence shown next to it, so a form
    can check a field as soon as it is left. Phones are read with `default_country`
    when typed without a country code and must be valid numbers.
    """
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            errors[name] = "This detail cannot be changed here."
            continue
        text_value = " ".join(str(value or "").split())
        if name in _MAX_LENGTH and len(text_value) > _MAX_LENGTH[name]:
            errors[name] = f"This is too long: at most {_MAX_LENGTH[name]} characters."
            continue
        if name in ("first_name", "last_name", "company"):
            if contains_card_number(text_value):
                errors[name] = ("This looks like a card number. Card numbers are never stored; "
                                "take card payments on the payment page or the card terminal.")
                continue
            clean[name] = text_value
        elif name == "email":
            if not text_value:
                clean[name] = ""
                continue
            try:
                email = validate_email(text_value)
            except ValidationError as exc:
                errors[name] = exc.fields.get("email", exc.message)
                continue
            # Checked in the form it is stored, after the address was tidied.
            if contains_card_number(email):
                errors[name] = ("This looks like a card number. Card numbers are never stored; "
                                "take card payments on the payment page or the card terminal.")
            else:
                clean[name] = email
        elif name == "phone":
            if not text_value:
                clean[name] = ""
                continue
            phone = normalize_phone(text_value, default_region=default_country)
            if contains_card_number(text_value, context="phone") or (
                phone is None and any(ch.isdecimal() for ch in text_value)
            ):
                errors[name] = ("This looks like a card number. Card numbers are never stored; "
                                "take card payments on the payment page or the card terminal.")
            elif phone is None:
                errors[name] = "A phone number needs digits, as in +1 713 555 0199."
            elif not phone.is_valid:
                errors[name] = (f"This is not a valid phone number in {default_country}. "
                                "For a number from another country, start with + and the "
                                "country code, as in +44 20 7946 0958.")
            else:
                clean[name] = text_value
    if errors:
        labels = [FIELD_LABELS.get(f, f.replace("_", " ")) for f in errors]
        verb = "needs" if len(labels) == 1 else "need"
        raise ValidationError(
            f"The {join_words(labels)} {verb} correcting; nothing was saved.", fields=errors)
    return clean


def _apply(c: Customer, values: Mapping[str, Any], region: str) -> list[str]:
    """Set the cleaned values and what is derived from them; return the fields that changed."""
    changed = []
    for name, value in values.items():
        current = getattr(c, name) or ""
        if value == current:
            continue
        changed.append(name)
        setattr(c, name, (value or None) if name == "email" else value)
    _derive(c, region, only=derived_columns_for(changed))
    return changed


def _derive(c: Customer, region: str, *, only: set[str] | None = None) -> None:
    """Set the customer's derived columns (`customer_fields`) from its typed fields; `only`
    those named, so a phone nobody touched is not read again under a changed default country."""
    derived = contact_columns(first_name=c.first_name or "", last_name=c.last_name or "", company=c.company or "",
                              email=c.email, phone=c.phone or "", region=region)
    for column, value in derived.items():
        if only is None or column in only:
            setattr(c, column, value)


#: The account's fields that the default billing address repeats (the store keeps both).
_IN_STEP_WITH_BILLING = ("first_name", "last_name", "email", "phone", "company")


def _keep_billing_in_step(s: Session, c: Customer, before: Mapping[str, str]) -> list[str]:
    """Carry a corrected name, email, phone or company over to the default billing address
    where it held the same value as the account before, so a later order is not billed to
    the old one; return the billing fields changed ("billing.email")."""
    billing = s.scalars(select(CustomerAddress).where(
        CustomerAddress.customer_id == c.id, CustomerAddress.kind == AddressKind.BILLING)
        .order_by(CustomerAddress.is_default.desc(), CustomerAddress.id).limit(1)).first()
    if billing is None:
        return []
    changed = []
    for name in _IN_STEP_WITH_BILLING:
        now = getattr(c, name) or ""
        if now != before[name] and (getattr(billing, name) or "") == before[name]:
            setattr(billing, name, now)
            changed.append(f"billing.{name}")
    return changed


def _outbox(s: Session, kind: OutboxKind, entity_id: int, payload: Mapping[str, Any] | None = None) -> None:
    queue_message(s, kind, "customer", entity_id, payload=payload)


class CustomerChangedElsewhere(ConflictError):
    """Someone else saved the customer first; nothing was overwritten.

    `their_fields` are the fields the other desk changed, `current` the record as it
    is now, and `yours` the values this desk tried to save, so a form can show both.
    """

    def __init__(self, message: str, *, their_fields: tuple[str, ...], current: CustomerProfile,
                 yours: Mapping[str, Any]) -> None:
        super().__init__(message)
        self.their_fields = their_fields
        self.current = current
        self.yours = dict(yours)


def _fields_changed_since(s: Session, c: Customer, expected_version: int,
                          original: Mapping[str, Any] | None) -> tuple[str, ...]:
    if original is not None:
        return tuple(f for f in EDITABLE_FIELDS
                     if f in original and (original[f] or "") != (getattr(c, f) or ""))
    # Without the form's original values, read the other desk's saves from the audit trail.
    missed = max(0, c.version - expected_version)
    events = s.execute(
        select(AuditEvent.fields).where(
            AuditEvent.entity_type == "customer", AuditEvent.entity_id == c.id,
            AuditEvent.action.in_(("update_customer", "merge_customers")),
            AuditEvent.outcome == AuditOutcome.OK,
        ).order_by(AuditEvent.id.desc()).limit(missed)
    ).scalars().all()
    names = {f for raw in events for f in json.loads(raw or "[]")}
    return tuple(f for f in EDITABLE_FIELDS if f in names)


def _conflict(their: tuple[str, ...], mine: Mapping[str, Any], current: CustomerProfile) -> CustomerChangedElsewhere:
    if their:
        what = f"the {join_words([FIELD_LABELS[f] for f in their])}"
    else:
        what = "this customer"
    both = [FIELD_LABELS[f] for f in their if f in mine]
    sentence = (f"Someone at another desk changed {what} while you were editing. "
                "Nothing was saved, so neither change is lost: their version is shown now and "
                "your edits are still in the form.")
    if both:
        sentence += f" You both changed the {join_words(both)}: choose which to keep, then save again."
    else:
        sentence += " Save again to add your changes to theirs."
    return CustomerChangedElsewhere(sentence, their_fields=their, current=current, yours=mine)


def update_customer(
    db: Database,
    *,
    actor: Actor,
    customer_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
    original: Mapping[str, Any] | None = None,
) -> CustomerDetail:
    """Save edits to a customer's profile; the store is told through the outbox.

    `expected_version` is the version the form was loaded with; `original` (optional)
    the values it showed, to name exactly what another desk changed. Audited with
    field names only. Raises ValidationError (with a sentence per field),
    CustomerChangedElsewhere (a ConflictError), NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.EDIT_CUSTOMER, customer_id=customer_id)
    try:
        with db.begin() as s:
            region = shop_default_country(s)
            clean = validate_changes(changes, default_country=region)
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound(CUSTOMER_GONE)
            if not can_edit(c):
                raise ValidationError("This customer was erased or merged into another one; "
                                      "their record cannot be changed.")
            if c.version != expected_version:
                their = _fields_changed_since(s, c, expected_version, original)
                raise _conflict(their, clean, _profile(c))
            before = {name: getattr(c, name) or "" for name in _IN_STEP_WITH_BILLING}
            changed = _apply(c, clean, region)
            changed += _keep_billing_in_step(s, c, before)
            if not (c.first_name or c.last_name or c.company or c.email):
                raise ValidationError(
                    "A customer needs a name, a company or an email address; nothing was saved.",
                    fields={"last_name": "Enter a name, or keep a company or an email address."})
            if changed:
                s.flush()
                reindex_customer(s, customer_id, default_region=region)
                audit.record(s, actor, "update_customer", entity_type="customer",
                             entity_id=customer_id, customer_id=customer_id, fields=changed)
                _outbox(s, OutboxKind.UPDATE_CUSTOMER, customer_id, {"fields": sorted(changed)})
            return _detail(s, actor, customer_id)
    except StaleDataError:
        # Another desk saved between our read and our write.
        with db.read() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise NotFound(CUSTOMER_GONE) from None
            their = _fields_changed_since(s, c, expected_version, original)
            raise _conflict(their, dict(changes), _profile(c)) from None


@dataclass(frozen=True)
class NoteResult:
    """The note as stored, and what the desk should be told about it."""

    note: NoteView
    masked: bool
    message: str
    changes: Changes


def add_note(db: Database, *, actor: Actor, customer_id: int, text: str) -> NoteResult:
    """Add a staff note to a customer; card numbers in it are masked before it is stored.

    `message` says why the stored text differs from what was typed. Raises
    ValidationError (empty note), NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.ADD_CUSTOMER_NOTE, customer_id=customer_id)
    body = (text or "").strip()
    if not body:
        raise ValidationError("Write something in the note first.", fields={"text": "The note is empty."})
    masked = mask_card_numbers(body, field="the note")
    with db.begin() as s:
        # Shared lock: a merge or erasure of this customer waits for the note, or the note
        # sees that it happened.
        c = s.get(Customer, customer_id, with_for_update={"read": True}, populate_existing=True)
        if c is None:
            raise NotFound(CUSTOMER_GONE)
        if c.merged_into_id is not None:
            raise ValidationError(
                f"This customer was merged into {_kept_name(c)}; the note was not "
                "saved. Open that customer and add it there.")
        if c.status is CustomerStatus.ERASED:
            raise ValidationError("This customer's data was erased; the note was not saved.")
        note = CustomerNote(customer_id=customer_id, staff_id=actor.staff_id, text=masked.text)
        s.add(note)
        s.flush()
        audit.record(s, actor, "add_customer_note", entity_type="customer_note", entity_id=note.id,
                     customer_id=customer_id, fields=["text"])
        staff_name = ""
        if actor.staff_id is not None:
            staff_name = s.scalar(select(StaffUser.display_name).where(StaffUser.id == actor.staff_id)) or ""
        view = NoteView(id=note.id, created_at=note.created_at, staff_name=staff_name, text=note.text)
    return NoteResult(note=view, masked=masked.changed, message=masked.message,
                      changes=Changes(customers=frozenset({customer_id})))


# --- Duplicates and merging ------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateGroup:
    """Customers that look like one person, and why."""

    reason: str  # "phone", "email" or "name_postcode"
    label: str
    customers: tuple[CustomerRow, ...]


_DUPLICATE_LABELS = {
    "phone": "Same phone number",
    "email": "Same email address",
    "name_postcode": "Same name and postcode",
}


def _live() -> list:
    return [Customer.merged_into_id.is_(None), Customer.status != CustomerStatus.ERASED]


@dataclass(frozen=True)
class Duplicates:
    """The groups found, and how many groups of each kind there are in all."""

    groups: tuple[DuplicateGroup, ...]
    totals: dict[str, int]  # reason -> every group of that kind, shown or not

    def __iter__(self):
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    def summary(self) -> str:
        """A sentence saying how many groups there are, and which kinds are cut short."""
        if not self.groups:
            return "No customers on file look like the same person."
        shown: dict[str, int] = {}
        for g in self.groups:
            shown[g.reason] = shown.get(g.reason, 0) + 1
        text = (f"{self.total:,} group{'' if self.total == 1 else 's'} of customers who may be "
                "the same person.")
        cut = [f"the first {shown.get(r, 0):,} of {n:,} “{_DUPLICATE_LABELS[r].lower()}”"
               for r, n in self.totals.items() if n > shown.get(r, 0)]
        if cut:
            text += " Showing " + join_words(cut) + "; merge these to see the rest."
        return text


def find_duplicates(db: Database, *, actor: Actor, limit: int = 100) -> Duplicates:
    """Groups of customers with the same phone, the same email, or the same name and postcode.

    At most `limit` groups of each kind, with the count of all groups of each kind.
    Raises PermissionDenied.
    """
    access.require(db, actor, Permission.MERGE_CUSTOMERS)
    limit = max(1, min(int(limit), 1000))
    groups: list[tuple[str, list[int]]] = []
    totals: dict[str, int] = {}
    with db.engine.connect() as conn:
        for reason, column in (("phone", Customer.phone_digits), ("email", Customer.email_key)):
            grouped = (select(column).where(column.is_not(None), column != "", *_live())
                       .group_by(column).having(func.count() > 1))
            totals[reason] = conn.execute(select(func.count()).select_from(grouped.subquery())).scalar_one()
            keys = conn.execute(
                select(column).where(column.is_not(None), column != "", *_live())
                .group_by(column).having(func.count() > 1).order_by(column).limit(limit)
            ).scalars().all()
            if keys:
                members: dict[str, list[int]] = {}
                for cid, key in conn.execute(
                    select(Customer.id, column).where(column.in_(keys), *_live()).order_by(Customer.id)
                ):
                    members.setdefault(key, []).append(cid)
                groups.extend((reason, members[k]) for k in keys if len(members.get(k, ())) > 1)
        # Name and postcode: the folded name and the postcode terms of the search index.
        from backoffice.domain.search import CustomerSearchTerm as T

        by_name = (
            select(Customer.sort_name, T.term)
            .join(T, and_(T.customer_id == Customer.id, T.kind == TermKind.POSTCODE.value))
            .where(Customer.sort_name != "", *_live())
            .group_by(Customer.sort_name, T.term)
            .having(func.count(func.distinct(Customer.id)) > 1)
        )
        totals["name_postcode"] = conn.execute(select(func.count()).select_from(by_name.subquery())).scalar_one()
        pairs = conn.execute(by_name.order_by(Customer.sort_name, T.term).limit(limit)).all()
        for sort_name, term in pairs:
            ids = conn.execute(
                select(Customer.id).distinct()
                .join(T, and_(T.customer_id == Customer.id, T.kind == TermKind.POSTCODE.value))
                .where(Customer.sort_name == sort_name, T.term == term, *_live()).order_by(Customer.id)
            ).scalars().all()
            if len(ids) > 1:
                groups.append(("name_postcode", list(ids)))
        all_ids = sorted({cid for _, ids in groups for cid in ids})
        rows: dict[int, CustomerRow] = {}
        for start in range(0, len(all_ids), 500):
            for r in conn.execute(
                select(Customer.id, Customer.first_name, Customer.last_name, Customer.company,
                       Customer.email, Customer.phone, Customer.status, Customer.created_at,
                       Customer.sort_name).where(Customer.id.in_(all_ids[start:start + 500]))
            ):
                rows[r.id] = CustomerRow(
                    id=r.id,
                    name=f"{r.first_name} {r.last_name}".strip() or r.company or r.email or f"Customer {r.id}",
                    company=r.company or "", email=r.email or "", phone=r.phone or "",
                    status=r.status, created_at=r.created_at, sort_key=r.sort_name,
                )
    return Duplicates(
        groups=tuple(DuplicateGroup(reason, _DUPLICATE_LABELS[reason], tuple(rows[i] for i in ids if i in rows))
                     for reason, ids in groups),
        totals=totals,
    )


@dataclass(frozen=True)
class MergeResult:
    keep_id: int
    merged_id: int
    moved: dict[str, int]  # table -> rows moved to the kept customer
    filled: tuple[str, ...]  # fields of the kept customer filled from the merged one
    changes: Changes = field(default_factory=Changes)
    # The two customers as staff know them (the kept one's name after the merge).
    keep_name: str = ""
    merged_name: str = ""


# Tables handled by hand, or rebuilt after the merge.
_NOT_MOVED = {("customers", "merged_into_id"), ("customer_search", "customer_id"),
              ("customer_search_text", "customer_id"), ("subscriptions", "customer_id")}


def _customer_references() -> list[tuple[str, str]]:
    """Every (table, column) that points at a customer, read from the model."""
    refs = []
    for table in Base.metadata.sorted_tables:
        for col in table.columns:
            for fk in col.foreign_keys:
                if fk.column.table.name == "customers" and (table.name, col.name) not in _NOT_MOVED:
                    refs.append((table.name, col.name))
    return refs


def can_merge(keep: Customer | None, merge: Customer | None) -> str | None:
    """Why these two customers cannot be merged, or None when they can."""
    if keep is None or merge is None:
        return "One of the two customers does not exist any more."
    if keep.id == merge.id:
        return "A customer cannot be merged into themselves."
    for c in (keep, merge):
        if c.status is CustomerStatus.ERASED:
            return "One of the two customers was erased and cannot be merged."
        if c.merged_into_id is not None:
            return f"{customer_name(c)} was already merged into {_kept_name(c)}."
    return None


def merge_customers(db: Database, *, actor: Actor, keep_id: int, merge_id: int) -> MergeResult:
    """Move everything of customer `merge_id` to `keep_id` and mark it merged into it.

    Orders, addresses, notes, consent evidence, subscriptions, privacy requests and
    any other row that points at the customer move; where both are on the same
    newsletter list, the more recent status stays. Empty contact fields of the kept
    customer are filled from the merged one. Audited for both customers; the store
    is told through the outbox. Raises ValidationError, PermissionDenied.
    """
    access.require(db, actor, Permission.MERGE_CUSTOMERS, customer_id=keep_id)
    try:
        return _merge(db, actor, keep_id, merge_id)
    except (StaleDataError, OperationalError) as exc:
        if isinstance(exc, OperationalError) and not is_lock_conflict(exc):
            raise
        raise ConflictError(
            "Another desk changed or merged one of these customers at the same moment; nothing "
            "was merged. Open the customer again to see where they stand."
        ) from None


def _address_key(a: CustomerAddress) -> tuple[str, ...]:
    """An address as compared for sameness: its lines, folded, without spaces."""
    return tuple(fold(line).replace(" ", "") for line in a.lines())


def _merge(db: Database, actor: Actor, keep_id: int, merge_id: int) -> MergeResult:
    with db.begin() as s:
        locked = lock_customers(s, keep_id, merge_id)
        keep, merge = locked[keep_id], locked.get(merge_id)
        # Checked under the lock: a merge the other way round that just finished is seen.
        reason = can_merge(keep, merge)
        if reason:
            raise ValidationError(reason)
        # The kept customer changes too (it gains orders, maybe contact details): another
        # desk editing it meanwhile is told, instead of overwriting what the merge did.
        keep.updated_at = utcnow()
        moved: dict[str, int] = {}
        # Subscriptions: one per list and person; the later decision wins.
        kept_subs = {sub.list_id: sub for sub in s.scalars(
            select(Subscription).where(Subscription.customer_id == keep_id))}
        for sub in s.scalars(select(Subscription).where(Subscription.customer_id == merge_id)).all():
            mine = kept_subs.get(sub.list_id)
            if mine is None:
                sub.customer_id = keep_id
            else:
                if sub.updated_at > mine.updated_at:
                    mine.status = sub.status
                s.delete(sub)
            moved["subscriptions"] = moved.get("subscriptions", 0) + 1
        # The kept customer's default billing and shipping addresses stay the defaults: the
        # merged customer's move over as other addresses, and exact copies are dropped.
        kept_addresses = list(s.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == keep_id)))
        kept_lines = {(a.kind, _address_key(a)) for a in kept_addresses}
        kept_defaults = {a.kind for a in kept_addresses if a.is_default}
        for a in s.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == merge_id)).all():
            if (a.kind, _address_key(a)) in kept_lines:
                s.delete(a)
                moved["customer_addresses"] = moved.get("customer_addresses", 0) + 1
            elif a.is_default and a.kind in kept_defaults:
                a.is_default = False
        s.flush()
        tables = Base.metadata.tables
        for table_name, column in _customer_references():
            t = tables[table_name]
            values: dict[Any, Any] = {t.c[column]: keep_id}
            if "version" in t.c:
                # Another desk holding one of these rows then knows it changed.
                values[t.c.version] = t.c.version + 1
            result = s.execute(update(t).where(t.c[column] == merge_id).values(values))
            if result.rowcount:
                moved[table_name] = moved.get(table_name, 0) + result.rowcount
        filled = []
        for name in ("email", "phone", "company"):
            if not getattr(keep, name) and getattr(merge, name):
                filled.append(name)
        if filled:
            # Take the contact details over together with what is derived from them.
            for name in filled:
                if name == "email":
                    keep.email, keep.email_key = merge.email, merge.email_key
                    merge.email = merge.email_key = None
                elif name == "phone":
                    keep.phone, keep.phone_e164 = merge.phone, merge.phone_e164
                    keep.phone_digits, keep.phone_rev = merge.phone_digits, merge.phone_rev
                else:
                    keep.company = merge.company
        merge.merged_into_id = keep_id
        merge.status = CustomerStatus.DEACTIVATED
        merge.deactivated_at = utcnow()
        s.flush()
        s.expire_all()
        region = shop_default_country(s)
        reindex_customer(s, keep_id, default_region=region)
        reindex_customer(s, merge_id, default_region=region)
        moved_fields = sorted(moved) + filled
        audit.record(s, actor, "merge_customers", entity_type="customer", entity_id=keep_id,
                     customer_id=keep_id, fields=moved_fields)
        audit.record(s, actor, "merge_customers", entity_type="customer", entity_id=merge_id,
                     customer_id=merge_id, fields=["merged_into_id", "status"])
        _outbox(s, OutboxKind.MERGE_CUSTOMERS, keep_id, {"merged_id": merge_id})
        order_ids = frozenset(s.scalars(select(Order.id).where(Order.customer_id == keep_id)))
        names = customer_name(keep), customer_name(merge)
    return MergeResult(
        keep_id=keep_id, merged_id=merge_id, moved=moved, filled=tuple(filled),
        keep_name=names[0], merged_name=names[1],
        changes=Changes(customers=frozenset({keep_id, merge_id}), orders=order_ids, outbox=True),
    )


# --- New customers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedCustomer:
    """The new customer's record, and existing customers who may be the same person."""

    customer: CustomerDetail
    possible_duplicates: tuple[CustomerHit, ...]
    changes: Changes


def similar_customers(
    db: Database, *, actor: Actor, email: str = "", phone: str = "", first_name: str = "",
    last_name: str = "", postcode: str = "", exclude_id: int | None = None,
) -> list[CustomerHit]:
    """Existing customers with the same email, the same phone, or the same name at the
    same postcode: asked before adding a customer. Raises PermissionDenied."""
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    found: dict[int, tuple[CustomerHit, list[str]]] = {}

    def add(hit: CustomerHit) -> None:
        found.setdefault(hit.id, (hit, []))[1].append(hit.match)

    if email.strip() and "@" in email:
        for hit in search_customers(db, actor=actor, query=email_key(email), limit=10):
            if hit.match == "email" and hit.exact:
                add(hit)
    if phone.strip():
        for hit in search_customers(db, actor=actor, query=phone, limit=10):
            if hit.match == "phone" and hit.exact:
                add(hit)
    name = " ".join(search_tokens(f"{first_name} {last_name}"))
    key = postcode_key(postcode)
    if name and key:
        for hit in search_customers(db, actor=actor, query=f"{first_name} {last_name}", limit=50):
            if hit.match == "name" and postcode_key(hit.postcode) == key:
                add(hit)
    found.pop(exclude_id, None)
    return [replace(hit, reasons=tuple(reasons)) for hit, reasons in found.values()]


_ADDRESS_FIELDS = ("address_1", "address_2", "city", "state", "postcode", "country")
_NEW_CUSTOMER_FIELDS = ("first_name", "last_name", "company", "email", "phone", *_ADDRESS_FIELDS)


def add_customer(s: Session, values: Mapping[str, str], *, actor: Actor, region: str,
                 billing: Mapping[str, str] | None = None, shipping: Mapping[str, str] | None = None) -> Customer:
    """Add a checked new customer (`values`: names, company, email, phone) with their default
    billing and shipping addresses when given, in the caller's transaction: found in the
    search at once, audited, and the store told through the outbox (it creates the account
    and sends its own welcome mail, P17). The one way a customer is made here."""
    c = Customer(status=CustomerStatus.ACTIVE, first_name=values.get("first_name", ""),
                 last_name=values.get("last_name", ""), company=values.get("company", ""),
                 email=values.get("email") or None, phone=values.get("phone", ""))
    _derive(c, region)
    s.add(c)
    s.flush()
    for kind, address in ((AddressKind.BILLING, billing), (AddressKind.SHIPPING, shipping)):
        if address is not None:
            s.add(CustomerAddress(
                customer_id=c.id, kind=kind, is_default=True,
                first_name=c.first_name, last_name=c.last_name, company=c.company, phone=c.phone,
                email=(c.email or "") if kind is AddressKind.BILLING else "",
                **{k: address.get(k, "") for k in _ADDRESS_FIELDS}))
    s.flush()
    reindex_customer(s, c.id, default_region=region)
    given = {**(shipping or {}), **(billing or {}), **values}
    audit.record(s, actor, "create_customer", entity_type="customer", entity_id=c.id, customer_id=c.id,
                 fields=[k for k in _NEW_CUSTOMER_FIELDS if given.get(k)])
    _outbox(s, OutboxKind.CREATE_CUSTOMER, c.id)
    return c


def create_customer(
    db: Database,
    *,
    actor: Actor,
    first_name: str = "",
    last_name: str = "",
    company: str = "",
    email: str = "",
    phone: str = "",
    address: Mapping[str, str] | None = None,
) -> CreatedCustomer:
    """Add a customer (and an optional billing address); the store is told through the outbox.

    The result names existing customers who may be the same person, for the desk to
    merge or keep apart. Raises ValidationError, PermissionDenied.
    """
    access.require(db, actor, Permission.EDIT_CUSTOMER)
    address = dict(address or {})
    with db.begin() as s:
        region = shop_default_country(s)
        clean = validate_changes({"first_name": first_name, "last_name": last_name,
                                  "company": company, "email": email, "phone": phone},
                                 default_country=region)
        if not (clean["first_name"] or clean["last_name"] or clean["company"] or clean["email"]):
            raise ValidationError(
                "A customer needs a name, a company or an email address; nothing was saved.",
                fields={"last_name": "Enter a name, or a company or an email address."})
        billing = None
        if any((address.get(k) or "").strip() for k in ("address_1", "city", "postcode")):
            billing = {k: " ".join((address.get(k) or "").split()) for k in _ADDRESS_FIELDS}
            for k, v in billing.items():
                if contains_card_number(v):
                    raise ValidationError("A card number cannot be stored in an address.",
                                          fields={k: "This looks like a card number."})
            billing["country"] = (billing["country"] or region).upper()[:2]
        c = add_customer(s, clean, actor=actor, region=region, billing=billing)
        new_id = c.id
        postcode = address.get("postcode", "")
    duplicates = similar_customers(
        db, actor=actor, email=clean["email"], phone=clean["phone"], first_name=clean["first_name"],
        last_name=clean["last_name"], postcode=postcode, exclude_id=new_id)
    with db.read() as s:
        detail = _detail(s, actor, new_id)
    return CreatedCustomer(customer=detail, possible_duplicates=tuple(duplicates),
                           changes=Changes(customers=frozenset({new_id}), outbox=True))
