"""Pulling from the web store: products and orders by `modified_after` (with the orders moved to
the store's trash since the same cursor), customers by a full scan (which also finds the
customers deleted on the store).

Pages are written a few at a time in one transaction (`PageBatches`) with bulk Core
statements; upserts are keyed by the store's ids (and the back office reference for
orders it created), so a page read twice changes nothing. A listing's cursor moves
only when the whole listing has been written; a run cut short leaves a checkpoint with
its last batch, and the next run of the same listing goes on after it
(`resumed_pages`).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.errors import StoreError
from backoffice.domain.base import utcnow
from backoffice.domain.catalog import Product
from backoffice.domain.customers import Customer, CustomerAddress
from backoffice.domain.emails import email_key
from backoffice.domain.enums import (
    AddressKind,
    CustomerStatus,
    OrderOrigin,
    OrderStatus,
    OutboxKind,
    OutboxStatus,
    PaymentMethod,
    PaymentStatus,
)
from backoffice.domain.orders import (
    OPEN_STATUSES,
    Order,
    OrderAddress,
    OrderFee,
    OrderLine,
    OrderRefund,
    Payment,
    Shipment,
    ShippingLine,
)
from backoffice.domain.sync import OutboxMessage, PayLinkOutcome, SyncConflict
from backoffice.services import store_mapping as sm
from backoffice.services.newsletters import store_consent
from backoffice.services.search_index import rebuild_search_index, reindex_customers
from backoffice.store.connector import Page
from backoffice.store.http import MAX_PER_PAGE
from backoffice.store.woocommerce import store_time
from backoffice.services.sync_common import (
    CURSOR_CUSTOMER_SCAN,
    CURSOR_ORDERS,
    CURSOR_PRODUCTS,
    RESUME_SUFFIX,
    Checkpoint,
    PageMapper,
    Progress,
    RunStats,
    ADDRESS_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    PAYMENT_COLUMNS,
    SHIPPING_COLUMNS,
    bulk_insert,
    converted,
    insert_converted,
    map_order_page_rows,
    unpack_order_page,
    new_order_rows,
    SyncLock,
    SyncOptions,
    check,
    cursor_time,
    prefetch,
    read_cursor,
    safe_sentence,
    select_in,
    time_text,
    write_cursor,
)

ORDERS = Order.__table__
LINES = OrderLine.__table__
SHIPPING = ShippingLine.__table__
ORDER_ADDRESSES = OrderAddress.__table__
PAYMENTS = Payment.__table__
FEES = OrderFee.__table__
REFUNDS = OrderRefund.__table__
SHIPMENTS = Shipment.__table__
CUSTOMERS = Customer.__table__
ADDRESSES = CustomerAddress.__table__
PRODUCTS = Product.__table__
log = logging.getLogger(__name__)
OUTBOX = OutboxMessage.__table__
CONFLICTS = SyncConflict.__table__

_WAITING = (OutboxStatus.PENDING, OutboxStatus.CONFLICT)
_CUSTOMER_CHANGES = (OutboxKind.UPDATE_CUSTOMER, OutboxKind.CREATE_CUSTOMER)
_ADDRESS_COLUMNS = sm.ADDRESS_FIELDS


@dataclass
class PullContext:
    """State one pull keeps between pages."""

    db: Database
    options: SyncOptions
    stats: RunStats
    region: str
    lock: SyncLock | None = None
    cancel: Any = None
    progress: Progress | None = None
    product_ids: dict[int, int] = field(default_factory=dict)  # store id -> local id
    fetched_customers: set[int] = field(default_factory=set)  # store ids read this run
    consent_key: str = ""  # the customer meta key carrying newsletter consent (a shop setting)
    refund_orders: dict[int, int] = field(default_factory=dict)  # store id -> local id of orders with new refunds

    def report(self, done: int, total: int, text: str) -> None:
        if self.progress is not None:
            self.progress(done, total, text)

    def page_done(self) -> None:
        if self.lock is not None:
            self.lock.renew()


#: How many of the records left out are named one by one in a run's summary (all are in the log).
NAMED_BAD_RECORDS = 10


def screened(ctx: PullContext, records: Sequence, kind: str, *, page: int | None = None,
             body: bytes | None = None) -> Sequence:
    """The records of a page the pull can read (`store_mapping.screen_records`); each one it
    cannot is left out, with a line in the run's summary and in the log saying why."""
    kept, problems = sm.screen_records(records, kind, page=page, body=body)
    for problem in problems:
        _bad_record(ctx, problem)
    return kept


def _bad_record(ctx: PullContext, problem: str) -> None:
    problem = safe_sentence(problem, 300)
    ctx.stats.bad_records.append(problem)
    log.warning("sync: left out %s", problem)


def screened_page(ctx: PullContext, page: Page, kind: str) -> Page:
    """`screened` for a page of a listing (it keeps its number and counts, and its body
    when nothing was left out or changed)."""
    kept = screened(ctx, page, kind, page=page.number, body=page.body)
    if kept is page:
        return page
    return Page(kept, number=page.number, total=page.total, total_pages=page.total_pages)


def screened_pages(ctx: PullContext, pages: Iterable[Page], kind: str) -> Iterator[Page]:
    """`screened_page` for each page of a listing."""
    for page in pages:
        yield screened_page(ctx, page, kind)


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _listing_start(options: SyncOptions) -> datetime:
    return utcnow() - timedelta(seconds=options.overlap_seconds)


class PageBatches:
    """Writes pages in transactions of several pages each, committed together.

    A commit is the dearest step of writing a page on SQLite (its write-ahead log is
    synced into the database file now and then at a commit); a transaction of a few
    pages keeps it off the per-page cost. A batch ends after `batch_seconds` or
    `batch_pages` pages, so a desk that saves meanwhile waits at most that long. A page
    whose writing fails takes its unfinished batch with it (those pages are read again
    next time: cursors only move when a listing is written whole); anything that
    stops the listing between pages (the store away, a cancel) commits what was written.
    """

    def __init__(self, ctx: PullContext, checkpoint: str | None = None) -> None:
        self.ctx = ctx
        self.checkpoint = checkpoint  # the cursor that keeps how far the listing got
        self._mark: Checkpoint | None = None
        self._begin = None
        self._session: Session | None = None
        self._pages = 0
        self._opened = 0.0
        self._written = 0  # pages written by this listing, in every batch

    def __enter__(self) -> PageBatches:
        return self

    def write(self, work, *args, mark: Checkpoint | None = None) -> Any:
        """Run `work(session, *args)` for one page in the open batch (opening one if needed).

        `mark` says how far the listing has got once this page is written; it is saved
        with the batch, so a run cut short later goes on after it.
        """
        if self._session is None:
            self._begin = self.ctx.db.begin()
            self._session = self._begin.__enter__()
            self._pages = 0
            self._opened = time.monotonic()
        try:
            result = work(self._session, *args)
        except BaseException as exc:
            begin, self._begin, self._session = self._begin, None, None
            begin.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self._pages += 1
        self._written += 1
        if mark is not None:
            self._mark = mark
        options = self.ctx.options
        if self._pages >= options.batch_pages or time.monotonic() - self._opened >= options.batch_seconds:
            self.commit()
        return result

    def commit(self) -> None:
        """Commit the open batch, if any, and keep the run's lock (between batches, never inside one)."""
        if self._session is not None:
            if self.checkpoint is not None and self._mark is not None:
                write_cursor(self._session, self.checkpoint, self._mark.text())
            begin, self._begin, self._session = self._begin, None, None
            begin.__exit__(None, None, None)
            self._analyze()
        self.ctx.page_done()

    def _analyze(self) -> None:
        """On PostgreSQL, refresh the planner's statistics of the tables a long listing fills
        once it has written 10, 100, 1,000... pages since the last time. A table filled in
        one run (a first sync) is otherwise planned as the empty table it was, and every
        lookup of a page's store ids reads it whole, slower with each page."""
        if self.ctx.db.backend != "postgresql" or self._written < _ANALYZE_AFTER_PAGES:
            return
        done = getattr(self, "_analyzed", 0)
        if self._written < max(_ANALYZE_AFTER_PAGES, done * 10):
            return
        self._analyzed = self._written
        with self.ctx.db.begin() as s:
            s.execute(text("ANALYZE " + ", ".join(_FILLED_TABLES)))

    def __exit__(self, *exc: object) -> None:
        self.commit()


#: See `PageBatches._analyze`.
_ANALYZE_AFTER_PAGES = 10
_FILLED_TABLES = ("customers", "customer_addresses", "orders", "order_lines", "order_addresses", "payments",
                  "shipping_lines")


def read_checkpoint(db: Database, listing: str, since: str) -> Checkpoint | None:
    """Where an unfinished run of this very listing (same cursor) got to, or None."""
    mark = Checkpoint.parse(read_cursor(db, listing + RESUME_SUFFIX))
    return mark if mark is not None and mark.since == since else None


def resumed_pages(ctx: PullContext, connector, path: str, params: dict[str, Any], mark: Checkpoint | None,
                  fresh, **how: Any) -> Iterator[Page]:
    """The pages of a listing: after `mark`, when the store still pages it as then, else `fresh()`.

    Listings go by id, so records added since come after the mark and records changed
    since stay where they were (and, changed after the listing began, are read again by
    the next listing). The page of the mark is read again: when it no longer ends with
    the same record (records before it were deleted, which moves every later one), the
    listing starts again from the first page, so nothing is skipped.
    """
    if mark is not None:
        pages = connector.iter_pages(path, {**params, "page": mark.page}, cancel=ctx.cancel, **how)
        try:
            first = next(pages, None)
            if first is not None:
                first = first.decoded()
            if first and first.number == mark.page and _last_id(first) == mark.last_id:
                yield from pages
                return
        finally:
            pages.close()
    yield from fresh()


def _last_id(page: Sequence[dict]) -> int:
    record = page[-1] if page else None
    value = record.get("id") if isinstance(record, dict) else None
    return value if isinstance(value, int) else 0


# --- products ------------------------------------------------------------------------------


def load_product_ids(db: Database) -> dict[int, int]:
    with db.read() as s:
        return dict(s.execute(select(Product.store_id, Product.id).where(Product.store_id.is_not(None))).all())


