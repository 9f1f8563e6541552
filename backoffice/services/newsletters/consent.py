"""Subscribing and opting out, with the evidence kept: when, how, who took it, the
wording agreed to and where it came from. Every change is audited, and an opt-out puts
the address on the suppression list so that only a new, recorded consent brings it back.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.domain.cards import guard_text
from backoffice.domain.customers import Customer, CustomerAddress
from backoffice.domain.enums import Channel, ConsentAction, CustomerStatus, OutboxKind, SubscriptionStatus
from backoffice.domain.newsletters import ConsentEvent, ConsentWording, NewsletterList, Subscription
from backoffice.domain.staff import Actor, Permission, StaffUser
from backoffice.errors import NotFound, UserFacingError, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.newsletters import suppression
from backoffice.services.newsletters.lists import current_wording, ensure_default_lists
from backoffice.services.outbox import queue_message
from backoffice.services.settings import shop_default_country

audit.register_action("subscribe", "Subscribed to a newsletter list")
audit.register_action("unsubscribe", "Unsubscribed from a newsletter list")


class Method:
    """How a consent or an opt-out reached the shop."""

    WEB_FORM = "web_form"
    PHONE = "phone"
    PAPER = "paper"
    EMAIL = "email"
    LETTER = "letter"
    IMPORT = "import"
    STORE = "store"
    EMAIL_LINK = "email_link"


METHOD_LABELS = {
    Method.WEB_FORM: "Web form", Method.PHONE: "Phone", Method.PAPER: "Paper form",
    Method.EMAIL: "Email", Method.LETTER: "Letter", Method.IMPORT: "Import", Method.STORE: "Web store",
    Method.EMAIL_LINK: "Unsubscribe link",
}
#: What staff may pick when they record a consent or an opt-out by hand.
SUBSCRIBE_METHODS = (Method.PHONE, Method.PAPER, Method.WEB_FORM)
UNSUBSCRIBE_METHODS = (Method.PHONE, Method.EMAIL, Method.LETTER)


class Suppressed(UserFacingError):
    """The address opted out or bounced; it goes back on the list only with new consent."""


def customer_address(s: Session, customer: Customer, channel: Channel) -> str:
    """The address a list on `channel` reaches this customer at, as typed ("" if none)."""
    if channel is Channel.EMAIL:
        return customer.email or ""
    if channel is Channel.SMS:
        return customer.phone or ""
    address = s.execute(select(CustomerAddress).where(CustomerAddress.customer_id == customer.id)
                        .order_by(CustomerAddress.is_default.desc(), CustomerAddress.id).limit(1)).scalar()
    return ", ".join(address.lines()[1:]) if address is not None else ""


def _enqueue_consent(s: Session, customer: Customer) -> None:
    # The store hears of the change through the outbox; the value is built when sent. Only
    # a customer with a store account: a consent change must not open an account (the
    # store would send a welcome email); one linked later brings the store's value along.
    if customer.store_id is None:
        return
    customer_id = customer.id
    queue_message(s, OutboxKind.UPDATE_CONSENT, "customer", customer_id)


_STATUS_AFTER = {
    ConsentAction.OPT_IN: SubscriptionStatus.SUBSCRIBED,
    ConsentAction.CONFIRM: SubscriptionStatus.SUBSCRIBED,
    ConsentAction.OPT_OUT: SubscriptionStatus.UNSUBSCRIBED,
    ConsentAction.CLEAN: SubscriptionStatus.CLEANED,
}


def record_change(
    s: Session, *, secret: bytes, customer: Customer, lst: NewsletterList, action: ConsentAction, method: str,
    taken_by: int | None, wording: ConsentWording | None = None, wording_text: str = "",
    source_address: str = "", evidence: str = "", at: datetime | None = None,
    status: SubscriptionStatus | None = None, new_consent: bool = False, region: str = "US",
) -> bool:
    """Apply one consent change in the caller's transaction; False when nothing changed.

    An opt-in for a suppressed address raises Suppressed unless `new_consent` says a
    person's new consent is being recorded now (then the suppression is lifted). An
    opt-out suppresses the address for the list; a bounce for every list of the channel.
    """
    normalised = suppression.normalised_address(lst.channel, customer_address(s, customer, lst.channel),
                                                region=region)
    sub = s.execute(select(Subscription).where(Subscription.list_id == lst.id,
                                               Subscription.customer_id == customer.id)).scalar()
    target = status or _STATUS_AFTER[action]
    if action in (ConsentAction.OPT_IN, ConsentAction.CONFIRM):
        if suppression.is_suppressed(s, secret, lst.channel, lst.id, normalised):
            if not new_consent:
                raise Suppressed(
                    f"{customer.display_name} opted out of “{lst.name}” or their address bounced; "
                    "they go back on the list only when their new consent is recorded. Nothing was changed.")
            suppression.lift(s, secret, lst.channel, lst.id, normalised)
    elif action is ConsentAction.OPT_OUT:
        suppression.suppress(s, secret, lst.channel, lst.id, normalised, "opt-out")
    elif action is ConsentAction.CLEAN:
        suppression.suppress(s, secret, lst.channel, suppression.EVERY_LIST, normalised, "bounce")
    if sub is not None and sub.status == target and action not in (ConsentAction.OPT_IN, ConsentAction.CONFIRM):
        return False
    if sub is None:
        # An opt-out from a list the person was never on is kept too: it is evidence.
        sub = Subscription(list_id=lst.id, customer_id=customer.id, status=target)
        s.add(sub)
    else:
        sub.status = target
    s.add(ConsentEvent(
        customer_id=customer.id, list_id=lst.id, action=action, method=method,
        wording=(wording.text if wording is not None else wording_text) or "",
        wording_id=wording.id if wording is not None else None, taken_by=taken_by,
        source_address=(source_address or "")[:64], evidence=evidence or "",
        **({"at": at} if at is not None else {}),
    ))
    return True


@dataclass(frozen=True)
class ConsentResult:
    """What a consent action changed."""

    changed_lists: tuple[str, ...]
    changes: Changes


def _customer(s: Session, customer_id: int) -> Customer:
    c = s.get(Customer, customer_id)
    if c is None or c.merged_into_id is not None:
        raise NotFound("This customer is no longer here (erased, merged or removed at another desk).")
    return c


def _ip_address(text: str) -> str:
    # Only an IP address is kept as the source: nothing else typed here is stored.
    text = (text or "").strip()
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValidationError("The source must be the IP address the web form was sent from, such as "
                              "203.0.113.7, or left empty; nothing was saved.",
                              fields={"source_address": "Enter an IP address or leave it empty."}) from None


def _note(text: str) -> str:
    guarded = guard_text(" ".join((text or "").split())[:500], field="Note")
    return guarded.value or ""


def subscribe(db: Database, *, actor: Actor, customer_id: int, list_id: int, wording_id: int,
              method: str = Method.PHONE, source_address: str = "", note: str = "") -> ConsentResult:
    """Record a person's consent to a list, given under the wording `wording_id` (the one
    read out on the phone or printed on the form). Lifts a suppression: this is new consent.

    Raises ValidationError (no wording, no address on the list's channel, an erased
    customer), NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS, customer_id=customer_id)
    if method not in METHOD_LABELS:
        raise ValidationError("Choose how the consent was given; nothing was saved.", fields={"method": "Choose one."})
    source_address = _ip_address(source_address)
    with db.begin() as s:
        ensure_default_lists(s)
        c = _customer(s, customer_id)
        if c.status is CustomerStatus.ERASED:
            raise ValidationError("An erased customer cannot be subscribed; nothing was saved.")
        lst = s.get(NewsletterList, list_id)
        if lst is None or not lst.active:
            raise NotFound(f"Newsletter list {list_id} does not exist (any more).")
        wording = s.get(ConsentWording, wording_id)
        if wording is None or wording.list_id != list_id:
            raise ValidationError("Pick the wording the customer agreed to; nothing was saved.",
                                  fields={"wording": "Pick the wording read out."})
        if not customer_address(s, c, lst.channel):
            where = {Channel.EMAIL: "an email address", Channel.SMS: "a phone number",
                     Channel.POSTAL: "a postal address"}[lst.channel]
            raise ValidationError(f"“{lst.name}” needs {where}, and {c.display_name} has none here; "
                                  "nothing was saved.", fields={"list": f"Add {where} first."})
        secret = suppression.suppression_secret(s)
        record_change(s, secret=secret, customer=c, lst=lst, action=ConsentAction.OPT_IN, method=method,
                      taken_by=actor.staff_id, wording=wording, source_address=source_address,
                      evidence=_note(note), new_consent=True, region=shop_default_country(s))
        audit.record(s, actor, "subscribe", entity_type="newsletter_list", entity_id=list_id,
                     customer_id=customer_id, fields=[method])
        _enqueue_consent(s, c)
        name = lst.name
    return ConsentResult((name,), Changes(customers=frozenset({customer_id}), lists=frozenset({list_id}),
                                          outbox=True))


