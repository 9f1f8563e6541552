"""Importing a list's subscribers, unsubscribes and bounces from the CSV files Mailchimp
and listmonk export.

Mailchimp exports an audience as three files with the same first columns ("Email
Address", "First Name", "Last Name", ..., OPTIN_TIME, OPTIN_IP, CONFIRM_TIME,
CONFIRM_IP, ...): subscribed members, unsubscribed members (with UNSUB_TIME and the
unsubscribe reason) and cleaned members (with CLEAN_TIME). listmonk exports
"uuid,email,name,attributes,status,created_at,updated_at", status being enabled,
disabled or blocklisted; its import format "email,name,attributes" is read as
subscribers too.

A preview checks every row and names each one that cannot be imported, with its line.
The import writes everything in one transaction, and only when no row was rejected:
nothing is ever half-imported. Addresses on the suppression list, and people who opted
out here, are never put back on the list by an import; they are left out and named.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum

from sqlalchemy import bindparam, func, insert, select, text, update

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.cards import find_card_numbers, may_contain_card_number
from backoffice.domain.customers import Customer
from backoffice.domain.emails import email_key, validate_email
from backoffice.domain.enums import (
    Channel,
    ConsentAction,
    CustomerStatus,
    OutboxKind,
    OutboxStatus,
    SubscriptionStatus,
)
from backoffice.domain.newsletters import ConsentEvent, NewsletterList, Subscription, Suppression
from backoffice.domain.search import customer_entry, write_entry
from backoffice.domain.staff import Actor, Permission
from backoffice.domain.sync import OutboxMessage
from backoffice.domain.text import fold
from backoffice.errors import NotFound, UserFacingError, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.newsletters import suppression
from backoffice.services.newsletters.consent import Method
from backoffice.services.outbox import outbox_reference
from backoffice.services.search_index import rebuild_search_index
from backoffice.services.settings import shop_default_country

audit.register_action("import_list", "Newsletter list imported from a file")

Progress = Callable[[int, int, str], None]

MAILCHIMP = "mailchimp"
LISTMONK = "listmonk"
FORMAT_LABELS = {MAILCHIMP: "Mailchimp", LISTMONK: "listmonk"}
MAX_BYTES = 200 * 1024 * 1024
CHUNK = 5_000
# Above this many new customers the search index is rebuilt once instead of row by row.
_REBUILD_FROM = 2_000

_LISTMONK_STATUS = {
    "enabled": SubscriptionStatus.SUBSCRIBED,
    "disabled": SubscriptionStatus.UNSUBSCRIBED,
    "blocklisted": SubscriptionStatus.UNSUBSCRIBED,
}
_ACTIONS = {
    SubscriptionStatus.SUBSCRIBED: ConsentAction.OPT_IN,
    SubscriptionStatus.UNSUBSCRIBED: ConsentAction.OPT_OUT,
    SubscriptionStatus.CLEANED: ConsentAction.CLEAN,
}


@dataclass(frozen=True)
class RejectedLine:
    """A row that cannot be imported: its line in the file and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class LeftOutLine:
    """A good row the import leaves alone on purpose (opted out or suppressed)."""

    line: int
    reason: str


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    key: str
    first_name: str
    last_name: str
    status: SubscriptionStatus
    at: datetime | None
    source_address: str
    # listmonk's blocklist: the address is to get no mail from any list.
    everywhere: bool = False


@dataclass(frozen=True)
class ListImportPreview:
    """What an import of this file would do; `rejected` must be empty for it to run."""

    format: str
    kind: str  # "subscribers", "unsubscribes", "bounces" or "mixed"
    rows: int
    by_status: dict[SubscriptionStatus, int]
    rejected: tuple[RejectedLine, ...]
    digest: str
    _rows: tuple[_Row, ...] = field(default=(), repr=False, compare=False)

    @property
    def can_import(self) -> bool:
        return not self.rejected and self.rows > 0

    def report_lines(self) -> list[str]:
        return [f"Line {r.line}: {r.reason}" for r in self.rejected]


@dataclass(frozen=True)
class ListImportResult:
    subscribed: int
    unsubscribed: int
    cleaned: int
    unchanged: int
    new_customers: int
    left_out: tuple[LeftOutLine, ...]
    changes: Changes


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ValidationError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; nothing was imported.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _compact(header: str) -> str:
    return "".join(ch for ch in header.strip().lower() if ch.isalnum())