def pull_products(ctx: PullContext, connector, *, scan_ids: bool = False) -> int:
    """Pull products changed since the last listing and those moved to the trash meanwhile; with
    `scan_ids` also notice those deleted for good. Return how many were written."""
    since = cursor_time(read_cursor(ctx.db, CURSOR_PRODUCTS))
    started = _listing_start(ctx.options)
    done = 0
    variable: list[tuple[int, str]] = []
    with PageBatches(ctx) as batches:
        for page in prefetch(screened_pages(ctx, connector.iter_products(since, cancel=ctx.cancel), "product"),
                             ctx.options.prefetch_pages, ctx.cancel):
            records = sm.guard_records([sm.product_view(r) for r in page], ctx.stats.guard)
            batches.write(_upsert_products, ctx, records)
            variable.extend((int(r["id"]), sm.product_values(r)["name"]) for r in records
                            if r.get("type") == "variable")
            done += len(page)
            ctx.stats.pulled_products += len(page)
            ctx.report(done, page.total or done, f"Products: {done:,} of {page.total or done:,}")
            check(ctx.cancel)
    if scan_ids:
        # Once a day every variable product's variations are read again: a sale changes a
        # variation's stock without the store listing its parent as changed.
        with ctx.db.read() as s:
            variable = [(r.store_id, r.name) for r in s.execute(select(PRODUCTS.c.store_id, PRODUCTS.c.name).where(
                PRODUCTS.c.kind == "variable", PRODUCTS.c.store_id.is_not(None),
                PRODUCTS.c.status.not_in(("trash", DELETED_PRODUCT_STATUS))))]
    for parent_id, parent_name in variable:
        pull_variations(ctx, connector, parent_id, parent_name)
    if since is not None:
        trashed = [int(r["id"]) for page in connector.iter_trashed_products(since, cancel=ctx.cancel) for r in page
                   if isinstance(r, dict) and isinstance(r.get("id"), int)]
        if trashed:
            with ctx.db.begin() as s:
                _set_products_status(s, ctx, trashed, "trash")
    if scan_ids:
        forget_deleted_products(ctx, connector)
    with ctx.db.begin() as s:
        write_cursor(s, CURSOR_PRODUCTS, time_text(started))
    return done


#: What a product deleted for good on the store is called here (never offered again).
DELETED_PRODUCT_STATUS = "deleted"


def pull_variations(ctx: PullContext, connector, parent_id: int, parent_name: str) -> None:
    """Write a variable product's variations as products of their own, named as the store names
    an order line ("T-Shirt - S"); a variation the store no longer lists is deleted here."""
    records = []
    for page in screened_pages(ctx, connector.iter_variations(parent_id, cancel=ctx.cancel), "product"):
        records.extend(sm.guard_records([sm.product_view(r) for r in page], ctx.stats.guard))
    with ctx.db.begin() as s:
        _upsert_products(s, ctx, records, parent_name=parent_name)
        listed = [int(r["id"]) for r in records]
        gone = s.execute(select(PRODUCTS.c.store_id).where(
            PRODUCTS.c.parent_store_id == parent_id, PRODUCTS.c.store_id.not_in(listed or [-1]),
            PRODUCTS.c.status != DELETED_PRODUCT_STATUS)).scalars().all()
        if gone:
            _set_products_status(s, ctx, gone, DELETED_PRODUCT_STATUS)


def _set_products_status(s: Session, ctx: PullContext, store_ids: Sequence[int], status: str) -> None:
    # A variable product's variations follow it into the trash or out of the store.
    rows = s.execute(select(PRODUCTS.c.id).where(
        or_(PRODUCTS.c.store_id.in_(list(store_ids)), PRODUCTS.c.parent_store_id.in_(list(store_ids))),
        PRODUCTS.c.status != status)).scalars().all()
    if rows:
        s.execute(update(PRODUCTS).where(PRODUCTS.c.id.in_(rows)).values(status=status, updated_at=utcnow()))
        ctx.stats.changed_products.update(rows)


def forget_deleted_products(ctx: PullContext, connector) -> None:
    """Mark the products the store deleted for good (in none of its listings any more) as deleted here."""
    listed: set[int] = set()
    for page in connector.iter_product_ids(cancel=ctx.cancel):
        listed.update(int(r["id"]) for r in page if isinstance(r, dict) and isinstance(r.get("id"), int))
        check(ctx.cancel)
    with ctx.db.begin() as s:
        held = s.execute(select(PRODUCTS.c.store_id).where(
            PRODUCTS.c.store_id.is_not(None), PRODUCTS.c.kind != "variation",
            PRODUCTS.c.status.not_in(("trash", DELETED_PRODUCT_STATUS)))).scalars().all()
        gone = [sid for sid in held if sid not in listed]
        if gone:
            _set_products_status(s, ctx, gone, DELETED_PRODUCT_STATUS)


def _upsert_products(s: Session, ctx: PullContext, records: list[dict], *, parent_name: str | None = None) -> None:
    rows = {}
    for record in records:
        values = sm.product_values(record, parent_name)
        rows[values["store_id"]] = values
    if not rows:
        return
    # A SKU is one product's here. The store should send each once; when a page holds it
    # twice, the later record keeps it.
    owner: dict[str, int] = {}
    for store_id, values in rows.items():
        if values["sku"]:
            if values["sku"] in owner:
                rows[owner[values["sku"]]]["sku"] = None
            owner[values["sku"]] = store_id
    existing = {
        r.store_id: r
        for r in s.execute(select(PRODUCTS).where(PRODUCTS.c.store_id.in_(list(rows))))
    }
    skus = [v["sku"] for k, v in rows.items() if k not in existing and v["sku"]]
    by_sku = {}
    if skus:
        by_sku = {r.sku: r for r in s.execute(select(PRODUCTS).where(PRODUCTS.c.sku.in_(skus)))}
    inserts, updates, seen_only = [], [], []
    existing_sku: dict[int, str | None] = {}
    for store_id, values in rows.items():
        row = existing.get(store_id)
        if row is None and values["sku"] in by_sku:
            other = by_sku[values["sku"]]
            if other.store_id is None:
                row = other  # a product made here before the store had it: link them
            else:
                # The store reused the SKU for a new product; the old one lets go of it.
                s.execute(update(PRODUCTS).where(PRODUCTS.c.id == other.id).values(sku=None))
        if row is None:
            inserts.append(values)
            continue
        existing_sku[row.id] = row.sku
        differs = [k for k, v in values.items() if getattr(row, k) != v]
        if differs == ["store_modified_at"]:
            # Saved again on the store with nothing kept here changed (its description, say):
            # the copy seen is noted, not counted as changed there.
            seen_only.append({"b_id": row.id, "b_modified": values["store_modified_at"]})
        elif differs:
            updates.append({"b_id": row.id, **values})
    if seen_only:
        s.execute(update(PRODUCTS).where(PRODUCTS.c.id == bindparam("b_id"))
                  .values(store_modified_at=bindparam("b_modified")), seen_only)
    changing = [u for u in updates if u["sku"] != existing_sku.get(u["b_id"])]
    if changing:
        # SKUs the store moved between products: whoever had one lets go of it first, here
        # or on this page (so two products that swapped SKUs never hold the same one).
        moved = [u["sku"] for u in changing if u["sku"]]
        if moved:
            s.execute(update(PRODUCTS).where(PRODUCTS.c.sku.in_(moved),
                                             PRODUCTS.c.id.not_in([u["b_id"] for u in updates])).values(sku=None))
        s.execute(update(PRODUCTS).where(PRODUCTS.c.id.in_([u["b_id"] for u in changing])).values(sku=None))
    if updates:
        stmt = (
            update(PRODUCTS)
            .where(PRODUCTS.c.id == bindparam("b_id"))
            .values({k: bindparam(k) for k in updates[0] if k != "b_id"} | {"updated_at": utcnow()})
        )
        s.execute(stmt, updates)
        ctx.stats.changed_products.update(u["b_id"] for u in updates)
    if inserts:
        new = s.execute(
            insert(PRODUCTS).returning(PRODUCTS.c.id, PRODUCTS.c.store_id, sort_by_parameter_order=True), inserts
        ).all()
        ctx.stats.changed_products.update(r.id for r in new)
    for r in s.execute(select(PRODUCTS.c.store_id, PRODUCTS.c.id).where(PRODUCTS.c.store_id.in_(list(rows)))):
        ctx.product_ids[r.store_id] = r.id


# --- customers -------------------------------------------------------------------------------


def customer_scan_due(db: Database, options: SyncOptions) -> bool:
    """Whether the periodic full scan of the store's customers is due."""
    last = cursor_time(read_cursor(db, CURSOR_CUSTOMER_SCAN))
    return last is None or utcnow() - last > timedelta(hours=options.customer_scan_hours)


# WordPress roles of the people who run the store, not of people who buy from it.
STAFF_ROLES = frozenset({"administrator", "shop_manager", "editor", "author", "contributor"})


def is_staff_account(record: dict) -> bool:
    """Whether a store user is the shop's own staff (listed by `role=all`), not a customer."""
    return str(record.get("role") or "").lower() in STAFF_ROLES


def pull_all_customers(ctx: PullContext, connector) -> int:
    """Read every customer on the store; write the new and changed ones. Return the number read.

    Customers linked here whose account is no longer on the store (deleted there) are
    kept, with their orders, and let go of the account (`forget_store_accounts`), in the
    transaction of the page whose range of store ids they fall in. A scan cut short (the
    program closed, the store gone) goes on next time after the last batch of pages it
    wrote.
    """
    mark = read_checkpoint(ctx.db, CURSOR_CUSTOMER_SCAN, "")
    started = mark.started if mark is not None else time_text(utcnow())
    done = mark.done if mark is not None else 0
    params = {"orderby": "id", "order": "asc", "role": "all"}  # as `iter_customers` lists them
    pages = screened_pages(ctx, resumed_pages(ctx, connector, "/customers", params, mark,
                                              lambda: connector.iter_customers(cancel=ctx.cancel)), "customer")
    scan = _pages_with_gone(ctx, connector, pages, mark.last_id if mark is not None else 0)
    with PageBatches(ctx, CURSOR_CUSTOMER_SCAN + RESUME_SUFFIX) as batches:
        for item in prefetch(scan, ctx.options.prefetch_pages, ctx.cancel):
            page = item.page
            if page is None:
                if item.gone:
                    batches.write(forget_store_accounts, ctx, item.gone)
                continue
            records = sm.guard_records([store_consent.customer_view(r, ctx.consent_key) for r in page if not is_staff_account(r)],
                                       ctx.stats.guard)
            done += len(page)
            batches.write(_write_customer_page, ctx, records, item.gone,
                          mark=Checkpoint(page.number, _last_id(page), done, started))
            ctx.report(done, page.total or done, f"Customers: {done:,} of {page.total or done:,}")
            check(ctx.cancel)
    if ctx.stats.unlinked_customers:
        log.info("customer scan: %s customers deleted on the web store are kept here without a store account",
                 len(ctx.stats.unlinked_customers))
    with ctx.db.begin() as s:
        write_cursor(s, CURSOR_CUSTOMER_SCAN, started)
        write_cursor(s, CURSOR_CUSTOMER_SCAN + RESUME_SUFFIX, "")
    return done


