"""The disclosure log: personal data given to a third party because the law required it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.cards import mask_card_numbers
from backoffice.domain.customers import Customer
from backoffice.domain.privacy import Disclosure
from backoffice.domain.staff import Actor, Permission, StaffUser
from backoffice.errors import ValidationError
from backoffice.services import access, audit

audit.register_action("record_disclosure", "Disclosure recorded")


@dataclass(frozen=True)
class DisclosureRow:
    id: int
    customer_id: int | None
    requested_by: str
    authority: str
    reference: str
    what_given: str
    disclosed_at: datetime
    recorded_by: str
    confidential: bool


def _text(value: str, field: str, limit: int, required: bool = True) -> str:
    text = mask_card_numbers(" ".join((value or "").split()), field=field).text
    if required and not text:
        raise ValidationError(f"Say {field}; nothing was recorded.", fields={field: "Required."})
    if len(text) > limit:
        raise ValidationError(f"The {field} is too long (at most {limit} characters); nothing was recorded.",
                              fields={field: f"At most {limit} characters."})
    return text


def record_disclosure(db: Database, *, actor: Actor, customer_id: int | None, requested_by: str, authority: str,
                      what_given: str, reference: str = "", disclosed_at: datetime | None = None,
                      confidential: bool = False) -> DisclosureRow:
    """Log who asked, under what authority, what was given, when and by whom.

    `confidential` keeps it out of the person's own export (when a court forbids telling).
    Raises ValidationError, PermissionDenied.
    """
    access.require(db, actor, Permission.RECORD_DISCLOSURE, customer_id=customer_id)
    values = dict(requested_by=_text(requested_by, "who asked", 200), authority=_text(authority, "the authority", 200),
                  what_given=_text(what_given, "what was given", 5000),
                  reference=_text(reference, "the reference", 120, required=False))
    with db.begin() as s:
        if customer_id is not None and s.get(Customer, customer_id) is None:
            raise ValidationError("This customer is no longer here; nothing was recorded.")
        d = Disclosure(customer_id=customer_id, disclosed_at=disclosed_at or utcnow(), recorded_by=actor.staff_id,
                       confidential=confidential, **values)
        s.add(d)
        s.flush()
        audit.record(s, actor, "record_disclosure", entity_type="disclosure", entity_id=d.id,
                     customer_id=customer_id, fields=sorted(values))
        return _row(d, s.scalar(select(StaffUser.display_name).where(StaffUser.id == actor.staff_id)) or "")


def _row(d: Disclosure, staff_name: str) -> DisclosureRow:
    return DisclosureRow(d.id, d.customer_id, d.requested_by, d.authority, d.reference, d.what_given, d.disclosed_at,
                         staff_name, d.confidential)


def list_disclosures(db: Database, *, actor: Actor, customer_id: int | None = None) -> list[DisclosureRow]:
    """The log, newest first (one person's when `customer_id` is given). Raises PermissionDenied."""
    access.require(db, actor, Permission.RECORD_DISCLOSURE, customer_id=customer_id)
    with db.read() as s:
        stmt = select(Disclosure, StaffUser.display_name).outerjoin(StaffUser, StaffUser.id == Disclosure.recorded_by)
        if customer_id is not None:
            stmt = stmt.where(Disclosure.customer_id == customer_id)
        return [_row(d, name or "") for d, name in s.execute(stmt.order_by(Disclosure.disclosed_at.desc(),
                                                                            Disclosure.id.desc()))]
