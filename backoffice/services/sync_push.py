"""Pushing to the web store: the outbox's messages, each built from the record at send time.

Messages are sent oldest first. A message that cannot go yet (its order is not on the
store) waits without counting an attempt; one the store did not take because of an
outage is tried again later with a growing pause; one the store refuses is marked
FAILED with the store's sentence for staff to see. A create of an order is marked as
attempted before it is sent, so after a lost answer or a crash the order is looked
up by its reference on the store instead of being sent twice. Asking the store to email
an order's pay link works the same way: the newest order note is remembered before
asking, and after a lost answer or a crash the store's notes tell whether the email went.
A change for an order deleted (trashed) on the store is settled with a note instead of
being sent: before tracking numbers and pay-link emails go, the store is asked once which
of their orders are in its trash, and a status change or payment finds out from the order
it reads first.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import Session

from backoffice.domain.base import utcnow
from backoffice.domain.catalog import Product
from backoffice.domain.customers import Customer
from backoffice.domain.enums import (
    AddressKind,
    CustomerStatus,
    OrderStatus,
    OutboxKind,
    OutboxStatus,
    PaymentMethod,
    PaymentStatus,
)
from backoffice.domain.orders import Order, OrderAddress, OrderLine, OrderRefund, Payment, Shipment, ShippingLine
from backoffice.domain.sync import OutboxMessage, PayLinkOutcome
from backoffice.errors import StoreError
from backoffice.services import store_mapping as sm
from backoffice.services.outbox import outbox_reference
from backoffice.services.privacy import store_erasure
from backoffice.services.newsletters import store_consent
from backoffice.services.settings import read_setting
from backoffice.services.sync_common import check, log, safe_sentence
from backoffice.services.sync_pull import (
    ACCOUNT_GONE_NOTE,
    ORDER_GONE_NOTE,
    PullContext,
    apply_customer_groups,
    forget_store_accounts,
    load_local_customer,
    mark_orders_trashed,
    message_payload,
    record_conflicts,
    upsert_customers,
    upsert_orders,
)
from backoffice.store.connector import (
    AmbiguousWriteError,
    StoreAuthError,
    StoreFeatureMissingError,
    StoreNotFoundError,
    StoreReadOnlyError,
)
from backoffice.store.woocommerce import NO_ORDER_EMAIL

OUTBOX = OutboxMessage.__table__
ORDERS = Order.__table__
SHIPMENTS = Shipment.__table__
REFUNDS = OrderRefund.__table__
CUSTOMERS = Customer.__table__
HANDED_OVER_NOTE = ("The web store already had an account with this email, that of a customer merged into "
                    "this one: it is this customer's now, with this customer's details.")

KIND_LABELS = {
    OutboxKind.CREATE_ORDER: "Create order",
    OutboxKind.UPDATE_ORDER_STATUS: "Change order status",
    OutboxKind.MARK_ORDER_PAID: "Mark order paid",
    OutboxKind.ADD_TRACKING: "Add tracking number",
    OutboxKind.CREATE_REFUND: "Record a refund",
    OutboxKind.CREATE_CUSTOMER: "Create customer account",
    OutboxKind.UPDATE_CUSTOMER: "Correct customer details",
    OutboxKind.ERASE_CUSTOMER: "Erase customer",
    OutboxKind.UPDATE_CONSENT: "Update newsletter consent",
    OutboxKind.MERGE_CUSTOMERS: "Merge customers",
    OutboxKind.SEND_PAY_LINK: "Email the pay link",
    OutboxKind.ANONYMISE_STORE_ORDER: "Anonymise order (erasure)",
    OutboxKind.DELETE_STORE_CUSTOMER: "Delete customer account (erasure)",
}

ORDER_KINDS = (OutboxKind.CREATE_ORDER, OutboxKind.UPDATE_ORDER_STATUS, OutboxKind.MARK_ORDER_PAID,
               OutboxKind.ADD_TRACKING, OutboxKind.SEND_PAY_LINK, OutboxKind.CREATE_REFUND)


GUEST_ORDER_NOTE = "Sent as a guest order: the customer's account was deleted on the web store."


class _Wait(Exception):
    """The message cannot go yet (what it depends on is not on the store); no attempt is counted."""


class _Refused(Exception):
    """The message cannot be sent as it is; it is marked FAILED with this sentence."""


class _Conflicted(Exception):
    """The message now waits for a person to settle a conflict."""


class _OrderGone(Exception):
    """The message's order was deleted on the store; the message is settled with a note, not sent."""


class _Retry(Exception):
    """The store did not take the message this time; its attempt is already counted."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


@dataclass
class Sent:
    store_id: int | None = None
    note: str = ""


@dataclass
class PushOutcome:
    """Counts of one push pass."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0
    conflicts: int = 0
    retried_later: int = 0
    errors: list[str] = field(default_factory=list)
    stopped: str = ""
    # The store's keys may only read: nothing more is sent this run, and the pull goes on.
    read_only: str = ""
    orders: set[int] = field(default_factory=set)
    customers: set[int] = field(default_factory=set)


def _mark_sent(s: Session, message_id: int, result: Sent) -> None:
    s.execute(update(OUTBOX).where(OUTBOX.c.id == message_id).values(
        status=OutboxStatus.SENT, sent_at=utcnow(), store_id=result.store_id, last_error=result.note,
        next_attempt_at=None,
    ))


