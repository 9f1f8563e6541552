"""Erasure of one person: first a preview of what goes and what is kept and why, then the
erasure everywhere here, and the messages that erase them on the web store.

Driven by the personal-data registry: every table that declares personal columns is
either emptied of the person's rows (`DELETED_TABLES`) or has their personal columns
blanked in place, so a column added later is erased without anyone remembering to.
Orders are never deleted: orders within the shop's retention period (a setting, in
years) are kept for the law with every personal field blanked, older ones the same way
as anonymous sales figures, so the shop's totals still add up. The customer row stays
as a tombstone (status erased, no personal value) so that the web store's copy is never
pulled in again; the privacy requests keep only a keyed hash of the address, to know a
repeat request.

After the commit, SQLite's freed pages are already zeroed (`secure_delete`); the search
index is compacted and the write-ahead log checkpointed and truncated, so the person's
bytes are in neither file. PostgreSQL's touched tables are vacuumed (see the README for
what that does and does not overwrite).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.domain import personal_data
from backoffice.domain.base import utcnow
from backoffice.domain.customers import Customer
from backoffice.domain.enums import Channel, CustomerStatus, OutboxKind
from backoffice.domain.orders import Order, OrderAddress, Payment
from backoffice.domain.phones import normalize_phone
from backoffice.domain.privacy import PrivacyRequest, PrivacyRequestEvent
from backoffice.domain.search import forget_customer_text
from backoffice.domain.staff import Actor, Permission
from backoffice.domain.sync import OutboxMessage, SyncConflict, SyncRun
from backoffice.errors import NotFound, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.newsletters import suppression
from backoffice.services.outbox import queue_message
from backoffice.services.search_index import compact_search_index
from backoffice.services.settings import read_setting, shop_default_country

audit.register_action("erase_customer", "Customer's personal data erased")

# Tables whose rows of the person go altogether; every other registry table is blanked in place.
DELETED_TABLES = {
    "customer_addresses": "addresses",
    "customer_notes": "notes staff wrote",
    "subscriptions": "newsletter subscriptions",
    "consent_events": "consent evidence",
    "customer_search": "search index entries",
    "customer_search_text": "search index text",
    "sync_conflicts": "sync conflicts",
    "policy_notice_deliveries": "policy-change notices sent",
}
# Tables reached through the orders (guest orders included) rather than the customer id.
ORDER_TABLES = {"orders", "order_addresses"}
ERASED_MARK = "[erased]"


@dataclass(frozen=True)
class Item:
    what: str
    count: int = 0
    why: str = ""

    def sentence(self) -> str:
        head = f"{self.what}: {self.count}" if self.count else self.what
        return f"{head} ({self.why})" if self.why else head


@dataclass(frozen=True)
class ErasurePreview:
    customer_id: int
    erased: tuple[Item, ...]
    kept: tuple[Item, ...]
    store: tuple[str, ...]


@dataclass(frozen=True)
class ErasureResult:
    customer_id: int
    erased: tuple[Item, ...]
    kept: tuple[Item, ...]
    store: tuple[str, ...]
    files_cleaned: bool
    changes: Changes


def years_ago(now: datetime, years: int) -> datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def _phone_keys(raw: Iterable[str], region: str) -> set[str]:
    keys = set()
    for value in raw:
        phone = normalize_phone(value or "", default_region=region)
        if phone is not None and len(phone.digits) >= 6:
            keys.add(phone.e164 or phone.digits)
    return keys


def order_ids_of(s: Session, c: Customer, region: str) -> list[int]:
    """The person's orders: those linked to the record, and guest orders with their email or phone."""
    ids = set(s.scalars(select(Order.id).where(Order.customer_id == c.id)))
    emails = {e.lower() for e in (c.email, c.email_key) if e}
    phones = _phone_keys([c.phone], region)
    conds = []
    if emails:
        conds.append(func.lower(OrderAddress.email).in_(sorted(emails)))
    if phones:
        # Guest orders keep the phone as typed: narrow by the last four digits, then compare whole numbers.
        conds.append(or_(*(OrderAddress.phone.like(f"%{p[-4:]}") for p in phones)))
    if conds:
        for order_id, phone, email in s.execute(
                select(OrderAddress.order_id, OrderAddress.phone, OrderAddress.email)
                .join(Order, Order.id == OrderAddress.order_id)
                .where(Order.customer_id.is_(None), or_(*conds))):
            if (email or "").lower() in emails or _phone_keys([phone], region) & phones:
                ids.add(order_id)
    return sorted(ids)