#: The fields of the light listing of customers read on every run between full scans.
_LIGHT_CUSTOMER_FIELDS = "id,date_modified_gmt,role"


def pull_changed_customers(ctx: PullContext, connector) -> int:
    """Between full scans, find the customers changed or deleted on the store; return how many were read.

    The store cannot list customers by date, so every customer's id and date of change is
    listed (pages of about 3 KB instead of 60 KB), and only those changed since the copy
    here, or new, are read in full. Accounts no longer listed were deleted there and are let
    go of (`forget_store_accounts`). A change within the same second as the copy here has
    the same date and waits for the daily full scan.
    """
    listed: dict[int, datetime | None] = {}
    staff: set[int] = set()
    params = {"orderby": "id", "order": "asc", "role": "all", "_fields": _LIGHT_CUSTOMER_FIELDS}
    for page in connector.iter_pages("/customers", params, cancel=ctx.cancel):
        for record in page:
            if isinstance(record, dict) and isinstance(record.get("id"), int):
                if is_staff_account(record):
                    staff.add(record["id"])
                else:
                    listed[record["id"]] = sm.parse_store_time(record.get("date_modified_gmt"))
        check(ctx.cancel)
    with ctx.db.read() as s:
        held = {r.store_id: r.store_modified_at for r in s.execute(
            select(CUSTOMERS.c.store_id, CUSTOMERS.c.store_modified_at).where(CUSTOMERS.c.store_id.is_not(None)))}
    changed = [sid for sid, modified in listed.items()
               if sid not in held or (modified is not None and (held[sid] is None or modified > held[sid]))]
    gone = [sid for sid in held if sid not in listed and sid not in staff]
    if gone:
        with ctx.db.begin() as s:
            forget_store_accounts(s, ctx, gone)
    if not changed:
        return 0
    records = sm.guard_records([sm.customer_view(r) for r in
                                screened(ctx, connector.get_customers(changed, cancel=ctx.cancel), "customer")],
                               ctx.stats.guard)
    with ctx.db.begin() as s:
        upsert_customers(s, ctx, records)
    return len(records)


@dataclass
class _ScanPage:
    """A page of the customer scan (None once the listing has ended) and the store ids of
    the customers linked here that are gone from its range of ids."""

    page: Page | None
    gone: list[int]


def _page_ids(page: Sequence) -> list[int]:
    return [r["id"] for r in page if isinstance(r, dict) and isinstance(r.get("id"), int)]


def _pages_with_gone(ctx: PullContext, connector, pages: Iterator[Page], low: int) -> Iterator[_ScanPage]:
    """Each page of the id-ordered listing with the linked customers gone from its range
    (runs on the prefetch thread), then the range above the last page.

    A page covers the store ids after the previous page's last id (`low`, from the
    checkpoint when the scan goes on) up to its own last id; the listing's end covers
    everything above. Staff accounts count as listed. A linked id in a range but not on
    its page is looked up by id before it is called gone, so a record that moved between
    pages while the store was read (a delete before it shifts every later one) or an
    account opened meanwhile is never taken for deleted. A listing whose ids do not rise
    is not judged at all, and neither is the end of one that listed no one (a store
    always lists its administrator: an empty answer is not a shop without customers).
    """
    judging = True
    for page in pages:
        if page.number == 1:
            low = 0  # the listing started again from the beginning
        ids = _page_ids(page)
        gone: list[int] = []
        if ids:
            if judging and (ids[0] <= low or any(a >= b for a, b in zip(ids, ids[1:]))):
                judging = False
            if judging:
                gone = _gone_between(ctx, connector, low, ids[-1], set(ids))
            low = max(low, ids[-1])
        yield _ScanPage(page, gone)
    if judging and low > 0:
        yield _ScanPage(None, _gone_between(ctx, connector, low, None, set()))


def _gone_between(ctx: PullContext, connector, low: int, high: int | None, listed: set[int]) -> list[int]:
    """Store ids linked here in (low, high] (above `low` when `high` is None), not in
    `listed`, that the store no longer has when asked for them by id."""
    stmt = select(CUSTOMERS.c.store_id).where(CUSTOMERS.c.store_id > low,
                                              CUSTOMERS.c.status != CustomerStatus.ERASED)
    if high is not None:
        stmt = stmt.where(CUSTOMERS.c.store_id <= high)
    with ctx.db.read() as s:
        missing = [i for i in s.execute(stmt).scalars() if i not in listed]
    if not missing:
        return []
    still = {r.get("id") for r in connector.get_customers(missing) if isinstance(r, dict)}
    return sorted(i for i in missing if i not in still)


def _write_customer_page(s: Session, ctx: PullContext, records: list[dict], gone: list[int]) -> None:
    upsert_customers(s, ctx, records)
    if gone:
        forget_store_accounts(s, ctx, gone)


#: The note of a customer change that was not sent because the account is gone from the store.
ACCOUNT_GONE_NOTE = "Not sent: the customer's account was deleted on the web store; the change is kept here."
# Changes that only mean something for an account on the store.
_GONE_WITH_THE_ACCOUNT = (OutboxKind.UPDATE_CUSTOMER, OutboxKind.UPDATE_CONSENT, OutboxKind.CREATE_CUSTOMER)


def forget_store_accounts(s: Session, ctx: PullContext, store_ids: Sequence[int]) -> list[int]:
    """Let go of store accounts deleted on the store, in the caller's transaction; return
    the local customers that were linked to them.

    The customers and their orders stay here (the back office's records outlive the
    store account); only the link goes (`store_id`, `store_digest`), as a merge does.
    Their waiting corrections, consent changes and account creates are settled with a
    note instead of opening a new account on the store; open conflicts about them are
    settled keeping the value here. A waiting erasure keeps the account's id, so the
    orders the store still has of them are anonymised. Erased customers are left as
    they are: the erasure deleted the account.
    """
    rows = s.execute(select(CUSTOMERS.c.id, CUSTOMERS.c.store_id).where(
        CUSTOMERS.c.store_id.in_(list(store_ids)), CUSTOMERS.c.status != CustomerStatus.ERASED)).all()
    if not rows:
        return []
    old = {r.id: r.store_id for r in rows}
    ids = list(old)
    s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id.in_(ids)).values(store_id=None, store_digest=None))
    now = utcnow()
    for message in s.execute(select(OUTBOX.c.id, OUTBOX.c.kind, OUTBOX.c.entity_id, OUTBOX.c.payload).where(
            OUTBOX.c.entity_type == "customer", OUTBOX.c.entity_id.in_(ids),
            OUTBOX.c.status.in_((*_WAITING, OutboxStatus.FAILED)))).all():
        if message.kind in _GONE_WITH_THE_ACCOUNT:
            s.execute(update(OUTBOX).where(OUTBOX.c.id == message.id).values(
                status=OutboxStatus.SENT, sent_at=now, store_id=None, next_attempt_at=None,
                last_error=ACCOUNT_GONE_NOTE))
        elif message.kind == OutboxKind.ERASE_CUSTOMER:
            payload = message_payload(message)
            if not payload.get("store_id"):
                payload["store_id"] = old[message.entity_id]
                s.execute(update(OUTBOX).where(OUTBOX.c.id == message.id).values(payload=json.dumps(payload)))
    s.execute(update(CONFLICTS).where(
        CONFLICTS.c.entity_type == "customer", CONFLICTS.c.entity_id.in_(ids), CONFLICTS.c.resolved.is_(False),
    ).values(resolved=True, resolved_at=now, resolution="local"))
    ctx.stats.unlinked_customers.update(ids)
    return ids


@dataclass
class _LocalCustomer:
    id: int
    store_id: int | None
    status: CustomerStatus
    digest: str | None
    values: dict[str, Any]
    billing: dict[str, Any] | None = None
    shipping: dict[str, Any] | None = None
    billing_id: int | None = None
    shipping_id: int | None = None


_CUSTOMER_READ = (
    CUSTOMERS.c.id, CUSTOMERS.c.store_id, CUSTOMERS.c.status, CUSTOMERS.c.store_digest, CUSTOMERS.c.first_name,
    CUSTOMERS.c.last_name, CUSTOMERS.c.company, CUSTOMERS.c.email, CUSTOMERS.c.phone, CUSTOMERS.c.merged_into_id,
    CUSTOMERS.c.username,
)


def _load_addresses(s: Session, locals_: dict[int, _LocalCustomer]) -> None:
    if not locals_:
        return
    rows = s.execute(
        select(ADDRESSES)
        .where(ADDRESSES.c.customer_id.in_(list(locals_)),
               ADDRESSES.c.kind.in_([AddressKind.BILLING, AddressKind.SHIPPING]))
        .order_by(ADDRESSES.c.customer_id, ADDRESSES.c.is_default.desc(), ADDRESSES.c.id)
    ).mappings()
    for row in rows:
        local = locals_[row["customer_id"]]
        values = {name: row[name] for name in _ADDRESS_COLUMNS}
        if row["kind"] == AddressKind.BILLING and local.billing_id is None:
            local.billing, local.billing_id = values, row["id"]
        elif row["kind"] == AddressKind.SHIPPING and local.shipping_id is None:
            local.shipping, local.shipping_id = values, row["id"]


def load_local_customer(s: Session, customer_id: int) -> _LocalCustomer | None:
    """The customer's values, default billing and shipping rows, as the merge compares them."""
    row = s.execute(select(*_CUSTOMER_READ).where(CUSTOMERS.c.id == customer_id)).first()
    if row is None:
        return None
    local = _LocalCustomer(row.id, row.store_id, row.status, row.store_digest, dict(row._mapping))
    _load_addresses(s, {local.id: local})
    return local


def waiting_customer_changes(s: Session, customer_ids: Iterable[int]) -> dict[int, list[int]]:
    """Customer id -> ids of its create/update messages still waiting to be sent."""
    ids = list(customer_ids)
    if not ids:
        return {}
    out: dict[int, list[int]] = defaultdict(list)
    for message_id, entity_id in s.execute(
        select(OUTBOX.c.id, OUTBOX.c.entity_id).where(
            OUTBOX.c.entity_type == "customer", OUTBOX.c.entity_id.in_(ids),
            OUTBOX.c.kind.in_(_CUSTOMER_CHANGES), OUTBOX.c.status.in_(_WAITING),
        ).order_by(OUTBOX.c.id)
    ):
        out[entity_id].append(message_id)
    return out


