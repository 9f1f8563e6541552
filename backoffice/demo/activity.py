"""A demo shop's everyday work beyond the web store's orders, done through the services as
staff would do it: people on the newsletter lists (each with the evidence of their consent,
a few who opted out again) and privacy requests at different points on their legal clock.

Without it a fresh demo shows empty lists and an empty requests queue, which reads as if
those parts of the back office did nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.customers import Customer
from backoffice.domain.enums import Channel, CustomerStatus, RequestKind
from backoffice.domain.staff import Actor
from backoffice.errors import ValidationError
from backoffice.services.newsletters import consent
from backoffice.services.newsletters import lists as newsletter_lists
from backoffice.services.privacy import register

# Shares of the customers on each list (a shop's usual few), and of the subscribed who left again.
EMAIL_SHARE = 0.12
SMS_SHARE = 0.04
POSTAL_SHARE = 0.03
OPTED_OUT_SHARE = 0.06

# (kind, days since it arrived, what the person asked): one fresh, one due soon, one overdue.
REQUESTS = (
    (RequestKind.ACCESS, 2, "Please send me a copy of everything you hold about me."),
    (RequestKind.CORRECTION, 26, "My surname is misspelled on my account and on my orders."),
    (RequestKind.DELETION, 40, "Please delete my account and my data."),
)


@dataclass(frozen=True)
class DemoActivity:
    subscribed: int
    opted_out: int
    requests: int


def add_demo_activity(db: Database, *, actor: Actor, seed: int = 1) -> DemoActivity:
    """Fill the lists and the requests queue of a demo shop whose customers are in (the same
    seed, the same people). `actor` is the owner: every step is theirs in the audit trail."""
    rng = random.Random(f"activity:{seed}")
    by_channel = {}
    for view in newsletter_lists.list_lists(db, actor=actor):  # the shop's default lists, made on first use
        if view.active and view.wording is not None:
            by_channel.setdefault(view.channel, view)
    with db.read() as s:
        people = s.execute(
            select(Customer.id, Customer.email, Customer.phone)
            .where(Customer.status == CustomerStatus.ACTIVE, Customer.merged_into_id.is_(None))
            .order_by(Customer.id)
        ).all()
    subscribed = opted_out = 0
    plan = ((Channel.EMAIL, EMAIL_SHARE, consent.Method.PHONE), (Channel.SMS, SMS_SHARE, consent.Method.PHONE),
            (Channel.POSTAL, POSTAL_SHARE, consent.Method.PAPER))
    for customer_id, email, phone in people:
        for channel, share, method in plan:
            view = by_channel.get(channel)
            if view is None or rng.random() >= share:
                continue
            if (channel is Channel.EMAIL and not email) or (channel is Channel.SMS and not phone):
                continue
            try:
                consent.subscribe(db, actor=actor, customer_id=customer_id, list_id=view.id,
                                  wording_id=view.wording.id, method=method,
                                  note="Asked on a phone order" if method == consent.Method.PHONE
                                  else "Catalogue request card")
            except ValidationError:
                continue  # no address of that kind here (a catalogue needs a postal address): not on it
            subscribed += 1
            if rng.random() < OPTED_OUT_SHARE:
                consent.unsubscribe(db, actor=actor, customer_id=customer_id, list_id=view.id,
                                    method=consent.Method.EMAIL, note="Wrote to the shop to stop it")
                opted_out += 1
    now = utcnow()
    # Asked by customers with an email, a seventh of the shop apart (not its first few only).
    with_email = [p for p in people if p.email]
    asking = with_email[:: max(1, len(with_email) // 7)]
    logged = 0
    for (kind, days, details), person in zip(REQUESTS, asking):
        register.log_request(db, actor=actor, kind=kind, channel="email", customer_id=person.id,
                             details=details, received_at=now - timedelta(days=days, hours=3))
        logged += 1
    return DemoActivity(subscribed, opted_out, logged)
