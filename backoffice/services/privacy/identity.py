"""The identity gate: nothing is fulfilled before the requester is shown to be who they say."""

from __future__ import annotations

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.cards import mask_card_numbers
from backoffice.domain.enums import RequestStatus
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import UserFacingError, ValidationError
from backoffice.services import access, audit
from backoffice.services.privacy.register import RequestRow, add_event, load, row_of

# The ways the shop checks who is asking (from its privacy policy), as stored.
METHODS = {
    "order_postcode": "Order number and postcode matched",
    "call_back": "Called back on the number on file",
    "reply_from_address": "Reply from the address on file",
    "document_seen": "Identity document seen",
}


class IdentityNotVerified(UserFacingError):
    """A request cannot be fulfilled before the requester's identity is checked."""


def method_text(method: str) -> str:
    """The stored wording of a method: a known key's label, or what staff wrote (card-checked)."""
    text = " ".join((method or "").split())
    if text in METHODS:
        return METHODS[text]
    if len(text) < 4:
        raise ValidationError("Say how the requester's identity was checked (for example "
                              "“call_back” or “document_seen”); nothing was recorded.",
                              fields={"method": "How was it checked?"})
    masked = mask_card_numbers(text, field="the identity check")
    return masked.text[:120]


def verify_identity(db: Database, *, actor: Actor, request_id: int, method: str) -> RequestRow:
    """Record that the requester's identity was checked, how, and by whom.

    Raises ValidationError (no method, request closed or already checked), NotFound,
    PermissionDenied.
    """
    access.require(db, actor, Permission.LOG_PRIVACY_REQUEST)
    how = method_text(method)
    with db.begin() as s:
        r = load(s, request_id)
        if not r.is_open():
            raise ValidationError(f"Request {request_id} is closed; nothing was recorded.")
        if r.identity_verified_at is not None:
            raise ValidationError(f"The identity for request {request_id} was already checked "
                                  f"({r.identity_method}); nothing was recorded.")
        r.identity_verified_at = utcnow()
        r.identity_method = how
        r.identity_verified_by = actor.staff_id
        if r.status is RequestStatus.RECEIVED:
            r.status = RequestStatus.IN_PROGRESS
        add_event(s, r.id, actor, "identity_verified", how)
        audit.record(s, actor, "verify_privacy_identity", entity_type="privacy_request", entity_id=r.id,
                     customer_id=r.customer_id, fields=["identity_method"])
        return row_of(s, r)


def require_verified(r) -> None:
    """Raise IdentityNotVerified unless the request may be fulfilled."""
    if r.identity_verified_at is None:
        raise IdentityNotVerified(
            f"Request {r.id} cannot be fulfilled yet: the requester's identity has not been checked. "
            "Record how it was checked first; nothing was done.")
    if not r.is_open():
        raise UserFacingError(f"Request {r.id} is already closed; nothing was done.")
