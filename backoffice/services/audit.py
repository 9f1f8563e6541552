"""Writing, reading and checking the audit trail (append-only, keyed chain, no personal values).

Each entry carries its number in the trail (`seq`, without gaps), a SHA-256 hash of
its content chained to the entry before, and an HMAC-SHA256 over its number, its id,
that hash and the MAC before it. The MAC's key is the shop's audit key, kept outside
the database in each desk's keyring, so someone who can only write to the database
cannot change, insert, reorder or renumber an entry, nor recompute the chain. Each desk
also keeps a checkpoint of the latest entry it wrote or checked (a file in its data
folder), so a cut tail or an emptied table shows too. `verify_chain` names the first
entry that does not fit. The app only ever appends: a session that tries to change or
delete an audit row fails before anything is written. An event holds ids and field
names only; `record` refuses anything that does not look like a name, so a value (an
email, a phone number, a sentence) cannot slip in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from sqlalchemy import event as sa_event
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from backoffice import secrets
from backoffice.db import data_dir
from backoffice.domain.audit import AuditEvent
from backoffice.domain.base import utcnow
from backoffice.domain.enums import AuditOutcome
from backoffice.domain.staff import PERMISSION_WORDS, ROLE_LABELS, Actor, Permission, StaffUser
from backoffice.errors import PermissionDenied, UserFacingError
from backoffice.services.record_labels import customer_names, record_labels

log = logging.getLogger(__name__)

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


# --- the shop's audit key --------------------------------------------------------------

_KEY_PREFIX = "backoffice-audit-key:1:"


@dataclass(frozen=True)
class AuditKey:
    """The secret that keys the trail, and the number of the first entry it keys."""

    secret: bytes
    start: int

    def text(self) -> str:
        return f"{_KEY_PREFIX}{self.start}:{self.secret.hex()}"

    @property
    def fingerprint(self) -> str:
        return hmac.new(self.secret, b"fingerprint", hashlib.sha256).hexdigest()[:16]


def parse_key(key_text: str) -> AuditKey:
    """The key in the text `audit key export` prints; raises UserFacingError if it is not one."""
    body = (key_text or "").strip()
    try:
        if not body.startswith(_KEY_PREFIX):
            raise ValueError
        start, _, hexed = body[len(_KEY_PREFIX):].partition(":")
        key = AuditKey(bytes.fromhex(hexed), int(start))
        if len(key.secret) < 32 or key.start < 1:
            raise ValueError
        return key
    except ValueError:
        raise UserFacingError(
            "This is not an audit key as `backoffice audit key export` prints it; nothing was stored."
        ) from None


def database_name(session: Session) -> str:
    """The name under which this desk keeps the key and checkpoint of the session's database."""
    bind = session.get_bind()
    url = getattr(bind, "engine", bind).url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return f"sqlite:///{Path(url.database).resolve()}"
    return url.set(password=None, query={}).render_as_string(hide_password=True)


def _load_key(name: str) -> AuditKey | None:
    stored = secrets.audit_key(name)
    if not stored:
        return None
    try:
        return parse_key(stored)
    except UserFacingError:
        log.warning("The audit key kept for this database is unreadable; entries are written unkeyed.")
        return None


def _mac(key: AuditKey, prev_mac: str, event: AuditEvent) -> str:
    body = json.dumps([prev_mac, event.seq, event.id, event.hash], separators=(",", ":"))
    return hmac.new(key.secret, body.encode("utf-8"), hashlib.sha256).hexdigest()


# --- the checkpoint outside the database -------------------------------------------------

def checkpoint_path(name: str) -> Path:
    """This desk's checkpoint file for the database called `name`."""
    tag = hashlib.sha256(name.encode("utf-8")).hexdigest()[:20]
    return data_dir() / "audit" / f"checkpoint-{tag}.json"


def _read_checkpoint(name: str) -> dict | None:
    try:
        data = json.loads(checkpoint_path(name).read_text(encoding="utf-8"))
        return {k: data[k] for k in ("key", "seq", "id", "mac")}
    except (OSError, ValueError, KeyError, TypeError):
        # Missing, or cut short by a crash (it is not synced to disk on every entry): only
        # this desk's own user can touch it, so it counts as no checkpoint, not as tampering.
        return None


def _advance_checkpoint(name: str, key: AuditKey, seq: int, entry_id: int, mac: str) -> None:
    """Record entry `seq` as the latest this desk knows of; never move the checkpoint back."""
    current = _read_checkpoint(name)
    if current is not None and current["key"] == key.fingerprint and current["seq"] >= seq:
        return
    path = checkpoint_path(name)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    body = json.dumps({"database": name, "key": key.fingerprint, "seq": seq, "id": entry_id,
                       "mac": mac, "at": utcnow().isoformat()})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, body.encode("utf-8"))
    finally:
        os.close(fd)
    # Written whole, then put in place in one step, so a reader never sees half a file. No
    # fsync: it would cost more than the entry itself, and after a power cut an older
    # checkpoint is still a true one.
    os.replace(tmp, path)


