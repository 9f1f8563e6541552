"""Newsletter lists: the defaults, their consent wordings (versioned), member counts,
growth by month (counts only, small numbers suppressed) and pages of members."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.domain.cards import contains_card_number
from backoffice.domain.customers import Customer
from backoffice.domain.enums import Channel, ConsentAction, SubscriptionStatus
from backoffice.domain.newsletters import ConsentEvent, ConsentWording, NewsletterList, Subscription
from backoffice.domain.staff import Actor, Permission
from backoffice.domain.text import fold, like_escape
from backoffice.errors import NotFound, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.settings import read_setting

audit.register_action("create_list", "Newsletter list created")
audit.register_action("new_consent_wording", "New consent wording for a newsletter list")

CHANNEL_WORDS = {Channel.EMAIL: "email", Channel.SMS: "text message", Channel.POSTAL: "post"}


@dataclass(frozen=True)
class DefaultList:
    name: str
    channel: Channel
    store_key: str
    purpose: str
    wording: str


DEFAULT_LISTS = (
    DefaultList("Email newsletter", Channel.EMAIL, "email_newsletter",
                "News, new products and offers by email, about once a month.",
                "Yes, please send me the shop's newsletter by email. I can unsubscribe at any time "
                "with the link in each email or by writing to the shop."),
    DefaultList("SMS newsletter", Channel.SMS, "sms_newsletter",
                "Short news and offers by text message, a few times a year.",
                "Yes, please send me the shop's news by text message. I can stop them at any time by "
                "replying STOP or by writing to the shop."),
    DefaultList("Postal catalogue", Channel.POSTAL, "postal_catalogue",
                "The printed catalogue by post, twice a year.",
                "Yes, please send me the shop's catalogue by post. I can ask the shop to stop at any time."),
    DefaultList("Special offers", Channel.POSTAL, "special_offers",
                "Promotional offers by post.",
                "Yes, please send me the shop's special offers by post. I can ask the shop to stop at any time."),
)


def ensure_default_lists(s: Session) -> None:
    """Create the default lists, each with its first wording, in a shop that has no list yet."""
    if s.execute(select(NewsletterList.id).limit(1)).first() is not None:
        return
    for d in DEFAULT_LISTS:
        lst = NewsletterList(name=d.name, channel=d.channel, store_key=d.store_key, purpose=d.purpose,
                             description=d.purpose, consent_wording=d.wording, active=True)
        s.add(lst)
        s.flush()
        s.add(ConsentWording(list_id=lst.id, version=1, text=d.wording))
    s.flush()


def _ensure(db: Database) -> None:
    with db.begin() as s:
        ensure_default_lists(s)


@dataclass(frozen=True)
class WordingView:
    id: int
    version: int
    text: str
    created_at: datetime


@dataclass(frozen=True)
class ListView:
    """A list with its member counts by status."""

    id: int
    name: str
    channel: Channel
    purpose: str
    store_key: str
    active: bool
    wording: WordingView | None
    counts: dict[SubscriptionStatus, int]

    @property
    def subscribed(self) -> int:
        return self.counts.get(SubscriptionStatus.SUBSCRIBED, 0)


def current_wording(s: Session, list_id: int) -> ConsentWording | None:
    return s.execute(select(ConsentWording).where(ConsentWording.list_id == list_id)
                     .order_by(ConsentWording.version.desc()).limit(1)).scalar()


def _view(s: Session, lst: NewsletterList, counts: dict[SubscriptionStatus, int]) -> ListView:
    w = current_wording(s, lst.id)
    wording = WordingView(w.id, w.version, w.text, w.created_at) if w is not None else None
    return ListView(id=lst.id, name=lst.name, channel=lst.channel, purpose=lst.purpose or "",
                    store_key=lst.store_key or "", active=bool(lst.active), wording=wording,
                    counts=dict(counts))


def list_lists(db: Database, *, actor: Actor, include_inactive: bool = True) -> list[ListView]:
    """The shop's lists (the defaults are made on first use) with member counts. Raises PermissionDenied."""
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS)
    _ensure(db)
    with db.read() as s:
        counts: dict[int, dict[SubscriptionStatus, int]] = {}
        for list_id, status, n in s.execute(
                select(Subscription.list_id, Subscription.status, func.count())
                .group_by(Subscription.list_id, Subscription.status)):
            counts.setdefault(list_id, {})[SubscriptionStatus(status)] = n
        stmt = select(NewsletterList).order_by(NewsletterList.id)
        if not include_inactive:
            stmt = stmt.where(NewsletterList.active.is_(True))
        return [_view(s, lst, counts.get(lst.id, {})) for lst in s.scalars(stmt)]