def upsert_customers(s: Session, ctx: PullContext, records: Sequence[dict]) -> dict[int, int]:
    """Write store customers (guarded views, `store_mapping.customer_view`) into the caller's transaction.

    Unchanged ones (same digest) are skipped; new ones are linked to a local customer
    with the same email and no store account yet, or inserted; changed ones are merged
    (see `store_mapping.merge_customer`). Erased customers are never filled again.
    Returns store id -> local id for every record.
    """
    data: dict[int, sm.CustomerData] = {}
    for record in records:
        item = sm.customer_data(record)
        data[item.store_id] = item
        ctx.fetched_customers.add(item.store_id)
    if not data:
        return {}
    ctx.stats.pulled_customers += len(data)
    found = {}
    # A page of customers new here (a first sync) needs no full rows: a quick look tells.
    if _local_ids(s, "customers", list(data)):
        found = {
            r.store_id: _LocalCustomer(r.id, r.store_id, r.status, r.store_digest, dict(r._mapping))
            for r in s.execute(select(*_CUSTOMER_READ).where(CUSTOMERS.c.store_id.in_(list(data))))
        }
    # New on the store: a customer made here whose account the store now has (same email).
    unlinked_keys = {}
    for store_id, item in data.items():
        if store_id not in found and item.email:
            unlinked_keys[email_key(item.email)[:254]] = store_id
    if unlinked_keys and select_in(s, "SELECT id FROM customers WHERE store_id IS NULL AND email_key IN ({})",
                                   list(unlinked_keys)):
        for r in s.execute(
            select(*_CUSTOMER_READ, CUSTOMERS.c.email_key).where(
                CUSTOMERS.c.email_key.in_(list(unlinked_keys)), CUSTOMERS.c.store_id.is_(None),
                CUSTOMERS.c.status != CustomerStatus.ERASED, CUSTOMERS.c.merged_into_id.is_(None),
            ).order_by(CUSTOMERS.c.id)
        ):
            store_id = unlinked_keys.get(r.email_key)
            if store_id is None or store_id in found:
                continue
            s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == r.id).values(store_id=store_id))
            local = _LocalCustomer(r.id, store_id, r.status, None, dict(r._mapping))
            local.values["store_id"] = store_id
            found[store_id] = local

    changed = {}
    inserts = []
    seen_only = []
    for store_id, item in data.items():
        local = found.get(store_id)
        if local is None:
            inserts.append(item)
            continue
        if local.status == CustomerStatus.ERASED:
            continue
        whole, _parts = sm.split_digest(local.digest)
        if local.digest and whole == item.whole:
            ctx.stats.skipped_customers += 1
            continue
        seen = sm.same_details_digest(local.digest, item)
        if seen is not None and local.values.get("username") == item.username:
            # Only what is not kept here changed on the store (a checkout saving the same
            # details moves its modified time): the copy seen is noted, the customer left as
            # is (not rewritten, not counted as changed there, no new version for a desk
            # editing them to trip over).
            seen_only.append({"b_id": local.id, "store_digest": seen, "store_modified_at": item.modified_at})
            ctx.stats.skipped_customers += 1
            continue
        changed[local.id] = (local, item)

    ids: dict[int, int] = {sid: loc.id for sid, loc in found.items()}
    if seen_only:
        s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("b_id"))
                  .values(store_digest=bindparam("store_digest"), store_modified_at=bindparam("store_modified_at")),
                  seen_only)
    if inserts:
        ids.update(_insert_customers(s, ctx, inserts))
    if changed:
        _update_customers(s, ctx, changed)
    store_consent.apply_from_store(s, ctx.consent_key, records, ids)
    return ids


def _customer_row(item: sm.CustomerData, region: str) -> dict[str, Any]:
    row = {
        "store_id": item.store_id,
        "first_name": item.first_name,
        "last_name": item.last_name,
        "company": item.company,
        "email": item.email,
        "phone": item.phone,
        "username": item.username,
        "store_modified_at": item.modified_at,
        "store_digest": item.store_digest(),
    }
    row.update(sm.contact_columns(first_name=item.first_name, last_name=item.last_name, company=item.company,
                                  email=item.email, phone=item.phone, region=region))
    return row


def _address_row(values: dict[str, str], *, with_email: bool) -> dict[str, str]:
    row = dict(values)
    if not with_email:
        row["email"] = ""
    return row


def _insert_customers(s: Session, ctx: PullContext, items: list[sm.CustomerData]) -> dict[int, int]:
    now = utcnow()
    rows = []
    for item in items:
        row = _customer_row(item, ctx.region)
        row["status"] = CustomerStatus.ACTIVE
        row["created_at"] = item.created_at or now
        row["updated_at"] = now
        rows.append(row)
    bulk_insert(s, CUSTOMERS, rows)
    ids = _local_ids(s, "customers", [i.store_id for i in items])
    addresses = []
    for item in items:
        cid = ids[item.store_id]
        if not sm.is_blank_address(item.billing):
            addresses.append({"customer_id": cid, "kind": AddressKind.BILLING, "is_default": True,
                              **_address_row(item.billing, with_email=True)})
        if not sm.is_blank_address(item.shipping):
            addresses.append({"customer_id": cid, "kind": AddressKind.SHIPPING, "is_default": True,
                              **_address_row(item.shipping, with_email=False)})
    bulk_insert(s, ADDRESSES, addresses)
    ctx.stats.changed_customers.update(ids.values())
    ctx.stats.reindex.update(ids.values())
    return ids


def _update_customers(s: Session, ctx: PullContext, changed: dict[int, tuple[_LocalCustomer, sm.CustomerData]]) -> None:
    waiting = waiting_customer_changes(s, changed)
    full: dict[int, tuple[_LocalCustomer, sm.CustomerData]] = {}
    for cid, (local, item) in changed.items():
        if cid in waiting:
            _merge_one(s, ctx, local, item, waiting[cid])
        else:
            full[cid] = (local, item)
    if not full:
        return
    locals_ = {cid: pair[0] for cid, pair in full.items()}
    _load_addresses(s, locals_)
    now = utcnow()
    updates = []
    address_updates = []
    address_inserts = []
    for cid, (local, item) in full.items():
        row = _customer_row(item, ctx.region)
        row.pop("store_id")
        row["b_id"] = cid
        updates.append(row)
        for kind, values, row_id, with_email in (
            (AddressKind.BILLING, item.billing, local.billing_id, True),
            (AddressKind.SHIPPING, item.shipping, local.shipping_id, False),
        ):
            fields = _address_row(values, with_email=with_email)
            if row_id is not None:
                current = local.billing if kind == AddressKind.BILLING else local.shipping
                if with_email is False:
                    fields["email"] = (current or {}).get("email") or ""
                if current != fields:
                    address_updates.append({"b_id": row_id, **fields})
            elif not sm.is_blank_address(values):
                address_inserts.append({"customer_id": cid, "kind": kind, "is_default": True, **fields})
    stmt = (
        update(CUSTOMERS)
        .where(CUSTOMERS.c.id == bindparam("b_id"))
        .values({k: bindparam(k) for k in updates[0] if k != "b_id"}
                | {"updated_at": now, "version": CUSTOMERS.c.version + 1})
    )
    s.execute(stmt, updates)
    if address_updates:
        s.execute(
            update(ADDRESSES).where(ADDRESSES.c.id == bindparam("b_id"))
            .values({k: bindparam(k) for k in _ADDRESS_COLUMNS}),
            address_updates,
        )
    if address_inserts:
        s.execute(insert(ADDRESSES), address_inserts)
    ctx.stats.changed_customers.update(full)
    ctx.stats.reindex.update(full)


def apply_customer_groups(
    s: Session, local: _LocalCustomer, item: sm.CustomerData, groups: Iterable[str], *, digest: str, region: str
) -> None:
    """Take the store's values for these groups into the local customer, and set the digest."""
    groups = set(groups)
    values = dict(local.values)
    if "first_name" in groups:
        values["first_name"] = item.first_name
    if "last_name" in groups:
        values["last_name"] = item.last_name
    if "email" in groups:
        values["email"] = item.email
    if "phone" in groups:
        values["phone"] = item.phone
    if "billing" in groups:
        values["company"] = item.company
    columns = {
        "first_name": values["first_name"], "last_name": values["last_name"], "company": values["company"],
        "email": values["email"], "phone": values["phone"], "username": item.username,
        "store_modified_at": item.modified_at, "store_digest": digest, "updated_at": utcnow(),
        "version": CUSTOMERS.c.version + 1,
    }
    columns.update(sm.contact_columns(first_name=values["first_name"], last_name=values["last_name"],
                                      company=values["company"], email=values["email"], phone=values["phone"],
                                      region=region))
    s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == local.id).values(columns))
    local.values.update(values)
    for group, kind, store_values, row_id, with_email in (
        ("billing", AddressKind.BILLING, item.billing, local.billing_id, True),
        ("shipping", AddressKind.SHIPPING, item.shipping, local.shipping_id, False),
    ):
        fields = _address_row(store_values, with_email=with_email)
        if group not in groups:
            # The phone group lives in the billing address on the store.
            if group == "billing" and "phone" in groups and row_id is not None:
                s.execute(update(ADDRESSES).where(ADDRESSES.c.id == row_id).values(phone=item.phone))
            continue
        if row_id is not None:
            if not with_email:
                fields.pop("email")
            if group == "billing" and "phone" not in groups:
                fields.pop("phone")
            s.execute(update(ADDRESSES).where(ADDRESSES.c.id == row_id).values(fields))
        elif not sm.is_blank_address(store_values):
            s.execute(insert(ADDRESSES).values(customer_id=local.id, kind=kind, is_default=True, **fields))


def _merge_one(s: Session, ctx: PullContext, local: _LocalCustomer, item: sm.CustomerData,
               message_ids: list[int]) -> None:
    """A customer with a local change waiting: take what only the store changed, flag clashes."""
    _load_addresses(s, {local.id: local})
    _whole, base = sm.split_digest(local.digest)
    merge = sm.merge_customer(
        sm.local_groups(local.values, local.billing, local.shipping), item.groups(), base, local_pending=True
    )
    new_digest = sm.compose_digest(item.whole, merge.parts)
    apply_customer_groups(s, local, item, merge.apply, digest=new_digest, region=ctx.region)
    if merge.conflicts:
        record_conflicts(s, ctx.stats, entity_type="customer", entity_id=local.id, customer_id=local.id,
                         conflicts=merge.conflicts, outbox_id=message_ids[-1])
        s.execute(update(OUTBOX).where(OUTBOX.c.id.in_(message_ids), OUTBOX.c.status == OutboxStatus.PENDING)
                  .values(status=OutboxStatus.CONFLICT))
    ctx.stats.changed_customers.add(local.id)
    ctx.stats.reindex.add(local.id)


