"""Writing and checking the audit trail (append-only, hash-chained, no personal values).

Each event's hash covers its content and the previous event's hash, so changing,
removing or inserting a row anywhere breaks the chain from there on;
`verify_chain` reports the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backoffice.domain.audit import AuditEvent
from backoffice.domain.base import utcnow
from backoffice.domain.enums import AuditOutcome
from backoffice.domain.staff import Actor

# Any constant works; it names the lock that serialises audit writers on PostgreSQL.
_PG_AUDIT_LOCK = 7_301_221


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
    """
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
