"""Policy-change notices: a new use of personal data announced to every customer at least
30 days ahead, as a transactional message (no opt-out applies), logged per person."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.cards import mask_card_numbers
from backoffice.domain.customers import Customer
from backoffice.domain.enums import CustomerStatus
from backoffice.domain.privacy import PolicyNotice, PolicyNoticeDelivery
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import ValidationError
from backoffice.private_files import private_csv
from backoffice.services import access, audit

MIN_NOTICE = timedelta(days=30)

audit.register_action("policy_notice", "Policy-change notice logged")


@dataclass(frozen=True)
class NoticeResult:
    notice_id: int
    recipients: int
    without_email: int
    file: str


def announce_policy_change(db: Database, *, actor: Actor, title: str, body: str, effective_at: datetime,
                           out: str | os.PathLike, replace: bool = False, now: datetime | None = None) -> NoticeResult:
    """Log the notice for every customer with an email, and write the mailing list (email, name,
    title, text) for the shop's mailer. The change takes effect no sooner than 30 days on.

    Raises ValidationError (no title or text, too soon), FileExistsRefused, PermissionDenied.
    """
    access.require(db, actor, Permission.DECIDE_PRIVACY_REQUEST)
    now = now or utcnow()
    title = mask_card_numbers(" ".join((title or "").split()), field="the title").text
    body = mask_card_numbers((body or "").strip(), field="the text").text
    if not title or not body:
        raise ValidationError("A notice needs a title and its text; nothing was sent.",
                              fields={"title" if not title else "body": "Required."})
    if effective_at - now < MIN_NOTICE:
        raise ValidationError("The shop promises to announce a new use of personal data at least 30 days ahead: "
                              f"choose {(now + MIN_NOTICE):%Y-%m-%d} or later. Nothing was sent.",
                              fields={"effective_at": "At least 30 days from today."})
    with db.begin() as s:
        notice = PolicyNotice(title=title, body=body, effective_at=effective_at, created_by=actor.staff_id)
        s.add(notice)
        s.flush()
        people = s.execute(select(Customer.id, Customer.email, Customer.first_name, Customer.last_name).where(
            Customer.status != CustomerStatus.ERASED, Customer.merged_into_id.is_(None))
            .order_by(Customer.id)).all()
        with private_csv(out, replace=replace) as writer:
            writer.writerow(["email", "name", "subject", "text"])
            sent = 0
            for p in people:
                if not p.email:
                    continue
                writer.writerow([p.email, f"{p.first_name} {p.last_name}".strip(), title, body])
                s.add(PolicyNoticeDelivery(notice_id=notice.id, customer_id=p.id, sent_to=p.email))
                sent += 1
        audit.record(s, actor, "policy_notice", entity_type="policy_notice", entity_id=notice.id,
                     fields=["title", "body"])
        return NoticeResult(notice.id, sent, len(people) - sent, str(out))