def unsubscribe(db: Database, *, actor: Actor, customer_id: int, list_id: int | None,
                method: str = Method.PHONE, note: str = "") -> ConsentResult:
    """Opt a person out of one list, or of every list when `list_id` is None, as they asked
    by phone, email or letter; the address is suppressed. Transactional messages are not
    lists and are not touched. Raises ValidationError, NotFound, PermissionDenied."""
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS, customer_id=customer_id)
    if method not in METHOD_LABELS:
        raise ValidationError("Choose how the opt-out reached the shop; nothing was saved.",
                              fields={"method": "Choose one."})
    changed: list[str] = []
    ids: set[int] = set()
    with db.begin() as s:
        ensure_default_lists(s)
        c = _customer(s, customer_id)
        if list_id is None:
            lists = list(s.scalars(select(NewsletterList).order_by(NewsletterList.id)))
        else:
            lst = s.get(NewsletterList, list_id)
            if lst is None:
                raise NotFound(f"Newsletter list {list_id} does not exist (any more).")
            lists = [lst]
        secret = suppression.suppression_secret(s)
        region = shop_default_country(s)
        for lst in lists:
            sub = s.execute(select(Subscription.status).where(Subscription.list_id == lst.id,
                                                              Subscription.customer_id == c.id)).scalar()
            if list_id is None and sub in (None, SubscriptionStatus.UNSUBSCRIBED, SubscriptionStatus.CLEANED):
                continue
            if record_change(s, secret=secret, customer=c, lst=lst, action=ConsentAction.OPT_OUT, method=method,
                             taken_by=actor.staff_id, evidence=_note(note), region=region):
                changed.append(lst.name)
                ids.add(lst.id)
                audit.record(s, actor, "unsubscribe", entity_type="newsletter_list", entity_id=lst.id,
                             customer_id=customer_id, fields=[method])
        if ids:
            _enqueue_consent(s, c)
    return ConsentResult(tuple(changed), Changes(customers=frozenset({customer_id}), lists=frozenset(ids),
                                                 outbox=bool(ids)))