def blank_values(table: Table, columns: Iterable[personal_data.PersonalColumn]) -> dict:
    values = {}
    for col in columns:
        column = table.c[col.column]
        values[col.column] = None if column.nullable else ""
    return values


def _plan(s: Session, customer_id: int, now: datetime):
    c = s.get(Customer, customer_id)
    if c is None:
        raise NotFound("This customer is no longer here; nothing was erased.")
    if c.status is CustomerStatus.ERASED:
        raise ValidationError("This customer was already erased; nothing was done.")
    region = shop_default_country(s)
    years = int(read_setting(s, "retention.order_years"))
    cutoff = years_ago(now, years)
    orders = order_ids_of(s, c, region)
    recent = set(s.scalars(select(Order.id).where(Order.id.in_(orders), Order.created_at >= cutoff))) if orders else set()
    store_orders = sorted(s.scalars(select(Order.store_id).where(Order.id.in_(orders), Order.store_id.is_not(None)))) \
        if orders else []
    return c, region, years, orders, recent, store_orders


AUDIT_KEPT = Item("audit trail", 0, "holds who did what and when, never the person's data")


def _kept_orders(years: int, orders: list[int], recent: set[int]) -> list[Item]:
    kept = []
    if recent:
        kept.append(Item("orders", len(recent), f"within the {years}-year retention period the law sets for sales "
                                                "records; kept with every personal field blanked"))
    if len(orders) > len(recent):
        kept.append(Item("older orders", len(orders) - len(recent),
                         "kept as anonymous sales figures only, every personal field blanked"))
    return kept


def _counts(s: Session, customer_id: int) -> list[Item]:
    items = []
    for entry in personal_data.registry():
        if entry.table in DELETED_TABLES:
            n = s.scalar(select(func.count()).select_from(entry.rows_of_customer(customer_id).subquery()))
            if n:
                items.append(Item(DELETED_TABLES[entry.table], n, "deleted"))
    return items


def preview_erasure(db: Database, *, actor: Actor, customer_id: int, now: datetime | None = None) -> ErasurePreview:
    """What erasing a customer would erase, keep (and why) and ask of the web store; changes nothing.

    Raises NotFound, ValidationError (already erased), PermissionDenied.
    """
    access.require(db, actor, Permission.ERASE_PERSONAL_DATA, customer_id=customer_id)
    now = now or utcnow()
    with db.read() as s:
        c, _region, years, orders, recent, store_orders = _plan(s, customer_id, now)
        erased = [Item("name, email, phone and username on the customer record", 0, "blanked")]
        erased += _counts(s, customer_id)
        erased.append(Item("text of their privacy requests", 0, "blanked; a keyed hash stays to know a repeat"))
        erased.append(Item("copies of their details waiting to go to the web store, and in sync logs", 0,
                           "blanked"))
        kept = _kept_orders(years, orders, recent) + [AUDIT_KEPT]
        kept.append(Item("disclosure log", 0, "the law's record of what was given to whom"))
        store = []
        if store_orders:
            store.append(f"{len(store_orders)} order(s) anonymised on the web store, their notes deleted")
        if c.store_id:
            store.append(f"account {c.store_id} deleted on the web store")
    return ErasurePreview(customer_id, tuple(erased), tuple(kept), tuple(store))


def _scrub(value: str, needles: list[str]) -> str:
    out = value
    for needle in needles:
        if needle:
            lower = out.lower()
            start = lower.find(needle.lower())
            while start >= 0:
                out = out[:start] + ERASED_MARK + out[start + len(needle):]
                lower = out.lower()
                start = lower.find(needle.lower(), start + len(ERASED_MARK))
    return out


