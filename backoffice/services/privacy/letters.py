"""Response letters: one for each outcome of a request, as text and as a PDF written owner-only."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from backoffice.db import Database
from backoffice.documents.privacy_letter import LetterFacts, letter_pdf, letter_text
from backoffice.domain.base import utcnow
from backoffice.domain.enums import RequestKind
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import ValidationError
from backoffice.private_files import open_private
from backoffice.services import access
from backoffice.services.privacy.register import KIND_LABELS, load
from backoffice.services.settings import read_setting


@dataclass(frozen=True)
class Letter:
    text: str
    pdf: bytes


def response_letter(db: Database, *, actor: Actor, request_id: int) -> Letter:
    """The answer to a closed request. Raises ValidationError (still open), NotFound, PermissionDenied."""
    access.require(db, actor, Permission.DECIDE_PRIVACY_REQUEST)
    with db.read() as s:
        r = load(s, request_id)
        if r.is_open():
            raise ValidationError(f"Request {request_id} is still open: decide it first, then write the letter.")
        outcome = json.loads(r.outcome or "{}")
        # An erasure's own list names the app's tables (search index, outbox): the letter's opening says it in words.
        done = [] if r.kind is RequestKind.DELETION else [
            d["what"] + (f": {d['count']}" if d.get("count") else "") for d in outcome.get("done", [])]
        facts = LetterFacts(
            shop=str(read_setting(s, "shop.name")), contact=str(read_setting(s, "privacy.contact") or ""),
            request_id=r.id, kind_label=KIND_LABELS[r.kind], status=r.status.value, kind=r.kind.value,
            received_at=r.received_at, answered_at=r.decided_at or utcnow(), reason=r.decision_reason or "",
            done=done, kept=[(k.get("what", ""), k.get("why", "")) for k in json.loads(r.kept_items or "[]")])
    return Letter(letter_text(facts), letter_pdf(facts))


def save_letter(db: Database, *, actor: Actor, request_id: int, out: str | os.PathLike, replace: bool = False) -> Letter:
    """Write the letter's PDF to `out` (owner-only). Raises like `response_letter`, and FileExistsRefused."""
    letter = response_letter(db, actor=actor, request_id=request_id)
    with open_private(out, "wb", replace=replace) as fh:
        fh.write(letter.pdf)
    return letter
