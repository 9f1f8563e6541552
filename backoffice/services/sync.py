"""Two-way sync with the web store: push the outbox, then pull products, customers and orders.

The sync survives outages without losing or doubling anything:

* Changes made here are written to the outbox in the same transaction as the change
  (by the services that make them) and sent from here, each built from the record at
  send time; an order's create carries the back office reference, and a create whose
  answer was lost is looked up by that reference before anything is sent again.
* Pulls are upserts by the store's ids, a few pages per transaction; a listing's cursor
  moves only when the whole listing is written, and a listing cut short goes on next
  time after the last batch it wrote.
* A local change still waiting while the store changed the same field becomes a
  conflict a person settles (`list_conflicts`, `resolve_conflict`); disjoint changes
  merge.
* A customer deleted on the store is kept here, with their orders, without the link to
  the account (the full scan notices, or a correction that finds the account gone); a
  change waiting for them is settled with a note instead of opening a new account.
* An order deleted (moved to the trash) on the store is kept here as deleted there, never
  open (the incremental pull also lists the store's trash since its cursor; an order
  trashed before it was read is not imported); a change waiting for it is settled with a
  note instead of being sent. Restored on the store, it comes back with its status.
  Orders deleted there for good leave no trace in any listing and stay here as they were.
* One run at a time per database (a lock that a killed process does not keep).

Public entry points: `run_sync`, `push_pending`, `push_order_now`,
`refresh_order_from_store`, `sync_status`, `list_sync_runs`, `list_outbox`,
`retry_failed`, `list_conflicts`, `resolve_conflict`, `connector_for`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from backoffice import secrets
from backoffice.collector import calm_gc
from backoffice.db import Database, is_lock_conflict
from backoffice.domain.base import utcnow
from backoffice.domain.customers import Customer, CustomerAddress
from backoffice.domain.enums import AddressKind, OrderStatus, OutboxKind, OutboxStatus
from backoffice.domain.orders import Order
from backoffice.domain.staff import Actor, Permission
from backoffice.domain.sync import OutboxMessage, SyncConflict, SyncRun
from backoffice.errors import Cancelled, NotFound, StoreError, UserFacingError, ValidationError
from backoffice.services import access, audit
from backoffice.services import store_mapping as sm
from backoffice.services.changes import Changes
from backoffice.services.newsletters import store_consent
from backoffice.services.record_labels import record_labels
from backoffice.services.settings import default_country, get_setting, read_setting, shop_default_country
from backoffice.services.sync_common import (
    CURSOR_REINDEX,
    DEFAULT_OPTIONS,
    LOCK_PUSH,
    LOCK_RUN,
    Progress,
    RequestCounter,
    RunStats,
    SyncBusy,
    SyncLock,
    SyncOptions,
    attach_counter,
    log,
    pages_in_parallel,
    read_cursor_in,
    safe_sentence,
    write_cursor,
)
from backoffice.services.sync_pull import (
    NAMED_BAD_RECORDS,
    PullContext,
    customer_scan_due,
    load_local_customer,
    load_product_ids,
    message_payload,
    pull_all_customers,
    pull_orders,
    pull_products,
    pull_changed_customers,
    forget_deleted_orders,
    rebuild_or_reindex,
    upsert_orders,
)
from backoffice.services.sync_push import KIND_LABELS, Pusher, order_message_ids
# The sync at a glance reads the database only; it is named here as well.
from backoffice.services.sync_state import SyncStatus, sync_status  # noqa: F401
from backoffice.store.connector import StoreAuthError, StoreCredentials, StoreNotFoundError
from backoffice.store.http import check_store_url
from backoffice.store.woocommerce import WooCommerceConnector

__all__ = [
    "ConflictRow",
    "OrderStoreState",
    "OutboxRow",
    "PushSummary",
    "SyncBusy",
    "SyncOptions",
    "SyncRunRow",
    "StoreAuthError",
    "SyncStatus",
    "SyncSummary",
    "check_store_connection",
    "connector_for",
    "list_conflicts",
    "list_outbox",
    "list_sync_runs",
    "push_order_now",
    "push_pending",
    "refresh_order_from_store",
    "resolve_conflict",
    "retry_failed",
    "run_sync",
    "sync_status",
]

audit.register_action("retry_sync_message", "Sent a failed store change again")
audit.register_action("resolve_sync_conflict", "Settled a sync conflict")
audit.register_action("sync_run", "Synced with the web store")
audit.register_action("sync_push", "Sent changes to the web store")
audit.register_action("view_sync_conflicts", "Viewed sync conflicts")

#: How long `push_order_now` waits for a sync run that is sending at that moment.
PUSH_NOW_WAIT_SECONDS = 20.0


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushSummary:
    """What one push of the outbox did."""

    sent: int
    failed: int
    waiting: int
    conflicts: int
    retried_later: int
    errors: tuple[str, ...]
    stopped: str  # why sending stopped early (the store is away), or ""
    changes: Changes

    @property
    def ok(self) -> bool:
        return not self.stopped


@dataclass(frozen=True)
class SyncSummary:
    """What one sync run did, for the status bar, the log and the command line."""

    run_id: int
    ok: bool
    started_at: datetime
    finished_at: datetime
    pushed: int
    push_failed: int
    waiting: int
    pulled_orders: int
    pulled_customers: int
    pulled_products: int
    fetched_customers: int
    new_conflicts: int
    requests: int
    cards_masked: int
    error: str
    text: str
    changes: Changes
    #: Customers whose account was deleted on the store, kept here without one.
    unlinked_customers: int = 0
    #: Orders deleted (trashed) on the store in this run, kept here marked so.
    trashed_orders: int = 0
    #: Pages of orders read, and the program's CPU time (every thread) while reading and writing them.
    order_pages: int = 0
    order_cpu_seconds: float = 0.0
    #: Of those pages, how many were mapped in a process of their own (on another core).
    mapped_order_pages: int = 0

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class OrderStoreState:
    """An order as the web store has it, for the phone-order screen."""

    order_id: int
    store_id: int | None
    number: str | None
    status: OrderStatus
    paid: bool
    payment_url: str | None
    waiting: int = 0  # messages for this order not sent yet
    message: str = ""  # why it is not on the store yet, or ""


@dataclass(frozen=True)
class SyncRunRow:
    id: int
    started_at: datetime
    finished_at: datetime | None
    ok: bool | None
    pulled_orders: int
    pulled_customers: int
    pulled_products: int
    pushed: int
    requests: int
    summary: str
    error: str

    @property
    def state(self) -> str:
        if self.finished_at is None:
            return "Running" if self.ok is None else "Stopped"
        return "OK" if self.ok else "Failed"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    created_at: datetime
    kind: OutboxKind
    kind_label: str
    entity_type: str
    entity_id: int
    status: OutboxStatus
    attempts: int
    last_error: str
    next_attempt_at: datetime | None
    sent_at: datetime | None
    store_id: int | None
    reference: str
    # What staff call the record: "order 4268", "Carol Adams", "shipment of order 4268".
    record_label: str = ""


@dataclass(frozen=True)
class ConflictRow:
    id: int
    entity_type: str
    entity_id: int
    customer_id: int | None
    field: str
    field_label: str
    local_value: str
    store_value: str
    detected_at: datetime
    resolved: bool
    resolution: str
    outbox_id: int | None
    record_label: str = ""


_FIELD_LABELS = {
    "first_name": "First name", "last_name": "Last name", "email": "Email", "phone": "Phone",
    "status": "Order status", "company": "Company", "address_1": "Address", "address_2": "Address line 2",
    "city": "City", "state": "State", "postcode": "Postcode", "country": "Country",
}


def field_label(name: str) -> str:
    """A conflict field as people read it ("Billing: City")."""
    group, _, sub = name.partition(".")
    if sub:
        return f"{group.capitalize()}: {_FIELD_LABELS.get(sub, sub)}"
    return _FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


# --- the connector -------------------------------------------------------------------------------


def connector_for(db: Database, *, store_url: str | None = None, **connector_options: Any) -> WooCommerceConnector:
    """A connector to the shop's web store: the address from `store.url` (or `store_url`),
    the keys from the environment or the keyring (`secrets.store_credentials`).

    `connector_options` go to `WooCommerceConnector` (timeouts, retries). The connector
    counts its requests (`connector.request_counter`). Raises UserFacingError when no
    store or no keys are set up, ValidationError for an address that cannot be used.
    """
    url = (store_url or get_setting(db, "store.url") or "").strip()
    if not url:
        raise UserFacingError(
            "No web store is set up: enter the store's address in Shop settings → Web store. "
            "Nothing was sent or fetched.")
    try:
        base = check_store_url(url)
    except ValidationError as exc:
        if store_url:
            raise
        raise ValidationError(f"{exc.message} Check the address in Shop settings → Web store.",
                              fields=exc.fields) from None
    keys = secrets.store_credentials(base) or (secrets.store_credentials(url) if url != base else None)
    if keys is None:
        raise UserFacingError(
            f"The API keys of the web store at {base} are not set up on this computer. Enter them in Shop settings → Web store, "
            f"or run “backoffice store-keys --store {base}”. Nothing was sent or fetched.")
    hook = connector_options.pop("on_request", None)
    counter = RequestCounter(hook)
    connector = WooCommerceConnector(StoreCredentials(base, keys[0], keys[1]), on_request=counter,
                                     **connector_options)
    connector.request_counter = counter
    return connector


def check_store_connection(db: Database, *, actor: Actor) -> str:
    """Ask the web store one small question with the saved address and keys; say how it went.

    Raises UserFacingError (StoreError) with the reason when it does not answer or refuses.
    """
    access.require(db, actor, Permission.MANAGE_SETTINGS)
    connector = connector_for(db, max_retries=0, timeout=(5, 15))
    try:
        result = connector.ping()
    finally:
        connector.close()
    orders = "" if result.orders_total is None else f" It holds {result.orders_total:,} orders."
    took = f"{result.seconds * 1000:.0f} ms" if result.seconds < 1 else f"{result.seconds:.1f} s"
    return f"The web store answered in {took} and accepted the keys.{orders}"


# --- running -------------------------------------------------------------------------------------


def _region(db: Database) -> str:
    return default_country(db)


def _context(db: Database, options: SyncOptions, *, cancel=None, progress: Progress | None = None,
             lock: SyncLock | None = None) -> PullContext:
    ctx = PullContext(db=db, options=options, stats=RunStats(), region=_region(db), lock=lock, cancel=cancel,
                      progress=progress, consent_key=store_consent.consent_key(db))
    ctx.product_ids = load_product_ids(db)
    return ctx


def _push_summary(outcome, stats: RunStats) -> PushSummary:
    changes = Changes(orders=frozenset(outcome.orders | stats.changed_orders | stats.trashed_orders),
                      customers=frozenset(outcome.customers | stats.changed_customers | stats.unlinked_customers),
                      outbox=True)
    return PushSummary(
        sent=outcome.sent, failed=outcome.failed, waiting=outcome.waiting, conflicts=outcome.conflicts,
        retried_later=outcome.retried_later, errors=tuple(outcome.errors), stopped=outcome.stopped,
        changes=changes,
    )


def _push_with_lock(ctx: PullContext, connector, *, only_ids=None, wait: float = 0.0, progress=None):
    lock = SyncLock(ctx.db, ctx.options, LOCK_PUSH)
    if not lock.acquire(wait=wait, cancel=ctx.cancel):
        return None
    try:
        return Pusher(ctx, connector, renew=lock.renew).push(only_ids, progress=progress)
    finally:
        lock.release()


def push_pending(db: Database, connector, *, actor: Actor, only_ids=None, cancel=None,
                 options: SyncOptions | None = None) -> PushSummary:
    """Send the outbox messages that are due (or only `only_ids`, due or not); audited.

    Raises PermissionDenied, SyncBusy when another sync is sending right now,
    StoreAuthError when the store refuses the keys, Cancelled.
    """
    access.require(db, actor, Permission.RUN_SYNC)
    with db.begin() as s:
        audit.record(s, actor, "sync_push", entity_type="outbox")
    options = options or DEFAULT_OPTIONS
    ctx = _context(db, options, cancel=cancel)
    outcome = _push_with_lock(ctx, connector, only_ids=only_ids)
    if outcome is None:
        raise SyncBusy()
    rebuild_or_reindex(db, ctx.stats, options)
    return _push_summary(outcome, ctx.stats)


def _order_state(db: Database, order_id: int, message: str = "") -> OrderStoreState:
    with db.read() as s:
        order = s.execute(select(Order.id, Order.store_id, Order.number, Order.status, Order.paid_at,
                                 Order.payment_url).where(Order.id == order_id)).first()
        if order is None:
            raise NotFound("This order is no longer here (it may have been deleted).")
        waiting = s.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.entity_type == "order", OutboxMessage.entity_id == order_id,
            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.CONFLICT, OutboxStatus.FAILED)),
        )).scalar_one()
        if not message and order.store_id is None:
            failed = s.execute(select(OutboxMessage.last_error).where(
                OutboxMessage.entity_type == "order", OutboxMessage.entity_id == order_id,
                OutboxMessage.status == OutboxStatus.FAILED).order_by(OutboxMessage.id.desc()).limit(1)).scalar()
            pending = s.execute(select(OutboxMessage.last_error).where(
                OutboxMessage.entity_type == "order", OutboxMessage.entity_id == order_id,
                OutboxMessage.status == OutboxStatus.PENDING).order_by(OutboxMessage.id.desc()).limit(1)).scalar()
            message = failed or pending or ""
    return OrderStoreState(order_id=order.id, store_id=order.store_id, number=order.number, status=order.status,
                           paid=order.paid_at is not None, payment_url=order.payment_url, waiting=int(waiting),
                           message=message)


def push_order_now(db: Database, connector, order_id: int, *, actor: Actor,
                   options: SyncOptions | None = None, cancel=None) -> OrderStoreState:
    """Send this order's waiting messages now (and its customer's account first) and return
    the order as the store has it, with its pay link.

    When the store is away the order stays here, safe, and the returned state says so
    (`store_id` None, `message`). Raises PermissionDenied (an order taker's order that
    someone else took), NotFound, StoreAuthError.
    """
    access.require(db, actor, Permission.TAKE_PHONE_ORDER)
    access.require_own_order(db, actor, order_id)
    options = options or DEFAULT_OPTIONS
    ids = order_message_ids(db, order_id)
    if not ids:
        return _order_state(db, order_id)
    ctx = _context(db, options, cancel=cancel)
    try:
        outcome = _push_with_lock(ctx, connector, only_ids=ids, wait=PUSH_NOW_WAIT_SECONDS)
    except StoreAuthError:
        raise
    except StoreError as exc:
        return _order_state(db, order_id, exc.message)
    if outcome is None:
        return _order_state(db, order_id, "The sync is busy sending other changes; this order goes next.")
    rebuild_or_reindex(db, ctx.stats, options)
    return _order_state(db, order_id, outcome.stopped)


def refresh_order_from_store(db: Database, connector, order_id: int, *, actor: Actor,
                             options: SyncOptions | None = None) -> OrderStoreState:
    """Read one order from the store (one request) and take its status and payment here.

    An order not on the store yet is returned as it is here. Raises PermissionDenied
    (an order taker's order that someone else took), NotFound, StoreError.
    """
    access.require(db, actor, Permission.VIEW_OWN_ORDERS)
    access.require_own_order(db, actor, order_id)
    options = options or DEFAULT_OPTIONS
    with db.read() as s:
        store_id = s.execute(select(Order.store_id).where(Order.id == order_id)).scalar_one_or_none()
        exists = store_id is not None or s.get(Order, order_id) is not None
    if not exists:
        raise NotFound("This order is no longer here (it may have been deleted).")
    if store_id is None:
        return _order_state(db, order_id)
    try:
        record = connector.get_order(int(store_id))
    except StoreNotFoundError:
        # Deleted for good on the store: kept here, marked so.
        with db.begin() as s:
            s.execute(update(Order).where(Order.id == order_id).values(status=OrderStatus.DELETED))
        return _order_state(db, order_id)
    ctx = _context(db, options)
    with db.begin() as s:
        upsert_orders(s, ctx, sm.guard_records([sm.order_view(record)], ctx.stats.guard))
    rebuild_or_reindex(db, ctx.stats, options)
    return _order_state(db, order_id)


def _from_the_store(stats: RunStats) -> tuple[int, int, int]:
    """How many orders, customers and products the run changed here as the store had them
    (what this desk sent and the store took is not counted)."""
    return (len(stats.changed_orders - stats.sent_orders), len(stats.changed_customers - stats.sent_customers),
            len(stats.changed_products))


def _summary_text(stats: RunStats, pushed: int, failed: int, waiting: int, error: str) -> str:
    parts = []
    if pushed:
        parts.append(f"sent {pushed} change{'s' if pushed != 1 else ''}")
    orders, customers, products = _from_the_store(stats)
    parts.append(f"{orders:,} order{'s' if orders != 1 else ''}, {customers:,} customer{'s' if customers != 1 else ''} "
                 f"and {products:,} product{'s' if products != 1 else ''} updated from the store")
    gone = len(stats.unlinked_customers)
    if gone:
        parts.append(f"{gone:,} customer{'s' if gone != 1 else ''} deleted on the web store "
                     f"{'are' if gone != 1 else 'is'} kept here without a store account")
    trashed = len(stats.trashed_orders)
    if trashed:
        parts.append(f"{trashed:,} order{'s' if trashed != 1 else ''} deleted on the web store "
                     f"{'are' if trashed != 1 else 'is'} marked so here")
    if failed:
        parts.append(f"{failed} change{'s' if failed != 1 else ''} refused by the store")
    if waiting:
        parts.append(f"{waiting} waiting")
    if stats.new_conflicts:
        parts.append(f"{stats.new_conflicts} new conflict{'s' if stats.new_conflicts != 1 else ''} to settle")
    if stats.guard.found:
        parts.append(f"{stats.guard.found} card number{'s' if stats.guard.found != 1 else ''} masked")
    text = "; ".join(parts)
    text = text[0].upper() + text[1:] + "."
    if stats.bad_records:
        text += " " + _bad_records_text(stats.bad_records)
    if error:
        text += " " + error
    return text


def _bad_records_text(problems: list[str]) -> str:
    """The records the store sent that could not be read, one line each (the first few)."""
    count = len(problems)
    head = (f"{count} record{'s' if count != 1 else ''} the store sent could not be read and "
            f"{'were' if count != 1 else 'was'} left out (the rest was kept):")
    lines = [f"- {p}" for p in problems[:NAMED_BAD_RECORDS]]
    if count > NAMED_BAD_RECORDS:
        lines.append(f"- and {count - NAMED_BAD_RECORDS:,} more, each named in the log")
    return "\n".join([head, *lines])


def run_sync(
    db: Database,
    connector,
    *,
    actor: Actor,
    full_customer_scan: bool = False,
    cancel=None,
    progress: Progress | None = None,
    options: SyncOptions | None = None,
) -> SyncSummary:
    """One sync run: send the outbox, then pull products, customers (when due or asked) and orders.

    Writes a `SyncRun` row. `progress(done, total, text)` is called per page; `cancel`
    (a token with `is_cancelled()` or a `threading.Event`) is checked between pages and
    messages. A store that is away or refuses ends the run with `ok=False` and its
    sentence in `error` (what was written stays written). Raises SyncBusy when another
    run is going, Cancelled when cancelled, PermissionDenied. The run is audited under
    the acting account (a person, or the scheduled-job account of `backoffice sync`).
    """
    access.require(db, actor, Permission.RUN_SYNC)
    options = options or DEFAULT_OPTIONS
    run_lock = SyncLock(db, options, LOCK_RUN)
    if not run_lock.acquire(wait=options.lock_wait_seconds, cancel=cancel):
        raise SyncBusy()
    counter = attach_counter(connector)
    first_request = counter.count if counter is not None else 0
    try:
        started = utcnow()
        with db.begin() as s:
            # A run still marked as going died with its process (the lock was free).
            s.execute(update(SyncRun).where(SyncRun.finished_at.is_(None)).values(
                ok=False, finished_at=started, error="The run stopped before it finished (the program was closed "
                                                     "or the computer stopped)."))
            run = SyncRun(started_at=started)
            s.add(run)
            s.flush()
            run_id = run.id
            audit.record(s, actor, "sync_run", entity_type="sync_run", entity_id=run_id)
            needs_rebuild = bool(read_cursor_in(s, CURSOR_REINDEX))
            # Pending until the customers this run touches are indexed (see `_reindex`).
            write_cursor(s, CURSOR_REINDEX, "1")
        ctx = _context(db, options, cancel=cancel, progress=progress, lock=run_lock)
        outcome = None
        error = ""
        cancelled = False
        crash: BaseException | None = None
        try:
            outcome = _push_with_lock(ctx, connector, progress=progress)
            if outcome is not None and outcome.stopped:
                raise _StoreAway(outcome.stopped)
            with pages_in_parallel(connector, options.parallel_pages), calm_gc():
                scan = full_customer_scan or customer_scan_due(db, options)
                # Products deleted for good are in no listing; look for them with the full scan.
                pull_products(ctx, connector, scan_ids=scan)
                if scan:
                    pull_all_customers(ctx, connector)
                else:
                    # A customer edited or deleted on the store is seen at the next run.
                    pull_changed_customers(ctx, connector)
                pull_orders(ctx, connector)
                if scan:
                    forget_deleted_orders(ctx, connector)
            _reindex(db, ctx, options, force=needs_rebuild)
            if outcome is not None and outcome.read_only:
                error = outcome.read_only
        except _StoreAway as exc:
            error = str(exc)
            _reindex_after_error(db, ctx, options, force=needs_rebuild)
        except Cancelled:
            cancelled = True
            error = "Cancelled; what was fetched so far is kept."
        except StoreError as exc:
            error = exc.message
            _reindex_after_error(db, ctx, options, force=needs_rebuild)
        except UserFacingError as exc:
            error = exc.message
            _reindex_after_error(db, ctx, options, force=needs_rebuild)
        except BaseException as exc:  # recorded, then raised again
            if is_lock_conflict(exc):
                # Another desk changed the same rows at that moment; what was written stays
                # written and the next run carries on from there.
                log.warning("sync run %s collided with another desk: %s", run_id, exc)
                error = ("Another desk was changing the same records at that moment, so the sync "
                         "stopped there; what it did is kept and the next run carries on.")
            else:
                crash = exc
                error = f"The sync stopped on an unexpected error ({type(exc).__name__}); see the log."
        finished = utcnow()
        stats = ctx.stats
        pushed = outcome.sent if outcome is not None else 0
        failed = outcome.failed if outcome is not None else 0
        waiting = outcome.waiting if outcome is not None else 0
        requests = (counter.count - first_request) if counter is not None else 0
        error = safe_sentence(error)
        text = _summary_text(stats, pushed, failed, waiting, error)
        ok = not error
        from_store_orders, from_store_customers, _products = _from_the_store(stats)
        with db.begin() as s:
            s.execute(update(SyncRun).where(SyncRun.id == run_id).values(
                finished_at=finished, ok=ok, pulled_orders=from_store_orders,
                pulled_customers=from_store_customers, pulled_products=len(stats.changed_products),
                pushed=pushed, requests=requests, summary=text[:4000], error=error[:2000]))
        log.info("sync run %s finished: ok=%s, %s requests", run_id, ok, requests)
        if cancelled:
            raise Cancelled()
        if crash is not None:
            raise crash
        changes = Changes(orders=frozenset(stats.changed_orders | stats.trashed_orders
                                           | (outcome.orders if outcome else set())),
                          customers=frozenset(stats.changed_customers | stats.unlinked_customers
                                              | (outcome.customers if outcome else set())),
                          products=frozenset(stats.changed_products), outbox=True)
        return SyncSummary(
            run_id=run_id, ok=ok, started_at=started, finished_at=finished, pushed=pushed, push_failed=failed,
            waiting=waiting, pulled_orders=stats.pulled_orders, pulled_customers=from_store_customers,
            pulled_products=stats.pulled_products, fetched_customers=stats.fetched_customers,
            new_conflicts=stats.new_conflicts, requests=requests, cards_masked=stats.guard.found, error=error,
            text=text, changes=changes, unlinked_customers=len(stats.unlinked_customers),
            trashed_orders=len(stats.trashed_orders), order_pages=stats.order_pages,
            order_cpu_seconds=stats.order_cpu_seconds, mapped_order_pages=stats.mapped_order_pages,
        )
    finally:
        run_lock.release()


class _StoreAway(Exception):
    """Sending stopped because the store is away; the pull is not tried in this run."""


def _reindex(db: Database, ctx: PullContext, options: SyncOptions, *, force: bool) -> None:
    """Update the customer search index for the customers the run touched (all of it when
    `force`). The run flagged the index pending when it began, so a run that stops before
    this (killed, the computer off) has the next run rebuild it whole."""
    rebuild_or_reindex(db, ctx.stats, options, ctx.progress, force=force)
    with db.begin() as s:
        write_cursor(s, CURSOR_REINDEX, "")


def _reindex_after_error(db: Database, ctx: PullContext, options: SyncOptions, *, force: bool) -> None:
    """After a run the store cut short: index what was written; on failure the flag stays."""
    try:
        _reindex(db, ctx, options, force=force)
    except Exception:  # noqa: BLE001 - the next run rebuilds the index; the store's error is what to say
        log.exception("the search index was not brought up to date after the run stopped")


# --- reading the sync's state ----------------------------------------------------------------------


def list_sync_runs(db: Database, *, actor: Actor, limit: int = 100) -> list[SyncRunRow]:
    """The latest sync runs, newest first. Raises PermissionDenied."""
    access.require(db, actor, Permission.RUN_SYNC)
    with db.read() as s:
        rows = s.execute(select(SyncRun).order_by(SyncRun.id.desc()).limit(max(1, min(limit, 1000)))).scalars()
        return [SyncRunRow(r.id, r.started_at, r.finished_at, r.ok, r.pulled_orders, r.pulled_customers,
                           r.pulled_products, r.pushed, r.requests, r.summary, r.error) for r in rows]


def list_outbox(db: Database, status: OutboxStatus | str | None = None, *, actor: Actor,
                limit: int = 500) -> list[OutboxRow]:
    """Outbox messages, oldest waiting first (sent ones newest first), optionally of one status.

    Raises PermissionDenied.
    """
    access.require(db, actor, Permission.RUN_SYNC)
    stmt = select(OutboxMessage)
    if status is not None:
        status = OutboxStatus(status)
        stmt = stmt.where(OutboxMessage.status == status)
        order = OutboxMessage.id.desc() if status == OutboxStatus.SENT else OutboxMessage.id
    else:
        order = OutboxMessage.id.desc()
    with db.read() as s:
        rows = s.execute(stmt.order_by(order).limit(max(1, min(limit, 5000)))).scalars().all()
        labels = record_labels(s, [(m.entity_type, m.entity_id) for m in rows])
        return [
            OutboxRow(m.id, m.created_at, m.kind, KIND_LABELS.get(m.kind, str(m.kind)), m.entity_type, m.entity_id,
                      m.status, m.attempts, m.last_error, m.next_attempt_at, m.sent_at, m.store_id, m.reference,
                      labels[(m.entity_type, m.entity_id)])
            for m in rows
        ]


def retry_failed(db: Database, *, actor: Actor, ids) -> Changes:
    """Put failed messages back in the queue, to be sent at the next sync (audited).

    Raises PermissionDenied.
    """
    access.require(db, actor, Permission.RUN_SYNC)
    ids = [int(i) for i in ids]
    with db.begin() as s:
        rows = s.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids),
                                                     OutboxMessage.status == OutboxStatus.FAILED)).scalars().all()
        for m in rows:
            m.status = OutboxStatus.PENDING
            m.next_attempt_at = None
            # Attempts stay above zero for order creates: they are looked up before being sent again.
            if m.kind != OutboxKind.CREATE_ORDER:
                m.attempts = 0
            m.last_error = ""
            audit.record(s, actor, "retry_sync_message", entity_type="outbox", entity_id=m.id)
    return Changes(outbox=True)


def list_conflicts(db: Database, *, actor: Actor, resolved: bool = False,
                   limit: int = 500) -> list[ConflictRow]:
    """Conflicts waiting for a choice (or, with `resolved`, the settled ones), oldest first.

    They show customers' names, phones and emails as held here and on the store, so
    reading them is audited (which fields, once per listing). Raises PermissionDenied.
    """
    access.require(db, actor, Permission.RUN_SYNC)
    with db.begin() as s:
        rows = s.execute(select(SyncConflict).where(SyncConflict.resolved.is_(resolved))
                         .order_by(SyncConflict.id).limit(max(1, min(limit, 5000)))).scalars().all()
        if rows:
            audit.record(s, actor, "view_sync_conflicts", entity_type="sync_conflict",
                         fields=sorted({c.field for c in rows if c.field}))
        labels = record_labels(s, [(c.entity_type, c.entity_id) for c in rows])
        return [
            ConflictRow(c.id, c.entity_type, c.entity_id, c.customer_id, c.field, field_label(c.field),
                        c.local_value or "", c.store_value or "", c.detected_at, c.resolved, c.resolution,
                        c.outbox_id, labels[(c.entity_type, c.entity_id)])
            for c in rows
        ]


def resolve_conflict(db: Database, *, actor: Actor, conflict_id: int, keep: str) -> Changes:
    """Settle a conflict: keep the value made here ("local", sent to the store at the next
    sync) or the store's ("store", taken here). When the last open conflict of a message is
    settled, the message is sent again (or dropped when nothing of it is left to send).

    Raises PermissionDenied, NotFound, ValidationError (keep not "local" or "store").
    """
    if keep not in ("local", "store"):
        raise ValidationError("Choose to keep the value here or the store's value.", fields={"keep": "local or store"})
    access.require(db, actor, Permission.RUN_SYNC)
    changes = Changes(outbox=True)
    with db.begin() as s:
        conflict = s.get(SyncConflict, conflict_id)
        if conflict is None:
            raise NotFound(f"Conflict {conflict_id} was not found.")
        if conflict.resolved:
            return Changes()
        conflict.resolved = True
        conflict.resolved_at = utcnow()
        conflict.resolved_by = actor.staff_id
        conflict.resolution = keep
        if conflict.entity_type == "customer":
            _resolve_customer(s, conflict, keep)
            changes = changes | Changes(customers=frozenset({conflict.entity_id}))
        elif conflict.entity_type == "order":
            _resolve_order(s, conflict, keep)
            changes = changes | Changes(orders=frozenset({conflict.entity_id}))
        s.flush()
        _release_message(s, conflict)
        audit.record(s, actor, "resolve_sync_conflict", entity_type=conflict.entity_type,
                     entity_id=conflict.entity_id, customer_id=conflict.customer_id, fields=[conflict.field])
    return changes


def _resolve_customer(s, conflict: SyncConflict, keep: str) -> None:
    local = load_local_customer(s, conflict.entity_id)
    if local is None:
        return
    if keep == "store":
        _set_customer_field(s, local, conflict.field, conflict.store_value or "")
        local = load_local_customer(s, conflict.entity_id)
    whole, parts = sm.split_digest(local.digest)
    if parts is None:
        return
    group = sm.group_of_field(conflict.field)
    # The store's value of the group as it stands: ours where the sides agreed, the
    # store's where a conflict of the same message said it differs. It becomes the new
    # base, so a value kept here is sent, and nothing is flagged again unless the store
    # changes it anew.
    theirs = sm.group_field_values(group, sm.local_groups(local.values, local.billing, local.shipping)[group])
    for other in s.execute(select(SyncConflict).where(
            SyncConflict.entity_type == "customer", SyncConflict.entity_id == conflict.entity_id,
            SyncConflict.outbox_id == conflict.outbox_id)).scalars():
        if other.field in theirs:
            theirs[other.field] = other.store_value or ""
    parts[group] = sm.digest(sm.group_from_fields(group, theirs))[:8]
    s.execute(update(Customer).where(Customer.id == local.id).values(
        store_digest=sm.compose_digest(whole or "", parts)))


def _set_customer_field(s, local, name: str, value: str) -> None:
    group, _, sub = name.partition(".")
    if not sub:
        values = dict(local.values)
        values[group] = value
        columns = {group: value or (None if group == "email" else "")}
        columns.update(sm.contact_columns(first_name=values["first_name"], last_name=values["last_name"],
                                          company=values["company"], email=values["email"] or None,
                                          phone=values["phone"], region=_region_in(s)))
        s.execute(update(Customer).where(Customer.id == local.id).values(**columns, version=Customer.version + 1))
        local.values[group] = value
        return
    if group == "billing" and sub == "company":
        s.execute(update(Customer).where(Customer.id == local.id).values(company=value,
                                                                         version=Customer.version + 1))
        local.values["company"] = value
        if local.billing_id is None:
            return
    row_id = local.billing_id if group == "billing" else local.shipping_id
    if row_id is None:
        kind = AddressKind.BILLING if group == "billing" else AddressKind.SHIPPING
        s.add(CustomerAddress(customer_id=local.id, kind=kind, is_default=True, **{sub: value}))
        return
    s.execute(update(CustomerAddress).where(CustomerAddress.id == row_id).values(**{sub: value}))


def _region_in(s) -> str:
    return shop_default_country(s)


def _resolve_order(s, conflict: SyncConflict, keep: str) -> None:
    if conflict.field != "status":
        return
    order = s.get(Order, conflict.entity_id)
    if order is None:
        return
    if keep == "store":
        try:
            order.status = OrderStatus(conflict.store_value)
        except ValueError:
            return
    elif conflict.outbox_id is not None:
        message = s.get(OutboxMessage, conflict.outbox_id)
        if message is not None:
            payload = message_payload(message)
            payload["from"] = conflict.store_value
            message.payload = json.dumps(payload)


def _release_message(s, conflict: SyncConflict) -> None:
    """Send the conflict's message again once nothing about it is left to settle."""
    if conflict.outbox_id is None:
        return
    still_open = s.execute(select(func.count()).select_from(SyncConflict).where(
        SyncConflict.outbox_id == conflict.outbox_id, SyncConflict.resolved.is_(False))).scalar_one()
    if still_open:
        return
    message = s.get(OutboxMessage, conflict.outbox_id)
    if message is None or message.status != OutboxStatus.CONFLICT:
        return
    if conflict.entity_type == "order" and conflict.resolution == "store":
        message.status = OutboxStatus.SENT
        message.sent_at = utcnow()
        message.last_error = "Not sent: the store's value was kept."
        return
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = None
    message.last_error = ""