def erase_in_session(s: Session, actor: Actor, customer_id: int, *, request_id: int | None = None,
                     now: datetime | None = None) -> tuple[list[Item], list[Item], list[str], set[int]]:
    """Erase a customer in the caller's transaction; returns (erased, kept, store, order ids)."""
    now = now or utcnow()
    # Records merged into this one still carry the person's name (and maybe old contact details).
    merged = list(s.scalars(select(Customer.id).where(Customer.merged_into_id == customer_id,
                                                      Customer.status != CustomerStatus.ERASED)))
    merged_store: list[str] = []
    for other in merged:
        merged_store += erase_in_session(s, actor, other, now=now)[2]
    c, region, years, orders, recent, store_orders = _plan(s, customer_id, now)
    needles = sorted({v for v in (c.email, c.phone, c.phone_e164, c.phone_digits, c.username,
                                  f"{c.first_name} {c.last_name}".strip(), c.last_name if len(c.last_name) > 3 else "",
                                  c.first_name if len(c.first_name) > 3 else "", c.company) if v},
                     key=len, reverse=True)
    erased = _counts(s, customer_id)
    kept: list[Item] = []

    # Onto the newsletters' suppression list (its keyed hash, every list of the channel)
    # first, while the addresses are still here: an import never brings them back.
    secret = suppression.suppression_secret(s)
    for channel, value in ((Channel.EMAIL, c.email), (Channel.SMS, c.phone)):
        suppression.suppress(s, secret, channel, suppression.EVERY_LIST,
                             suppression.normalised_address(channel, value or "", region=region),
                             "erased at their request")

    # The index first: it prunes the words of their name that no one else has, reading their terms.
    forget_customer_text(s, customer_id)
    for entry in personal_data.registry():
        table = entry.sa_table
        if entry.table in ORDER_TABLES:
            continue
        if entry.table in DELETED_TABLES:
            s.execute(delete(table).where(table.c.id.in_(entry.row_ids_of_customer(customer_id)))
                      if "id" in table.c else
                      delete(table).where(table.c[entry.subject_column] == customer_id))
            continue
        values = blank_values(table, entry.columns)
        if entry.table == "customers":
            values.update(status=CustomerStatus.ERASED, erased_at=now, store_digest=None,
                          version=Customer.version + 1)
            s.execute(update(table).where(table.c.id == customer_id).values(**values))
        elif "id" in table.c:
            s.execute(update(table).where(table.c.id.in_(entry.row_ids_of_customer(customer_id))).values(**values))
    # An order taken for them at another desk while this ran is erased too: taking an order
    # holds the customer's row until it is written, so the row's update above waited for it.
    # (Locking the row first instead made this wait, holding it, for a sync writing the same
    # customer's orders, and the two deadlocked.)
    late = sorted(set(s.scalars(select(Order.id).where(Order.customer_id == customer_id))) - set(orders))
    if late:
        orders, recent = [*orders, *late], recent | set(late)
    # Conflicts about their orders name their data too.
    if orders:
        s.execute(delete(SyncConflict).where(SyncConflict.entity_type == "order",
                                             SyncConflict.entity_id.in_(orders)))
    erased.insert(0, Item("name, email, phone and username on the customer record", 0, "blanked"))
    if merged:
        erased.insert(1, Item("records merged into this one", len(merged), "erased the same way"))

    # Orders: every personal field blanked, the sums untouched.
    if orders:
        o_entry = personal_data.table("orders")
        a_entry = personal_data.table("order_addresses")
        s.execute(update(Order).where(Order.id.in_(orders)).values(
            **blank_values(Order.__table__, o_entry.columns), anonymised=True, version=Order.version + 1))
        s.execute(update(OrderAddress).where(OrderAddress.order_id.in_(orders)).values(
            **blank_values(OrderAddress.__table__, a_entry.columns)))
        # The gateway's reference stays for the books; the card's last digits and auth code go.
        s.execute(update(Payment).where(Payment.order_id.in_(orders)).values(card_last4=None, auth_code=""))
        kept += _kept_orders(years, orders, recent)
    kept.append(AUDIT_KEPT)

    # Requests: the text goes, a keyed hash stays; history notes go too.
    req_ids = list(s.scalars(select(PrivacyRequest.id).where(PrivacyRequest.customer_id == customer_id)))
    if request_id is not None and request_id not in req_ids:
        req_ids.append(request_id)
    if req_ids:
        s.execute(update(PrivacyRequest).where(PrivacyRequest.id.in_(req_ids)).values(
            requester_name="", requester_contact="", details=""))
        s.execute(update(PrivacyRequestEvent).where(PrivacyRequestEvent.request_id.in_(req_ids)).values(note=""))
    erased.append(Item("text of their privacy requests", len(req_ids), "blanked; a keyed hash stays to know a repeat"))

    # Waiting and sent messages for the store: built from the record at send time, so their
    # payloads only hold ids and outcomes; any store sentence naming the person goes.
    outbox = OutboxMessage.__table__
    about = or_((outbox.c.entity_type == "customer") & (outbox.c.entity_id == customer_id),
                (outbox.c.entity_type == "order") & outbox.c.entity_id.in_(orders or [-1]))
    n = s.execute(update(outbox).where(about).values(payload="{}", last_error="")).rowcount
    # Sync run logs and other messages' sentences may quote the person.
    scrubbed = 0
    for needle in needles:
        pattern = f"%{needle}%"
        for run in s.execute(select(SyncRun.id, SyncRun.summary, SyncRun.error).where(
                or_(SyncRun.summary.ilike(pattern), SyncRun.error.ilike(pattern)))).all():
            s.execute(update(SyncRun).where(SyncRun.id == run.id).values(
                summary=_scrub(run.summary or "", needles), error=_scrub(run.error or "", needles)))
            scrubbed += 1
        for m in s.execute(select(outbox.c.id, outbox.c.payload, outbox.c.last_error).where(
                or_(outbox.c.payload.ilike(pattern), outbox.c.last_error.ilike(pattern)))).all():
            s.execute(update(outbox).where(outbox.c.id == m.id).values(
                payload=_scrub(m.payload or "", needles), last_error=_scrub(m.last_error or "", needles)))
            scrubbed += 1
    erased.append(Item("messages for the web store and sync log lines", n + scrubbed, "blanked"))

    # The web store: each order anonymised as WooCommerce's own eraser does, then the account deleted.
    store: list[str] = list(merged_store)
    for store_order in store_orders:
        queue_message(s, OutboxKind.ANONYMISE_STORE_ORDER, "order", int(store_order),
                      payload={"store_order_id": int(store_order), "request_id": request_id})
    if store_orders:
        store.append(f"{len(store_orders)} order(s) to anonymise on the web store, their notes deleted")
    if c.store_id:
        queue_message(s, OutboxKind.DELETE_STORE_CUSTOMER, "customer", customer_id,
                      payload={"store_customer_id": int(c.store_id),
                               "store_order_ids": [int(o) for o in store_orders], "request_id": request_id})
        store.append(f"account {c.store_id} to delete on the web store")
    audit.record(s, actor, "erase_customer", entity_type="customer", entity_id=customer_id,
                 customer_id=customer_id, fields=sorted({col.column for col in personal_data.personal_columns()}))
    return erased, kept, store, set(orders)


