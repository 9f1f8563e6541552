"""Phone calls at the desk: who is calling (with what is open for them), and noting a call made.

`identify_caller` answers the incoming-call panel: the customers whose phone matches the
number in any format (read with the shop's country, as the search box does), each with
their open orders, an order waiting on its pay link, and any privacy request still open.
`dial_customer` gives the `tel:` address to dial a number shown on screen and notes the
call on the customer's page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import phonenumbers
from sqlalchemy import select

from backoffice.db import Database
from backoffice.domain.cards import contains_card_number
from backoffice.domain.customers import Customer, CustomerNote
from backoffice.domain.enums import CustomerStatus, PaymentMethod, PaymentStatus, RequestKind
from backoffice.domain.orders import OPEN_STATUSES, Order, Payment
from backoffice.domain.phones import normalize_phone
from backoffice.domain.privacy import CLOSED_REQUEST_STATUSES, PrivacyRequest
from backoffice.domain.staff import Actor, Permission
from backoffice.errors import NotFound, ValidationError
from backoffice.services import access, audit
from backoffice.services.changes import Changes
from backoffice.services.customers import search_customers
from backoffice.services.settings import shop_default_country

# More people than this on one number is a switchboard: the panel says so and shows these.
MAX_MATCHES = 5
MAX_OPEN_ORDERS = 5
_NUMBER_CHARS = 40

REQUEST_KIND_WORDS = {
    RequestKind.ACCESS: "a copy of their data",
    RequestKind.CORRECTION: "a correction",
    RequestKind.DELETION: "deletion",
    RequestKind.DEACTIVATION: "deactivation",
    RequestKind.RESTRICTION: "restricted processing",
    RequestKind.OBJECTION: "no marketing (objection)",
}


@dataclass(frozen=True)
class OpenOrder:
    id: int
    number: str
    status: str
    total: Decimal
    currency: str
    created_at: datetime


@dataclass(frozen=True)
class UnpaidPayLink:
    order_id: int
    order_number: str
    url: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class OpenRequest:
    id: int
    kind: RequestKind
    due_at: datetime

    @property
    def sentence(self) -> str:
        return f"Privacy request open: {REQUEST_KIND_WORDS.get(self.kind, self.kind.value)}, due {self.due_at:%Y-%m-%d}."


@dataclass(frozen=True)
class CallerMatch:
    """One customer whose phone matches the incoming number."""

    id: int
    name: str
    company: str
    email: str
    phone: str
    postcode: str
    city: str
    status: CustomerStatus
    exact: bool
    open_orders: tuple[OpenOrder, ...]
    pay_links: tuple[UnpaidPayLink, ...]
    requests: tuple[OpenRequest, ...]


@dataclass(frozen=True)
class IncomingCall:
    """Who is calling from `number`; no matches means nobody here has that number."""

    number: str  # as the phone system gave it
    shown_number: str  # international form when the number is valid, else as given
    e164: str | None
    matches: tuple[CallerMatch, ...]
    more: bool  # more customers share the number than are listed


@dataclass(frozen=True)
class Dial:
    """What to dial, and what was noted."""

    uri: str  # "tel:+17135550199"
    shown_number: str
    noted: bool
    changes: Changes


def _check_number(number: str) -> str:
    text = (number or "").strip()
    if not any(c.isdigit() for c in text) or len(text) > _NUMBER_CHARS:
        raise ValidationError("That is not a phone number.", fields={"number": "Not a phone number."})
    if contains_card_number(text, context="phone"):
        raise ValidationError("That looks like a card number, not a phone number; it was not used.",
                              fields={"number": "A card number, not a phone number."})
    return text


def _shown(phone, text: str) -> str:
    """The number as people read it: "+1 713-555-0199" when valid, else as given."""
    if phone is None or not phone.e164:
        return text
    return phonenumbers.format_number(phonenumbers.parse(phone.e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def identify_caller(db: Database, *, actor: Actor, number: str) -> IncomingCall:
    """The customers whose phone is `number` in any format, with what is open for them.

    Each customer shown is audited as viewed. Raises ValidationError (not a phone
    number), PermissionDenied.
    """
    access.require(db, actor, Permission.FIND_CUSTOMERS)
    text = _check_number(number)
    hits = [h for h in search_customers(db, actor=actor, query=text, limit=MAX_MATCHES + 1)
            if h.match == "phone"]
    more = len(hits) > MAX_MATCHES
    hits = hits[:MAX_MATCHES]
    ids = [h.id for h in hits]
    orders: dict[int, list[OpenOrder]] = {i: [] for i in ids}
    links: dict[int, list[UnpaidPayLink]] = {i: [] for i in ids}
    requests: dict[int, list[OpenRequest]] = {i: [] for i in ids}
    with db.begin() as s:
        # Read in this unit of work: a connection of its own would cost as much as the lookups.
        phone = normalize_phone(text, default_region=shop_default_country(s))
        if ids:
            for o in s.execute(
                select(Order.id, Order.number, Order.status, Order.total, Order.currency, Order.created_at,
                       Order.customer_id)
                .where(Order.customer_id.in_(ids), Order.status.in_(OPEN_STATUSES))
                .order_by(Order.created_at.desc(), Order.id.desc())
            ):
                if len(orders[o.customer_id]) < MAX_OPEN_ORDERS:
                    orders[o.customer_id].append(OpenOrder(
                        o.id, o.number or f"(local {o.id})", o.status.value, o.total, o.currency, o.created_at))
            for p in s.execute(
                select(Order.id, Order.number, Order.payment_url, Payment.amount, Payment.currency,
                       Order.customer_id)
                .join(Payment, Payment.order_id == Order.id)
                .where(Order.customer_id.in_(ids), Payment.method == PaymentMethod.PAY_LINK,
                       Payment.status == PaymentStatus.AWAITING, Order.payment_url.is_not(None),
                       Order.status.in_(OPEN_STATUSES))
                .order_by(Order.id.desc())
            ):
                links[p.customer_id].append(UnpaidPayLink(
                    p.id, p.number or f"(local {p.id})", p.payment_url, p.amount, p.currency))
            for r in s.execute(
                select(PrivacyRequest.id, PrivacyRequest.kind, PrivacyRequest.due_at, PrivacyRequest.customer_id)
                .where(PrivacyRequest.customer_id.in_(ids),
                       PrivacyRequest.status.not_in(CLOSED_REQUEST_STATUSES))
                .order_by(PrivacyRequest.due_at)
            ):
                requests[r.customer_id].append(OpenRequest(r.id, r.kind, r.due_at))
            for cid in ids:
                audit.record(s, actor, "view_caller", entity_type="customer", entity_id=cid, customer_id=cid)
    matches = tuple(
        CallerMatch(
            id=h.id, name=h.name, company=h.company, email=h.email, phone=h.phone, postcode=h.postcode,
            city=h.city, status=h.status, exact=h.exact, open_orders=tuple(orders[h.id]),
            pay_links=tuple(links[h.id]), requests=tuple(requests[h.id]),
        )
        for h in hits
    )
    return IncomingCall(number=text, shown_number=_shown(phone, text), e164=phone.e164 if phone else None,
                        matches=matches, more=more)


def _tel_uri(number: str, *, default_region: str) -> str:
    """The `tel:` address of a number as shown: international form when valid, else its digits."""
    phone = normalize_phone(number, default_region=default_region)
    if phone is None:
        raise ValidationError("That is not a phone number.", fields={"number": "Not a phone number."})
    if phone.e164:
        uri = f"tel:{phone.e164}"
    else:
        uri = "tel:" + ("+" if number.strip().startswith("+") else "") + phone.digits
    if phone.extension:
        uri += f";ext={phone.extension}"
    return uri


def dial_customer(db: Database, *, actor: Actor, number: str, customer_id: int | None) -> Dial:
    """The `tel:` address to dial `number`, and a note on the customer's page saying who called.

    With no customer (a guest order's phone) nothing is noted. Raises ValidationError
    (not a phone number), NotFound, PermissionDenied.
    """
    access.require(db, actor, Permission.VIEW_CUSTOMER, customer_id=customer_id)
    text = _check_number(number)
    with db.read() as s:
        region = shop_default_country(s)
    uri = _tel_uri(text, default_region=region)
    phone = normalize_phone(text, default_region=region)
    shown = _shown(phone, text)
    if customer_id is None:
        return Dial(uri=uri, shown_number=shown, noted=False, changes=Changes())
    with db.begin() as s:
        if s.get(Customer, customer_id) is None:
            raise NotFound("This customer is no longer here (erased, merged or removed at another desk).")
        desk = f" at {actor.desk}" if actor.desk else ""
        note = CustomerNote(customer_id=customer_id, staff_id=actor.staff_id,
                            text=f"Phoned {shown} from the back office ({actor.login}{desk}).")
        s.add(note)
        s.flush()
        audit.record(s, actor, "call_customer", entity_type="customer_note", entity_id=note.id,
                     customer_id=customer_id)
    return Dial(uri=uri, shown_number=shown, noted=True, changes=Changes(customers=frozenset({customer_id})))