def record_conflicts(s: Session, stats: RunStats | None, *, entity_type: str, entity_id: int,
                     customer_id: int | None, conflicts: dict[str, tuple[str, str]], outbox_id: int | None) -> None:
    """Write (or refresh) one unresolved conflict row per field."""
    open_rows = {
        r.field: r.id
        for r in s.execute(select(CONFLICTS.c.id, CONFLICTS.c.field).where(
            CONFLICTS.c.entity_type == entity_type, CONFLICTS.c.entity_id == entity_id,
            CONFLICTS.c.resolved.is_(False)))
    }
    now = utcnow()
    for name, (mine, theirs) in conflicts.items():
        values = {"local_value": mine, "store_value": theirs, "outbox_id": outbox_id, "detected_at": now}
        if name in open_rows:
            s.execute(update(CONFLICTS).where(CONFLICTS.c.id == open_rows[name]).values(values))
        else:
            s.execute(insert(CONFLICTS).values(entity_type=entity_type, entity_id=entity_id,
                                               customer_id=customer_id, field=name, resolved=False,
                                               resolution="", **values))
            if stats is not None:
                stats.new_conflicts += 1


# --- orders ------------------------------------------------------------------------------------


@dataclass
class OrderBundle:
    """A page of orders with the customers it points to that had to be read."""

    orders: list[dict]
    customers: list[dict]
    total: int | None
    number: int = 1
    last_id: int = 0
    #: The page's orders mapped in the mapping process (`store_mapping.map_order_page`:
    #: mapped orders and the guard's report), when they were handed over; `orders` is then
    #: empty when the page was never decoded here.
    mapped: Any = None
    #: How many orders the page holds (after screening).
    count: int = 0
    #: For orders mapped in part (`OrderData.whole`): what maps the page again whole.
    whole: Callable[[], dict[int, sm.OrderData]] | None = None


#: Pages of orders handed to the mapping process before the page reader waits for the first.
_MAPPING_DEPTH = 2


def _order_bundles(ctx: PullContext, connector, pages: Iterator[Page],
                   mapper: PageMapper | None = None) -> Iterator[OrderBundle]:
    """Screen and read pages of orders, each with the customers it needs (runs on the
    prefetch thread), and hand long listings' pages to the mapping process.

    A page that came undecoded (`Page.raw`) is decoded, screened and mapped in the
    mapping process, which also says which customers its orders point to; when there is
    no mapping process (not yet, or no longer) it is decoded here. A customer is read
    when it is unknown here, or when the order was placed after the copy here was last
    changed on the store (checkout may have changed it), and it was not read earlier in
    this run.
    """
    least = ctx.options.mapping_process_pages
    waiting: deque[tuple[Page, Any]] = deque()
    for page in pages:
        handed = None
        if mapper is not None and least > 0:
            if page.total_pages is not None and page.total_pages - page.number >= least:
                mapper.start()
            if page.raw:
                handed = mapper.ahead((page.body, page.number, MAX_PER_PAGE, page.total, page.total_pages,
                                       ctx.db.backend), map_order_page_rows)
        if handed is None:
            page = screened_page(ctx, page.decoded(), "order")
            if mapper is not None and least > 0:
                # The store's own JSON travels faster than the decoded records.
                handed = mapper.ahead(page.body if page.body is not None else list(page))
        waiting.append((page, handed))
        if len(waiting) > _MAPPING_DEPTH:
            yield _order_bundle(ctx, connector, *waiting.popleft())
    while waiting:
        yield _order_bundle(ctx, connector, *waiting.popleft())


def _order_bundle(ctx: PullContext, connector, page: Page, handed) -> OrderBundle:
    """A page of orders (see `_order_bundles`) once the mapping process has answered for it."""
    result = handed() if handed is not None else None
    if type(result) is bytes:
        result = unpack_order_page(result)
    orders: list[dict] = []
    wanted: dict[int, datetime | None] = {}
    whole = None
    if page.raw and result is not None:
        for problem in result.problems:
            _bad_record(ctx, problem)
        count, last_id, mapped = result.count, result.last_id, (result.items, result.report)
        refs = [(cid, created) for cid, created in result.customers if cid not in ctx.fetched_customers]
        body, number = page.body, page.number
        whole = lambda: sm.remap_raw_order_page(body, number)  # noqa: E731
    else:
        if page.raw:
            page = screened_page(ctx, page.decoded(), "order")
        orders, count, last_id, mapped = list(page), len(page), _last_id(page), result
        refs = []
        for record in orders:
            cid = record.get("customer_id")
            if isinstance(cid, int) and cid > 0 and cid not in ctx.fetched_customers:
                refs.append((cid, sm.parse_store_time(record.get("date_created_gmt"))))
    for cid, created in refs:
        if cid not in wanted or (created and (wanted[cid] is None or created > wanted[cid])):
            wanted[cid] = created
    customers: list[dict] = []
    if wanted:
        with ctx.db.read() as s:
            known = dict(s.execute(
                select(CUSTOMERS.c.store_id, CUSTOMERS.c.store_modified_at)
                .where(CUSTOMERS.c.store_id.in_(list(wanted)))
            ).all())
        fetch = [
            cid for cid, created in wanted.items()
            if cid not in known or (known[cid] is not None and created is not None and created > known[cid])
        ]
        if fetch:
            customers = list(screened(ctx, connector.get_customers(fetch), "customer"))
            ctx.stats.fetched_customers += len(customers)
        ctx.fetched_customers.update(wanted)
    return OrderBundle(orders, customers, page.total, page.number, last_id, mapped, count, whole)


def pull_orders(ctx: PullContext, connector) -> int:
    """Pull orders changed since the last listing (with the customers they need); return the count.

    After a first listing, the orders moved to the store's trash since the same cursor are
    listed too (`pull_trashed_orders`): the usual listing leaves them out. A listing cut
    short (the program closed, the store gone) goes on next time after the last batch of
    pages it wrote; its cursor is then the time the first run began it, and moves only
    once the trash has been read as well.
    """
    since_text = read_cursor(ctx.db, CURSOR_ORDERS)
    since = cursor_time(since_text)
    mark = read_checkpoint(ctx.db, CURSOR_ORDERS, since_text)
    started = mark.started if mark is not None else time_text(_listing_start(ctx.options))
    done = mark.done if mark is not None else 0
    params = {"orderby": "id", "order": "asc"}  # as `iter_orders` lists them
    if since is not None:
        params.update({"modified_after": store_time(since), "dates_are_gmt": "true"})
    # Pages of a long listing come undecoded: the mapping process decodes them.
    ahead = {}
    if getattr(connector, "undecoded_pages", False) and ctx.options.mapping_process_pages > 0:
        ahead = {"undecoded_ahead": ctx.options.mapping_process_pages}
    pages = resumed_pages(ctx, connector, "/orders", params, mark,
                          lambda: connector.iter_orders(since, cancel=ctx.cancel, **ahead), **ahead)
    mapper = PageMapper(sm.map_order_page)
    bundles = prefetch(_order_bundles(ctx, connector, pages, mapper), ctx.options.prefetch_pages, ctx.cancel)
    cpu_started = time.process_time()
    try:
        with PageBatches(ctx, CURSOR_ORDERS + RESUME_SUFFIX) as batches:
            for bundle in bundles:
                customers = sm.guard_records([store_consent.customer_view(r, ctx.consent_key)
                                              for r in bundle.customers], ctx.stats.guard)
                done += bundle.count
                mark = Checkpoint(bundle.number, bundle.last_id, done, started, since_text)
                if bundle.mapped is not None:
                    items, report = bundle.mapped
                    ctx.stats.guard.merge(report)
                    batches.write(_write_mapped_order_page, ctx, customers, items, bundle.whole, mark=mark)
                else:
                    orders = sm.guard_records([sm.order_view(r) for r in bundle.orders], ctx.stats.guard)
                    batches.write(_write_order_page, ctx, customers, orders, mark=mark)
                ctx.stats.pulled_orders += bundle.count
                ctx.stats.order_pages += 1
                total = bundle.total or done
                ctx.report(done, total, f"Orders: {done:,} of {total:,}")
                check(ctx.cancel)
    finally:
        mapper.close()
        ctx.stats.order_cpu_seconds += time.process_time() - cpu_started
        ctx.stats.mapped_order_pages += mapper.pages
    if since is not None:
        # A first listing imports no trashed order, so it has none to look for.
        pull_trashed_orders(ctx, connector, since)
    if since is None:
        # A first sync reads the lines of past refunds only for the orders still to go out,
        # whose packing slips leave out what was refunded; the others keep their refunds'
        # amounts and reasons: reading each one's lines costs a request per refunded order
        # (about one in twenty).
        _keep_refunds_of_open_orders(ctx)
    pull_refund_lines(ctx, connector)
    with ctx.db.begin() as s:
        write_cursor(s, CURSOR_ORDERS, started)
        write_cursor(s, CURSOR_ORDERS + RESUME_SUFFIX, "")
    return done


def forget_deleted_orders(ctx: PullContext, connector) -> None:
    """Mark the orders the store deleted for good (in none of its listings) as deleted here.

    One request compares the store's count of orders with the count here; only when the
    store has fewer are all its order ids listed to find which are gone.
    """
    shown = (OrderStatus.TRASH, OrderStatus.DELETED, OrderStatus.DRAFT)
    first = next(iter(connector.iter_pages("/orders", {"_fields": "id"}, per_page=1, cancel=ctx.cancel)), None)
    on_store = (first.total if first is not None else 0) or 0
    with ctx.db.read() as s:
        here = s.execute(select(func.count()).select_from(ORDERS).where(
            ORDERS.c.store_id.is_not(None), ORDERS.c.status.not_in(shown))).scalar_one()
    if on_store >= here:
        return
    listed: set[int] = set()
    for page in connector.iter_pages("/orders", {"orderby": "id", "order": "asc", "_fields": "id"},
                                     cancel=ctx.cancel):
        listed.update(int(r["id"]) for r in page if isinstance(r, dict) and isinstance(r.get("id"), int))
    with ctx.db.begin() as s:
        rows = s.execute(select(ORDERS.c.id, ORDERS.c.store_id).where(
            ORDERS.c.store_id.is_not(None), ORDERS.c.status.not_in(shown))).all()
        gone = [r.id for r in rows if r.store_id not in listed]
        for chunk in _chunks(gone, 500):
            s.execute(update(ORDERS).where(ORDERS.c.id.in_(list(chunk))).values(
                status=OrderStatus.DELETED, updated_at=utcnow(), version=ORDERS.c.version + 1))
    ctx.stats.changed_orders.update(gone)


def pull_trashed_orders(ctx: PullContext, connector, since: datetime) -> int:
    """Mark the orders here that were moved to the store's trash after `since` as deleted
    there (`mark_orders_trashed`); return how many trashed orders the store listed.

    Orders trashed on the store before this back office ever read them are not imported.
    An order restored from the trash comes back through the usual listing (restoring it
    bumps its `date_modified`) and takes its status again.
    """
    listed = 0
    with PageBatches(ctx) as batches:
        for page in connector.iter_trashed_orders(since, cancel=ctx.cancel):
            batches.write(mark_orders_trashed, ctx, _trashed_records(page))
            listed += len(page)
            check(ctx.cancel)
    if ctx.stats.trashed_orders:
        log.info("orders: %s orders deleted on the web store are marked so here", len(ctx.stats.trashed_orders))
    return listed