def clean_database_files(db: Database) -> bool:
    """After an erasure's commit: make deleted bytes unreadable in the database's files.

    SQLite: the search index compacted, then the write-ahead log checkpointed and
    truncated (`secure_delete` already zeroed freed pages). PostgreSQL: the touched
    tables vacuumed. Returns False when SQLite's log could not be truncated because
    another desk was reading (the next checkpoint overwrites it).
    """
    ok = compact_search_index(db)
    if db.backend == "sqlite":
        raw = db.engine.raw_connection()
        try:
            busy, _log, _done = raw.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            raw.close()
        return ok and not busy
    tables = ", ".join(sorted({*(t.table for t in personal_data.registry()), "outbox", "sync_runs"}))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM {tables}"))
    return ok


def erase_customer(db: Database, *, actor: Actor, customer_id: int, request_id: int | None = None) -> ErasureResult:
    """Erase a customer everywhere here and queue the erasure on the web store.

    Raises NotFound, ValidationError (already erased), PermissionDenied.
    """
    access.require(db, actor, Permission.ERASE_PERSONAL_DATA, customer_id=customer_id)
    with db.begin() as s:
        erased, kept, store, orders = erase_in_session(s, actor, customer_id, request_id=request_id)
    cleaned = clean_database_files(db)
    return ErasureResult(customer_id, tuple(erased), tuple(kept), tuple(store), cleaned,
                         Changes(customers=frozenset({customer_id}), orders=frozenset(orders), outbox=True))
