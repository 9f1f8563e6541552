"""Newsletter consent carried through the web store in one customer meta field.

The meta key is the shop setting `store.consent_meta_key`. Its value is JSON text:

    {"lists": {"email_newsletter": {"status": "subscribed", "at": "2026-12-05T10:00:00Z"}, ...},
     "may_market": true}

one entry per list (by the list's `store_key`) with the person's status and when it was
last decided, and whether the shop may market to them at all (false for restricted,
objecting, deactivated people: the mail tool on the store side should send nothing,
while their statuses stay as they chose). A store-side change reaches the back office
when its time is later than the last decision recorded here: a store-side opt-out
beats an older opt-in here, and an older one changes nothing. A plain "yes" or "no"
(an older form) is read as the email newsletter's status, only for people with no
decision here yet, as it carries no time.

The sync calls `customer_view` (what the pull keeps of a store customer), `apply_from_store`
(after writing a page of customers) and `meta_body` (when pushing a consent change).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.domain.customers import Customer
from backoffice.domain.enums import ConsentAction, SubscriptionStatus
from backoffice.domain.newsletters import ConsentEvent, NewsletterList, Subscription
from backoffice.services.newsletters import suppression
from backoffice.services.newsletters.consent import Method, record_change
from backoffice.services.newsletters.export_csv import excluded_from_marketing
from backoffice.services.newsletters.lists import ensure_default_lists
from backoffice.services.settings import get_setting, shop_default_country
from backoffice.services.store_mapping import customer_view as _store_customer_view
from backoffice.services.store_mapping import meta_value

DEFAULT_KEY = "_newsletter_consent"
_WORDS = {"yes": SubscriptionStatus.SUBSCRIBED, "no": SubscriptionStatus.UNSUBSCRIBED,
          "subscribed": SubscriptionStatus.SUBSCRIBED, "unsubscribed": SubscriptionStatus.UNSUBSCRIBED,
          "unconfirmed": SubscriptionStatus.UNCONFIRMED, "pending": SubscriptionStatus.UNCONFIRMED,
          "cleaned": SubscriptionStatus.CLEANED}


def consent_key(db: Database) -> str:
    """The customer meta key chosen in the shop's settings."""
    return str(get_setting(db, "store.consent_meta_key") or DEFAULT_KEY)


def customer_view(record: Mapping[str, Any], key: str) -> dict[str, Any]:
    """What the pull keeps of a store customer: the mapping's view, plus the consent meta
    entry when the store has one (left out otherwise, so a store without it keeps the
    customers' digests as they were)."""
    view = _store_customer_view(record)
    value = meta_value(record, key) if key else None
    if value not in (None, ""):
        view["meta_data"] = [{"key": key, "value": value}]
    return view


def _time_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def meta_value_for(s: Session, customer_id: int) -> str:
    """The consent meta value of one customer, as JSON text."""
    customer = s.get(Customer, customer_id)
    latest = dict(s.execute(select(ConsentEvent.list_id, func.max(ConsentEvent.at))
                            .where(ConsentEvent.customer_id == customer_id)
                            .group_by(ConsentEvent.list_id)).all())
    entries = {}
    for lst, sub in s.execute(select(NewsletterList, Subscription).outerjoin(
            Subscription, (Subscription.list_id == NewsletterList.id) & (Subscription.customer_id == customer_id))
            .order_by(NewsletterList.id)):
        if sub is None or not lst.store_key:
            continue
        at = latest.get(lst.id) or sub.updated_at
        entries[lst.store_key] = {"status": sub.status.value, "at": _time_text(at)}
    may_market = customer is not None and excluded_from_marketing(customer.__dict__) is None
    return json.dumps({"lists": entries, "may_market": may_market}, sort_keys=True, separators=(",", ":"))


def meta_body(s: Session, customer_id: int, key: str) -> dict[str, Any]:
    """The store update that carries a customer's consent."""
    return {"meta_data": [{"key": key, "value": meta_value_for(s, customer_id)}]}


def _decode(value: Any) -> tuple[dict[str, tuple[SubscriptionStatus, datetime | None]], bool]:
    """The statuses a meta value holds, by list store key, and whether it is the older yes/no form."""
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("yes", "no"):
            return {"email_newsletter": (_WORDS[word], None)}, True
        try:
            value = json.loads(value)
        except ValueError:
            return {}, False
    if not isinstance(value, Mapping):
        return {}, False
    entries = value.get("lists", value)
    out = {}
    if isinstance(entries, Mapping):
        for store_key, entry in entries.items():
            if isinstance(entry, Mapping):
                status = _WORDS.get(str(entry.get("status", "")).lower())
                at = _parse_time(entry.get("at"))
            else:
                status, at = _WORDS.get(str(entry).lower()), None
            if status is not None:
                out[str(store_key)] = (status, at)
    return out, False


_ACTIONS = {
    SubscriptionStatus.SUBSCRIBED: ConsentAction.OPT_IN,
    SubscriptionStatus.UNCONFIRMED: ConsentAction.OPT_IN,
    SubscriptionStatus.UNSUBSCRIBED: ConsentAction.OPT_OUT,
    SubscriptionStatus.CLEANED: ConsentAction.CLEAN,
}


def apply_from_store(s: Session, key: str, records: Sequence[Mapping[str, Any]], ids: Mapping[int, int]) -> int:
    """Bring store-side consent decisions newer than this side's into the caller's
    transaction; return how many list statuses changed.

    `records` are store customers as `customer_view` keeps them, `ids` their local ids by
    store id. A store-side opt-in for an address suppressed here, made after the opt-out
    here, is the person's new consent on the web store and is recorded as such.
    """
    if not key:
        return 0
    wanted: dict[int, dict[str, tuple[SubscriptionStatus, datetime | None]]] = {}
    legacy: set[int] = set()
    for record in records:
        local = ids.get(record.get("id"))
        value = meta_value(record, key)
        if local is None or value in (None, ""):
            continue
        statuses, old_form = _decode(value)
        if statuses:
            wanted[local] = statuses
            if old_form:
                legacy.add(local)
    if not wanted:
        return 0
    ensure_default_lists(s)
    lists = {lst.store_key: lst for lst in s.scalars(select(NewsletterList)) if lst.store_key}
    latest = {(cid, lid): at for cid, lid, at in s.execute(
        select(ConsentEvent.customer_id, ConsentEvent.list_id, func.max(ConsentEvent.at))
        .where(ConsentEvent.customer_id.in_(list(wanted)))
        .group_by(ConsentEvent.customer_id, ConsentEvent.list_id))}
    current = {(cid, lid): status for cid, lid, status in s.execute(
        select(Subscription.customer_id, Subscription.list_id, Subscription.status)
        .where(Subscription.customer_id.in_(list(wanted))))}
    secret = None
    region = shop_default_country(s)
    changed = 0
    for cid, statuses in wanted.items():
        for store_key, (status, at) in statuses.items():
            lst = lists.get(store_key)
            if lst is None or current.get((cid, lst.id)) == status:
                continue
            ours = latest.get((cid, lst.id))
            if cid in legacy:
                if ours is not None:
                    continue  # a yes/no without a time never overrules a decision made here
            elif at is None or (ours is not None and at <= ours):
                continue
            customer = s.get(Customer, cid)
            if customer is None or customer.merged_into_id is not None:
                continue
            secret = secret or suppression.suppression_secret(s)
            record_change(s, secret=secret, customer=customer, lst=lst, action=_ACTIONS[status],
                          method=Method.STORE, taken_by=None, at=at, status=status, new_consent=True,
                          evidence="web store", region=region)
            changed += 1
    return changed