def _trashed_records(page: Sequence) -> dict[int, datetime | None]:
    """Store id -> when it went to the trash, of the trashed orders on a page."""
    out: dict[int, datetime | None] = {}
    for record in page:
        if isinstance(record, dict) and isinstance(record.get("id"), int) and record.get("status") == "trash":
            out[record["id"]] = sm.parse_store_time(record.get("date_modified_gmt"))
    return out


#: The note of an order change that was not sent because the order was deleted on the store.
ORDER_GONE_NOTE = "Not sent: the order was deleted on the web store."
# Changes that only mean something for an order the store still has; sending one to an
# order in the trash would be lost there, or (a payment) take it out of the trash.
_GONE_WITH_THE_ORDER = (OutboxKind.UPDATE_ORDER_STATUS, OutboxKind.MARK_ORDER_PAID, OutboxKind.ADD_TRACKING,
                        OutboxKind.SEND_PAY_LINK)


def mark_orders_trashed(s: Session, ctx: PullContext, trashed: dict[int, datetime | None]) -> dict[int, int]:
    """Mark the orders here with these store ids (store id -> when they were trashed there)
    as deleted on the store, in the caller's transaction; return store id -> local id.

    The orders stay here, with their lines, payments and parcels, as `OrderStatus.TRASH`
    (never open, so nobody packs or ships them). Their status changes, payments, tracking
    numbers and pay-link emails still waiting (or failed) are settled with a note instead
    of being sent, and their open conflicts are settled with the store's side. Store ids
    not held here are left alone: an order deleted before it was read is not imported.
    """
    if not trashed:
        return {}
    rows = s.execute(select(ORDERS.c.id, ORDERS.c.store_id, ORDERS.c.status, ORDERS.c.store_modified_at)
                     .where(ORDERS.c.store_id.in_(list(trashed)))).all()
    if not rows:
        return {}
    now = utcnow()
    moved = [r for r in rows if r.status != OrderStatus.TRASH]
    if moved:
        s.execute(
            update(ORDERS).where(ORDERS.c.id == bindparam("b_id"))
            .values(status=OrderStatus.TRASH, store_modified_at=bindparam("b_modified"), updated_at=now,
                    version=ORDERS.c.version + 1),
            [{"b_id": r.id, "b_modified": trashed[r.store_id] or r.store_modified_at} for r in moved],
        )
        ctx.stats.trashed_orders.update(r.id for r in moved)
    ids = [r.id for r in rows]
    shipments = list(s.execute(select(SHIPMENTS.c.id).where(SHIPMENTS.c.order_id.in_(ids))).scalars())
    about = (OUTBOX.c.entity_type == "order") & OUTBOX.c.entity_id.in_(ids)
    if shipments:
        about = or_(about, (OUTBOX.c.entity_type == "shipment") & OUTBOX.c.entity_id.in_(shipments))
    for message in s.execute(select(OUTBOX.c.id, OUTBOX.c.kind).where(
            about, OUTBOX.c.kind.in_(_GONE_WITH_THE_ORDER),
            OUTBOX.c.status.in_((*_WAITING, OutboxStatus.FAILED)))).all():
        values = {"status": OutboxStatus.SENT, "sent_at": now, "store_id": None, "next_attempt_at": None,
                  "last_error": ORDER_GONE_NOTE}
        if message.kind == OutboxKind.SEND_PAY_LINK:
            values["payload"] = json.dumps({"outcome": PayLinkOutcome.NOT_NEEDED.value})
        s.execute(update(OUTBOX).where(OUTBOX.c.id == message.id).values(values))
    s.execute(update(CONFLICTS).where(
        CONFLICTS.c.entity_type == "order", CONFLICTS.c.entity_id.in_(ids), CONFLICTS.c.resolved.is_(False),
    ).values(resolved=True, resolved_at=now, resolution="store"))
    return {r.store_id: r.id for r in rows}


def _write_order_page(s: Session, ctx: PullContext, customers: list[dict], orders: list[dict]) -> None:
    if customers:
        upsert_customers(s, ctx, customers)
    upsert_orders(s, ctx, orders)


def _write_mapped_order_page(s: Session, ctx: PullContext, customers: list[dict], items: list[sm.OrderData],
                             whole=None) -> None:
    if customers:
        upsert_customers(s, ctx, customers)
    upsert_order_data(s, ctx, items, whole)


_ORDER_COMPARE = (
    "number", "currency", "subtotal", "shipping_total", "discount_total", "tax_total", "total", "customer_note",
    "payment_method", "payment_method_title", "payment_url", "order_key", "completed_at", "store_modified_at",
)
_PERSONAL_ORDER_FIELDS = ("customer_note", "gift_message")


def _customer_map(s: Session, store_ids: Iterable[int]) -> dict[int, int]:
    """Store customer id -> the local customer their orders belong to (the one a merge kept)."""
    ids = [i for i in set(store_ids) if i]
    rows = select_in(s, "SELECT store_id, id, merged_into_id FROM customers WHERE store_id IN ({})", ids)
    return {store_id: merged or cid for store_id, cid, merged in rows}


def _order_page_lookups(s: Session, order_store_ids: list[int], customer_store_ids: Iterable[int],
                        fresh: int) -> tuple[dict[int, int], dict[int, int], list[int]]:
    """On PostgreSQL, in one round trip: the orders here with these store ids (store id -> local
    id), the customers their orders belong to (`_customer_map`), and new order ids taken from
    the orders' sequence for the orders not here (`fresh` less those found; an order matched
    by its reference instead leaves its id unused, a gap as any sequence may have).

    Each of the three was a round trip of its own, about 3 ms of the 34 ms a page of new orders
    took to write on PostgreSQL with the server on the same two cores."""
    customer_ids = [i for i in set(customer_store_ids) if i]
    cursor = s.connection().connection.driver_connection.cursor()
    try:
        cursor.execute(
            "SELECT 1, store_id, id, NULL FROM orders WHERE store_id = ANY(%(orders)s) "
            "UNION ALL SELECT 2, store_id, id, merged_into_id FROM customers WHERE store_id = ANY(%(customers)s) "
            "UNION ALL SELECT 3, NULL, nextval(pg_get_serial_sequence('orders', 'id')), NULL "
            "FROM generate_series(1, %(fresh)s - (SELECT count(*) FROM orders WHERE store_id = ANY(%(orders)s)))",
            {"orders": order_store_ids, "customers": customer_ids, "fresh": fresh})
        rows = cursor.fetchall()
    finally:
        cursor.close()
    here = {store_id: oid for kind, store_id, oid, _ in rows if kind == 1}
    customers = {store_id: merged or cid for kind, store_id, cid, merged in rows if kind == 2}
    return here, customers, [oid for kind, _, oid, _ in rows if kind == 3]


def _local_ids(s: Session, table: str, store_ids: list[int]) -> dict[int, int]:
    """Store id -> local id of the rows of `table` ("orders", "customers") with these store ids."""
    return dict(select_in(s, f"SELECT store_id, id FROM {table} WHERE store_id IN ({{}})", store_ids))


def _line_key(line: dict) -> tuple:
    return (line["store_line_id"], line["product_id"], line["sku"], line["name"], line["quantity"],
            line["unit_price"], line["total"], line.get("options") or "")


def _shipping_key(line: dict) -> tuple:
    return (line["store_line_id"], line["method_id"], line["method_title"], line["total"])


def _address_key(values: dict) -> tuple:
    return tuple(values[name] for name in _ADDRESS_COLUMNS)


def upsert_orders(s: Session, ctx: PullContext, records: Sequence[dict]) -> dict[int, int]:
    """Write store orders (guarded views, `store_mapping.order_view`) into the caller's transaction;
    return store id -> local id.

    An order in the store's trash is only marked so here when it is held here
    (`mark_orders_trashed`), never imported.
    """
    return upsert_order_data(s, ctx, [sm.order_data(record) for record in records])


def upsert_order_data(s: Session, ctx: PullContext, mapped: Sequence[sm.OrderData],
                      whole: Callable[[], dict[int, sm.OrderData]] | None = None) -> dict[int, int]:
    """`upsert_orders` for orders already mapped (`store_mapping.order_data` of guarded views).

    Orders mapped in part (`OrderData.whole` False) that are already here are taken from
    `whole()`, which maps the page again whole.
    """
    items: dict[int, sm.OrderData] = {}
    trashed: dict[int, datetime | None] = {}
    for item in mapped:
        if item.reference and item.reference.startswith(sm.QUOTE_REFERENCE_PREFIX):
            continue  # made only to read the store's figures for a phone order, and deleted at once
        if item.status == OrderStatus.TRASH:
            trashed[item.store_id] = item.modified_at
            items.pop(item.store_id, None)
        else:
            items[item.store_id] = item
            trashed.pop(item.store_id, None)
    gone = mark_orders_trashed(s, ctx, trashed)
    if not items:
        return gone
    refs = [i.reference for i in items.values() if i.reference]
    existing_rows = []
    customers, fresh = None, []
    if s.get_bind().dialect.name == "postgresql":  # (three round trips in one)
        here, customers, fresh = _order_page_lookups(s, list(items), (i.customer_store_id for i in items.values()),
                                                     len(items))
    else:
        here = _local_ids(s, "orders", list(items))
    # A page of orders new here (a first sync) needs no full rows: a quick look tells.
    if here or (refs and select_in(s, "SELECT id FROM orders WHERE reference IN ({})", refs)):
        condition = ORDERS.c.store_id.in_(list(items))
        if refs:
            condition = or_(condition, ORDERS.c.reference.in_(refs))
        existing_rows = s.execute(select(ORDERS).where(condition)).mappings().all()
    by_store = {r["store_id"]: r for r in existing_rows if r["store_id"] is not None}
    by_ref = {r["reference"]: r for r in existing_rows if r["reference"]}
    if customers is None:
        customers = _customer_map(s, (i.customer_store_id for i in items.values()))

    matched: dict[int, Any] = {}
    new_items: list[sm.OrderData] = []
    for store_id, item in items.items():
        row = by_store.get(store_id)
        if row is None and item.reference and item.reference in by_ref:
            candidate = by_ref[item.reference]
            if candidate["store_id"] is None:
                row = candidate
        if row is None:
            new_items.append(item)
        else:
            matched[store_id] = row

    if any(not items[sid].whole for sid in matched):
        again = whole()
        for sid in matched:
            items[sid] = again[sid]
    ids: dict[int, int] = {sid: row["id"] for sid, row in matched.items()}
    if new_items:
        ids.update(_insert_orders(s, ctx, new_items, customers, used_refs=set(by_ref), fresh_ids=fresh))
    if matched:
        _update_orders(s, ctx, {sid: (matched[sid], items[sid]) for sid in matched}, customers)
    _write_fees_and_refunds(s, ctx, {ids[sid]: item for sid, item in items.items() if sid in ids},
                            known=[ids[sid] for sid in matched])
    return {**gone, **ids}