class Pusher:
    """Sends outbox messages through one connector (not shared between threads)."""

    def __init__(self, ctx: PullContext, connector, *, renew=None) -> None:
        self.ctx = ctx
        self.db = ctx.db
        self.connector = connector
        self.options = ctx.options
        self._renew = renew

    # -- the loop ------------------------------------------------------------------------------

    @staticmethod
    def _due(stmt, only_ids: Iterable[int] | None):
        stmt = stmt.where(OUTBOX.c.status == OutboxStatus.PENDING)
        if only_ids is not None:
            # Asked for by name (a phone order being placed): go now, pause or not.
            return stmt.where(OUTBOX.c.id.in_(list(only_ids)))
        return stmt.where(or_(OUTBOX.c.next_attempt_at.is_(None), OUTBOX.c.next_attempt_at <= utcnow()))

    def due_ids(self, only_ids: Iterable[int] | None) -> list[int]:
        stmt = self._due(select(OUTBOX.c.id), only_ids).order_by(OUTBOX.c.id)
        with self.db.read() as s:
            return list(s.execute(stmt).scalars())

    def settle_trashed_orders(self, only_ids: Iterable[int] | None = None) -> None:
        """Ask the store which orders that tracking numbers or pay-link emails are due for are
        in its trash, and mark those deleted here (settling what waits for them) before
        anything is sent: neither change reads the order first, and a pay link must not be
        emailed for an order the shop owner deleted.

        One listing request for up to 100 orders; none when no such change is due.
        """
        if only_ids is not None:
            only_ids = list(only_ids)
        tracking = self._due(select(SHIPMENTS.c.order_id).join(
            OUTBOX, (OUTBOX.c.entity_type == "shipment") & (OUTBOX.c.entity_id == SHIPMENTS.c.id)), only_ids
        ).where(OUTBOX.c.kind == OutboxKind.ADD_TRACKING)
        pay_links = self._due(select(OUTBOX.c.entity_id), only_ids).where(
            OUTBOX.c.kind == OutboxKind.SEND_PAY_LINK, OUTBOX.c.entity_type == "order")
        with self.db.read() as s:
            order_ids = set(s.execute(tracking).scalars()) | set(s.execute(pay_links).scalars())
            if not order_ids:
                return
            store_ids = list(s.execute(select(ORDERS.c.store_id).where(
                ORDERS.c.id.in_(list(order_ids)), ORDERS.c.store_id.is_not(None),
                ORDERS.c.status != OrderStatus.TRASH)).scalars())
        if not store_ids:
            return
        trashed = {}
        for page in self.connector.iter_trashed_orders(ids=store_ids, cancel=self.ctx.cancel):
            for record in page:
                if isinstance(record, dict) and isinstance(record.get("id"), int) and record.get("status") == "trash":
                    trashed[record["id"]] = sm.parse_store_time(record.get("date_modified_gmt"))
        if trashed:
            with self.db.begin() as s:
                mark_orders_trashed(s, self.ctx, trashed)
            log.info("push: %s orders were deleted on the web store; their changes are not sent", len(trashed))

    def push(self, only_ids: Iterable[int] | None = None, progress=None) -> PushOutcome:
        outcome = PushOutcome()
        try:
            self.settle_trashed_orders(only_ids)
        except StoreAuthError:
            raise
        except StoreError as exc:
            if exc.retryable:
                # The store is away or overloaded: send nothing, so nothing reaches a deleted order.
                outcome.errors.append(exc.message)
                outcome.stopped = exc.message
                return outcome
            # An odd answer to the look-up does not hold back every change; each is sent as before.
            log.warning("push: could not ask the web store which orders are in its trash: %s", exc.message)
        ids = self.due_ids(only_ids)
        blocked: set[tuple[str, int]] = set()
        for done, message_id in enumerate(ids):
            check(self.ctx.cancel)
            if progress is not None:
                progress(done, len(ids), f"Sending changes: {done:,} of {len(ids):,}")
            with self.db.read() as s:
                row = s.execute(select(OUTBOX).where(OUTBOX.c.id == message_id)).first()
            if row is None or row.status != OutboxStatus.PENDING:
                continue
            key = (row.entity_type, row.entity_id)
            if key in blocked:
                outcome.waiting += 1
                continue
            try:
                self.send(row)
            except _Wait:
                blocked.add(key)
                outcome.waiting += 1
                continue
            except _Conflicted:
                blocked.add(key)
                outcome.conflicts += 1
                continue
            except _Retry as exc:
                blocked.add(key)
                if self._retry_later(row, exc.sentence, counted=True):
                    outcome.failed += 1
                else:
                    outcome.retried_later += 1
                outcome.errors.append(exc.sentence)
                outcome.stopped = exc.sentence
                break
            except _Refused as exc:
                self._fail(row, str(exc))
                blocked.add(key)
                outcome.failed += 1
                outcome.errors.append(str(exc))
                continue
            except StoreAuthError:
                raise
            except StoreReadOnlyError as exc:
                # Every write would be refused alike: the messages wait, none is set aside.
                outcome.waiting += 1
                outcome.errors.append(exc.message)
                outcome.read_only = exc.message
                break
            except StoreNotFoundError as exc:
                sentence = f"{exc.message} Nothing was sent; check the record, then retry."
                self._fail(row, sentence)
                blocked.add(key)
                outcome.failed += 1
                outcome.errors.append(sentence)
                continue
            except StoreError as exc:
                blocked.add(key)
                if exc.retryable:
                    gave_up = self._retry_later(row, exc.message)
                    if gave_up:
                        outcome.failed += 1
                    else:
                        outcome.retried_later += 1
                    outcome.errors.append(exc.message)
                    # The store is away or overloaded: leave the rest for the next run.
                    outcome.stopped = exc.message
                    break
                self._fail(row, exc.message)
                outcome.failed += 1
                outcome.errors.append(exc.message)
                continue
            outcome.sent += 1
            if row.entity_type == "order":
                outcome.orders.add(row.entity_id)
            elif row.entity_type == "customer":
                outcome.customers.add(row.entity_id)
            self.ctx.page_done()
            if self._renew is not None:
                self._renew()
        if progress is not None and ids:
            progress(len(ids), len(ids), f"Sending changes: {len(ids):,} of {len(ids):,}")
        return outcome

    def _fail(self, row, sentence: str) -> None:
        with self.db.begin() as s:
            s.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
                status=OutboxStatus.FAILED, last_error=safe_sentence(sentence), next_attempt_at=None))
        log.info("outbox message %s (%s) was refused and marked failed", row.id, row.kind)

    def _retry_later(self, row, sentence: str, *, counted: bool = False) -> bool:
        """Count a failed attempt and pause the message; True when it was given up."""
        with self.db.begin() as s:
            attempts = s.execute(select(OUTBOX.c.attempts).where(OUTBOX.c.id == row.id)).scalar_one()
            if not counted:
                attempts += 1
            if attempts >= self.options.max_attempts:
                s.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
                    attempts=attempts, status=OutboxStatus.FAILED, next_attempt_at=None,
                    last_error=safe_sentence(f"Gave up after {attempts} attempts. {sentence}")))
                return True
            wait = min(self.options.backoff_cap, self.options.backoff_base * (2 ** max(0, attempts - 1)))
            s.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
                attempts=attempts, next_attempt_at=utcnow() + timedelta(seconds=wait),
                last_error=safe_sentence(sentence)))
        return False

    def send(self, row) -> Sent:
        handler = {
            OutboxKind.CREATE_ORDER: self.create_order,
            OutboxKind.MARK_ORDER_PAID: self.mark_order_paid,
            OutboxKind.UPDATE_ORDER_STATUS: self.update_order_status,
            OutboxKind.ADD_TRACKING: self.add_tracking,
            OutboxKind.CREATE_REFUND: self.create_refund,
            OutboxKind.CREATE_CUSTOMER: self.create_customer,
            OutboxKind.UPDATE_CUSTOMER: self.update_customer,
            OutboxKind.ERASE_CUSTOMER: self.erase_customer,
            OutboxKind.UPDATE_CONSENT: self.update_consent,
            OutboxKind.MERGE_CUSTOMERS: self.merge_customers,
            OutboxKind.SEND_PAY_LINK: self.send_pay_link,
            OutboxKind.ANONYMISE_STORE_ORDER: self.erase_on_store,
            OutboxKind.DELETE_STORE_CUSTOMER: self.erase_on_store,
        }[OutboxKind(row.kind)]
        try:
            return handler(row)
        except _OrderGone:
            return self._order_gone(row)

    def _order_gone(self, row) -> Sent:
        """Settle a change for an order deleted on the store with a note; nothing is sent."""
        result = Sent(None, ORDER_GONE_NOTE)
        with self.db.begin() as s:
            _mark_sent(s, row.id, result)
            if row.kind == OutboxKind.SEND_PAY_LINK:
                s.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
                    payload=json.dumps({"outcome": PayLinkOutcome.NOT_NEEDED.value})))
        return result

    def _check_not_trashed(self, record: dict) -> None:
        """Raise `_OrderGone` when the store's copy of the order is in its trash, after marking
        the order deleted here (which settles everything waiting for it)."""
        if record.get("status") != OrderStatus.TRASH.value:
            return
        with self.db.begin() as s:
            self._record_order(s, record)
        raise _OrderGone()

    # -- shared helpers --------------------------------------------------------------------------

    def _record_order(self, s: Session, record: dict) -> int | None:
        clean = sm.guard_records([sm.order_view(record)], self.ctx.stats.guard)
        ids = upsert_orders(s, self.ctx, clean)
        return ids.get(int(record["id"]))

    def _sent_order(self, order_id: int) -> None:
        self.ctx.stats.changed_orders.add(order_id)
        self.ctx.stats.sent_orders.add(order_id)

    def _sent_customer(self, customer_id: int) -> None:
        self.ctx.stats.changed_customers.add(customer_id)
        self.ctx.stats.sent_customers.add(customer_id)

    def _record_customer(self, s: Session, record: dict) -> None:
        # Seen as the pull sees it (its consent entry included), so the next pull finds it unchanged.
        clean = sm.guard_records([store_consent.customer_view(record, self.ctx.consent_key)], self.ctx.stats.guard)
        upsert_customers(s, self.ctx, clean)

    def _note_own_change(self, s: Session, customer_id: int, record: Any) -> None:
        """The store's answer to a change of ours that leaves the customer's details as they
        were (consent sent) becomes the copy last seen, so the next pull does not read it back
        as a change made on the store. Details changed meanwhile on the store are left for
        the pull to bring, as before."""
        if not isinstance(record, dict) or not record.get("id"):
            return
        view = store_consent.customer_view(record, self.ctx.consent_key)
        item = sm.customer_data(sm.guard_record(view, self.ctx.stats.guard))
        current = s.execute(select(CUSTOMERS.c.store_digest).where(CUSTOMERS.c.id == customer_id)).scalar_one_or_none()
        seen = sm.same_details_digest(current, item)
        if seen is not None:
            s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id).values(
                store_digest=seen, store_modified_at=item.modified_at))

    def _send_payload(self, payload: dict) -> dict:
        # Nothing that looks like a card number leaves the back office either.
        return sm.guard_record(payload)

    def _waiting(self, s: Session, *, kind: OutboxKind, entity_type: str, entity_id: int, before: int) -> bool:
        return s.execute(select(OUTBOX.c.id).where(
            OUTBOX.c.kind == kind, OUTBOX.c.entity_type == entity_type, OUTBOX.c.entity_id == entity_id,
            OUTBOX.c.status.in_((OutboxStatus.PENDING, OutboxStatus.CONFLICT, OutboxStatus.FAILED)),
            OUTBOX.c.id != before,
        ).limit(1)).first() is not None

    def _order_row(self, s: Session, row) -> Any:
        order_id = row.entity_id
        if row.entity_type == "shipment":
            order_id = s.execute(select(Shipment.order_id).where(Shipment.id == row.entity_id)).scalar_one_or_none()
        elif row.entity_type == "refund":
            order_id = s.execute(select(REFUNDS.c.order_id).where(REFUNDS.c.id == row.entity_id)).scalar_one_or_none()
        if order_id is None:
            return None
        return s.execute(select(ORDERS).where(ORDERS.c.id == order_id)).mappings().first()

    def _order_on_store(self, s: Session, row, order) -> int:
        if order is None:
            raise _Refused("The order no longer exists here, so nothing was sent.")
        if order["status"] == OrderStatus.TRASH:
            raise _OrderGone()
        if order["store_id"] is None:
            # The order goes to the store first; this follows once it is there.
            raise _Wait()
        return int(order["store_id"])

    # -- customers ---------------------------------------------------------------------------------

    def _account_gone(self, customer_id: int) -> bool:
        """Whether the customer had an account on the store that is gone (deleted there).

        Such a customer has no store id but a store copy read here once
        (`store_modified_at`); a customer made here that never had an account has neither.
        """
        with self.db.read() as s:
            row = s.execute(select(CUSTOMERS.c.store_id, CUSTOMERS.c.store_modified_at).where(
                CUSTOMERS.c.id == customer_id)).first()
        return row is not None and row.store_id is None and row.store_modified_at is not None

    def _customer_body(self, s: Session, customer_id: int) -> tuple[Any, dict] | None:
        local = load_local_customer(s, customer_id)
        if local is None:
            return None
        body = sm.customer_payload(local.values, local.billing, local.shipping)
        return local, body

    def ensure_customer(self, customer_id: int, *, message_id: int | None = None, strict: bool = False) -> int | None:
        """The customer's store id, creating the account on the store when it has none.

        Returns None when the customer cannot have an account (no email, erased,
        deactivated); with `strict`, raises `_Refused` with the reason instead.
        """
        with self.db.read() as s:
            found = self._customer_body(s, customer_id)
        if found is None:
            if strict:
                raise _Refused("The customer no longer exists here, so no account was made on the store.")
            return None
        local, body = found
        if local.store_id is not None:
            return int(local.store_id)
        if local.status != CustomerStatus.ACTIVE or local.values.get("merged_into_id"):
            if strict:
                raise _Refused(f"The customer is {local.status.value}, so no account was made on the store.")
            return None
        if not body.get("email"):
            if strict:
                raise _Refused(
                    "The customer has no email address, and the web store needs one to open an account. "
                    "Add an email address, then retry.")
            return None
        result = self.connector.create_customer(self._send_payload(body))
        record = result.record
        store_id = int(record["id"])
        with self.db.read() as s:
            owner = s.execute(select(CUSTOMERS.c.id, CUSTOMERS.c.merged_into_id)
                              .where(CUSTOMERS.c.store_id == store_id)).first()
        if owner is not None and owner.id != customer_id:
            if owner.merged_into_id == customer_id:
                # The account of a customer merged into this one (whose email this one took).
                self._hand_over_account(owner.id, customer_id, store_id, message_id=message_id)
                return store_id
            if strict:
                raise _Refused(
                    # Kept in the outbox, so it names nobody: the Sync screen shows whose message it is.
                    "The web store already has an account with this email, and it belongs here to another "
                    "customer with the same email. Search the Customers screen for the email, merge this "
                    "customer into that one, then retry.")
            return store_id
        with self.db.begin() as s:
            s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id, CUSTOMERS.c.store_id.is_(None))
                      .values(store_id=store_id))
            # The account exists now: a create still waiting for this customer is done.
            s.execute(update(OUTBOX).where(
                OUTBOX.c.kind == OutboxKind.CREATE_CUSTOMER, OUTBOX.c.entity_type == "customer",
                OUTBOX.c.entity_id == customer_id, OUTBOX.c.status == OutboxStatus.PENDING,
                OUTBOX.c.id != (message_id or 0),
            ).values(status=OutboxStatus.SENT, sent_at=utcnow(), store_id=store_id,
                     last_error="The account was made together with an order."))
            asked = False if result.created else self._adopt_account(s, customer_id, record)
            if message_id is not None:
                note = "" if result.created else "The web store already had an account with this email; linked to it."
                if asked:
                    note += (" Its details differ from those typed here: choose on the Sync screen which to keep "
                             "(nothing was overwritten).")
                _mark_sent(s, message_id, Sent(store_id, note.strip()))
            if not asked:
                self._record_customer(s, record)
        self.ctx.stats.changed_customers.add(customer_id)
        return store_id

    def _adopt_account(self, s: Session, customer_id: int, record: dict) -> bool:
        """Link an account the store already had for this email without overwriting what was typed here.

        Where its details differ, each differing field becomes a conflict for the desk to
        settle (keep what was typed and send it, or take the account's), held by an update
        message that goes once they are settled. Returns whether there was anything to ask.
        """
        item = sm.customer_data(sm.guard_record(sm.customer_view(record), self.ctx.stats.guard))
        local = load_local_customer(s, customer_id)
        if local is None:
            return False
        mine, theirs = sm.local_groups(local.values, local.billing, local.shipping), item.groups()
        conflicts: dict[str, tuple[str, str]] = {}
        for group in sm.CUSTOMER_GROUPS:
            ours, store = sm.group_field_values(group, mine[group]), sm.group_field_values(group, theirs[group])
            conflicts.update({name: (ours[name], store[name]) for name in ours if ours[name] != store[name]})
        if not conflicts:
            return False
        message_id = s.execute(insert(OUTBOX).values(
            kind=OutboxKind.UPDATE_CUSTOMER, entity_type="customer", entity_id=customer_id,
            reference=outbox_reference(OutboxKind.UPDATE_CUSTOMER), payload="{}", status=OutboxStatus.CONFLICT,
        ).returning(OUTBOX.c.id)).scalar_one()
        record_conflicts(s, self.ctx.stats, entity_type="customer", entity_id=customer_id, customer_id=customer_id,
                         conflicts=conflicts, outbox_id=message_id)
        # The account as the store has it is the base: a value kept here is then sent.
        s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == customer_id).values(
            store_digest=sm.compose_digest(item.whole, sm.group_digests(theirs)),
            store_modified_at=item.modified_at))
        return True

    def _hand_over_account(self, merged_id: int, kept_id: int, store_id: int, *,
                           message_id: int | None = None) -> None:
        """Make the account `store_id` of a customer merged into `kept_id` the kept one's.

        The account is told the kept customer's details first, or the next scan would
        copy the merged one's over them; when that fails, nothing has changed here and
        the whole hand-over is tried again.
        """
        with self.db.read() as s:
            found = self._customer_body(s, kept_id)
        record = None
        if found is not None:
            record = self.connector.update_customer(store_id, self._send_payload(found[1]))
        with self.db.begin() as s:
            s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == merged_id).values(store_id=None, store_digest=None))
            s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == kept_id, CUSTOMERS.c.store_id.is_(None))
                      .values(store_id=store_id, store_digest=None))
            if message_id is not None:
                _mark_sent(s, message_id, Sent(store_id, HANDED_OVER_NOTE))
            if record is not None:
                self._record_customer(s, record)
        self.ctx.stats.changed_customers.update((merged_id, kept_id))

    def create_customer(self, row) -> Sent:
        with self.db.read() as s:
            local = load_local_customer(s, row.entity_id)
        if local is not None and local.store_id is not None:
            return self._done(row, Sent(int(local.store_id)))
        if local is not None and local.status == CustomerStatus.ERASED:
            return self._done(row, Sent(None, "Not sent: the customer was erased before the account was made."))
        if local is not None and self._account_gone(local.id):
            # The account was deleted on the store; a new one is made only with an order.
            return self._done(row, Sent(None, ACCOUNT_GONE_NOTE))
        store_id = self.ensure_customer(row.entity_id, message_id=row.id, strict=True)
        return Sent(store_id)

    def _done(self, row, result: Sent) -> Sent:
        with self.db.begin() as s:
            _mark_sent(s, row.id, result)
        return result

    def update_customer(self, row) -> Sent:
        with self.db.read() as s:
            local = load_local_customer(s, row.entity_id)
            create_waiting = self._waiting(s, kind=OutboxKind.CREATE_CUSTOMER, entity_type="customer",
                                           entity_id=row.entity_id, before=row.id)
        if local is None:
            raise _Refused("The customer no longer exists here, so the correction was not sent.")
        if local.status == CustomerStatus.ERASED:
            return self._done(row, Sent(None, "Not sent: the customer was erased."))
        if local.store_id is None:
            if self._account_gone(local.id):
                # A correction does not open again an account deleted on the store.
                return self._done(row, Sent(None, ACCOUNT_GONE_NOTE))
            if create_waiting:
                raise _Wait()
            store_id = self.ensure_customer(row.entity_id, strict=True)
            return self._done(row, Sent(store_id, "Sent with the new account."))
        store_id = int(local.store_id)
        try:
            fetched = self.connector.get_customer(store_id)
        except StoreNotFoundError:
            # Deleted on the store since the last scan: keep the customer here without it.
            with self.db.begin() as s:
                forget_store_accounts(s, self.ctx, [store_id])
            return self._done(row, Sent(None, ACCOUNT_GONE_NOTE))
        item = sm.customer_data(sm.guard_record(sm.customer_view(fetched), self.ctx.stats.guard))
        record = fetched
        _whole, base = sm.split_digest(local.digest)
        merge = sm.merge_customer(sm.local_groups(local.values, local.billing, local.shipping), item.groups(), base,
                                  local_pending=True)
        if merge.conflicts:
            with self.db.begin() as s:
                apply_customer_groups(s, local, item, merge.apply, digest=sm.compose_digest(item.whole, merge.parts),
                                      region=self.ctx.region)
                record_conflicts(s, self.ctx.stats, entity_type="customer", entity_id=local.id,
                                 customer_id=local.id, conflicts=merge.conflicts, outbox_id=row.id)
                s.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(status=OutboxStatus.CONFLICT))
            self.ctx.stats.changed_customers.add(local.id)
            raise _Conflicted()
        if merge.send:
            body = sm.customer_payload(local.values, local.billing, local.shipping, merge.send)
            record = self.connector.update_customer(store_id, self._send_payload(body))
        with self.db.begin() as s:
            _mark_sent(s, row.id, Sent(store_id))
            self._record_customer(s, record)
        self._sent_customer(local.id)
        self.ctx.stats.reindex.add(local.id)
        return Sent(store_id)

    def _customer_orders_on_store(self, store_customer_id: int, local_customer_id: int | None) -> list[int]:
        ids: set[int] = set()
        for page in self.connector.iter_pages("/orders", {"customer": store_customer_id, "status": "any",
                                                          "orderby": "id", "order": "asc"}, cancel=self.ctx.cancel):
            ids.update(int(o["id"]) for o in page if isinstance(o, dict) and "id" in o)
        if local_customer_id is not None:
            with self.db.read() as s:
                ids.update(s.execute(select(ORDERS.c.store_id).where(
                    ORDERS.c.customer_id == local_customer_id, ORDERS.c.store_id.is_not(None))).scalars())
        return sorted(ids)

    def erase_customer(self, row) -> Sent:
        payload = message_payload(row)
        with self.db.read() as s:
            customer = s.execute(select(CUSTOMERS.c.id, CUSTOMERS.c.store_id).where(
                CUSTOMERS.c.id == row.entity_id)).first()
        store_id = (customer.store_id if customer is not None else None) or payload.get("store_id")
        if not store_id:
            return self._done(row, Sent(None, "Nothing to erase on the store: the customer had no account there."))
        store_id = int(store_id)
        # Orders first: after the account is gone the store no longer lists them by customer.
        for order_id in self._customer_orders_on_store(store_id, row.entity_id):
            check(self.ctx.cancel)
            try:
                self.connector.update_order(order_id, sm.anonymised_order_payload())
            except StoreNotFoundError:
                continue
        deleted = self.connector.delete_customer(store_id)
        # An account already deleted on the store leaves its orders there: they were anonymised above.
        result = Sent(store_id, "" if deleted is not None else
                      "The account was already deleted on the web store; its orders there were anonymised.")
        with self.db.begin() as s:
            s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == row.entity_id).values(store_digest=None))
            _mark_sent(s, row.id, result)
        return result

    def erase_on_store(self, row) -> Sent:
        """An erasure's order anonymisation or account deletion (`privacy.store_erasure`)."""
        return self._done(row, Sent(None, store_erasure.send(self.db, self.connector, row, self.ctx.cancel)))

    def _merge_pairs(self, row) -> list[tuple[int, int]]:
        """(merged, kept) customer ids of a merge message.

        The payload names them ({"merged_id", "kept_id"}; the entity is the kept one when
        only "merged_id" is given); without a payload the entity is the merged customer,
        or the kept one of every customer merged into it.
        """
        payload = message_payload(row)
        if payload.get("merged_id"):
            return [(int(payload["merged_id"]), int(payload.get("kept_id") or row.entity_id))]
        with self.db.read() as s:
            me = s.execute(select(CUSTOMERS.c.id, CUSTOMERS.c.merged_into_id).where(
                CUSTOMERS.c.id == row.entity_id)).first()
            if me is None:
                return []
            if me.merged_into_id:
                return [(me.id, int(me.merged_into_id))]
            merged = s.execute(select(CUSTOMERS.c.id).where(CUSTOMERS.c.merged_into_id == me.id)).scalars().all()
        return [(int(m), int(me.id)) for m in merged]

    def merge_customers(self, row) -> Sent:
        pairs = self._merge_pairs(row)
        if not pairs:
            raise _Refused("The customers of this merge no longer exist here, so nothing was sent.")
        kept_store = None
        for merged_id, kept_id in pairs:
            with self.db.read() as s:
                merged_store = s.execute(select(CUSTOMERS.c.store_id).where(CUSTOMERS.c.id == merged_id)).scalar()
                kept_store = s.execute(select(CUSTOMERS.c.store_id).where(CUSTOMERS.c.id == kept_id)).scalar()
            if merged_store is None:
                continue
            merged_store = int(merged_store)
            if kept_store is None and not self._account_gone(kept_id):
                kept_store = self.ensure_customer(kept_id)
                if kept_store is not None and int(kept_store) == merged_store:
                    # It took over the merged one's email, and with it the account.
                    continue
            if kept_store is None:
                # The kept customer can have no account of its own: the merged customer's
                # account becomes the kept one's.
                self._hand_over_account(merged_id, kept_id, merged_store)
                kept_store = merged_store
                continue
            kept_store = int(kept_store)
            for order_id in self._customer_orders_on_store(merged_store, None):
                check(self.ctx.cancel)
                try:
                    self.connector.update_order(order_id, {"customer_id": kept_store})
                except StoreNotFoundError:
                    continue
            self.connector.delete_customer(merged_store)
            with self.db.begin() as s:
                s.execute(update(CUSTOMERS).where(CUSTOMERS.c.id == merged_id).values(store_id=None,
                                                                                     store_digest=None))
                s.execute(update(ORDERS).where(ORDERS.c.customer_id == merged_id).values(customer_id=kept_id))
            self.ctx.stats.changed_customers.update((merged_id, kept_id))
            self.ctx.stats.reindex.update((merged_id, kept_id))
        return self._done(row, Sent(kept_store))

    def update_consent(self, row) -> Sent:
        with self.db.read() as s:
            customer = s.execute(select(CUSTOMERS).where(CUSTOMERS.c.id == row.entity_id)).mappings().first()
            create_waiting = self._waiting(s, kind=OutboxKind.CREATE_CUSTOMER, entity_type="customer",
                                           entity_id=row.entity_id, before=row.id)
            key = str(read_setting(s, "store.consent_meta_key") or "_newsletter_consent")
            body = store_consent.meta_body(s, row.entity_id, key) if customer is not None else {}
        if customer is None:
            raise _Refused("The customer no longer exists here, so the consent was not sent.")
        if customer["status"] == CustomerStatus.ERASED:
            return self._done(row, Sent(None, "Not sent: the customer was erased."))
        store_id = customer["store_id"]
        if store_id is None:
            if self._account_gone(row.entity_id):
                return self._done(row, Sent(None, ACCOUNT_GONE_NOTE))
            if create_waiting:
                raise _Wait()
            store_id = self.ensure_customer(row.entity_id)
            if store_id is None:
                return self._done(row, Sent(None, "Not sent: the customer has no account on the web store."))
        record = self.connector.update_customer(int(store_id), body)
        result = Sent(int(store_id))
        with self.db.begin() as s:
            _mark_sent(s, row.id, result)
            self._note_own_change(s, row.entity_id, record)
        return result

    # -- orders ------------------------------------------------------------------------------------

    def _order_payload(self, s: Session, order) -> dict:
        lines = s.execute(
            select(OrderLine.quantity, OrderLine.total, OrderLine.name, Product.store_id, Product.sku, Product.kind,
                   Product.parent_store_id)
            .outerjoin(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id == order["id"]).order_by(OrderLine.id)
        ).all()
        items = []
        for line in lines:
            item: dict[str, Any] = {"quantity": int(line.quantity), "subtotal": sm.money_text(line.total),
                                    "total": sm.money_text(line.total)}
            if line.store_id and line.kind == "variation" and line.parent_store_id:
                # The store wants the parent and the variation: the line is then "T-Shirt - S".
                item["product_id"] = int(line.parent_store_id)
                item["variation_id"] = int(line.store_id)
            elif line.store_id and line.kind == "variable":
                raise _Refused(
                    f"The line “{line.name}” names a product sold in variations but not which one, so the order was "
                    "not sent. Change the line to one of its variations, then retry.")
            elif line.store_id:
                item["product_id"] = int(line.store_id)
            elif line.sku:
                item["sku"] = line.sku
            else:
                raise _Refused(
                    f"The product “{line.name}” of this order is not on the web store, so the order was not sent. "
                    "Put the product on the store (or change the order), then retry.")
            items.append(item)
        shipping = [
            {"method_id": r.method_id or "flat_rate", "method_title": r.method_title or r.method_id or "Shipping",
             "total": sm.money_text(r.total)}
            for r in s.execute(select(ShippingLine).where(ShippingLine.order_id == order["id"])
                               .order_by(ShippingLine.id)).scalars()
        ]
        addresses = {
            a.kind: {name: getattr(a, name) for name in sm.ADDRESS_FIELDS}
            for a in s.execute(select(OrderAddress).where(OrderAddress.order_id == order["id"])).scalars()
        }
        paid = s.execute(select(Payment).where(Payment.order_id == order["id"], Payment.status == PaymentStatus.PAID)
                         .order_by(Payment.id.desc()).limit(1)).scalars().first()
        status = order["status"]
        body: dict[str, Any] = {
            "status": (OrderStatus.PROCESSING if paid is not None and status == OrderStatus.PENDING else status).value,
            "currency": order["currency"],
            "payment_method": order["payment_method"] or "",
            "payment_method_title": order["payment_method_title"] or "",
            "customer_note": order["customer_note"] or "",
            "billing": sm.address_payload(addresses.get(AddressKind.BILLING), with_email=True),
            "shipping": sm.address_payload(addresses.get(AddressKind.SHIPPING), with_email=False),
            "line_items": items,
            "shipping_lines": shipping,
        }
        if order["paid_at"] is not None or paid is not None:
            body["set_paid"] = True
            if paid is not None and paid.transaction_id:
                body["transaction_id"] = paid.transaction_id
        return body

    def _count_try(self, row, **values) -> datetime:
        """Commit one more try of `row` (and `values`) before a write that may reach the store
        whatever its answer; returns when the try started."""
        started = utcnow()
        with self.db.begin() as s:
            s.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
                attempts=OUTBOX.c.attempts + 1, next_attempt_at=started, **values))
        return started

    def _settle(self, row, *, since: datetime | None = None) -> None:
        """Give a create that may still be running on the store a moment before looking for it."""
        started = since or row.next_attempt_at
        if started is None:
            return
        wait = self.options.settle_seconds - (utcnow() - started).total_seconds()
        if wait > 0:
            deadline = time.monotonic() + min(wait, self.options.settle_seconds)
            while time.monotonic() < deadline:
                check(self.ctx.cancel)
                time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def _look_up(self, row, reference: str) -> dict | None:
        since = (row.created_at or utcnow()) - timedelta(minutes=5)
        return self.connector.find_order_by_reference(reference, modified_after=since)

    def create_order(self, row) -> Sent:
        with self.db.read() as s:
            order = s.execute(select(ORDERS).where(ORDERS.c.id == row.entity_id)).mappings().first()
        if order is None:
            raise _Refused("The order no longer exists here, so it was not sent to the store.")
        if order["store_id"] is not None:
            return self._done(row, Sent(int(order["store_id"]), "The store already had this order."))
        reference = order["reference"] or row.reference
        if row.attempts:
            # A try before this one may have reached the store: look before sending again.
            self._settle(row)
            found = self._look_up(row, reference)
            if found is not None:
                return self._created(row, found)
        customer_store_id = 0
        guest = False
        if order["customer_id"] is not None:
            if self._account_gone(int(order["customer_id"])) and message_payload(row).get("account") != "new_account":
                # The store deleted the account: a new one is made only when the desk said so.
                guest = True
            else:
                customer_store_id = self.ensure_customer(int(order["customer_id"])) or 0
        with self.db.read() as s:
            body = self._order_payload(s, order)
        body["customer_id"] = customer_store_id
        if order["reference"] is None:
            with self.db.begin() as s:
                s.execute(update(ORDERS).where(ORDERS.c.id == order["id"], ORDERS.c.reference.is_(None))
                          .values(reference=reference))
        body = self._send_payload(body)
        for round_ in range(2):
            # Counted before sending: after a crash the next run looks the order up first.
            started = self._count_try(row)
            try:
                result = self.connector.create_order(body, reference=reference)
            except AmbiguousWriteError as exc:
                self._settle(row, since=started)
                found = self._look_up(row, reference)
                if found is not None:
                    return self._created(row, found)
                if round_ == 0:
                    continue
                raise _Retry(exc.message) from None
            except StoreError as exc:
                if exc.retryable and not isinstance(exc, StoreAuthError):
                    raise _Retry(exc.message) from None
                raise
            if guest:
                return self._created(row, result.record, note=GUEST_ORDER_NOTE)
            return self._created(row, result.record)
        raise _Retry("The web store did not confirm the order; it will be looked for and sent again.")

    def _created(self, row, record: dict, *, note: str = "") -> Sent:
        store_id = int(record["id"])
        with self.db.begin() as s:
            _mark_sent(s, row.id, Sent(store_id, note))
            # The store's copy (number, pay link, order key, line ids) becomes the local one.
            s.execute(update(ORDERS).where(ORDERS.c.id == row.entity_id, ORDERS.c.store_id.is_(None))
                      .values(store_id=store_id))
            self._record_order(s, record)
        self._sent_order(row.entity_id)
        return Sent(store_id)

    def mark_order_paid(self, row) -> Sent:
        with self.db.read() as s:
            order = self._order_row(s, row)
            store_id = self._order_on_store(s, row, order)
            txn = s.execute(select(Payment.transaction_id).where(Payment.order_id == order["id"],
                                                                 Payment.status == PaymentStatus.PAID)
                            .order_by(Payment.id.desc()).limit(1)).scalar()
        record = self.connector.get_order(store_id)
        # Paying a trashed order would take it out of the trash.
        self._check_not_trashed(record)
        if not record.get("date_paid_gmt") and not record.get("date_paid"):
            body: dict[str, Any] = {"set_paid": True}
            if txn:
                body["transaction_id"] = txn
            if order["payment_method"]:
                body["payment_method"] = order["payment_method"]
            if order["payment_method_title"]:
                body["payment_method_title"] = order["payment_method_title"]
            if record.get("status") in ("pending", "on-hold", "failed"):
                body["status"] = OrderStatus.PROCESSING.value
            record = self.connector.update_order(store_id, self._send_payload(body))
        with self.db.begin() as s:
            _mark_sent(s, row.id, Sent(store_id))
            self._record_order(s, record)
        self._sent_order(order["id"])
        return Sent(store_id)

    def update_order_status(self, row) -> Sent:
        with self.db.read() as s:
            order = self._order_row(s, row)
            store_id = self._order_on_store(s, row, order)
        record = self.connector.get_order(store_id)
        self._check_not_trashed(record)
        local = OrderStatus(order["status"])
        there = sm.order_status(record.get("status"))
        if there != local:
            base = message_payload(row).get("from")
            unchanged = (order["store_modified_at"] is not None
                         and sm.parse_store_time(record.get("date_modified_gmt")) == order["store_modified_at"])
            if (base is not None and there is not None and there.value == base) or (base is None and unchanged):
                record = self.connector.update_order(store_id, {"status": local.value})
                if local == OrderStatus.CANCELLED and order.get("cancel_reason"):
                    # Sent once, right after the status it explains (not again on a retry
                    # that finds the store already cancelled).
                    self.connector.add_order_note(store_id, f"Cancelled at the desk: {order['cancel_reason']}")
            else:
                with self.db.begin() as s:
                    record_conflicts(s, self.ctx.stats, entity_type="order", entity_id=order["id"],
                                     customer_id=order["customer_id"],
                                     conflicts={"status": (local.value, str(record.get("status") or ""))},
                                     outbox_id=row.id)
                    s.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(status=OutboxStatus.CONFLICT))
                raise _Conflicted()
        with self.db.begin() as s:
            _mark_sent(s, row.id, Sent(store_id))
            self._record_order(s, record)
        self._sent_order(order["id"])
        return Sent(store_id)

    def add_tracking(self, row) -> Sent:
        with self.db.read() as s:
            order = self._order_row(s, row)
            store_id = self._order_on_store(s, row, order)
            shipments = [
                {"carrier": r.carrier, "tracking_number": r.tracking_number, "shipped_at": r.shipped_at}
                for r in s.execute(select(Shipment).where(Shipment.order_id == order["id"])
                                   .order_by(Shipment.id)).scalars()
            ]
        body = {"meta_data": [{"key": sm.TRACKING_META_KEY, "value": sm.tracking_meta(shipments)}]}
        record = self.connector.update_order(store_id, self._send_payload(body))
        # A stock store shows and emails tracking only as a customer note (the meta above is
        # read by the Shipment Tracking extension alone). The notes are read first, so a
        # number already noted is not emailed twice when a lost answer makes this run again.
        noted = " ".join(str(n.get("note", "")) for n in self.connector.get_order_notes(store_id)
                         if n.get("customer_note"))
        for parcel in shipments:
            if parcel["tracking_number"] and parcel["tracking_number"] not in noted:
                text = sm.tracking_note(parcel["carrier"], parcel["tracking_number"])
                try:
                    self.connector.add_order_note(store_id, self._send_payload({"note": text})["note"],
                                                  customer_note=True)
                except AmbiguousWriteError as exc:
                    raise _Retry(exc.message) from None
        with self.db.begin() as s:
            _mark_sent(s, row.id, Sent(store_id))
            self._record_order(s, record)
        self._sent_order(order["id"])
        return Sent(store_id)

    # -- refunds -----------------------------------------------------------------------------------

    def create_refund(self, row) -> Sent:
        """Record on the store a refund recorded at the desk, once.

        Waits until its order is on the store. The attempt is committed before sending, and
        the refund carries the message's reference in its meta data, so after a lost answer
        or a crash the order's refunds on the store are read for it before sending again.
        """
        with self.db.read() as s:
            refund = s.execute(select(REFUNDS).where(REFUNDS.c.id == row.entity_id)).mappings().first()
            if refund is None:
                raise _Refused("The refund no longer exists here, so it was not sent to the web store.")
            order = self._order_row(s, row)
            if refund["store_id"] is not None:
                return self._done(row, Sent(int(refund["store_id"]), "The web store already had this refund."))
            store_id = self._order_on_store(s, row, order)
            wanted = list(message_payload(row).get("lines") or ())
            current = s.execute(select(OrderLine.id, OrderLine.store_line_id, OrderLine.unit_price, OrderLine.name,
                                       OrderLine.sku).where(OrderLine.order_id == refund["order_id"])
                                .order_by(OrderLine.id)).all() if wanted else []
        by_id = {line.id: line for line in current}
        items = []
        missing = 0
        for want in wanted:
            # The store's copy of a phone order replaces its lines when it is created there: the
            # line is then found again by its SKU.
            line = by_id.get(int(want["line_id"])) or next(
                (x for x in current if want.get("sku") and x.sku == want["sku"]), None)
            if line is None or line.store_line_id is None:
                missing += 1
                continue
            quantity = int(want["quantity"])
            items.append({"id": int(line.store_line_id), "quantity": quantity,
                          "refund_total": sm.money_text(line.unit_price * quantity)})
        # Lines no longer found go without their items: the amount goes alone, and the note says so.
        note = "Sent without its items: the order's lines changed since." if missing else ""
        body = self._send_payload({"amount": sm.money_text(refund["amount"]), "reason": refund["reason"] or "",
                                   "line_items": items})
        reference = row.reference
        if row.attempts:
            # A try before this one may have reached the store: look before sending again.
            self._settle(row)
            found = self.connector.find_refund_by_reference(store_id, reference)
            if found is not None:
                return self._refund_recorded(row, refund, store_id, found)
        for round_ in range(2):
            # Counted before sending: after a crash the next run looks for the refund first.
            started = self._count_try(row)
            try:
                record = self.connector.create_refund(store_id, body, reference=reference)
            except AmbiguousWriteError as exc:
                self._settle(row, since=started)
                found = self.connector.find_refund_by_reference(store_id, reference)
                if found is not None:
                    return self._refund_recorded(row, refund, store_id, found)
                if round_ == 0:
                    continue
                raise _Retry(exc.message) from None
            except StoreError as exc:
                if exc.retryable and not isinstance(exc, StoreAuthError):
                    raise _Retry(exc.message) from None
                raise
            return self._refund_recorded(row, refund, store_id, record, note)
        raise _Retry("The web store did not confirm the refund; it will be looked for and sent again.")

    def _refund_recorded(self, row, refund, store_order_id: int, record: dict, note: str = "") -> Sent:
        refund_store_id = int(record["id"])
        order = self.connector.get_order(store_order_id)
        with self.db.begin() as s:
            # A sync that read the store's copy first holds it as a refund of its own: this one is it.
            s.execute(delete(REFUNDS).where(REFUNDS.c.store_id == refund_store_id, REFUNDS.c.id != refund["id"]))
            s.execute(update(REFUNDS).where(REFUNDS.c.id == refund["id"]).values(
                store_id=refund_store_id,
                refunded_at=sm.parse_store_time(record.get("date_created_gmt")) or refund["refunded_at"]))
            _mark_sent(s, row.id, Sent(refund_store_id, note))
            # The store's order after the refund (refunded in full, it is "refunded" there).
            self._record_order(s, order)
        self._sent_order(int(refund["order_id"]))
        return Sent(refund_store_id)

    # -- the pay link by email ---------------------------------------------------------------------

    def _pay_link_done(self, row, order_id: int, store_id: int | None, outcome: PayLinkOutcome, note: str,
                       seen: int | None = None) -> Sent:
        payload = {"outcome": outcome.value}
        if seen is not None:
            payload["notes_seen"] = seen
        result = Sent(store_id, note)
        with self.db.begin() as s:
            _mark_sent(s, row.id, result)
            s.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(payload=json.dumps(payload)))
        self._sent_order(order_id)
        return result

    def _newest_note(self, store_id: int) -> int:
        notes = self.connector.get_order_notes(store_id)
        return max((int(n["id"]) for n in notes if isinstance(n, dict) and str(n.get("id", "")).isdigit()),
                   default=0)

    def _email_noted(self, store_id: int, email: str, seen: int) -> bool:
        """Whether the store noted an email to `email` on the order after note `seen`."""
        wanted = email.strip().casefold()
        for note in self.connector.get_order_notes(store_id):
            if not isinstance(note, dict) or not str(note.get("id", "")).isdigit() or int(note["id"]) <= seen:
                continue
            if wanted in html.unescape(str(note.get("note") or "")).casefold():
                return True
        return False

    def send_pay_link(self, row) -> Sent:
        """Have the store email the order's pay link to the order's billing email, once.

        Waits until the order is on the store. Before the first request the newest order
        note is remembered (committed with the attempt); after a lost answer, a crash or
        a retry the store's notes say whether the email went, so it is asked for again
        only when it did not.
        """
        with self.db.read() as s:
            order = self._order_row(s, row)
            if order is None:
                raise _Refused("The order no longer exists here, so its pay link was not emailed.")
            if order["status"] == OrderStatus.TRASH:
                raise _OrderGone()
            waiting_method = s.execute(select(Payment.method).where(
                Payment.order_id == order["id"], Payment.status == PaymentStatus.AWAITING)
                .order_by(Payment.id).limit(1)).scalar()
            email = s.execute(select(OrderAddress.email).where(
                OrderAddress.order_id == order["id"], OrderAddress.kind == AddressKind.BILLING)).scalar() or ""
        order_id = int(order["id"])
        status = OrderStatus(order["status"])
        store_id = None if order["store_id"] is None else int(order["store_id"])
        if order["paid_at"] is not None or status in (OrderStatus.PROCESSING, OrderStatus.COMPLETED):
            return self._pay_link_done(row, order_id, store_id, PayLinkOutcome.NOT_NEEDED,
                                       "Not sent: the order was paid before the link went out.")
        if waiting_method is not None and waiting_method != PaymentMethod.PAY_LINK:
            return self._pay_link_done(row, order_id, store_id, PayLinkOutcome.NOT_NEEDED,
                                       "Not sent: the order is no longer paid by pay link.")
        if status not in (OrderStatus.PENDING, OrderStatus.FAILED):
            return self._pay_link_done(row, order_id, store_id, PayLinkOutcome.NOT_NEEDED,
                                       f"Not sent: the order is {status.value}, so there is nothing to pay.")
        if store_id is None:
            # The link exists once the store has the order; this follows the create.
            raise _Wait()
        if not email.strip():
            return self._pay_link_done(row, order_id, store_id, PayLinkOutcome.NO_EMAIL,
                                       "Not sent: the order has no email address.")
        seen = message_payload(row).get("notes_seen")
        if isinstance(seen, int):
            # An earlier try may have reached the store: look before asking again.
            if row.attempts:
                self._settle(row)
            if self._email_noted(store_id, email, seen):
                return self._pay_link_done(row, order_id, store_id, PayLinkOutcome.EMAILED, "", seen)
        else:
            seen = self._newest_note(store_id)
        for round_ in range(2):
            # Counted before asking: after a crash the next run reads the notes first.
            started = self._count_try(row, payload=json.dumps({"notes_seen": seen}))
            try:
                self.connector.send_order_details(store_id)
            except StoreFeatureMissingError as exc:
                return self._pay_link_done(row, order_id, store_id, PayLinkOutcome.UNSUPPORTED,
                                           f"Not sent: {exc.message}", seen)
            except AmbiguousWriteError as exc:
                self._settle(row, since=started)
                if self._email_noted(store_id, email, seen):
                    return self._pay_link_done(row, order_id, store_id, PayLinkOutcome.EMAILED, "", seen)
                if round_ == 0:
                    continue
                raise _Retry(exc.message) from None
            except StoreError as exc:
                if exc.code == NO_ORDER_EMAIL:
                    return self._pay_link_done(row, order_id, store_id, PayLinkOutcome.NO_EMAIL,
                                               "Not sent: the web store has no email address on the order.", seen)
                if exc.retryable and not isinstance(exc, StoreAuthError):
                    raise _Retry(exc.message) from None
                raise
            return self._pay_link_done(row, order_id, store_id, PayLinkOutcome.EMAILED, "", seen)
        raise _Retry("The web store did not confirm the email; the order's notes are read before asking again.")


def order_message_ids(db, order_id: int) -> list[int]:
    """Ids of the messages waiting for one order, its refunds and the account its customer needs."""
    with db.read() as s:
        customer_id = s.execute(select(ORDERS.c.customer_id).where(ORDERS.c.id == order_id)).scalar_one_or_none()
        refunds = select(REFUNDS.c.id).where(REFUNDS.c.order_id == order_id).scalar_subquery()
        conditions = [(OUTBOX.c.entity_type == "order") & (OUTBOX.c.entity_id == order_id),
                      (OUTBOX.c.entity_type == "refund") & OUTBOX.c.entity_id.in_(refunds)]
        if customer_id is not None:
            conditions.append((OUTBOX.c.entity_type == "customer") & (OUTBOX.c.entity_id == customer_id)
                              & (OUTBOX.c.kind == OutboxKind.CREATE_CUSTOMER))
        return list(s.execute(select(OUTBOX.c.id).where(or_(*conditions), OUTBOX.c.status == OutboxStatus.PENDING)
                              .order_by(OUTBOX.c.id)).scalars())


__all__ = ["KIND_LABELS", "ORDER_KINDS", "PushOutcome", "Pusher", "order_message_ids"]