def _checkpoint_after_commit(session: Session) -> None:
    pending = session.info.pop("audit_checkpoint", None)
    if pending is not None:
        try:
            _advance_checkpoint(*pending)
        except OSError as exc:
            log.warning("The audit checkpoint could not be written: %s", type(exc).__name__)


def _forget_checkpoint(session: Session, *_args) -> None:
    session.info.pop("audit_checkpoint", None)


def _next_id(session: Session) -> int:
    # The id is part of the MAC, so it is taken before the row is written.
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(
            text("SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))")).scalar_one()
    return (session.execute(select(func.max(AuditEvent.id))).scalar_one() or 0) + 1


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
    latest one and keyed with the shop's audit key; the first entry of a trail that
    has no keyed entry yet makes the key. On PostgreSQL an advisory lock keeps
    concurrent desks in one chain. Raises ValueError when the action, entity type or
    a field is not a plain name.
    """
    fields = list(fields)
    for name in fields:
        _check_name(name, "field", _NAME_RE)
    (event,) = _append(session, actor, action, entity_type, [(entity_id, customer_id)],
                       fields=fields, outcome=outcome, at=at)
    return event


def record_views(session: Session, actor: Actor | None, action: str, *, entity_type: str,
                 entities: Iterable[tuple[int, int | None]]) -> None:
    """Append one event per (entity id, customer id), chained and keyed as `record` does, with
    one read of the chain's end and one flush (a batch of 500 printed slips is 500 views)."""
    _append(session, actor, action, entity_type, list(entities))


def refuse(db, actor: Actor, permission: Permission, *, customer_id: int | None = None) -> NoReturn:
    """Record that `actor` was refused `permission`, in its own transaction (so it stays
    recorded though the action does not happen), and raise PermissionDenied.

    access.require calls this; this module's own guarded functions call it directly,
    since access records its refusals through this module.
    """
    with db.begin() as s:
        record(s, actor, f"denied:{permission.value}", customer_id=customer_id,
               outcome=AuditOutcome.DENIED)
    raise PermissionDenied(
        f"{ROLE_LABELS[actor.role]} accounts may not {PERMISSION_WORDS.get(permission, permission.value)}. "
        "Ask the shop owner if you need this."
    )


def _append(session: Session, actor: Actor | None, action: str, entity_type: str,
            entities: list[tuple[int | None, int | None]], *, fields: Iterable[str] = (),
            outcome: AuditOutcome = AuditOutcome.OK, at: datetime | None = None) -> list[AuditEvent]:
    """Chain and key one event per (entity id, customer id) at the end of the trail."""
    _check_name(action, "action", _ACTION_RE)
    if entity_type:
        _check_name(entity_type, "entity type", _NAME_RE)
    if not entities:
        return []
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash, AuditEvent.mac).order_by(AuditEvent.seq.desc()).limit(1)
    ).one_or_none()
    seq = (last.seq if last else 0) + 1
    prev_hash, prev_mac = (last.hash, last.mac) if last else ("", "")
    db_name = database_name(session)
    key = _load_key(db_name)
    if key is None:
        if session.execute(select(AuditEvent.id).where(AuditEvent.mac != "").limit(1)).first() is not None:
            log.warning("This desk has not got the shop's audit key; the entry is written "
                        "without a MAC and `backoffice audit verify` will report it.")
        elif secrets.keyring_available():
            # No desk keyed this trail yet: this desk starts it, from this entry on. Without
            # a keyring the key would be lost with this run, so the trail waits for a desk
            # that can keep it.
            key = AuditKey(os.urandom(32), seq)
            secrets.set_audit_key(db_name, key.text())
        else:
            log.info("No keyring on this desk: the audit trail is not keyed yet.")
    next_id = None if postgres else _next_id(session)
    # Microsecond precision survives both databases, so the hash can be recomputed.
    when = at or utcnow()
    fields_json = json.dumps(sorted(set(fields)))
    events = []
    for entity_id, customer_id in entities:
        event = AuditEvent(
            id=_next_id(session) if postgres else next_id,
            seq=seq,
            at=when,
            staff_id=actor.staff_id if actor else None,
            desk=(actor.desk if actor else "") or "",
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            customer_id=customer_id,
            fields=fields_json,
            outcome=outcome,
            prev_hash=prev_hash,
        )
        event.hash = _digest(event.prev_hash, event)
        event.mac = ""
        if key is not None and seq >= key.start:
            event.mac = _mac(key, prev_mac if seq > key.start else "", event)
        session.add(event)
        events.append(event)
        prev_hash, prev_mac, seq = event.hash, event.mac, seq + 1
        if not postgres:
            next_id += 1
    if key is not None and events[-1].mac:
        if not session.info.get("audit_hooked"):
            sa_event.listen(session, "after_commit", _checkpoint_after_commit)
            sa_event.listen(session, "after_rollback", _forget_checkpoint)
            session.info["audit_hooked"] = True
        last_event = events[-1]
        session.info["audit_checkpoint"] = (db_name, key, last_event.seq, last_event.id, last_event.mac)
    session.flush()
    return events