def _parse_time(value: str) -> datetime | None:
    """A time as the mail tools write it (UTC); raises ValueError for anything else."""
    value = value.strip()
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace(" UTC", "").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class _Columns:
    def __init__(self, headers: Sequence[str]) -> None:
        self.index = {}
        for i, h in enumerate(headers):
            self.index.setdefault(_compact(h), i)
        self._by_name: dict[str, int | None] = {}

    def has(self, *names: str) -> bool:
        return all(_compact(n) in self.index for n in names)

    def get(self, cells: Sequence[str], name: str) -> str:
        i = self._by_name.get(name, -1)
        if i == -1:
            i = self._by_name[name] = self.index.get(_compact(name))
        return cells[i].strip() if i is not None and i < len(cells) else ""


# A plain ASCII address (dot-atom before the "@"): the rules email_validator applies to
# its part before the "@"; the part after it is checked by email_validator once per domain.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9.-]{1,253})")


def _email_checker() -> Callable[[str], str]:
    """validate_email, quicker on a file where thousands of addresses share a few domains."""
    domains: dict[str, str | None] = {}

    def check(raw: str) -> str:
        text_ = raw.strip()
        match = _PLAIN_ADDRESS.fullmatch(text_)
        if match is None or len(text_) > 254 or len(text_.partition("@")[0]) > 64:
            return validate_email(text_)
        domain = match.group(1).lower()
        if domain not in domains:
            try:
                domains[domain] = validate_email(f"a@{domain}").partition("@")[2]
            except ValidationError:
                domains[domain] = None
        if domains[domain] is None:
            return validate_email(text_)  # for its sentence
        return f"{text_.partition('@')[0]}@{domains[domain]}"

    return check


def _format_of(cols: _Columns) -> tuple[str, str]:
    if cols.has("Email Address"):
        if cols.has("CLEAN_TIME"):
            return MAILCHIMP, "bounces"
        if cols.has("UNSUB_TIME"):
            return MAILCHIMP, "unsubscribes"
        return MAILCHIMP, "subscribers"
    if cols.has("email", "status", "uuid"):
        return LISTMONK, "mixed"
    if cols.has("email", "name"):
        return LISTMONK, "subscribers"
    raise ValidationError(
        "This is not a Mailchimp or listmonk export: Mailchimp's files start with an "
        "“Email Address” column, listmonk's with uuid, email, name, attributes and status. "
        "Nothing was imported.")


def _check_text(values: dict[str, str]) -> str | None:
    for label, value in values.items():
        if value and may_contain_card_number(value) and find_card_numbers(value):
            return f"the {label} holds what looks like a card number, which the shop never stores"
    return None


def _row(fmt: str, kind: str, cols: _Columns, cells: list[str], line: int,
         check_email: Callable[[str], str]) -> _Row | RejectedLine:
    everywhere = False
    if fmt == MAILCHIMP:
        raw_email = cols.get(cells, "Email Address")
        first, last = cols.get(cells, "First Name"), cols.get(cells, "Last Name")
        status = {"subscribers": SubscriptionStatus.SUBSCRIBED, "unsubscribes": SubscriptionStatus.UNSUBSCRIBED,
                  "bounces": SubscriptionStatus.CLEANED}[kind]
        when = {"subscribers": ("CONFIRM_TIME", "OPTIN_TIME"), "unsubscribes": ("UNSUB_TIME",),
                "bounces": ("CLEAN_TIME",)}[kind]
        ip_cells = ("CONFIRM_IP", "OPTIN_IP") if kind == "subscribers" else ()
    else:
        raw_email = cols.get(cells, "email")
        name = cols.get(cells, "name")
        first, _, last = name.partition(" ")
        first, last = first.strip(), last.strip()
        raw_status = cols.get(cells, "status").lower() if kind == "mixed" else "enabled"
        if raw_status not in _LISTMONK_STATUS:
            return RejectedLine(line, "the status is not one of enabled, disabled, blocklisted")
        status = _LISTMONK_STATUS[raw_status]
        everywhere = raw_status == "blocklisted"
        when = ("updated_at", "created_at") if kind == "mixed" else ()
        ip_cells = ()
        attributes = cols.get(cells, "attributes")
        if attributes:
            try:
                if not isinstance(json.loads(attributes), dict):
                    raise ValueError
            except ValueError:
                return RejectedLine(line, "the attributes are not a JSON object such as {\"city\": \"Houston\"}")
    problem = _check_text({"email address": raw_email, "first name": first, "last name": last})
    if problem:
        return RejectedLine(line, problem)
    if not raw_email:
        return RejectedLine(line, "there is no email address")
    try:
        email = check_email(raw_email)
    except ValidationError as exc:
        return RejectedLine(line, exc.message.rstrip(".").lower() if exc.message else "the email address is not valid")
    if len(first) > 120 or len(last) > 120:
        return RejectedLine(line, "the name is longer than 120 characters")
    at = None
    for column in when:
        try:
            moment = _parse_time(cols.get(cells, column))
        except ValueError:
            return RejectedLine(line, f"{column} is not a date and time such as 2024-03-14 09:12:31")
        at = at or moment
    source = ""
    for column in ip_cells:
        value = cols.get(cells, column)
        if value:
            try:
                source = str(ipaddress.ip_address(value))
            except ValueError:
                return RejectedLine(line, f"{column} is not an IP address")
            break
    return _Row(line=line, email=email, key=email_key(email), first_name=first, last_name=last,
                status=status, at=at, source_address=source, everywhere=everywhere)


