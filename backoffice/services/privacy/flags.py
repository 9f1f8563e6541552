"""Deactivation, restriction and objection: who may be ordered for and who may be marketed to.

Other parts of the back office (newsletter lists, mailing exports) ask here who is out of
marketing: `marketing_blocked_clause()` is a SQL predicate on `customers` to add to a
query, `marketing_blocked_customer_ids()` the same as a set of ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.customers import Customer, marketing_blocked
from backoffice.domain.enums import ConsentAction, CustomerStatus, OutboxKind, SubscriptionStatus
from backoffice.domain.newsletters import ConsentEvent, Subscription
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import NotFound, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.outbox import queue_message
from backoffice.services.record_labels import customer_name

for _action, _label in (
    ("deactivate_customer", "Customer deactivated"),
    ("reactivate_customer", "Customer reactivated"),
    ("set_privacy_flags", "Restriction or objection changed"),
    ("marketing_opt_out", "Taken out of all marketing"),
):
    audit.register_action(_action, _label)


def marketing_blocked_clause() -> ColumnElement[bool]:
    """True for customers no marketing may reach: deactivated, erased, merged away, restricted or
    objecting (the rule is `backoffice.domain.customers.marketing_blocked`)."""
    return marketing_blocked()


def marketing_blocked_customer_ids(session: Session) -> set[int]:
    """Ids of the customers `marketing_blocked_clause` leaves out (in the caller's session)."""
    return set(session.scalars(select(Customer.id).where(marketing_blocked_clause())))


@dataclass(frozen=True)
class Flags:
    customer_id: int
    status: CustomerStatus
    restricted: bool
    objected: bool
    changes: Changes

    @property
    def sentence(self) -> str:
        parts = []
        if self.status is CustomerStatus.DEACTIVATED:
            parts.append("deactivated: no new orders, no marketing")
        if self.restricted:
            parts.append("processing restricted: left out of marketing and optional processing")
        if self.objected:
            parts.append("objects to processing: left out of marketing and optional processing")
        return "; ".join(parts)


def _customer(s: Session, customer_id: int) -> Customer:
    c = s.get(Customer, customer_id)
    if c is None:
        raise NotFound("This customer is no longer here; nothing was changed.")
    if c.status is CustomerStatus.ERASED:
        raise ValidationError("This customer was erased; nothing was changed.")
    return c


def _consent_to_store(s: Session, customer_id: int) -> None:
    # The store's newsletter consent follows the flags (the sync reads them when it sends).
    queue_message(s, OutboxKind.UPDATE_CONSENT, "customer", customer_id)


def _flags(c: Customer) -> Flags:
    return Flags(c.id, c.status, c.restricted, c.objected, Changes(customers=frozenset({c.id})))


def deactivate_in_session(s: Session, actor: Actor, customer_id: int) -> Flags:
    c = _customer(s, customer_id)
    c.status = CustomerStatus.DEACTIVATED
    c.deactivated_at = utcnow()
    audit.record(s, actor, "deactivate_customer", entity_type="customer", entity_id=c.id, customer_id=c.id,
                 fields=["status"])
    s.flush()
    return _flags(c)


def deactivate_customer(db: Database, *, actor: Actor, customer_id: int) -> Flags:
    """Block new orders and marketing for a customer (the owner can undo it). Raises NotFound,
    ValidationError, PermissionDenied."""
    access.require(db, actor, Permission.DECIDE_PRIVACY_REQUEST, customer_id=customer_id)
    with db.begin() as s:
        return deactivate_in_session(s, actor, customer_id)


def reactivate_customer(db: Database, *, actor: Actor, customer_id: int) -> Flags:
    """Undo a deactivation. Raises NotFound, ValidationError, PermissionDenied."""
    access.require(db, actor, Permission.DECIDE_PRIVACY_REQUEST, customer_id=customer_id)
    with db.begin() as s:
        c = _customer(s, customer_id)
        if c.status is not CustomerStatus.DEACTIVATED:
            raise ValidationError(f"{customer_name(c)} is not deactivated; nothing was changed.")
        c.status = CustomerStatus.ACTIVE
        c.deactivated_at = None
        audit.record(s, actor, "reactivate_customer", entity_type="customer", entity_id=c.id, customer_id=c.id,
                     fields=["status"])
        s.flush()
        return _flags(c)


def set_flags_in_session(s: Session, actor: Actor, customer_id: int, *, restricted: bool | None = None,
                         objected: bool | None = None) -> Flags:
    c = _customer(s, customer_id)
    fields = []
    if restricted is not None and c.restricted != restricted:
        c.restricted = restricted
        fields.append("restricted")
    if objected is not None and c.objected != objected:
        c.objected = objected
        fields.append("objected")
    if fields:
        _consent_to_store(s, c.id)
        audit.record(s, actor, "set_privacy_flags", entity_type="customer", entity_id=c.id, customer_id=c.id,
                     fields=fields)
    s.flush()
    return _flags(c)


def set_privacy_flags(db: Database, *, actor: Actor, customer_id: int, restricted: bool | None = None,
                      objected: bool | None = None) -> Flags:
    """Set or clear the restriction and objection flags. Raises NotFound, ValidationError, PermissionDenied."""
    access.require(db, actor, Permission.DECIDE_PRIVACY_REQUEST, customer_id=customer_id)
    with db.begin() as s:
        return set_flags_in_session(s, actor, customer_id, restricted=restricted, objected=objected)


def opt_out_in_session(s: Session, actor: Actor, customer_id: int, method: str) -> int:
    """Unsubscribe a customer from every list, with consent evidence; returns how many lists."""
    c = _customer(s, customer_id)
    subs = list(s.scalars(select(Subscription).where(Subscription.customer_id == c.id,
                                                     Subscription.status != SubscriptionStatus.UNSUBSCRIBED)))
    for sub in subs:
        sub.status = SubscriptionStatus.UNSUBSCRIBED
        s.add(ConsentEvent(customer_id=c.id, list_id=sub.list_id, action=ConsentAction.OPT_OUT,
                           method=method[:40], taken_by=actor.staff_id, wording="Privacy request: no more marketing"))
    if subs:
        _consent_to_store(s, c.id)
    audit.record(s, actor, "marketing_opt_out", entity_type="customer", entity_id=c.id, customer_id=c.id,
                 fields=["subscriptions"])
    return len(subs)