@dataclass(frozen=True)
class ChainReport:
    """What checking the trail found: intact or the first entry that does not fit."""

    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""
    notes: tuple[str, ...] = ()
    last_seq: int = 0
    last_id: int = 0
    last_mac: str = ""

    def sentence(self) -> str:
        extra = "".join(f" {n}" for n in self.notes)
        if self.ok:
            return f"The audit trail is intact ({self.checked} entries checked).{extra}"
        if self.first_bad_id is None:
            return f"The audit trail is broken: {self.reason}. {self.checked} entries checked.{extra}"
        return (
            f"The audit trail is broken at entry {self.first_bad_id}: {self.reason}. "
            f"{self.checked} entries before it are intact.{extra}"
        )


def verify_chain(session: Session, *, batch: int = 5000, key: AuditKey | None = None) -> ChainReport:
    """Walk the whole audit trail; report the first entry that does not fit, or a missing tail.

    Checks the numbering, the hash chain, each keyed entry's MAC (with this desk's key,
    or `key`), and that the latest entry this desk's checkpoint names is still there.
    """
    name = database_name(session)
    key = key or _load_key(name)
    checkpoint = _read_checkpoint(name)
    prev_hash, prev_mac = "", ""
    checked = last_seq = last_id = 0
    keyed_seen = False

    def broken(entry_id, reason):
        return ChainReport(False, checked, entry_id, reason)

    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for ev in rows:
            if ev.seq != last_seq + 1:
                return broken(ev.id, f"entries number {last_seq + 1} to {ev.seq - 1} are missing "
                              "(they were deleted)")
            if ev.id <= last_id:
                return broken(ev.id, "its id is out of order (entries were renumbered or reordered)")
            if ev.prev_hash != prev_hash:
                return broken(ev.id, "it does not point to the entry before it "
                              "(an entry was removed, inserted, reordered or changed)")
            if _digest(prev_hash, ev) != ev.hash:
                return broken(ev.id, "its content does not match its hash (the entry was changed)")
            if ev.mac:
                keyed_seen = True
            if key is not None and ev.seq >= key.start:
                if not ev.mac:
                    return broken(ev.id, "it carries no MAC (it was written by a desk without the "
                                  "shop's audit key, or straight into the database)")
                expected = _mac(key, prev_mac if ev.seq > key.start else "", ev)
                if not hmac.compare_digest(ev.mac, expected):
                    return broken(ev.id, "its MAC does not match (the entry, its id or its place was "
                                  "changed, or the chain was recomputed without the key)")
            prev_hash, prev_mac = ev.hash, ev.mac
            checked += 1
            last_seq, last_id = ev.seq, ev.id
        session.expunge_all()

    if key is None:
        if keyed_seen or (checkpoint is not None and checkpoint["seq"]):
            return broken(None, "this desk has not got the shop's audit key, so the entries' MACs "
                          "cannot be checked (the owner sets a desk up with `backoffice audit key "
                          "export` and `backoffice audit key import`)")
        return ChainReport(True, checked, notes=(
            "The trail is not keyed yet; the next entry a desk with a keyring writes starts "
            "the keyed trail.",),
            last_seq=last_seq, last_id=last_id)
    if last_seq < key.start - 1:
        return broken(None, f"it ends at entry number {last_seq}, but it was keyed from number "
                      f"{key.start} on (entries were removed from the end, or the table was emptied)")
    notes = []
    if checkpoint is None:
        notes.append("This desk kept no checkpoint of this trail yet, so a cut end could not be "
                     "seen; it keeps one from now on.")
    elif checkpoint["key"] != key.fingerprint:
        return broken(None, "this desk's checkpoint belongs to another audit key (the key or "
                      "the checkpoint file was replaced)")
    elif checkpoint["seq"] > last_seq:
        return broken(None, f"it ends at entry number {last_seq}, but this desk saw it reach "
                      f"number {checkpoint['seq']} (entry {checkpoint['id']}): entries were "
                      "removed from the end, or the table was emptied")
    else:
        row = session.execute(
            select(AuditEvent.id, AuditEvent.mac).where(AuditEvent.seq == checkpoint["seq"])
        ).one_or_none()
        if checkpoint["seq"] and (row is None or row.id != checkpoint["id"]
                                  or not hmac.compare_digest(row.mac, checkpoint["mac"])):
            return broken(row.id if row else None,
                          f"entry number {checkpoint['seq']} is not the one this desk recorded "
                          "(the trail was rewritten from there)")
    if key.start > 1:
        notes.append(f"Entries 1 to {key.start - 1} were written before the trail was keyed: "
                     "they are checked by their hash chain and covered by the keyed entries "
                     "after them, but anyone able to write to the database could have "
                     "forged them before then.")
    return ChainReport(True, checked, notes=tuple(notes), last_seq=last_seq, last_id=last_id,
                       last_mac=prev_mac)


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
    "audit_key_exported": "Exported the audit key",
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
        try:
            words = PERMISSION_WORDS[Permission(perm)]
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
    # Read when listed, never stored: the order's number, the customer's name
    # ("erased customer" once erased).
    record_label: str = ""
    customer_label: str = ""

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
    if not actor.may(Permission.READ_AUDIT):
        refuse(db, actor, Permission.READ_AUDIT, customer_id=customer_id)
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
        found = s.execute(stmt).all()
        records = record_labels(s, [(ev.entity_type, ev.entity_id) for ev, _login in found])
        names = customer_names(s, [ev.customer_id for ev, _login in found])
        return [
            AuditRow(
                id=ev.id, at=ev.at, staff_id=ev.staff_id, staff_login=login or "",
                desk=ev.desk, action=ev.action, entity_type=ev.entity_type,
                entity_id=ev.entity_id, customer_id=ev.customer_id,
                fields=tuple(json.loads(ev.fields or "[]")), outcome=ev.outcome,
                record_label=records[(ev.entity_type, ev.entity_id)],
                customer_label=names.get(ev.customer_id, "") if ev.customer_id is not None else "",
            )
            for ev, login in found
        ]