def _analyse(data: bytes, progress: Progress | None) -> ListImportPreview:
    text_ = _decode(data)
    reader = csv.reader(io.StringIO(text_, newline=""))
    try:
        headers = next(reader)
    except StopIteration:
        raise ValidationError("The file is empty; nothing was imported.") from None
    except csv.Error as exc:
        raise ValidationError(f"The file's first line cannot be read as CSV ({exc}); nothing was imported.") from None
    cols = _Columns(headers)
    fmt, kind = _format_of(cols)
    rows: list[_Row] = []
    rejected: list[RejectedLine] = []
    seen: dict[str, int] = {}
    by_status: dict[SubscriptionStatus, int] = {}
    width = len(headers)
    count = 0
    check_email = _email_checker()
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            rejected.append(RejectedLine(line, f"the line cannot be read as CSV ({exc})"))
            break
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if progress is not None and count % CHUNK == 0:
            progress(count, 0, f"Checking row {count:,}")
        if len(cells) != width:
            rejected.append(RejectedLine(line, f"the row has {len(cells)} cells where the header has {width}"))
            continue
        result = _row(fmt, kind, cols, cells, line, check_email)
        if isinstance(result, RejectedLine):
            rejected.append(result)
            continue
        if result.key in seen:
            rejected.append(RejectedLine(line, f"the same email address is on line {seen[result.key]}"))
            continue
        seen[result.key] = line
        rows.append(result)
        by_status[result.status] = by_status.get(result.status, 0) + 1
    return ListImportPreview(format=fmt, kind=kind, rows=count, by_status=by_status, rejected=tuple(rejected),
                             digest=hashlib.sha256(data).hexdigest(), _rows=tuple(rows))


def _list(s, list_id: int) -> NewsletterList:
    lst = s.get(NewsletterList, list_id)
    if lst is None:
        raise NotFound(f"Newsletter list {list_id} does not exist (any more).")
    if lst.channel is not Channel.EMAIL:
        raise ValidationError(f"“{lst.name}” is a {lst.channel.value} list; Mailchimp and listmonk files hold "
                              "email addresses. Nothing was imported.")
    return lst


