"""Deciding a request: fulfil it (once identity is checked), refuse it or fulfil it in part,
each with the reason and the list of what was kept and why."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.cards import mask_card_numbers
from backoffice.domain.enums import RequestKind, RequestStatus
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import ValidationError
from backoffice.services import access, audit, customers
from backoffice.services.changes import Changes
from backoffice.services.privacy import erasure, export, flags
from backoffice.services.privacy.erasure import Item
from backoffice.services.privacy.identity import require_verified
from backoffice.services.privacy.register import KIND_LABELS, RequestRow, add_event, load, row_of


@dataclass(frozen=True)
class Fulfilment:
    request: RequestRow
    done: tuple[Item, ...]
    kept: tuple[Item, ...]
    store: tuple[str, ...] = ()
    file: str = ""
    changes: Changes = field(default_factory=Changes)

    def lines(self) -> list[str]:
        out = [f"Request {self.request.id} ({self.request.kind_label}): {self.request.status_label}."]
        out += [f"erased: {i.sentence()}" for i in self.done if self.request.kind is RequestKind.DELETION]
        out += [f"done: {i.sentence()}" for i in self.done if self.request.kind is not RequestKind.DELETION]
        out += [f"kept: {i.sentence()}" for i in self.kept]
        out += [f"web store: {line}" for line in self.store]
        if self.file:
            out.append(f"file: {self.file}")
        return out


_EXTRA_PERMISSION = {RequestKind.DELETION: Permission.ERASE_PERSONAL_DATA,
                     RequestKind.ACCESS: Permission.EXPORT_PERSONAL_DATA}


def _close(s, actor: Actor, r, status: RequestStatus, *, reason: str, kept: list[Item], done: list[Item],
           store: list[str]) -> None:
    r.status = status
    r.decided_by = actor.staff_id
    r.decided_at = utcnow()
    r.decision_reason = reason
    r.kept_items = json.dumps([{"what": i.what, "count": i.count, "why": i.why} for i in kept])
    r.outcome = json.dumps({"done": [{"what": i.what, "count": i.count, "why": i.why} for i in done],
                            "store": store})
    add_event(s, r.id, actor, status.value, reason)


def fulfil_request(db: Database, *, actor: Actor, request_id: int, out: str | os.PathLike | None = None,
                   replace: bool = False, note: str = "", corrections: Mapping[str, str] | None = None) -> Fulfilment:
    """Carry out a request whose requester's identity was checked, and close it.

    Deletion erases the person here and queues the erasure on the web store; access
    writes the export to `out`; deactivation, restriction and objection set the flags;
    no more marketing unsubscribes from every list; a correction applies `corrections`
    field by field (audited and sent to the web store like any edit), or, when made on
    the customer's page already, is closed with `note`. Raises IdentityNotVerified,
    ValidationError (no customer matched, no file named), PermissionDenied.
    """
    access.require(db, actor, Permission.DECIDE_PRIVACY_REQUEST)
    with db.read() as s:
        r = load(s, request_id)
        require_verified(r)
        kind, customer_id = r.kind, r.customer_id
    if kind in _EXTRA_PERMISSION:
        access.require(db, actor, _EXTRA_PERMISSION[kind], customer_id=customer_id)
    if customer_id is None:
        raise ValidationError(f"Request {request_id} is not matched to a customer yet: find their record "
                              "first, or refuse the request with the reason. Nothing was done.")
    done: list[Item] = []
    kept: list[Item] = []
    store: list[str] = []
    file = ""
    changes = Changes(requests=frozenset({request_id}), customers=frozenset({customer_id}))
    if kind is RequestKind.ACCESS:
        if out is None:
            raise ValidationError("Name the file to write the export to; nothing was done.",
                                  fields={"out": "Where should the export go?"})
        result = export.export_personal_data(db, actor=actor, customer_id=customer_id, out=out, replace=replace,
                                             request_id=request_id)
        file = result.path
        done = [Item(name.replace("_", " "), n, "exported") for name, n in result.tables.items() if n]
        kept = [Item("no copy of the export", 0, "the app keeps none; it is only in the file written")]
    if kind is RequestKind.CORRECTION and corrections:
        current = customers.get_customer(db, actor=actor, customer_id=customer_id).profile
        customers.update_customer(db, actor=actor, customer_id=customer_id, expected_version=current.version,
                                  changes=dict(corrections))
        done = [Item(f"{name.replace('_', ' ')} corrected") for name in sorted(corrections)]
        changes = changes | Changes(outbox=True)
    with db.begin() as s:
        r = load(s, request_id)
        require_verified(r)
        if kind is RequestKind.DELETION:
            done, kept, store, orders = erasure.erase_in_session(s, actor, customer_id, request_id=request_id)
            changes = changes | Changes(orders=frozenset(orders), outbox=True)
        elif kind is RequestKind.DEACTIVATION:
            flags.deactivate_in_session(s, actor, customer_id)
            done = [Item("account deactivated", 0, "no new orders or marketing; the owner can undo it")]
        elif kind is RequestKind.RESTRICTION:
            flags.set_flags_in_session(s, actor, customer_id, restricted=True)
            done = [Item("processing restricted", 0, "left out of marketing lists and mailing exports")]
        elif kind is RequestKind.OBJECTION:
            flags.set_flags_in_session(s, actor, customer_id, objected=True)
            done = [Item("objection recorded", 0, "left out of marketing lists and mailing exports")]
        elif kind is RequestKind.MARKETING_OPT_OUT:
            n = flags.opt_out_in_session(s, actor, customer_id, r.channel)
            done = [Item("newsletter lists left", n, "unsubscribed, with the opt-out recorded")]
        elif kind is RequestKind.CORRECTION and not corrections:
            text = mask_card_numbers(" ".join((note or "").split()), field="the note").text
            if not text:
                raise ValidationError("Say what was corrected (the fields changed on the customer's page); "
                                      "nothing was done.", fields={"note": "What was corrected?"})
            done = [Item(text)]
        _close(s, actor, r, RequestStatus.FULFILLED, reason="", kept=kept, done=done, store=store)
        audit.record(s, actor, "fulfil_privacy_request", entity_type="privacy_request", entity_id=r.id,
                     customer_id=r.customer_id, fields=["status"])
        row = row_of(s, r)
    if kind is RequestKind.DELETION:
        erasure.clean_database_files(db)
    return Fulfilment(row, tuple(done), tuple(kept), tuple(store), file, changes)


def refuse_request(db: Database, *, actor: Actor, request_id: int, reason: str,
                   kept: list[tuple[str, str]] = (), partly: bool = False) -> Fulfilment:
    """Refuse a request, or close it as partly fulfilled, with the reason and what was kept and why.

    A refusal needs no identity check (an unproven requester is one reason to refuse).
    Raises ValidationError (no reason, closed), NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.DECIDE_PRIVACY_REQUEST)
    why = mask_card_numbers(" ".join((reason or "").split()), field="the reason").text
    if len(why) < 5:
        raise ValidationError("Give the reason the requester will read; nothing was decided.",
                              fields={"reason": "Why?"})
    items = [Item(mask_card_numbers(w, field="what was kept").text, 0,
                  mask_card_numbers(y, field="why it was kept").text) for w, y in kept if w.strip()]
    with db.begin() as s:
        r = load(s, request_id)
        if not r.is_open():
            raise ValidationError(f"Request {request_id} is already closed; nothing was decided.")
        status = RequestStatus.PARTLY_FULFILLED if partly else RequestStatus.REFUSED
        _close(s, actor, r, status, reason=why, kept=items, done=[], store=[])
        audit.record(s, actor, "refuse_privacy_request", entity_type="privacy_request", entity_id=r.id,
                     customer_id=r.customer_id, fields=["status", "decision_reason"])
        row = row_of(s, r)
    return Fulfilment(row, (), tuple(items), (), "", Changes(requests=frozenset({request_id})))


__all__ = ["KIND_LABELS", "Fulfilment", "fulfil_request", "refuse_request"]