def find_list(db: Database, *, actor: Actor, name: str) -> ListView:
    """The list called `name` (case and accents ignored). Raises NotFound, PermissionDenied."""
    lists = list_lists(db, actor=actor)
    wanted = fold(name)
    for lst in lists:
        if fold(lst.name) == wanted or lst.store_key == name.strip():
            return lst
    names = ", ".join(f"“{lst.name}”" for lst in lists)
    raise NotFound(f"There is no newsletter list called “{name}”. The lists are: {names}.")


def _clean_text(value: str, field: str, label: str, *, required: bool = True, limit: int = 2000) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise ValidationError(f"{label}: enter it; nothing was saved.", fields={field: f"Enter the {label.lower()}."})
    if len(text) > limit:
        raise ValidationError(f"{label} is too long (at most {limit} characters); nothing was saved.",
                              fields={field: "Too long."})
    if contains_card_number(text):
        raise ValidationError(f"{label} cannot hold a card number; nothing was saved.",
                              fields={field: "This looks like a card number."})
    return text


def create_list(db: Database, *, actor: Actor, name: str, channel: Channel | str, purpose: str,
                wording: str) -> tuple[ListView, Changes]:
    """Add a list with its purpose and first consent wording. Raises ValidationError, PermissionDenied."""
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS)
    name = _clean_text(name, "name", "The list's name", limit=120)
    purpose = _clean_text(purpose, "purpose", "The purpose")
    wording = _clean_text(wording, "wording", "The consent wording")
    store_key = re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_")[:40] or "list"
    with db.begin() as s:
        ensure_default_lists(s)
        if s.execute(select(NewsletterList.id).where(func.lower(NewsletterList.name) == name.lower())).first():
            raise ValidationError(f"There is already a list called “{name}”; nothing was saved.",
                                  fields={"name": "Choose another name."})
        lst = NewsletterList(name=name, channel=Channel(channel), purpose=purpose, description=purpose,
                             consent_wording=wording, store_key=store_key, active=True)
        s.add(lst)
        s.flush()
        s.add(ConsentWording(list_id=lst.id, version=1, text=wording, created_by=actor.staff_id))
        audit.record(s, actor, "create_list", entity_type="newsletter_list", entity_id=lst.id)
        s.flush()
        view = _view(s, lst, {})
    return view, Changes(lists=frozenset({view.id}))


def add_wording(db: Database, *, actor: Actor, list_id: int, text: str) -> tuple[WordingView, Changes]:
    """A new version of a list's consent wording; consents already given keep theirs.

    Raises ValidationError, NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS)
    text = _clean_text(text, "wording", "The consent wording")
    with db.begin() as s:
        lst = s.get(NewsletterList, list_id)
        if lst is None:
            raise NotFound(f"Newsletter list {list_id} does not exist (any more).")
        current = current_wording(s, list_id)
        if current is not None and current.text == text:
            raise ValidationError("This is already the list's wording; nothing was saved.",
                                  fields={"wording": "Unchanged."})
        w = ConsentWording(list_id=list_id, version=(current.version + 1) if current else 1, text=text,
                           created_by=actor.staff_id)
        s.add(w)
        lst.consent_wording = text
        s.flush()
        audit.record(s, actor, "new_consent_wording", entity_type="newsletter_list", entity_id=list_id)
        view = WordingView(w.id, w.version, w.text, w.created_at)
    return view, Changes(lists=frozenset({list_id}))


def wordings(db: Database, *, actor: Actor, list_id: int) -> list[WordingView]:
    """Every version of a list's wording, newest first. Raises PermissionDenied."""
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS)
    with db.read() as s:
        return [WordingView(w.id, w.version, w.text, w.created_at) for w in s.scalars(
            select(ConsentWording).where(ConsentWording.list_id == list_id)
            .order_by(ConsentWording.version.desc()))]