def preview_list_import(db: Database, *, actor: Actor, list_id: int, data: bytes,
                        progress: Progress | None = None) -> ListImportPreview:
    """Read and check every row of a Mailchimp or listmonk export without importing anything.

    Raises ValidationError (not such a file, not an email list), NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS)
    with db.read() as s:
        _list(s, list_id)
    return _analyse(data, progress)


_CUSTOMERS = Customer.__table__
_SUBS = Subscription.__table__
_EVENTS = ConsentEvent.__table__
_SUPPRESSIONS = Suppression.__table__
_OUTBOX = OutboxMessage.__table__


def _existing(s, keys: list[str]) -> dict[str, tuple[int, int | None, CustomerStatus]]:
    found: dict[str, tuple[int, int | None, CustomerStatus]] = {}
    for start in range(0, len(keys), 900):
        part = keys[start:start + 900]
        for key, cid, store_id, status in s.execute(
                select(Customer.email_key, Customer.id, Customer.store_id, Customer.status)
                .where(Customer.email_key.in_(part), Customer.merged_into_id.is_(None))
                .order_by(Customer.id)):
            found.setdefault(key, (cid, store_id, CustomerStatus(status)))
    return found


def _new_ids(s, n: int) -> list[int]:
    if n == 0:
        return []
    if s.get_bind().dialect.name == "postgresql":
        return list(s.execute(text(
            "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :n)"), {"n": n}
        ).scalars())
    top = s.execute(select(func.max(Customer.id))).scalar() or 0
    return list(range(top + 1, top + n + 1))


def _copy_value(value):
    if isinstance(value, datetime):
        # Stored as naive UTC, as the UTCDateTime column type does.
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(value, StrEnum):
        return value.value
    return value


def _insert_rows(s, table, rows: list[dict]) -> None:
    """Insert many rows in the session's transaction: PostgreSQL's COPY, several times
    quicker there than INSERT; executemany on SQLite."""
    if not rows:
        return
    if s.get_bind().dialect.name != "postgresql":
        for start in range(0, len(rows), CHUNK):
            s.execute(insert(table), rows[start:start + CHUNK])
        return
    columns = list(rows[0])
    cursor = s.connection().connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_copy_value(row[c]) for c in columns])
    finally:
        cursor.close()


def import_list(db: Database, *, actor: Actor, list_id: int, data: bytes,
                preview: ListImportPreview | None = None, progress: Progress | None = None) -> ListImportResult:
    """Import a Mailchimp or listmonk export into a list, all rows or none.

    Subscribers not yet known become customers (no web store account is opened for
    them). An unsubscribe or bounce puts the address on the suppression list even when
    no customer has it. Rows for suppressed addresses or for people who opted out here
    are left out and named: only a person's new consent, recorded on their page, puts
    them back. When `progress` raises (a cancelled task), nothing is imported.

    Raises UserFacingError naming the rejected rows (nothing imported), ValidationError,
    NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS)
    if preview is None or preview.digest != hashlib.sha256(data).hexdigest():
        preview = _analyse(data, progress)
    if preview.rejected:
        shown = "; ".join(preview.report_lines()[:5])
        more = f" and {len(preview.rejected) - 5:,} more" if len(preview.rejected) > 5 else ""
        raise UserFacingError(
            f"{len(preview.rejected):,} row(s) of the file cannot be imported ({shown}{more}); "
            "nothing was imported. Fix them in the file and import it again.",
            details="\n".join(preview.report_lines()))
    rows = preview._rows
    total = len(rows)
    source = FORMAT_LABELS[preview.format]
    now = utcnow()
    counts = {SubscriptionStatus.SUBSCRIBED: 0, SubscriptionStatus.UNSUBSCRIBED: 0, SubscriptionStatus.CLEANED: 0}
    unchanged = 0
    left_out: list[LeftOutLine] = []
    new_customer_ids: list[int] = []
    with db.begin() as s:
        if s.get_bind().dialect.name == "sqlite":
            # Take the write lock first, so the ids after the highest one stay free until commit.
            s.execute(text("UPDATE customers SET id = id WHERE 1 = 0"))
        lst = _list(s, list_id)
        region = shop_default_country(s)
        secret = suppression.suppression_secret(s)
        suppressed = suppression.suppressed_hashes(s, Channel.EMAIL, list_id)
        existing = _existing(s, [r.key for r in rows])
        current = dict(s.execute(select(Subscription.customer_id, Subscription.status)
                                 .where(Subscription.list_id == list_id)).all())
        digests = [suppression.key_hash(secret, Channel.EMAIL, r.key) for r in rows]
        new_rows = [r for r, digest in zip(rows, digests) if r.key not in existing
                    and r.status is SubscriptionStatus.SUBSCRIBED and digest not in suppressed]
        ids = _new_ids(s, len(new_rows))
        customer_values = []
        for cid, r in zip(ids, new_rows):
            customer_values.append({
                "id": cid, "status": CustomerStatus.ACTIVE, "first_name": r.first_name, "last_name": r.last_name,
                "company": "", "email": r.email, "email_key": r.key, "phone": "", "phone_e164": None,
                "phone_digits": None, "phone_rev": None, "username": None,
                "sort_name": fold(f"{r.last_name} {r.first_name}".strip()), "restricted": False,
                "objected": False, "created_at": now, "updated_at": now, "version": 1})
            existing[r.key] = (cid, None, CustomerStatus.ACTIVE)
        _insert_rows(s, _CUSTOMERS, customer_values)
        new_customer_ids = ids
        # Many new customers against few on file: one rebuild of the whole index is quicker.
        on_file = s.execute(select(func.count()).select_from(Customer)).scalar_one()
        index_each = len(ids) < _REBUILD_FROM or len(ids) * 4 < on_file
        if index_each:
            for values in customer_values:
                write_entry(s, values["id"], customer_entry({**values, "merged_into_id": None}, (),
                                                            default_region=region))
        sub_inserts, sub_updates, events, suppress_rows, outbox = [], [], [], [], []
        suppress_seen: set[tuple[str, int]] = set()
        for done, (r, digest) in enumerate(zip(rows, digests), start=1):
            if progress is not None and done % CHUNK == 0:
                progress(done, total, f"Importing row {done:,} of {total:,}")
            person = existing.get(r.key)
            if r.status is SubscriptionStatus.SUBSCRIBED:
                if digest in suppressed:
                    left_out.append(LeftOutLine(r.line, "this address opted out or bounced before; "
                                                "record the person's new consent on their page to add it back"))
                    continue
                if person is None:
                    continue
                before = current.get(person[0])
                if person[2] is CustomerStatus.ERASED:
                    left_out.append(LeftOutLine(r.line, "this person's data was erased"))
                    continue
                if before in (SubscriptionStatus.UNSUBSCRIBED, SubscriptionStatus.CLEANED):
                    left_out.append(LeftOutLine(r.line, "this person opted out here; record their new "
                                                "consent on their page to add them back"))
                    continue
                if before is SubscriptionStatus.SUBSCRIBED:
                    unchanged += 1
                    continue
            else:
                everywhere = r.status is SubscriptionStatus.CLEANED or r.everywhere
                scope = suppression.EVERY_LIST if everywhere else list_id
                if (digest, scope) not in suppress_seen and not (scope == list_id and digest in suppressed):
                    suppress_seen.add((digest, scope))
                    suppress_rows.append({"channel": Channel.EMAIL, "key_hash": digest, "list_id": scope,
                                          "reason": "bounce" if scope == 0 else "opt-out", "created_at": now})
                if person is None:
                    counts[r.status] += 1
                    continue
                before = current.get(person[0])
                if before == r.status or (before is SubscriptionStatus.CLEANED
                                          and r.status is SubscriptionStatus.UNSUBSCRIBED):
                    unchanged += 1
                    continue
            cid = person[0]
            if cid in current:
                sub_updates.append({"b_list": list_id, "b_customer": cid, "b_status": r.status, "b_now": now})
            else:
                sub_inserts.append({"list_id": list_id, "customer_id": cid, "status": r.status,
                                    "updated_at": now, "version": 1})
            current[cid] = r.status
            events.append({"customer_id": cid, "list_id": list_id, "action": _ACTIONS[r.status],
                           "at": r.at or now, "method": Method.IMPORT, "wording": "", "wording_id": None,
                           "taken_by": actor.staff_id, "source_address": r.source_address,
                           "evidence": f"{source} export"})
            counts[r.status] += 1
            if person[1] is not None:
                outbox.append({"created_at": now, "kind": OutboxKind.UPDATE_CONSENT, "entity_type": "customer",
                               "entity_id": cid, "status": OutboxStatus.PENDING, "attempts": 0,
                               "last_error": "", "payload": "{}",
                               "reference": outbox_reference(OutboxKind.UPDATE_CONSENT)})
        # Cleaned addresses also stay off the lists they were on here.
        for table, values in ((_SUBS, sub_inserts), (_EVENTS, events), (_SUPPRESSIONS, suppress_rows),
                              (_OUTBOX, outbox)):
            _insert_rows(s, table, values)
        if sub_updates:
            stmt = (update(_SUBS).where(_SUBS.c.list_id == bindparam("b_list"),
                                        _SUBS.c.customer_id == bindparam("b_customer"))
                    .values(status=bindparam("b_status"), updated_at=bindparam("b_now"),
                            version=_SUBS.c.version + 1))
            for start in range(0, len(sub_updates), CHUNK):
                s.connection().execute(stmt, sub_updates[start:start + CHUNK])
        if progress is not None:
            progress(total, total, "Saving")
        audit.record(s, actor, "import_list", entity_type="newsletter_list", entity_id=lst.id, fields=[
            f"subscribed-{counts[SubscriptionStatus.SUBSCRIBED]}",
            f"unsubscribed-{counts[SubscriptionStatus.UNSUBSCRIBED]}",
            f"cleaned-{counts[SubscriptionStatus.CLEANED]}", f"new_customers-{len(ids)}",
            f"left_out-{len(left_out)}"])
    if new_customer_ids and not index_each:
        try:
            rebuild_search_index(db)
        except Exception:  # the import is saved; the search catches up on the next rebuild
            left_out.append(LeftOutLine(0, "the customer search could not be brought up to date; "
                                        "the new customers are in the customers list"))
    return ListImportResult(
        subscribed=counts[SubscriptionStatus.SUBSCRIBED], unsubscribed=counts[SubscriptionStatus.UNSUBSCRIBED],
        cleaned=counts[SubscriptionStatus.CLEANED], unchanged=unchanged, new_customers=len(new_customer_ids),
        left_out=tuple(left_out),
        changes=Changes(customers=frozenset(new_customer_ids), lists=frozenset({list_id}), outbox=True))
