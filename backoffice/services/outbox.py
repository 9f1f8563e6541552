"""The outbox's one writer: every change the web store must hear of is queued here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.domain.sync import OutboxMessage

__all__ = ["outbox_reference", "queue_message"]

_REFERENCE_MAX = OutboxMessage.__table__.c.reference.type.length


def outbox_reference(kind: OutboxKind) -> str:
    """A fresh reference for a message: sent along and kept by the store, so a message whose
    answer was lost is looked up there instead of sent twice."""
    return f"bo-{kind.value}-{uuid.uuid4().hex}"[:_REFERENCE_MAX]


def queue_message(s: Session, kind: OutboxKind, entity_type: str, entity_id: int, *,
                  payload: Mapping[str, Any] | None = None, reference: str | None = None,
                  status: OutboxStatus = OutboxStatus.PENDING) -> OutboxMessage:
    """Add a change to the outbox in the caller's transaction; the sync sends it.

    Names and ids only: the message is built from the record when it is sent, so an erasure
    leaves no copy here. `reference` is the record's own when it has one (an order's).
    """
    message = OutboxMessage(kind=kind, entity_type=entity_type, entity_id=entity_id,
                            reference=reference or outbox_reference(kind),
                            payload=json.dumps(dict(payload or {}), sort_keys=True), status=status)
    s.add(message)
    return message
