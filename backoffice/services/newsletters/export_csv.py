"""Exporting a list's subscribed members for the mail tool, in Mailchimp's or listmonk's
import format, leaving out everyone the shop may not market to, and saying how many and why."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from backoffice.db import Database
from backoffice.domain.customers import Customer, marketing_refusal
from backoffice.domain.enums import Channel, SubscriptionStatus
from backoffice.domain.newsletters import NewsletterList, Subscription
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import NotFound, ValidationError
from backoffice.private_files import private_csv
from backoffice.services import access, audit
from backoffice.services.newsletters import suppression

audit.register_action("export_list", "Newsletter list exported to a file")

Progress = Callable[[int, int, str], None]

MAILCHIMP = "mailchimp"
LISTMONK = "listmonk"
FORMATS = (MAILCHIMP, LISTMONK)
PAGE = 5_000

#: Why a subscribed member was left out of an export, as the person reads it.
REASON_LABELS = {
    "erased": "erased",
    "deactivated": "account deactivated",
    "restricted": "processing restricted",
    "objected": "objected to marketing",
    "suppressed": "on the suppression list",
    "no_address": "no email address",
}


def excluded_from_marketing(customer: Mapping) -> str | None:
    """Why this person may not receive marketing, or None when they may: the one rule in
    `backoffice.domain.customers.marketing_refusal`, read from a row or a record's fields."""
    return marketing_refusal(customer.get("status"), bool(customer.get("restricted")),
                             bool(customer.get("objected")), customer.get("merged_into_id"))


@dataclass(frozen=True)
class ExportResult:
    path: str
    written: int
    left_out: dict[str, int]

    def summary(self) -> str:
        parts = [f"{n:,} {REASON_LABELS[k]}" for k, n in sorted(self.left_out.items()) if n]
        left = sum(self.left_out.values())
        tail = f"; {left:,} left out: " + ", ".join(parts) if left else "; nobody left out"
        return f"{self.written:,} member(s) written to {self.path}{tail}."


def export_list(db: Database, *, actor: Actor, list_id: int, fmt: str, path: str | Path,
                replace: bool = False, progress: Progress | None = None) -> ExportResult:
    """Write the list's subscribed members to a new CSV file (owner-only, spreadsheet-safe)
    in the import format of Mailchimp ("Email Address", "First Name", "Last Name") or
    listmonk (email, name, attributes). Erased, deactivated, restricted, objecting and
    suppressed people are left out and counted by reason. When `progress` raises (a
    cancelled task) no file is left behind.

    Raises ValidationError, NotFound, PermissionDenied, FileExistsRefused.
    """
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS)
    if fmt not in FORMATS:
        raise ValidationError(f"Choose the format: {' or '.join(FORMATS)}; nothing was written.")
    left_out = {k: 0 for k in REASON_LABELS}
    written = 0
    with db.begin() as s:
        lst = s.get(NewsletterList, list_id)
        if lst is None:
            raise NotFound(f"Newsletter list {list_id} does not exist (any more).")
        if lst.channel is not Channel.EMAIL:
            raise ValidationError(f"“{lst.name}” is a {lst.channel.value} list; Mailchimp and listmonk send "
                                  "email. Nothing was written.")
        secret = suppression.suppression_secret(s)
        suppressed = suppression.suppressed_hashes(s, Channel.EMAIL, list_id)
    columns = (Customer.id, Customer.first_name, Customer.last_name, Customer.email, Customer.email_key,
               Customer.status, Customer.restricted, Customer.objected, Customer.deactivated_at,
               Customer.erased_at)
    base = (select(*columns).join(Subscription, Subscription.customer_id == Customer.id)
            .where(Subscription.list_id == list_id, Subscription.status == SubscriptionStatus.SUBSCRIBED,
                   Customer.merged_into_id.is_(None)))
    with db.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        with private_csv(path, replace=replace) as writer:
            if fmt == MAILCHIMP:
                writer.writerow(["Email Address", "First Name", "Last Name"])
            else:
                writer.writerow(["email", "name", "attributes"])
            after = 0
            done = 0
            while True:
                page = conn.execute(base.where(Customer.id > after).order_by(Customer.id).limit(PAGE)).mappings().all()
                if not page:
                    break
                after = page[-1]["id"]
                for row in page:
                    reason = excluded_from_marketing(row)
                    if reason is None and not row["email"]:
                        reason = "no_address"
                    if reason is None and suppression.key_hash(secret, Channel.EMAIL, row["email_key"]) in suppressed:
                        reason = "suppressed"
                    if reason is not None:
                        left_out[reason] += 1
                        continue
                    if fmt == MAILCHIMP:
                        writer.writerow([row["email"], row["first_name"], row["last_name"]])
                    else:
                        full = f"{row['first_name']} {row['last_name']}".strip()
                        writer.writerow([row["email"], full, json.dumps({})])
                    written += 1
                done += len(page)
                if progress is not None:
                    progress(done, total, f"Writing member {done:,} of {total:,}")
    with db.begin() as s:
        audit.record(s, actor, "export_list", entity_type="newsletter_list", entity_id=list_id,
                     fields=[fmt, f"written-{written}", f"left_out-{sum(left_out.values())}"])
    return ExportResult(path=str(path), written=written, left_out={k: v for k, v in left_out.items() if v})
