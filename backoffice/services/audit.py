"""Writing, reading and checking the audit trail (append-only, hash-chained, no personal values).

Each event's hash covers its content and the previous event's hash, so changing,
removing or inserting a row anywhere breaks the chain from there on;
`verify_chain` reports the first broken link. The app only ever appends: a session
that tries to change or delete an audit row fails before anything is written.
An event holds ids and field names only; `record` refuses anything that does not
look like a name, so a value (an email, a phone number, a sentence) cannot slip in.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backoffice.domain.audit import AuditEvent
from backoffice.domain.base import utcnow
from backoffice.domain.enums import AuditOutcome
from backoffice.domain.staff import Actor, Permission, StaffUser

# Any constant works; it names the lock that serialises audit writers on PostgreSQL.
_PG_AUDIT_LOCK = 7_301_221


# Names, not values: a letter first, then letters, digits, "_", "." or "-", short.
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}")
# Actions may carry one qualifier, as in "denied:export_personal_data".
_ACTION_RE = re.compile(r"[a-z][a-z0-9_.]{0,40}(:[a-z0-9_.]{1,40})?")


def _check_name(value: str, what: str, pattern: re.Pattern[str]) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        # The value itself stays out of the message: it may be the personal data
        # this check exists to keep out of the trail.
        raise ValueError(f"An audit {what} must be a plain name (got {type(value).__name__} "
                         f"of length {len(value) if isinstance(value, str) else '?'}).")


def _digest(prev_hash: str, event: AuditEvent) -> str:
    body = json.dumps(
        [
            prev_hash,
            event.at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            event.staff_id,
            event.desk,
            event.action,
            event.entity_type,
            event.entity_id,
            event.customer_id,
            event.fields,
            str(event.outcome),
        ],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    *,
    entity_type: str = "",
    entity_id: int | None = None,
    customer_id: int | None = None,
    fields: Iterable[str] = (),
    outcome: AuditOutcome = AuditOutcome.OK,
    at: datetime | None = None,
) -> AuditEvent:
    """Append an audit event in the caller's transaction.

    `fields` are field NAMES only; never pass values. The event is chained to the
    latest one; on PostgreSQL an advisory lock keeps concurrent desks in one chain.
    Raises ValueError when the action, entity type or a field is not a plain name.
    """
    fields = list(fields)
    _check_name(action, "action", _ACTION_RE)
    if entity_type:
        _check_name(entity_type, "entity type", _NAME_RE)
    for name in fields:
        _check_name(name, "field", _NAME_RE)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    prev = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none() or ""
    # Microsecond precision survives both databases, so the hash can be recomputed.
    event = AuditEvent(
        at=(at or utcnow()),
        staff_id=actor.staff_id if actor else None,
        desk=(actor.desk if actor else "") or "",
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        customer_id=customer_id,
        fields=json.dumps(sorted(set(fields))),
        outcome=outcome,
        prev_hash=prev,
    )
    event.hash = _digest(prev, event)
    session.add(event)
    session.flush()
    return event


def record_views(session: Session, actor: Actor | None, action: str, *, entity_type: str,
                 entities: Iterable[tuple[int, int | None]]) -> None:
    """Append one event per (entity id, customer id), chained as `record` chains them, with one
    read of the chain's end and one flush (a batch of 500 printed slips is 500 views)."""
    _check_name(action, "action", _ACTION_RE)
    _check_name(entity_type, "entity type", _NAME_RE)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    session.flush()
    prev = session.execute(
        select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none() or ""
    now = utcnow()
    for entity_id, customer_id in entities:
        event = AuditEvent(
            at=now, staff_id=actor.staff_id if actor else None, desk=(actor.desk if actor else "") or "",
            action=action, entity_type=entity_type, entity_id=entity_id, customer_id=customer_id,
            fields="[]", outcome=AuditOutcome.OK, prev_hash=prev,
        )
        event.hash = prev = _digest(prev, event)
        session.add(event)
    session.flush()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""

    def sentence(self) -> str:
        if self.ok:
            return f"The audit trail is intact ({self.checked} entries checked)."
        return (
            f"The audit trail is broken at entry {self.first_bad_id}: {self.reason}. "
            f"{self.checked} entries before it are intact."
        )


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Walk the whole audit trail and report the first entry that does not fit."""
    prev = ""
    checked = 0
    last_id = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).scalars().all()
        if not rows:
            return ChainReport(ok=True, checked=checked)
        for ev in rows:
            if ev.prev_hash != prev:
                return ChainReport(False, checked, ev.id, "it does not point to the entry before it "
                                   "(an entry was removed, inserted or changed)")
            if _digest(prev, ev) != ev.hash:
                return ChainReport(False, checked, ev.id, "its content does not match its hash "
                                   "(the entry was changed)")
            prev = ev.hash
            checked += 1
            last_id = ev.id
        session.expunge_all()


# --- append-only ---------------------------------------------------------------------

class AuditTamperingRefused(RuntimeError):
    """Code tried to change or delete an audit event; the audit trail is append-only."""


@sa_event.listens_for(Session, "before_flush")
def _refuse_changed_events(session: Session, _flush_context, _instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditTamperingRefused("Audit events cannot be deleted.")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False):
            raise AuditTamperingRefused("Audit events cannot be changed.")


@sa_event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditEvent:
        raise AuditTamperingRefused("Audit events cannot be changed or deleted.")


# --- reading -------------------------------------------------------------------------

MAX_PAGE = 1000

# Labels for the actions the back office records, for the audit screen's filter.
# Services that record a new action add it here (or call `register_action`).
_ACTION_LABELS: dict[str, str] = {
    "login": "Signed in",
    "login_failed": "Sign-in failed",
    "login_locked": "Account locked",
    "logout": "Signed out",
    "unlock": "Unlocked the desk",
    "unlock_failed": "Desk unlock failed",
    "password_changed": "Changed own password",
    "password_change_failed": "Password change failed",
    "password_reset": "Password reset by the owner",
    "staff_added": "Staff account added",
    "staff_disabled": "Staff account disabled",
    "staff_enabled": "Staff account enabled",
    "role_changed": "Role changed",
    "change_settings": "Settings changed",
    "view_order": "Viewed an order",
}
ANY_DENIED = "denied:*"


def register_action(action: str, label: str) -> None:
    """Name a new audit action for the filter list (call at import time of a service)."""
    _check_name(action, "action", _ACTION_RE)
    _ACTION_LABELS.setdefault(action, label)


def action_label(action: str) -> str:
    """How the audit screen names `action`."""
    if action == ANY_DENIED:
        return "Refused (any action)"
    if action.startswith("denied:"):
        perm = action.partition(":")[2]
        from backoffice.services.access import _ACTION_WORDS

        try:
            words = _ACTION_WORDS[Permission(perm)]
        except ValueError:
            words = perm.replace("_", " ")
        return f"Refused: {words}"
    return _ACTION_LABELS.get(action, action.replace("_", " ").capitalize())


def audit_actions(db=None) -> list[str]:
    """Every action the filter offers: the known ones, every refusal, and (given a
    database) any other action already in its trail."""
    actions = set(_ACTION_LABELS) | {f"denied:{p.value}" for p in Permission}
    if db is not None:
        with db.read() as s:
            actions |= set(s.execute(select(AuditEvent.action).distinct()).scalars())
    return [ANY_DENIED] + sorted(actions, key=lambda a: (a.startswith("denied:"), action_label(a)))


@dataclass(frozen=True)
class AuditRow:
    """One audit event as the audit screen shows it."""

    id: int
    at: datetime
    staff_id: int | None
    staff_login: str
    desk: str
    action: str
    entity_type: str
    entity_id: int | None
    customer_id: int | None
    fields: tuple[str, ...]
    outcome: AuditOutcome

    @property
    def action_label(self) -> str:
        return action_label(self.action)


def list_events(
    db,
    *,
    actor: Actor,
    staff_id: int | None = None,
    customer_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 200,
) -> list[AuditRow]:
    """Audit events, newest first, one keyset page at a time (owner only).

    Pass the last row's id as `before_id` for the next page. `action` may be
    ANY_DENIED for every refusal; `since` is inclusive, `until` exclusive.
    Raises PermissionDenied.
    """
    from backoffice.services import access

    access.require(db, actor, Permission.READ_AUDIT, customer_id=customer_id)
    limit = max(1, min(int(limit), MAX_PAGE))
    stmt = (
        select(AuditEvent, StaffUser.login)
        .outerjoin(StaffUser, StaffUser.id == AuditEvent.staff_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    if staff_id is not None:
        stmt = stmt.where(AuditEvent.staff_id == staff_id)
    if customer_id is not None:
        stmt = stmt.where(AuditEvent.customer_id == customer_id)
    if action == ANY_DENIED:
        stmt = stmt.where(AuditEvent.action.like("denied:%"))
    elif action:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    with db.read() as s:
        return [
            AuditRow(
                id=ev.id, at=ev.at, staff_id=ev.staff_id, staff_login=login or "",
                desk=ev.desk, action=ev.action, entity_type=ev.entity_type,
                entity_id=ev.entity_id, customer_id=ev.customer_id,
                fields=tuple(json.loads(ev.fields or "[]")), outcome=ev.outcome,
            )
            for ev, login in s.execute(stmt).all()
        ]


def check_chain(db) -> ChainReport:
    """Verify the whole audit trail in its own read-only session."""
    with db.read() as s:
        return verify_chain(s)
