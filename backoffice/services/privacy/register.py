"""The request register: log a request, list the owner's queue by days left, read one with its history.

A request is matched to a customer or, for someone with no record here, keeps the name
and contact they gave. Each request also keeps a keyed hash of the requester's email or
phone, so a repeat is recognised even after their data is erased.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.cards import mask_card_numbers
from backoffice.domain.customers import Customer
from backoffice.domain.enums import CustomerStatus, RequestKind, RequestStatus
from backoffice.domain.privacy import CLOSED_REQUEST_STATUSES, PrivacyRequest, PrivacyRequestEvent
from backoffice.domain.staff import Actor, Permission, StaffUser
from backoffice.errors import NotFound, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.domain.request_clock import Urgency, due_at, urgency
from backoffice.services.privacy.keyed_hash import keyed_hash
from backoffice.services.settings import read_setting, shop_default_country

KIND_LABELS = {
    RequestKind.ACCESS: "Copy of their data",
    RequestKind.CORRECTION: "Correction",
    RequestKind.DELETION: "Deletion",
    RequestKind.DEACTIVATION: "Deactivation",
    RequestKind.RESTRICTION: "Restriction of processing",
    RequestKind.OBJECTION: "Objection to processing",
    RequestKind.MARKETING_OPT_OUT: "No more marketing",
}
STATUS_LABELS = {
    RequestStatus.RECEIVED: "Received",
    RequestStatus.IN_PROGRESS: "Identity checked",
    RequestStatus.AWAITING_REVIEW: "Awaiting review",
    RequestStatus.FULFILLED: "Done",
    RequestStatus.PARTLY_FULFILLED: "Partly done",
    RequestStatus.REFUSED: "Refused",
    RequestStatus.WITHDRAWN: "Withdrawn",
}
CHANNELS = {"email": "Email", "phone": "Phone", "letter": "Letter", "web_form": "Web form"}

for _action, _label in (
    ("log_privacy_request", "Privacy request logged"),
    ("verify_privacy_identity", "Requester's identity checked"),
    ("fulfil_privacy_request", "Privacy request fulfilled"),
    ("refuse_privacy_request", "Privacy request refused"),
    ("withdraw_privacy_request", "Privacy request withdrawn"),
    ("link_privacy_request", "Privacy request matched to a customer"),
):
    audit.register_action(_action, _label)


@dataclass(frozen=True)
class RequestRow:
    """A request as the queue shows it."""

    id: int
    kind: RequestKind
    status: RequestStatus
    channel: str
    customer_id: int | None
    who: str
    received_at: datetime
    due_at: datetime
    days_left: int
    overdue: bool
    due_soon: bool
    identity_verified: bool
    is_open: bool
    repeat_of: tuple[int, ...] = ()

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, str(self.kind))

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, str(self.status))

    @property
    def clock_label(self) -> str:
        return Urgency(self.days_left, self.overdue, self.due_soon).label if self.is_open else "Closed"


@dataclass(frozen=True)
class RequestEventView:
    at: datetime
    staff: str
    action: str
    note: str


@dataclass(frozen=True)
class RequestDetail:
    row: RequestRow
    requester_name: str
    requester_contact: str
    details: str
    identity_method: str
    identity_verified_by: str
    identity_verified_at: datetime | None
    decision_reason: str
    kept: tuple[dict, ...]
    outcome: dict
    history: tuple[RequestEventView, ...]


@dataclass(frozen=True)
class LoggedRequest:
    request: RequestRow
    message: str  # why what was stored differs from what was typed, or names an earlier request
    changes: Changes


def add_event(s: Session, request_id: int, actor: Actor | None, action: str, note: str = "") -> None:
    """Append a step to a request's history (in the caller's transaction)."""
    s.add(PrivacyRequestEvent(request_id=request_id, staff_id=actor.staff_id if actor else None,
                              action=action, note=note))


def _who(r: PrivacyRequest, customer: Customer | None) -> str:
    if customer is not None:
        if customer.status is CustomerStatus.ERASED:
            return "Erased customer"
        return customer.display_name
    return r.requester_name or r.requester_contact or "(not given)"


def row_of(s: Session, r: PrivacyRequest, now: datetime | None = None) -> RequestRow:
    now = now or utcnow()
    reminder = int(read_setting(s, "privacy.reminder_days"))
    customer = s.get(Customer, r.customer_id) if r.customer_id else None
    u = urgency(r.due_at, now, is_open=r.is_open(), reminder_days=reminder)
    repeats: tuple[int, ...] = ()
    if r.requester_hash:
        # The same customer's other requests are on their page; a repeat is one made under another
        # name or after an erasure, found only by the hash.
        stmt = select(PrivacyRequest.id).where(PrivacyRequest.requester_hash == r.requester_hash,
                                                PrivacyRequest.id < r.id)
        if r.customer_id is not None:
            stmt = stmt.where(PrivacyRequest.customer_id.is_distinct_from(r.customer_id))
        repeats = tuple(s.scalars(stmt.order_by(PrivacyRequest.id)))
    return RequestRow(
        id=r.id, kind=r.kind, status=r.status, channel=r.channel, customer_id=r.customer_id,
        who=_who(r, customer), received_at=r.received_at, due_at=r.due_at, days_left=u.days_left,
        overdue=u.overdue, due_soon=u.due_soon, identity_verified=r.identity_verified_at is not None,
        is_open=r.is_open(), repeat_of=repeats)


def _clean(text: str, field: str, limit: int) -> tuple[str, str]:
    body = " ".join((text or "").split()) if limit < 1000 else (text or "").strip()
    masked = mask_card_numbers(body, field=field)
    if len(masked.text) > limit:
        raise ValidationError(f"The {field} is too long (at most {limit} characters); nothing was saved.",
                              fields={field: f"At most {limit} characters."})
    return masked.text, masked.message


def log_request(
    db: Database,
    *,
    actor: Actor,
    kind: RequestKind | str,
    channel: str = "email",
    customer_id: int | None = None,
    requester_name: str = "",
    requester_contact: str = "",
    details: str = "",
    received_at: datetime | None = None,
) -> LoggedRequest:
    """Log a privacy request; its due date follows the shop's response setting.

    Raises ValidationError (unknown kind or channel, nobody named, an unknown or erased
    customer), PermissionDenied.
    """
    access.require(db, actor, Permission.LOG_PRIVACY_REQUEST, customer_id=customer_id)
    try:
        kind = RequestKind(kind)
    except ValueError:
        raise ValidationError(f"“{kind}” is not a kind of privacy request; nothing was saved.",
                              fields={"kind": "Choose the kind of request."}) from None
    if channel not in CHANNELS:
        raise ValidationError(f"“{channel}” is not a channel requests come by ({', '.join(CHANNELS)}); "
                              "nothing was saved.", fields={"channel": "Choose how the request came."})
    name, m1 = _clean(requester_name, "requester's name", 200)
    contact, m2 = _clean(requester_contact, "requester's contact", 254)
    body, m3 = _clean(details, "request details", 5000)
    now = utcnow()
    received = received_at or now
    if received > now:
        raise ValidationError("A request cannot be received in the future; nothing was saved.",
                              fields={"received_at": "Enter the day it arrived."})
    with db.begin() as s:
        region = shop_default_country(s)
        hash_source = contact
        if customer_id is not None:
            customer = s.get(Customer, customer_id)
            if customer is None:
                raise ValidationError("This customer is no longer here; nothing was saved.",
                                      fields={"customer_id": "No such customer."})
            if customer.status is CustomerStatus.ERASED:
                raise ValidationError("This customer was already erased; log the request without "
                                      "a customer, with the contact they gave.",
                                      fields={"customer_id": "Already erased."})
            hash_source = hash_source or customer.email or customer.phone
        elif not (name or contact):
            raise ValidationError("Name the customer, or write who asked and how to reach them; "
                                  "nothing was saved.", fields={"requester_name": "Who asked?"})
        days = int(read_setting(s, "privacy.response_days"))
        r = PrivacyRequest(kind=kind, status=RequestStatus.RECEIVED, channel=channel, customer_id=customer_id,
                           requester_name=name, requester_contact=contact, details=body,
                           received_at=received, due_at=due_at(received, days), logged_by=actor.staff_id,
                           requester_hash=keyed_hash(hash_source, region=region) if hash_source else None)
        s.add(r)
        s.flush()
        add_event(s, r.id, actor, "logged", f"{KIND_LABELS[kind]} by {CHANNELS[channel].lower()}")
        audit.record(s, actor, "log_privacy_request", entity_type="privacy_request", entity_id=r.id,
                     customer_id=customer_id, fields=["kind", "channel"])
        row = row_of(s, r, now)
    messages = [m for m in (m1, m2, m3) if m]
    if row.repeat_of:
        messages.append("The same person asked before: request " + ", ".join(str(i) for i in row.repeat_of) + ".")
    return LoggedRequest(row, " ".join(messages),
                         Changes(requests=frozenset({row.id}),
                                 customers=frozenset({customer_id}) if customer_id else frozenset()))


def list_requests(db: Database, *, actor: Actor, open_only: bool = True, customer_id: int | None = None,
                  now: datetime | None = None) -> list[RequestRow]:
    """The queue: requests by days left (overdue first), then by number. Raises PermissionDenied."""
    access.require(db, actor, Permission.LOG_PRIVACY_REQUEST)
    with db.read() as s:
        stmt = select(PrivacyRequest)
        if open_only:
            stmt = stmt.where(PrivacyRequest.status.not_in(list(CLOSED_REQUEST_STATUSES)))
        if customer_id is not None:
            stmt = stmt.where(PrivacyRequest.customer_id == customer_id)
        rows = [row_of(s, r, now) for r in s.scalars(stmt.order_by(PrivacyRequest.due_at, PrivacyRequest.id))]
    return sorted(rows, key=lambda r: (not r.is_open, r.due_at, r.id))


@dataclass(frozen=True)
class QueueAlarm:
    overdue: int
    due_soon: int

    def sentence(self) -> str:
        parts = []
        if self.overdue:
            parts.append(f"{self.overdue} privacy request{'s are' if self.overdue != 1 else ' is'} overdue")
        if self.due_soon:
            parts.append(f"{self.due_soon} due within the week")
        return "; ".join(parts) + "." if parts else ""


def queue_alarm(db: Database, *, actor: Actor, now: datetime | None = None) -> QueueAlarm:
    """How many open requests are overdue or due soon (for start-up and the status bar)."""
    rows = list_requests(db, actor=actor, now=now)
    return QueueAlarm(sum(r.overdue for r in rows), sum(r.due_soon for r in rows))


def load(s: Session, request_id: int) -> PrivacyRequest:
    r = s.get(PrivacyRequest, request_id)
    if r is None:
        raise NotFound(f"Privacy request {request_id} does not exist.")
    return r


def _staff_name(s: Session, staff_id: int | None) -> str:
    if staff_id is None:
        return ""
    return s.scalar(select(StaffUser.display_name).where(StaffUser.id == staff_id)) or ""


def get_request(db: Database, *, actor: Actor, request_id: int) -> RequestDetail:
    """One request with its history. Raises NotFound, PermissionDenied."""
    access.require(db, actor, Permission.LOG_PRIVACY_REQUEST)
    with db.read() as s:
        r = load(s, request_id)
        history = tuple(
            RequestEventView(e.at, name or "", e.action, e.note or "")
            for e, name in s.execute(
                select(PrivacyRequestEvent, StaffUser.display_name)
                .outerjoin(StaffUser, StaffUser.id == PrivacyRequestEvent.staff_id)
                .where(PrivacyRequestEvent.request_id == request_id).order_by(PrivacyRequestEvent.id)))
        return RequestDetail(
            row=row_of(s, r), requester_name=r.requester_name, requester_contact=r.requester_contact,
            details=r.details or "", identity_method=r.identity_method,
            identity_verified_by=_staff_name(s, r.identity_verified_by),
            identity_verified_at=r.identity_verified_at, decision_reason=r.decision_reason or "",
            kept=tuple(json.loads(r.kept_items or "[]")), outcome=json.loads(r.outcome or "{}"),
            history=history)


def link_customer(db: Database, *, actor: Actor, request_id: int, customer_id: int) -> RequestRow:
    """Match a request logged for someone not found to a customer record. Raises ValidationError,
    NotFound, PermissionDenied."""
    access.require(db, actor, Permission.LOG_PRIVACY_REQUEST, customer_id=customer_id)
    with db.begin() as s:
        r = load(s, request_id)
        customer = s.get(Customer, customer_id)
        if customer is None or customer.status is CustomerStatus.ERASED:
            raise ValidationError("This customer is no longer here or was erased; the request was "
                                  "not matched.")
        if not r.is_open():
            raise ValidationError(f"Request {request_id} is closed; it was not changed.")
        r.customer_id = customer_id
        add_event(s, r.id, actor, "matched", "Matched to a customer record")
        audit.record(s, actor, "link_privacy_request", entity_type="privacy_request", entity_id=r.id,
                     customer_id=customer_id, fields=["customer_id"])
        return row_of(s, r)


def withdraw_request(db: Database, *, actor: Actor, request_id: int) -> RequestRow:
    """Close a request the person took back. Raises ValidationError (closed), NotFound, PermissionDenied."""
    access.require(db, actor, Permission.LOG_PRIVACY_REQUEST)
    with db.begin() as s:
        r = load(s, request_id)
        if not r.is_open():
            raise ValidationError(f"Request {request_id} is already closed; it was not changed.")
        r.status = RequestStatus.WITHDRAWN
        r.decided_at = utcnow()
        r.decided_by = actor.staff_id
        add_event(s, r.id, actor, "withdrawn")
        audit.record(s, actor, "withdraw_privacy_request", entity_type="privacy_request", entity_id=r.id,
                     customer_id=r.customer_id, fields=["status"])
        return row_of(s, r)