def _write_fees_and_refunds(s: Session, ctx: PullContext, items: dict[int, sm.OrderData], *,
                            known: list[int]) -> None:
    """Keep each order's fees and refunds as the store lists them (orders new here have none yet).

    A refund new here is noted in `ctx.refund_orders`, so its lines are read afterwards.
    """
    fees_had: dict[int, list[tuple]] = defaultdict(list)
    refunds_had: dict[int, dict[int, Any]] = defaultdict(dict)
    if known:
        for r in s.execute(select(FEES.c.order_id, FEES.c.store_line_id, FEES.c.name, FEES.c.total,
                                  FEES.c.total_tax).where(FEES.c.order_id.in_(known)).order_by(FEES.c.id)):
            fees_had[r.order_id].append((r.store_line_id, r.name, r.total, r.total_tax))
        for r in s.execute(select(REFUNDS.c.id, REFUNDS.c.order_id, REFUNDS.c.store_id, REFUNDS.c.amount,
                                  REFUNDS.c.reason).where(REFUNDS.c.order_id.in_(known),
                                                          # One recorded at the desk and not sent yet stays.
                                                          REFUNDS.c.store_id.is_not(None))):
            refunds_had[r.order_id][r.store_id] = r
    replaced, new_fees, new_refunds, gone = [], [], [], []
    held = set(known)
    for oid, item in items.items():
        if not item.fees and not item.refunds and oid not in held:
            continue  # none listed, none held: nothing to write (most orders of a first sync)
        if [(f["store_line_id"], f["name"], f["total"], f["total_tax"]) for f in item.fees] != fees_had.get(oid, []):
            if oid in held:
                replaced.append(oid)
            new_fees.extend({"order_id": oid, **f} for f in item.fees)
        had = refunds_had.get(oid, {})
        refunds_now = {r["store_id"]: r for r in item.refunds}
        for store_id, refund in refunds_now.items():
            old = had.get(store_id)
            if old is None:
                new_refunds.append({"order_id": oid, "store_id": store_id, "amount": refund["amount"],
                                    "reason": refund["reason"], "lines": "", "refunded_at": item.modified_at})
                ctx.refund_orders[item.store_id] = oid
            elif (old.amount, old.reason) != (refund["amount"], refund["reason"]):
                s.execute(update(REFUNDS).where(REFUNDS.c.id == old.id).values(amount=refund["amount"],
                                                                               reason=refund["reason"]))
        gone.extend(r.id for sid, r in had.items() if sid not in refunds_now)
    if replaced:
        s.execute(delete(FEES).where(FEES.c.order_id.in_(replaced)))
    bulk_insert(s, FEES, new_fees)
    if gone:
        s.execute(delete(REFUNDS).where(REFUNDS.c.id.in_(gone)))
    bulk_insert(s, REFUNDS, new_refunds)
    if replaced or gone or new_refunds:
        ctx.stats.changed_orders.update(replaced)
        ctx.stats.changed_orders.update(r["order_id"] for r in new_refunds)


def _keep_refunds_of_open_orders(ctx: PullContext) -> None:
    """Leave in `ctx.refund_orders` only the orders still open (pending, processing, on hold)."""
    if not ctx.refund_orders:
        return
    still_open = set()
    with ctx.db.read() as s:
        for chunk in _chunks(sorted(ctx.refund_orders.values()), 500):
            still_open.update(s.scalars(select(ORDERS.c.id).where(
                ORDERS.c.id.in_(chunk), ORDERS.c.status.in_([status.value for status in OPEN_STATUSES]))))
    ctx.refund_orders = {store_id: oid for store_id, oid in ctx.refund_orders.items() if oid in still_open}


def pull_refund_lines(ctx: PullContext, connector) -> None:
    """Read the lines of the refunds new this run (the order lists only their amounts)."""
    for store_order_id, order_id in list(ctx.refund_orders.items()):
        check(ctx.cancel)
        try:
            records = [r for page in connector.iter_pages(f"/orders/{int(store_order_id)}/refunds",
                                                          cancel=ctx.cancel) for r in page]
        except StoreError as exc:
            log.warning("could not read the refunds of order %s: %s", store_order_id, exc.message)
            continue
        clean = sm.guard_records([r for r in records if isinstance(r, dict)], ctx.stats.guard)
        with ctx.db.begin() as s:
            for refund in clean:
                if not isinstance(refund.get("id"), int):
                    continue
                read_before = s.execute(select(REFUNDS.c.lines).where(REFUNDS.c.store_id == refund["id"])).first()
                s.execute(update(REFUNDS).where(REFUNDS.c.store_id == refund["id"]).values(
                    lines=sm.refund_lines_text(refund),
                    refunded_at=sm.parse_store_time(refund.get("date_created_gmt"))))
                # Its items no longer go out with the order, once: a refund whose lines were read
                # already was counted then, and one made at a desk was counted when it was recorded.
                if read_before is not None and not read_before.lines and sm.order_reference(refund) is None:
                    _count_refunded_items(s, order_id, sm.refunded_items(refund))
    ctx.refund_orders.clear()


def _count_refunded_items(s: Session, order_id: int, items: list[tuple[int, int]]) -> None:
    """Add what a refund made on the store takes back to its order's lines (never past what was ordered)."""
    for store_line_id, quantity in items:
        more = LINES.c.refunded_quantity + quantity
        s.execute(update(LINES).where(LINES.c.order_id == order_id, LINES.c.store_line_id == store_line_id)
                  .values(refunded_quantity=case((more > LINES.c.quantity, LINES.c.quantity), else_=more)))


def _line_rows(order_id: int, item: sm.OrderData, product_ids: dict[int, int]) -> list[dict]:
    return [
        {
            "order_id": order_id, "product_id": product_ids.get(line["product_store_id"] or 0),
            "store_line_id": line["store_line_id"], "sku": line["sku"], "name": line["name"],
            "quantity": line["quantity"], "unit_price": line["unit_price"], "total": line["total"],
            "options": line.get("options") or "",
        }
        for line in item.lines
    ]


def _shipping_rows(order_id: int, item: sm.OrderData) -> list[dict]:
    return [{"order_id": order_id, **line} for line in item.shipping_lines]


def _address_rows(order_id: int, item: sm.OrderData) -> list[dict]:
    rows = []
    if not sm.is_blank_address(item.billing):
        rows.append({"order_id": order_id, "kind": AddressKind.BILLING, **item.billing})
    if not sm.is_blank_address(item.shipping):
        rows.append({"order_id": order_id, "kind": AddressKind.SHIPPING, **item.shipping})
    return rows


def _store_payment(order_id: int, item: sm.OrderData) -> dict:
    return {
        "order_id": order_id, "method": PaymentMethod.STORE, "status": PaymentStatus.PAID,
        "gateway": item.values["payment_method"], "transaction_id": item.transaction_id,
        "card_brand": "", "card_last4": None, "auth_code": "", "amount": item.values["total"],
        "currency": item.values["currency"], "recorded_at": item.paid_at, "paid_at": item.paid_at,
        "recorded_by": None,
    }


def _insert_orders(s: Session, ctx: PullContext, items: list[sm.OrderData], customers: dict[int, int],
                   used_refs: set[str], fresh_ids: Sequence[int] = ()) -> dict[int, int]:
    """Insert orders new here with their lines, addresses, payments and parcels; return store id -> local id.

    Their rows come made (`sync_common.new_order_rows`) from the mapping process, or are
    made here; only what the database tells is added here. With at least as many
    `fresh_ids` as orders (taken from the orders' sequence), the orders are given those,
    else the database gives them theirs, read back after.
    """
    dialect = s.connection().dialect.name
    now = utcnow()
    stamp = converted(ORDERS, ("updated_at",), dialect)((now,))[0]
    origin = converted(ORDERS, ("origin",), dialect)
    web, phone = origin((OrderOrigin.WEB,))[0], origin((OrderOrigin.PHONE,))[0]
    made = []
    orders = []
    for item in items:
        rows = item.rows if item.rows is not None and item.rows.dialect == dialect else new_order_rows(item, dialect)
        made.append(rows)
        reference = item.reference if item.reference and item.reference not in used_refs else None
        customer_id = customers.get(item.customer_store_id or 0)
        if customer_id:
            ctx.stats.reindex.add(customer_id)
        order = rows.order if rows.order[-1] is not None else rows.order[:-1] + (stamp,)  # no date: now
        orders.append(order + (reference, customer_id, phone if reference else web, stamp))
    if len(fresh_ids) >= len(items):
        ids = {item.store_id: oid for item, oid in zip(items, fresh_ids)}
        insert_converted(s, ORDERS, ("id",) + ORDER_COLUMNS,
                         [(oid,) + order for oid, order in zip(fresh_ids, orders)])
    else:
        insert_converted(s, ORDERS, ORDER_COLUMNS, orders)
        ids = _local_ids(s, "orders", [i.store_id for i in items])
    lines, shipping, addresses, payments, shipments = [], [], [], [], []
    product_ids = ctx.product_ids
    for item, rows in zip(items, made):
        oid = ids[item.store_id]
        lines.extend((oid, product_ids.get(store_product or 0), *line) for store_product, line in rows.lines)
        shipping.extend((oid, *line) for line in rows.shipping)
        addresses.extend((oid, *address) for address in rows.addresses)
        if rows.payment is not None:
            payments.append((oid, *rows.payment))
        for parcel in item.tracking:
            shipments.append({"order_id": oid, "carrier": parcel["carrier"],
                              "tracking_number": parcel["tracking_number"],
                              "shipped_at": parcel["shipped_at"] or item.modified_at or now, "recorded_by": None})
    for table, names, batch in ((LINES, LINE_COLUMNS, lines), (SHIPPING, SHIPPING_COLUMNS, shipping),
                                (ORDER_ADDRESSES, ADDRESS_COLUMNS, addresses), (PAYMENTS, PAYMENT_COLUMNS, payments)):
        insert_converted(s, table, names, batch)
    bulk_insert(s, SHIPMENTS, shipments)
    ctx.stats.changed_orders.update(ids.values())
    return ids