def check_chain(db) -> ChainReport:
    """Verify the whole audit trail in its own read-only session.

    When it is intact, this desk's checkpoint moves on to its latest entry, so a later
    cut is seen even for entries other desks wrote.
    """
    with db.read() as s:
        report = verify_chain(s)
        name = database_name(s)
    key = _load_key(name)
    if report.ok and key is not None and report.last_seq >= key.start:
        _advance_checkpoint(name, key, report.last_seq, report.last_id, report.last_mac)
    return report


def export_audit_key(db, *, actor: Actor) -> str:
    """The shop's audit key as text, to set up another desk (owner only).

    Raises PermissionDenied, and UserFacingError when this desk has not got the key.
    """
    if not actor.may(Permission.MANAGE_SETTINGS):
        refuse(db, actor, Permission.MANAGE_SETTINGS)
    with db.begin() as s:
        key = _load_key(database_name(s))
        if key is None:
            raise UserFacingError("This desk has not got the shop's audit key; export it on the "
                                  "desk that has it. Nothing was exported.")
        record(s, actor, "audit_key_exported")
    return key.text()


def import_audit_key(db, *, key_text: str) -> str:
    """Keep the shop's audit key on this desk; a sentence saying what was done.

    Holding the key is the authority here, so no sign-in is asked for; the key is
    refused unless it checks the trail's latest keyed entry. Raises UserFacingError.
    """
    key = parse_key(key_text)
    with db.read() as s:
        name = database_name(s)
        keyed = s.execute(
            select(AuditEvent).where(AuditEvent.mac != "", AuditEvent.seq >= key.start)
            .order_by(AuditEvent.seq.desc()).limit(1)
        ).scalar_one_or_none()
        if keyed is not None:
            before = s.execute(select(AuditEvent.mac).where(AuditEvent.seq == keyed.seq - 1)
                               ).scalar_one_or_none() or ""
            expected = _mac(key, before if keyed.seq > key.start else "", keyed)
            if not hmac.compare_digest(keyed.mac, expected):
                raise UserFacingError("This key does not check this database's audit trail; it "
                                      "belongs to another shop or was mistyped. Nothing was stored.")
    if not secrets.set_audit_key(name, key.text()):
        return ("This machine has no keyring: the audit key is kept for this run only. "
                "Set BACKOFFICE_AUDIT_KEY for unattended runs.")
    return "The shop's audit key is kept in this desk's keyring."