@dataclass(frozen=True)
class ListStatus:
    """One list as the customer page shows it: the person's status and the wordings to pick from."""

    list_id: int
    name: str
    channel: Channel
    purpose: str
    status: SubscriptionStatus | None
    since: datetime | None
    wording_id: int | None
    wording_version: int | None
    wording: str


@dataclass(frozen=True)
class ConsentRecord:
    list_name: str
    action: ConsentAction
    at: datetime
    method: str
    wording: str
    wording_version: int | None
    taken_by: str
    source_address: str


@dataclass(frozen=True)
class CustomerConsent:
    lists: tuple[ListStatus, ...]
    history: tuple[ConsentRecord, ...]


def customer_consent(db: Database, *, actor: Actor, customer_id: int) -> CustomerConsent:
    """Each active list with the person's status, and their consent history, newest first.
    Raises NotFound, PermissionDenied."""
    access.require(db, actor, Permission.MANAGE_NEWSLETTERS, customer_id=customer_id)
    with db.begin() as s:
        ensure_default_lists(s)
        _customer(s, customer_id)
        subs = {sub.list_id: sub for sub in s.scalars(select(Subscription).where(
            Subscription.customer_id == customer_id))}
        lists = []
        for lst in s.scalars(select(NewsletterList).where(NewsletterList.active.is_(True))
                             .order_by(NewsletterList.id)):
            w = current_wording(s, lst.id)
            sub = subs.get(lst.id)
            lists.append(ListStatus(
                list_id=lst.id, name=lst.name, channel=lst.channel, purpose=lst.purpose or "",
                status=sub.status if sub else None, since=sub.updated_at if sub else None,
                wording_id=w.id if w else None, wording_version=w.version if w else None,
                wording=w.text if w else ""))
        history = tuple(
            ConsentRecord(list_name=name, action=ev.action, at=ev.at, method=ev.method or "",
                          wording=ev.wording or "", wording_version=version, taken_by=staff or "",
                          source_address=ev.source_address or "")
            for ev, name, version, staff in s.execute(
                select(ConsentEvent, NewsletterList.name, ConsentWording.version, StaffUser.display_name)
                .join(NewsletterList, NewsletterList.id == ConsentEvent.list_id)
                .outerjoin(ConsentWording, ConsentWording.id == ConsentEvent.wording_id)
                .outerjoin(StaffUser, StaffUser.id == ConsentEvent.taken_by)
                .where(ConsentEvent.customer_id == customer_id)
                .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())))
    return CustomerConsent(tuple(lists), history)