def _waiting_order_messages(s: Session, order_ids: list[int]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    if not order_ids:
        return out
    for row in s.execute(
        select(OUTBOX.c.id, OUTBOX.c.kind, OUTBOX.c.entity_id, OUTBOX.c.payload, OUTBOX.c.created_at,
               OUTBOX.c.status)
        .where(OUTBOX.c.entity_type == "order", OUTBOX.c.entity_id.in_(order_ids), OUTBOX.c.status.in_(_WAITING))
        .order_by(OUTBOX.c.id)
    ):
        out[row.entity_id].append(row)
    return out


def message_payload(row) -> dict:
    try:
        value = json.loads(row.payload or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def decide_order_status(row, item: sm.OrderData, waiting: list[Any]) -> tuple[OrderStatus, dict | None]:
    """The status to keep locally and, when both sides changed it differently, the clash.

    `row` is the local order, `waiting` its messages not yet sent. A status change
    waiting here wins over a store whose copy did not change since the last pull (or
    whose status is still the one the change started from); a store that changed the
    status to something else makes a conflict for a person to settle.
    """
    local = row["status"]
    store = item.status or local
    status_changes = [m for m in waiting if m.kind == OutboxKind.UPDATE_ORDER_STATUS]
    if status_changes:
        if store == local:
            return local, None
        # The statuses the waiting changes start from: the store may stand on any of them
        # (none sent yet, or the first of two sent) without anyone having changed it there.
        bases = {message_payload(m).get("from") for m in status_changes} - {None, ""}
        if store in bases:
            return local, None
        unchanged_there = row["store_modified_at"] is not None and item.modified_at == row["store_modified_at"]
        if not bases and unchanged_there:
            return local, None
        return local, {"status": (str(local), str(store)), "_message": status_changes[-1].id}
    if any(m.kind == OutboxKind.MARK_ORDER_PAID for m in waiting) and store in (
        OrderStatus.PENDING, OrderStatus.ON_HOLD, OrderStatus.FAILED
    ):
        return local, None
    return store, None


def _update_orders(s: Session, ctx: PullContext, pairs: dict[int, tuple[Any, sm.OrderData]],
                   customers: dict[int, int]) -> None:
    order_ids = [row["id"] for row, _ in pairs.values()]
    waiting = _waiting_order_messages(s, order_ids)
    lines = defaultdict(list)
    for r in s.execute(select(LINES).where(LINES.c.order_id.in_(order_ids)).order_by(LINES.c.id)).mappings():
        lines[r["order_id"]].append(r)
    shipping = defaultdict(list)
    for r in s.execute(select(SHIPPING).where(SHIPPING.c.order_id.in_(order_ids)).order_by(SHIPPING.c.id)).mappings():
        shipping[r["order_id"]].append(r)
    addresses = defaultdict(dict)
    for r in s.execute(select(ORDER_ADDRESSES).where(ORDER_ADDRESSES.c.order_id.in_(order_ids))).mappings():
        addresses[r["order_id"]][r["kind"]] = r
    tracking_known = defaultdict(set)
    if any(item.tracking for _, item in pairs.values()):
        for oid, number in s.execute(select(SHIPMENTS.c.order_id, SHIPMENTS.c.tracking_number)
                                     .where(SHIPMENTS.c.order_id.in_(order_ids))):
            tracking_known[oid].add(number)

    now = utcnow()
    updates = []
    seen_only = []
    replace_lines, replace_shipping, replace_addresses = [], [], []
    new_lines, new_shipping, new_addresses, new_shipments = [], [], [], []
    newly_paid: list[tuple[int, sm.OrderData]] = []
    new_totals: list[dict] = []
    for store_id, (row, item) in pairs.items():
        oid = row["id"]
        status, clash = decide_order_status(row, item, waiting.get(oid, []))
        if clash is not None:
            message_id = clash.pop("_message")
            record_conflicts(s, ctx.stats, entity_type="order", entity_id=oid, customer_id=row["customer_id"],
                             conflicts=clash, outbox_id=message_id)
            s.execute(update(OUTBOX).where(OUTBOX.c.id == message_id, OUTBOX.c.status == OutboxStatus.PENDING)
                      .values(status=OutboxStatus.CONFLICT))
        values = dict(item.values)
        if row["anonymised"]:
            # Keep what the erasure left, but add no field the store did not send: every
            # row of the batched update must carry the same columns.
            for name in _PERSONAL_ORDER_FIELDS:
                if name in values:
                    values[name] = row[name]
        customer_id = customers.get(item.customer_store_id or 0) or row["customer_id"]
        paid_at = row["paid_at"] or item.paid_at
        wanted = {**values, "status": status, "customer_id": customer_id, "paid_at": paid_at}
        if row["store_id"] is None:
            wanted["store_id"] = store_id
        else:
            wanted["store_id"] = row["store_id"]
        differs = [k for k, v in wanted.items() if row[k] != v]
        if row["paid_at"] is None and item.paid_at is not None:
            newly_paid.append((oid, item))
        if row["total"] != item.values["total"]:
            new_totals.append({"b_order": oid, "b_amount": item.values["total"]})

        kept_parts_changed = False
        rows_now = _line_rows(oid, item, ctx.product_ids)
        if [_line_key(r) for r in rows_now] != [_line_key(r) for r in lines.get(oid, [])]:
            replace_lines.append(oid)
            new_lines.extend(rows_now)
            kept_parts_changed = True
        ship_now = _shipping_rows(oid, item)
        if [_shipping_key(r) for r in ship_now] != [_shipping_key(r) for r in shipping.get(oid, [])]:
            replace_shipping.append(oid)
            new_shipping.extend(ship_now)
            kept_parts_changed = True
        if not row["anonymised"]:
            addr_now = _address_rows(oid, item)
            have = addresses.get(oid, {})
            if {r["kind"]: _address_key(r) for r in addr_now} != {k: _address_key(v) for k, v in have.items()}:
                replace_addresses.append(oid)
                new_addresses.extend(addr_now)
                kept_parts_changed = True
        for parcel in item.tracking:
            if parcel["tracking_number"] not in tracking_known[oid]:
                tracking_known[oid].add(parcel["tracking_number"])
                new_shipments.append({"order_id": oid, "carrier": parcel["carrier"],
                                      "tracking_number": parcel["tracking_number"],
                                      "shipped_at": parcel["shipped_at"] or item.modified_at or now,
                                      "recorded_by": None})
                kept_parts_changed = True
        if differs == ["store_modified_at"] and not kept_parts_changed:
            # Saved again on the store with nothing kept here changed (only what is not kept:
            # a line's tax class, a plugin's fields): the copy seen is noted; no new version
            # for a desk changing the order to trip over, and not counted as changed there.
            seen_only.append({"b_id": oid, "b_modified": wanted["store_modified_at"]})
        elif differs:
            updates.append({"b_id": oid, **wanted})
            if customer_id and (customer_id != row["customer_id"] or row["number"] != wanted["number"]):
                ctx.stats.reindex.add(customer_id)

    if seen_only:
        s.execute(update(ORDERS).where(ORDERS.c.id == bindparam("b_id"))
                  .values(store_modified_at=bindparam("b_modified")), seen_only)
    if updates:
        keys = [k for k in updates[0] if k != "b_id"]
        # Rows may differ in which keys they carry only by store_id; all carry the same keys here.
        stmt = (
            update(ORDERS)
            .where(ORDERS.c.id == bindparam("b_id"))
            .values({k: bindparam(k) for k in keys} | {"updated_at": now, "version": ORDERS.c.version + 1})
        )
        s.execute(stmt, updates)
        ctx.stats.changed_orders.update(u["b_id"] for u in updates)
    for table, replaced, batch in ((LINES, replace_lines, new_lines), (SHIPPING, replace_shipping, new_shipping),
                                   (ORDER_ADDRESSES, replace_addresses, new_addresses)):
        if replaced:
            s.execute(delete(table).where(table.c.order_id.in_(replaced)))
            ctx.stats.changed_orders.update(replaced)
        if batch:
            s.execute(insert(table), batch)
    if new_shipments:
        s.execute(insert(SHIPMENTS), new_shipments)
        ctx.stats.changed_orders.update(r["order_id"] for r in new_shipments)
    if new_totals:
        # A payment still awaited is for what the store charges (its tax, fees, rounding).
        s.execute(update(PAYMENTS).where(PAYMENTS.c.order_id == bindparam("b_order"),
                                         PAYMENTS.c.status == PaymentStatus.AWAITING)
                  .values(amount=bindparam("b_amount")), new_totals)
    if newly_paid:
        record_store_payments(s, newly_paid)


def record_store_payments(s: Session, paid: list[tuple[int, sm.OrderData]]) -> None:
    """Mark the waiting payment of orders the store now calls paid as paid, or add a store payment."""
    order_ids = [oid for oid, _ in paid]
    awaiting = {}
    has_paid = set()
    for r in s.execute(select(PAYMENTS.c.id, PAYMENTS.c.order_id, PAYMENTS.c.status)
                       .where(PAYMENTS.c.order_id.in_(order_ids)).order_by(PAYMENTS.c.id)):
        if r.status == PaymentStatus.PAID:
            has_paid.add(r.order_id)
        elif r.status == PaymentStatus.AWAITING and r.order_id not in awaiting:
            awaiting[r.order_id] = r.id
    inserts = []
    for oid, item in paid:
        if oid in has_paid:
            continue
        if oid in awaiting:
            s.execute(update(PAYMENTS).where(PAYMENTS.c.id == awaiting[oid]).values(
                status=PaymentStatus.PAID, transaction_id=item.transaction_id, paid_at=item.paid_at,
                gateway=item.values["payment_method"]))
        else:
            inserts.append(_store_payment(oid, item))
    if inserts:
        s.execute(insert(PAYMENTS), inserts)


def rebuild_or_reindex(db: Database, stats: RunStats, options: SyncOptions, progress: Progress | None = None,
                       *, force: bool = False) -> None:
    """Bring the customer search index up to date for the customers this run touched, and
    only for them (`force`: rebuild it all, after a run that stopped before doing this).

    """
    ids = sorted(i for i in stats.reindex if i)
    if not ids and not force:
        return
    if force:
        if progress is not None:
            progress(0, 1, "Rebuilding the customer search index")
        rebuild_search_index(db)
    else:
        batch = (options.bulk_reindex_threshold_postgresql if db.backend == "postgresql"
                 else options.bulk_reindex_threshold)
        reindex_customers(db, ids, progress, batch_size=max(1, batch))
    stats.reindex.clear()


__all__ = [
    "PullContext",
    "apply_customer_groups",
    "customer_scan_due",
    "decide_order_status",
    "forget_store_accounts",
    "load_local_customer",
    "load_product_ids",
    "mark_orders_trashed",
    "pull_all_customers",
    "pull_orders",
    "pull_trashed_orders",
    "pull_products",
    "pull_changed_customers",
    "forget_deleted_orders",
    "rebuild_or_reindex",
    "record_conflicts",
    "upsert_customers",
    "upsert_order_data",
    "upsert_orders",
    "waiting_customer_changes",
]