# --- growth by month ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthGrowth:
    """Opt-ins and opt-outs of one month; None where the number is too small to show."""

    month: str  # "2026-11"
    joined: int | None
    left: int | None


@dataclass(frozen=True)
class Growth:
    list_id: int
    months: tuple[MonthGrowth, ...]
    smallest_shown: int


def _month(column, dialect: str):
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def growth_by_month(db: Database, *, actor: Actor, list_id: int, months: int = 12) -> Growth:
    """Opt-ins and opt-outs per month, as counts only; a count under the shop's smallest
    group size (`reports.min_group_size`) is withheld, so no one person can be picked out.
    Raises PermissionDenied."""
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS)
    with db.read() as s:
        smallest = int(read_setting(s, "reports.min_group_size"))
        month = _month(ConsentEvent.at, s.get_bind().dialect.name).label("month")
        rows = s.execute(
            select(month, ConsentEvent.action, func.count(func.distinct(ConsentEvent.customer_id)))
            .where(ConsentEvent.list_id == list_id)
            .group_by(month, ConsentEvent.action)).all()
    table: dict[str, list[int]] = {}
    for m, action, n in rows:
        slot = table.setdefault(m, [0, 0])
        if action in (ConsentAction.OPT_IN, ConsentAction.OPT_IN.value):
            slot[0] += n
        elif action in (ConsentAction.OPT_OUT, ConsentAction.CLEAN, ConsentAction.OPT_OUT.value,
                        ConsentAction.CLEAN.value):
            slot[1] += n

    def shown(n: int) -> int | None:
        return n if n >= smallest else None

    keys = sorted(table)[-months:]
    return Growth(list_id=list_id, smallest_shown=smallest, months=tuple(
        MonthGrowth(k, shown(table[k][0]), shown(table[k][1])) for k in keys))


# --- members -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberRow:
    customer_id: int
    name: str
    email: str
    phone: str
    status: SubscriptionStatus
    since: datetime


@dataclass(frozen=True)
class MembersPage:
    rows: tuple[MemberRow, ...]
    next_key: int | None


def list_members(db: Database, *, actor: Actor, list_id: int, status: SubscriptionStatus | str | None = None,
                 text: str = "", after: int | None = None, limit: int = 200) -> MembersPage:
    """One keyset page (by customer id) of a list's members, filtered by status and by what
    was typed: a part of a name, the start of an email address, or (three digits or more)
    digits of a phone number in any format. Raises PermissionDenied."""
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS)
    limit = max(1, min(int(limit), 1000))
    stmt = (select(Customer.id, Customer.first_name, Customer.last_name, Customer.company, Customer.email,
                   Customer.phone, Subscription.status, Subscription.updated_at)
            .join(Subscription, Subscription.customer_id == Customer.id)
            .where(Subscription.list_id == list_id))
    if status:
        stmt = stmt.where(Subscription.status == SubscriptionStatus(status))
    needle = fold(text or "").strip()
    if needle:
        pattern = like_escape(needle)
        found = (Customer.sort_name.like(f"%{pattern}%", escape="\\")
                 | Customer.email_key.like(f"{pattern}%", escape="\\"))
        # A phone number as typed ("555-0185", "(404) 555 0185", "020 7946 0958"): its digits
        # among the stored international ones, a national or international prefix of zeros left off.
        digits = re.sub(r"[^0-9]", "", needle).lstrip("0")
        if len(digits) >= 3 and not re.search(r"[^0-9\s()+./-]", needle):
            found = found | Customer.phone_digits.like(f"%{digits}%")
        stmt = stmt.where(found)
    if after is not None:
        stmt = stmt.where(Customer.id > after)
    with db.engine.connect() as conn:
        rows = conn.execute(stmt.order_by(Customer.id).limit(limit)).all()
    out = tuple(MemberRow(
        customer_id=r.id, name=f"{r.first_name} {r.last_name}".strip() or r.company or r.email or "(no name)",
        email=r.email or "", phone=r.phone or "", status=SubscriptionStatus(r.status), since=r.updated_at)
        for r in rows)
    return MembersPage(rows=out, next_key=out[-1].customer_id if len(out) == limit else None)
