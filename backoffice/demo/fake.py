"""Deterministic fake shop data (plain Python values) for the demo shop and benchmarks.

`generate_shop` makes up a small Houston tea and coffee shop: a catalogue,
customers from the United States and abroad with names in their own scripts,
phone numbers typed in many ways, and two years of orders. The same seed always
gives the same shop, in any process; nothing depends on hash seeds or the clock.

What a loader can rely on:

* Every customer phone (``phone_raw``, and every non-empty address ``phone_raw``)
  parses with `normalize_phone` (region ``phone_region``, or the address country)
  to a valid number. Numbers are unique except on purpose: a customer with
  ``duplicate_of`` set is the same person as an earlier customer, with the same
  number typed another way and another email address.
* Email keys (`email_key`) are unique, ASCII, on reserved example domains only,
  and pass `validate_email`.
* An order's ``total`` is the sum of ``qty * unit_price`` over its lines plus
  ``shipping_total``; every status appears at least once from seven orders up.
* Customer indexes follow sign-up time, order numbers follow order time.
* Card payments carry the brand and last four digits only.

The records are `typing.NamedTuple`s: immutable, read by attribute, and several
times cheaper to create than frozen dataclasses, which counts at 300,000 orders.
"""

from __future__ import annotations

import bisect
import gc
import itertools
import operator
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import NamedTuple, TypeVar

import phonenumbers
from phonenumbers import PhoneNumberFormat

from backoffice.demo import names as data
from backoffice.domain.phones import normalize_phone

__all__ = [
    "CUSTOMER_STATUSES",
    "DEFAULT_UNTIL",
    "ORDER_STATUSES",
    "PAYMENT_METHODS",
    "FakeAddress",
    "FakeCustomer",
    "FakeLine",
    "FakeOrder",
    "FakeProduct",
    "FakeShop",
    "generate_shop",
]

ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
)
PAYMENT_METHODS = ("bacs", "cheque", "cod", "stripe", "paypal")
CUSTOMER_STATUSES = ("active", "deactivated")

# A fixed "now" keeps a seed's shop identical from one day to the next; pass
# `until` to date the shop up to another moment.
DEFAULT_UNTIL = datetime(2026, 6, 30, 23, 0, tzinfo=UTC)
ORDER_HISTORY_DAYS = 730
SIGN_UP_HISTORY_DAYS = 900

_DAY = 86_400
_CENT = Decimal("0.01")

T = TypeVar("T")


class FakeProduct(NamedTuple):
    """A product in the catalogue."""

    sku: str
    name: str
    price: Decimal
    stock: int
    category: str


class FakeAddress(NamedTuple):
    """A billing or shipping address as the customer typed it."""

    kind: str  # "billing" or "shipping"
    first_name: str
    last_name: str
    company: str
    address_1: str
    address_2: str
    city: str
    state: str  # the WooCommerce state code where the store uses one, else ""
    postcode: str
    country: str  # ISO 3166-1 alpha-2
    phone_raw: str  # as typed, "" when none was given


class FakeCustomer(NamedTuple):
    """A customer; the first address is the billing address."""

    first_name: str
    last_name: str
    company: str
    email: str
    phone_raw: str  # as typed; "" when the customer gave none
    phone_region: str  # the region to read phone_raw with
    addresses: tuple[FakeAddress, ...]
    created_at: datetime
    status: str  # "active" or "deactivated"
    # Ground truth for duplicate detection: the index of the earlier customer
    # this one is the same person as. A real shop does not know it.
    duplicate_of: int | None = None


class FakeLine(NamedTuple):
    """One order line."""

    product_index: int
    qty: int
    unit_price: Decimal


class FakeOrder(NamedTuple):
    """An order, with payment and shipment as a WooCommerce store records them."""

    number: str
    customer_index: int
    status: str  # one of ORDER_STATUSES
    created_at: datetime
    lines: tuple[FakeLine, ...]
    shipping_method: str
    shipping_title: str
    shipping_total: Decimal
    total: Decimal
    currency: str
    payment_method: str  # one of PAYMENT_METHODS
    payment_title: str
    card_brand: str | None  # stripe only
    card_last4: str | None  # stripe only
    tracking_carrier: str | None  # "usps", "ups", "fedex" or "dhl" once shipped
    tracking_number: str | None
    origin: str  # "web" or "phone"
    customer_note: str
    ship_to: int  # index into the customer's addresses

    @property
    def subtotal(self) -> Decimal:
        """Sum of the lines, without shipping."""
        return sum((line.qty * line.unit_price for line in self.lines), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class FakeShop:
    """A whole fake shop: catalogue, customers and orders."""

    name: str
    currency: str
    seed: int
    until: datetime
    products: tuple[FakeProduct, ...]
    customers: tuple[FakeCustomer, ...]
    orders: tuple[FakeOrder, ...]


# --- Random helpers ---------------------------------------------------------------


def _table(items: Sequence[T], weights: Sequence[float], size: int = 1000) -> tuple[T, ...]:
    """A lookup table for weighted choices: ``table[int(random() * len(table))]``.

    Indexing a table is much cheaper than `random.choices` one item at a time;
    each item gets a share of slots in proportion to its weight (at least one).
    """
    total = float(sum(weights))
    table: list[T] = []
    running = 0.0
    for item, weight in zip(items, weights, strict=True):
        running += weight
        table.extend([item] * max(1, round(running / total * size) - len(table)))
    return tuple(table)


def _random_digits(rng: random.Random, count: int) -> str:
    """`count` random decimal digits."""
    if count > 15:
        return _random_digits(rng, count - 15) + _random_digits(rng, 15)
    return str(int(rng.random() * 10**count)).zfill(count)


# --- Products -------------------------------------------------------------------


def _shop_price(dollars: float) -> Decimal:
    """Round to the nearest half dollar and take five cents off: 12.45, 12.95."""
    halves = max(round(dollars * 2), 1)
    return (Decimal(halves) / 2 - Decimal("0.05")).quantize(_CENT)


def _catalogue_entries() -> list[tuple[str, str, Decimal, str]]:
    """(sku, name, price, category) for the whole catalogue, most typical first."""
    tiers: list[list[tuple[str, str, Decimal, str]]] = [[], [], []]
    for prefix, code, name, category, base, sizes in data.CATALOGUE:
        for tier, (suffix, label, factor) in enumerate(data.SIZES[sizes]):
            sku = f"{prefix}-{code}-{suffix}" if suffix else f"{prefix}-{code}"
            full_name = f"{name}, {label}" if label else name
            tiers[tier].append((sku, full_name, _shop_price(base * factor), category))
    return [entry for tier in tiers for entry in tier]


def _products(count: int, rng: random.Random) -> tuple[FakeProduct, ...]:
    entries = _catalogue_entries()[:count]
    lot = 0
    while len(entries) < count:
        prefix, origin, category, base = data.LOT_ORIGINS[lot % len(data.LOT_ORIGINS)]
        lot += 1
        price = _shop_price(base * (0.8 + 0.05 * (lot % 9)))
        entries.append((f"{prefix}-LOT-{lot:04d}", f"{origin}, Reserve Lot {lot}", price, category))
    products = []
    for sku, name, price, category in entries:
        stock = 0 if rng.random() < 0.05 else rng.randrange(3, 240)
        products.append(FakeProduct(sku, name, price, stock, category))
    return tuple(products)


# --- Phones ---------------------------------------------------------------------

_FULLWIDTH = str.maketrans("0123456789-() +", "０１２３４５６７８９－（）\u3000＋")
_DIGIT = re.compile(r"\d")


class _PhoneStyle(NamedTuple):
    head: str  # the typed text before the random digits
    tail: str  # format string with one "{}" per random digit
    fullwidth: bool


class _PhonePlan(NamedTuple):
    region: str
    head: str  # the national number's fixed first digits
    e164_head: str
    random_digits: int
    styles: tuple[_PhoneStyle, ...]
    style_weights: tuple[float, ...]  # cumulative


def _style_candidates(number: phonenumbers.PhoneNumber, region: str) -> list[tuple[str, float]]:
    """Ways people type `number`, with how often, before verification."""
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    groups = re.findall(r"\d+", national)
    igroups = re.findall(r"\d+", international)
    candidates = [
        (national, 4.0),
        (international, 1.5),
        (e164, 1.0),
        ("".join(groups), 1.5),
        ("-".join(groups), 1.0),
        (" ".join(groups), 1.0),
        (".".join(groups), 0.5),
    ]
    if number.country_code == 1:
        candidates += [
            ("-".join(groups), 3.0),
            ("+1 " + national, 1.0),
            ("1-" + "-".join(groups), 0.7),
            ("1 " + national, 0.3),
        ]
    else:
        candidates.append(("00" + " ".join(igroups), 0.7))
        if national.startswith("0"):
            rest = " ".join(igroups[1:])
            candidates.append((f"+{igroups[0]} (0){rest}", 0.7))
    if region == "JP":
        candidates.append((national.translate(_FULLWIDTH), 1.0))
    return candidates


def _make_style(text: str, random_digits: int) -> _PhoneStyle | None:
    positions = [i for i, char in enumerate(text) if char.isdigit()]
    if len(positions) < random_digits:
        return None
    cut = positions[-random_digits]
    tail = _DIGIT.sub("{}", text[cut:].replace("{", "{{").replace("}", "}}"))
    return _PhoneStyle(text[:cut], tail, not text.isascii())


def _fill(style: _PhoneStyle, digits: str) -> str:
    if style.fullwidth:
        digits = digits.translate(_FULLWIDTH)
    return style.head + style.tail.format(*digits)


@cache
def _phone_plan(region: str, head: str, length: int) -> _PhonePlan | None:
    """Typing styles for numbers `head` + random digits; None if the plan is not valid."""
    country_code = phonenumbers.country_code_for_region(region)
    random_digits = length - len(head)
    samples = [(("73190582" * 3)[:random_digits]), (("50826431" * 3)[:random_digits])]
    numbers = [
        phonenumbers.PhoneNumber(country_code=country_code, national_number=int(head + s))
        for s in samples
    ]
    if not all(phonenumbers.is_valid_number(n) for n in numbers):
        return None
    e164_head = f"+{country_code}{head}"
    styles: list[_PhoneStyle] = []
    weights: list[float] = []
    for text, weight in _style_candidates(numbers[0], region):
        style = _make_style(text, random_digits)
        if style is None or style in styles:
            if style is not None:
                weights[styles.index(style)] += weight
            continue
        # Keep a style only if both samples typed that way read back as themselves.
        if all(
            (phone := normalize_phone(_fill(style, s), default_region=region)) is not None
            and phone.e164 == e164_head + s
            for s in samples
        ):
            styles.append(style)
            weights.append(weight)
    if len(styles) < 2:
        return None
    return _PhonePlan(
        region, head, e164_head, random_digits, tuple(styles), tuple(itertools.accumulate(weights))
    )


def _derived_plan(reference: _PhonePlan, head: str) -> _PhonePlan | None:
    """`reference`'s typing styles for numbers with another head of the same length.

    Cheaper than `_phone_plan` for the hundreds of spare North American area
    codes, which all format alike; the tests check every derived style.
    """
    country_code = phonenumbers.country_code_for_region(reference.region)
    if len(head) != len(reference.head):
        return None
    for sample in ("73190582", "50826431"):
        digits = (sample * 3)[: reference.random_digits]
        number = phonenumbers.PhoneNumber(
            country_code=country_code, national_number=int(head + digits)
        )
        if not phonenumbers.is_valid_number(number):
            return None
    styles = []
    for style in reference.styles:
        chars = list(style.head)
        positions = [i for i, char in enumerate(chars) if char.isdigit()][-len(head) :]
        if "".join(chars[i] for i in positions) != reference.head:
            return None
        for position, digit in zip(positions, head, strict=True):
            chars[position] = digit
        styles.append(style._replace(head="".join(chars)))
    return reference._replace(head=head, e164_head=f"+{country_code}{head}", styles=tuple(styles))


# --- Customers ------------------------------------------------------------------


class _CountryTables(NamedTuple):
    country: data.Country
    people: tuple[data.NameSet, ...]  # lookup table
    cities: tuple[int, ...]  # lookup table of city indexes
    city_plans: tuple[tuple[_PhonePlan, ...], ...]
    mobile_plans: tuple[_PhonePlan, ...]
    all_plans: tuple[_PhonePlan, ...]  # where to look when a city's numbers run out
    house_numbers: tuple[int, int]  # (low, high) for the usual house number


@cache
def _country_tables() -> tuple[_CountryTables, ...]:
    """A lookup table of countries, weighted by how many customers come from each."""
    tables = []
    for country in data.COUNTRIES:
        city_plans = tuple(
            tuple(p for p in (_phone_plan(country.code, h, n) for h, n in city.phones) if p)
            for city in country.cities
        )
        mobile_plans = tuple(
            p for p in (_phone_plan(country.code, h, n) for h, n in country.mobiles) if p
        )
        if not all(city_plans):
            raise RuntimeError(f"No valid phone plan for a city in {country.code}.")
        reference = city_plans[0][0]
        spare_plans = tuple(
            p for p in (_derived_plan(reference, head) for head, _ in country.spare_phones) if p
        )
        tables.append(
            _CountryTables(
                country,
                _table([p for _, p in country.peoples], [w for w, _ in country.peoples], 100),
                _table(range(len(country.cities)), [c.weight for c in country.cities]),
                city_plans,
                mobile_plans,
                mobile_plans + tuple(itertools.chain(*city_plans)) + spare_plans,
                (100, 9999) if country.code in ("US", "CA") else (1, 159),
            )
        )
    return _table(tables, [c.weight for c in data.COUNTRIES])


@cache
def _email_part(name: str) -> str:
    """A name as it appears in an email local part: ASCII, lower case, no spaces."""
    part = re.sub(r"[^a-z0-9.\-]", "", name.lower().replace(" ", "."))
    return re.sub(r"\.{2,}", ".", part).strip(".-") or "customer"


_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_DOMAINS = _table([d for d, _ in data.EMAIL_DOMAINS], [w for _, w in data.EMAIL_DOMAINS], 100)
_POSTCODE_SLOT = re.compile(r"[#@]")


@cache
def _postcode_pattern(pattern: str) -> tuple[str, str, bool]:
    """(format string, slot kinds, digits only) for a postcode pattern."""
    kinds = "".join(c for c in pattern if c in "#@")
    return _POSTCODE_SLOT.sub("{}", pattern), kinds, set(kinds) <= {"#"}


class _CustomerMaker:
    """Makes customers one at a time, remembering what must stay unique."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.random = rng.random
        self.countries = _country_tables()
        self.used_phones: set[str] = set()
        self.used_emails: set[str] = set()
        # The next number to try after a taken address, by taken address.
        self.email_suffixes: dict[str, int] = {}
        # Per customer: (plan, digits, style index) of its phone, or None.
        self.phones: list[tuple[_PhonePlan, str, int] | None] = []
        # Per customer: plain Latin first and last name, for emails.
        self.plain_names: list[tuple[str, str]] = []

    # Phones

    def _new_number(
        self, plans: tuple[_PhonePlan, ...], fallback: tuple[_PhonePlan, ...]
    ) -> tuple[_PhonePlan, str]:
        random_ = self.random
        for attempt in range(60):
            pool = plans if attempt < 4 else fallback
            plan = pool[int(random_() * len(pool))]
            digits = _random_digits(self.rng, plan.random_digits)
            e164 = plan.e164_head + digits
            if e164 not in self.used_phones:
                self.used_phones.add(e164)
                return plan, digits
        raise RuntimeError("The demo phone plans are exhausted; add plans to names.py.")

    def _phone_for_city(
        self, tables: _CountryTables, city_index: int
    ) -> tuple[_PhonePlan, str, int]:
        if tables.mobile_plans and self.random() < tables.country.mobile_share:
            plan, digits = self._new_number(tables.mobile_plans, tables.all_plans)
        else:
            plan, digits = self._new_number(tables.city_plans[city_index], tables.all_plans)
        style = bisect.bisect(plan.style_weights, self.random() * plan.style_weights[-1])
        return plan, digits, style

    # Addresses

    def _address(
        self,
        kind: str,
        tables: _CountryTables,
        city_index: int,
        first: str,
        last: str,
        company: str,
        phone_raw: str,
    ) -> FakeAddress:
        random_ = self.random
        country = tables.country
        city = country.cities[city_index]
        streets = city.streets or country.streets
        street = streets[int(random_() * len(streets))]
        low, high = tables.house_numbers
        house = low + int(random_() * (high - low)) if random_() < 0.85 else 1 + int(random_() * 99)
        a, b = 1 + int(random_() * 9), 1 + int(random_() * 9)
        address_1 = country.street_format.format(n=house, a=a, b=b, s=street)
        address_2 = ""
        if country.address_2 and random_() < country.address_2_share:
            template = country.address_2[int(random_() * len(country.address_2))]
            letter = _LETTERS[int(random_() * 8)]
            address_2 = template.format(n=1 + int(random_() * 60), a=a, b=b, L=letter, s=street)
        template, kinds, digits_only = _postcode_pattern(
            city.postcodes[int(random_() * len(city.postcodes))]
        )
        if digits_only:
            postcode = template.format(*_random_digits(self.rng, len(kinds)))
        else:
            postcode = template.format(
                *(
                    str(int(random_() * 10)) if k == "#" else _LETTERS[int(random_() * 23)]
                    for k in kinds
                )
            )
        return FakeAddress(
            kind,
            first,
            last,
            company,
            address_1,
            address_2,
            city.name,
            city.state,
            postcode,
            country.code,
            phone_raw,
        )

    # Names and emails

    def _person(self, people: data.NameSet) -> tuple[str, str, str, str]:
        """(first, last, plain first, plain last) for a new person of `people`."""
        random_ = self.random
        female = random_() < 0.5
        given = people.female if female else people.male
        first = given[int(random_() * len(given))]
        last = people.last[int(random_() * len(people.last))][1 if female else 0]
        if random_() < people.plain_share:
            return first[1], last[1], first[1], last[1]
        return first[0], last[0], first[1], last[1]

    def _email(self, plain_first: str, plain_last: str) -> str:
        random_ = self.random
        given, family = _email_part(plain_first), _email_part(plain_last)
        pattern = int(random_() * 8)
        if pattern in (0, 1):
            local = f"{given}.{family}"
        elif pattern == 2:
            local = f"{given}{family}"
        elif pattern == 3:
            local = f"{given[0]}{family}"
        elif pattern == 4:
            local = f"{given}_{family}{60 + int(random_() * 40)}"
        elif pattern == 5:
            local = f"{given}{1 + int(random_() * 999)}"
        elif pattern == 6:
            local = f"{given}.{family[0]}"
        else:
            handle = data.EMAIL_HANDLES[int(random_() * len(data.EMAIL_HANDLES))]
            local = f"{handle}{1 + int(random_() * 9999)}"
        if random_() < 0.05:
            # Some people type their address with capitals; it is kept as typed.
            local = ".".join(p[:1].upper() + p[1:] for p in local.split("."))
        domain = _DOMAINS[int(random_() * len(_DOMAINS))]
        email = f"{local}@{domain}"
        key = email.lower()
        if key in self.used_emails:
            taken = key
            suffix = self.email_suffixes.get(taken, 2)
            while key in self.used_emails:
                email = f"{local}{suffix}@{domain}"
                key = email.lower()
                suffix += 1 + int(random_() * 7)
            self.email_suffixes[taken] = suffix
        self.used_emails.add(key)
        return email

    # Customers

    def customer(self, created_at: datetime) -> FakeCustomer:
        """Make up a new customer who signed up at `created_at`."""
        random_ = self.random
        tables = self.countries[int(random_() * len(self.countries))]
        country = tables.country
        people = tables.people[int(random_() * len(tables.people))]
        first, last, plain_first, plain_last = self._person(people)
        city_index = tables.cities[int(random_() * len(tables.cities))]
        company = ""
        if country.companies and random_() < 0.07:
            company = country.companies[int(random_() * len(country.companies))]
        phone_raw = ""
        if random_() < 0.95:
            plan, digits, style = self._phone_for_city(tables, city_index)
            phone_raw = _fill(plan.styles[style], digits)
            self.phones.append((plan, digits, style))
        else:
            self.phones.append(None)
        email = self._email(plain_first, plain_last)
        self.plain_names.append((plain_first, plain_last))
        addresses = [self._address("billing", tables, city_index, first, last, company, phone_raw)]
        extra = random_()
        for _ in range(0 if extra < 0.62 else 1 if extra < 0.9 else 2):
            addresses.append(
                self._shipping_address(tables, people, city_index, first, last, company, phone_raw)
            )
        status = "deactivated" if random_() < 0.012 else "active"
        return FakeCustomer(
            first,
            last,
            company,
            email,
            phone_raw,
            country.code,
            tuple(addresses),
            created_at,
            status,
        )

    def _shipping_address(
        self,
        tables: _CountryTables,
        people: data.NameSet,
        city_index: int,
        first: str,
        last: str,
        company: str,
        phone_raw: str,
    ) -> FakeAddress:
        random_ = self.random
        if random_() < 0.55:
            # The same person at work or at a second home in the same city.
            phone = phone_raw if random_() < 0.5 else ""
            return self._address("shipping", tables, city_index, first, last, company, phone)
        # A present for someone else, elsewhere in the same country.
        other_first, other_last, _, _ = self._person(people)
        if random_() < 0.4:
            other_last = last
        other_city = tables.cities[int(random_() * len(tables.cities))]
        chance = random_()
        if chance < 0.4:
            other_phone = ""
        elif chance < 0.7:
            other_phone = phone_raw
        else:
            plan, digits, style = self._phone_for_city(tables, other_city)
            other_phone = _fill(plan.styles[style], digits)
        return self._address(
            "shipping", tables, other_city, other_first, other_last, "", other_phone
        )

    def duplicate(
        self, original_index: int, original: FakeCustomer, created_at: datetime
    ) -> FakeCustomer:
        """The same person signing up again, typing the same phone another way."""
        random_ = self.random
        plan, digits, style = self.phones[original_index]  # type: ignore[misc]
        other_style = (style + 1 + int(random_() * (len(plan.styles) - 1))) % len(plan.styles)
        self.phones.append((plan, digits, other_style))
        phone_raw = _fill(plan.styles[other_style], digits)
        plain_first, plain_last = self.plain_names[original_index]
        self.plain_names.append((plain_first, plain_last))
        email = self._email(plain_first, plain_last)
        first, last = original.first_name, original.last_name
        if random_() < 0.3:
            # Typed without accents this time ("Jose Garcia" for "José García").
            first, last = data.plain(first), data.plain(last)
        billing = original.addresses[0]._replace(
            first_name=first, last_name=last, phone_raw=phone_raw
        )
        return FakeCustomer(
            first,
            last,
            original.company,
            email,
            phone_raw,
            original.phone_region,
            (billing,),
            created_at,
            "active",
            duplicate_of=original_index,
        )


def _customers(count: int, rng: random.Random, until: datetime) -> tuple[FakeCustomer, ...]:
    maker = _CustomerMaker(rng)
    span = SIGN_UP_HISTORY_DAYS * _DAY
    # More sign-ups lately: the shop grows.
    offsets = sorted(int(span * rng.random() ** 0.75) for _ in range(count))
    start = until - timedelta(seconds=span)
    customers: list[FakeCustomer] = []
    random_ = rng.random
    for index, offset in enumerate(offsets):
        created_at = start + timedelta(seconds=offset)
        if index >= 20 and random_() < 0.006:
            original_index = int(random_() * index)
            original = customers[original_index]
            if original.duplicate_of is None and maker.phones[original_index] is not None:
                customers.append(maker.duplicate(original_index, original, created_at))
                continue
        customers.append(maker.customer(created_at))
    return tuple(customers)


# --- Tracking numbers -------------------------------------------------------------


_USPS_PREFIX = "94001"  # application identifier 94, service type 001


@cache
def _usps_group_sums() -> tuple[int, ...]:
    """Mod-10 weighted digit sums (3, 1, 3, 1 from the right) of every 4-digit group."""
    return tuple(3 * (v % 10 + v // 100 % 10) + v // 10 % 10 + v // 1000 for v in range(10_000))


def _usps_tracking(rng: random.Random) -> str:
    """A USPS Intelligent Mail package barcode: 22 digits with a mod-10 check digit."""
    high, low = int(rng.random() * 10**8), int(rng.random() * 10**8)
    sums = _usps_group_sums()
    # The prefix sits at positions 21 to 17 from the right: 9*3 + 4 + 0 + 0 + 1*3.
    total = (
        34 + sums[high // 10_000] + sums[high % 10_000] + sums[low // 10_000] + sums[low % 10_000]
    )
    return "%s%08d%08d%d" % (_USPS_PREFIX, high, low, (10 - total % 10) % 10)


_UPS_SHIPPER = "8V7X42"  # the shop's one UPS account


def _ups_tracking(package: int, service: str) -> str:
    """A UPS 1Z number: shipper, service, package number and check digit."""
    body = f"{_UPS_SHIPPER}{service}{package:07d}"
    total = 0
    for position, char in enumerate(body):
        value = int(char) if char.isdigit() else (ord(char) - 63) % 10
        total += value * 2 if position % 2 else value
    return f"1Z{body}{(10 - total % 10) % 10}"


def _fedex_tracking(serial: int) -> str:
    """A FedEx Express 12-digit number with its mod-11 check digit."""
    body = f"7{serial:010d}"
    total = sum(map(operator.mul, map(int, reversed(body)), itertools.cycle((1, 3, 7))))
    return f"{body}{total % 11 % 10}"


def _dhl_tracking(serial: int) -> str:
    """A DHL Express 10-digit waybill number with its mod-7 check digit."""
    return f"{serial}{serial % 7}"


def _s10_tracking(serial: int, service: str) -> str:
    """A UPU S10 item number for USPS international mail ("LZ123456785US")."""
    digits = f"{serial:08d}"
    total = sum(map(operator.mul, map(int, digits), (8, 6, 4, 2, 3, 5, 9, 7)))
    check = 11 - total % 11
    check = 0 if check == 10 else 5 if check == 11 else check
    return f"{service}{digits}{check}US"


class _Tracking:
    """Hands out tracking numbers as carriers do for one shop: each unique.

    UPS, FedEx, DHL and international mail number a shop's parcels in sequence;
    USPS domestic labels carry long random serials.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ups = int(rng.random() * 10**6)
        self.fedex = int(rng.random() * 10**9)
        self.dhl = 10**8 + int(rng.random() * 10**8)
        self.s10 = int(rng.random() * 10**7)
        self.usps: set[str] = set()

    def _step(self) -> int:
        return 1 + int(self.rng.random() * 3)

    def number(self, method: str) -> tuple[str, str]:
        """(carrier, tracking number) for a parcel sent with shipping `method`."""
        if method == "free_shipping":
            r = self.rng.random()
            if r < 0.45:
                self.ups = (self.ups + self._step()) % 10**7
                return "ups", _ups_tracking(self.ups, "03" if r < 0.36 else "02")
            if r >= 0.8:
                self.fedex = (self.fedex + self._step()) % 10**10
                return "fedex", _fedex_tracking(self.fedex)
        elif method == "dhl_express":
            self.dhl = 10**8 + (self.dhl - 10**8 + self._step()) % (9 * 10**8)
            return "dhl", _dhl_tracking(self.dhl)
        elif method not in ("flat_rate", "usps_priority"):
            self.s10 = (self.s10 + self._step()) % 10**8
            service = "LZ" if method == "usps_first_class_intl" else "CP"
            return "usps", _s10_tracking(self.s10, service)
        number = _usps_tracking(self.rng)
        while number in self.usps:
            number = _usps_tracking(self.rng)
        self.usps.add(number)
        return "usps", number


# --- Orders -----------------------------------------------------------------------

_PAYMENT_TITLES = {
    "bacs": "Direct Bank Transfer",
    "cheque": "Check Payments",
    "cod": "Cash on Delivery",
    "stripe": "Credit Card (Stripe)",
    "paypal": "PayPal",
}
_PAYMENTS = {
    "failed": _table(("stripe", "paypal"), (70, 30), 100),
    "on-hold": _table(("bacs", "cheque"), (65, 35), 100),
    "pending": _table(("stripe", "paypal", "bacs"), (45, 45, 10), 100),
    "phone": _table(("bacs", "cheque", "cod", "stripe"), (25, 20, 20, 35), 100),
    "web": _table(("stripe", "paypal", "bacs", "cheque", "cod"), (62, 25, 6, 3, 4), 100),
}
_CARD_BRANDS = _table(("visa", "mastercard", "amex", "discover"), (55, 30, 10, 5), 100)

# Status by the order's age in days: open orders are recent ones.
_STATUS_BY_AGE = (
    (
        2,
        _table(
            ("pending", "processing", "on-hold", "completed", "failed", "cancelled"),
            (12, 55, 15, 10, 5, 3),
        ),
    ),
    (
        10,
        _table(
            ("pending", "processing", "on-hold", "completed", "failed", "cancelled"),
            (2, 20, 6, 66, 3, 3),
        ),
    ),
    (
        float("inf"),
        _table(
            ("completed", "cancelled", "refunded", "failed", "on-hold", "pending", "processing"),
            (86.5, 5, 4, 3.5, 0.4, 0.4, 0.2),
        ),
    ),
)


class _Shipping(NamedTuple):
    method: str
    title: str
    price: Decimal
    cents: int


def _shipping(method: str, title: str, price: str) -> _Shipping:
    return _Shipping(method, title, Decimal(price), int(Decimal(price) * 100))


_LOCAL_PICKUP = _shipping("local_pickup", "Local Pickup", "0.00")
_FREE = _shipping("free_shipping", "Free Shipping", "0.00")
_FLAT = _shipping("flat_rate", "Flat Rate", "5.95")
_PRIORITY = _shipping("usps_priority", "USPS Priority Mail", "9.45")
_FIRST_INTL = _shipping("usps_first_class_intl", "USPS First-Class Package International", "16.50")
_FIRST_CA = _FIRST_INTL._replace(price=Decimal("14.50"), cents=1450)
_PRIORITY_INTL = _shipping("usps_priority_intl", "USPS Priority Mail International", "44.95")
_PRIORITY_CA = _PRIORITY_INTL._replace(price=Decimal("32.95"), cents=3295)
_DHL = _shipping("dhl_express", "DHL Express Worldwide", "49.00")
_FREE_SHIPPING_FROM_CENTS = 5000
_FIRST_CLASS_INTL_UP_TO_CENTS = 7500

_LINE_COUNTS = _table((1, 2, 3, 4, 5, 6), (45, 28, 14, 7, 4, 2), 100)
_QUANTITIES = _table((1, 2, 3, 4, 6), (76, 16, 5, 2, 1), 100)
_NEAR_SHOP = frozenset(c.name for c in data.COUNTRIES[0].cities if c.near_shop)
# Hours of the day (UTC) people order at: busiest during the Houston day.
# fmt: off
_HOURS = _table(
    range(24),
    (4, 3, 2, 1.5, 1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.6, 1, 1.5, 2.5, 4, 5, 5.5, 5.5, 5, 5, 5, 5, 5, 4.5),
)
# fmt: on


def _customer_weights(
    customers: tuple[FakeCustomer, ...], until: datetime, rng: random.Random
) -> list[float]:
    """How likely each customer is to place a given order: a few order a lot."""
    span = ORDER_HISTORY_DAYS * _DAY
    until_epoch = until.timestamp()
    weights = []
    for customer in customers:
        active_for = min(span, until_epoch - customer.created_at.timestamp()) / span
        weight = min(rng.paretovariate(1.3), 80.0) * max(active_for, 0.002)
        if customer.company:
            weight *= 3
        if customer.phone_region != "US":
            weight *= 0.5  # shipping abroad costs more
        if customer.status != "active":
            weight *= 0.3
        weights.append(weight)
    return weights


def _order_times(
    customer_of_order: list[int],
    customers: tuple[FakeCustomer, ...],
    start: datetime,
    rng: random.Random,
) -> list[tuple[int, int]]:
    """(seconds since `start`, customer index) per order, sorted by time.

    An order falls after its customer signed up, on a day drawn with the
    Christmas season weighted up, at an hour drawn from the shop's day.
    """
    span = ORDER_HISTORY_DAYS * _DAY
    midnight = datetime(start.year, start.month, start.day, tzinfo=start.tzinfo)
    before_start = int((start - midnight).total_seconds())
    day_count = (span + before_start) // _DAY + 1
    # From late November to mid-December the shop sells a quarter more.
    day_weights = []
    for i in range(day_count):
        day = midnight + timedelta(days=i)
        christmas = (day.month == 11 and day.day >= 20) or (day.month == 12 and day.day <= 20)
        day_weights.append(1.25 if christmas else 1.0)
    cumulative = [0.0, *itertools.accumulate(day_weights)]
    start_epoch = start.timestamp()
    earliest = [max(0, int(c.created_at.timestamp() - start_epoch)) for c in customers]
    # Per customer: the day weight before sign-up, and the weight left after it.
    below = [cumulative[(low + before_start) // _DAY] for low in earliest]
    room = [cumulative[-1] - b for b in below]
    random_ = rng.random
    pick = bisect.bisect
    hours = _HOURS
    hour_count = len(hours)
    last = span - 1
    customer_count = len(customers)
    keys = []
    for customer in customer_of_order:
        low = earliest[customer]
        day = pick(cumulative, below[customer] + random_() * room[customer]) - 1
        moment = day * _DAY - before_start + hours[int(random_() * hour_count)] * 3600
        moment += int(random_() * 3600)
        moment = low if moment < low else last if moment > last else moment
        # One integer per order sorts several times faster than a tuple.
        keys.append(moment * customer_count + customer)
    keys.sort()
    return [divmod(key, customer_count) for key in keys]


def _statuses(ages_days: list[float], rng: random.Random) -> list[str]:
    random_ = rng.random
    statuses = []
    for age in ages_days:
        for limit, table in _STATUS_BY_AGE:
            if age < limit:
                statuses.append(table[int(random_() * len(table))])
                break
    if len(statuses) >= len(ORDER_STATUSES):
        # Every status must be there to look at, even in a tiny shop: give a
        # missing one to an order of a fitting age (the newest for open orders).
        for status in ORDER_STATUSES:
            if status in statuses:
                continue
            counts = {s: statuses.count(s) for s in ORDER_STATUSES}
            recent_first = status in ("pending", "processing", "on-hold")
            indexes = range(len(statuses) - 1, -1, -1) if recent_first else range(len(statuses))
            for i in indexes:
                if counts[statuses[i]] > 1:
                    statuses[i] = status
                    break
    return statuses


def _orders(
    count: int,
    customers: tuple[FakeCustomer, ...],
    products: tuple[FakeProduct, ...],
    until: datetime,
    rng: random.Random,
) -> tuple[FakeOrder, ...]:
    if count == 0:
        return ()
    if not customers or not products:
        raise ValueError("Orders need at least one customer and one product.")
    span = ORDER_HISTORY_DAYS * _DAY
    start = until - timedelta(seconds=span)
    weights = list(itertools.accumulate(_customer_weights(customers, until, rng)))
    customer_of_order = rng.choices(range(len(customers)), cum_weights=weights, k=count)
    times = _order_times(customer_of_order, customers, start, rng)
    statuses = _statuses([(span - moment) / _DAY for moment, _ in times], rng)

    # Totals repeat a lot: make each Decimal once.
    totals: dict[int, Decimal] = {}
    prices = [p.price for p in products]
    sale_prices = [min(_shop_price(float(p.price) * 0.85), p.price) for p in products]
    price_cents = [int(p * 100) for p in prices]
    sale_cents = [int(p * 100) for p in sale_prices]
    # Bestsellers first: the catalogue lists its most typical products first.
    product_weights = list(itertools.accumulate(1 / (rank + 2) for rank in range(len(products))))
    top = product_weights[-1]
    product_count = len(products)
    random_ = rng.random
    pick = bisect.bisect
    notes = data.CUSTOMER_NOTES
    currency = data.SHOP_CURRENCY
    tracker = _Tracking(rng)
    orders = []
    for number, ((moment, customer_index), status) in enumerate(
        zip(times, statuses, strict=True), 1001
    ):
        customer = customers[customer_index]
        addresses = customer.addresses
        ship_to = 0
        if len(addresses) > 1 and random_() < 0.8:
            ship_to = 1 if len(addresses) == 2 or random_() < 0.7 else 2
        address = addresses[ship_to]
        origin = "phone" if random_() < 0.12 else "web"

        line_count = min(_LINE_COUNTS[int(random_() * 100)], product_count)
        chosen: list[int] = []
        while len(chosen) < line_count:
            index = pick(product_weights, random_() * top)
            if index not in chosen:
                chosen.append(index)
        lines = []
        cents = 0
        bulk = customer.company != ""
        for index in chosen:
            qty = _QUANTITIES[int(random_() * 100)]
            if bulk and random_() < 0.5:
                qty *= 2 + int(random_() * 5)
            if random_() < 0.06:
                lines.append(FakeLine(index, qty, sale_prices[index]))
                cents += qty * sale_cents[index]
            else:
                lines.append(FakeLine(index, qty, prices[index]))
                cents += qty * price_cents[index]

        r = random_()
        if address.country == "US":
            if r < 0.12 and address.city in _NEAR_SHOP:
                shipping = _LOCAL_PICKUP
            elif cents >= _FREE_SHIPPING_FROM_CENTS:
                shipping = _FREE
            else:
                shipping = _FLAT if r < 0.85 else _PRIORITY
        elif cents < _FIRST_CLASS_INTL_UP_TO_CENTS:
            shipping = _FIRST_CA if address.country == "CA" else _FIRST_INTL
        elif r < 0.6:
            shipping = _PRIORITY_CA if address.country == "CA" else _PRIORITY_INTL
        else:
            shipping = _DHL

        # Failed, on-hold and pending orders say how they were (not yet) paid.
        payment = _PAYMENTS.get(status, _PAYMENTS[origin])[int(random_() * 100)]
        if payment == "cod" and address.country != "US":
            payment = "stripe"
        brand = last4 = None
        if payment == "stripe":
            brand = _CARD_BRANDS[int(random_() * 100)]
            last4 = "%04d" % int(random_() * 10_000)

        carrier = tracking = None
        shipped = status == "completed" or (status == "refunded" and random_() < 0.5)
        if shipped and shipping is not _LOCAL_PICKUP:
            carrier, tracking = tracker.number(shipping.method)
        note = ""
        if random_() < (0.09 if origin == "phone" else 0.04):
            note = notes[int(random_() * len(notes))]
        cents += shipping.cents
        total = totals.get(cents)
        if total is None:
            total = totals[cents] = Decimal(cents).scaleb(-2)
        orders.append(
            FakeOrder(
                str(number),
                customer_index,
                status,
                start + timedelta(seconds=moment),
                tuple(lines),
                shipping.method,
                shipping.title,
                shipping.price,
                total,
                currency,
                payment,
                _PAYMENT_TITLES[payment],
                brand,
                last4,
                carrier,
                tracking,
                origin,
                note,
                ship_to,
            )
        )
    return tuple(orders)


# --- The shop ---------------------------------------------------------------------


def generate_shop(
    *,
    customers: int,
    orders: int,
    products: int = 60,
    seed: int = 1,
    until: datetime | None = None,
) -> FakeShop:
    """Make up a whole shop; the same arguments always give the same shop.

    `until` (timezone-aware) is the moment the shop's history ends; it defaults to
    `DEFAULT_UNTIL` so that a seed's shop never changes. Raises ValueError for
    negative sizes, or for orders without customers or products.
    """
    if customers < 0 or orders < 0 or products < 0:
        raise ValueError("Sizes cannot be negative.")
    until = until or DEFAULT_UNTIL
    if until.tzinfo is None:
        raise ValueError("`until` must be timezone-aware.")
    # Millions of new tuples would set the cyclic garbage collector off again and
    # again, walking every record made so far; the records hold no cycles, so it
    # would find nothing and take about a third of the time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        # One random stream per part: the customers stay the same whatever the
        # number of orders, and the catalogue whatever the number of customers.
        shop_products = _products(products, random.Random(f"products:{seed}"))
        shop_customers = _customers(customers, random.Random(f"customers:{seed}"), until)
        shop_orders = _orders(
            orders, shop_customers, shop_products, until, random.Random(f"orders:{seed}")
        )
    finally:
        if collecting:
            gc.enable()
    return FakeShop(
        name=data.SHOP_NAME,
        currency=data.SHOP_CURRENCY,
        seed=seed,
        until=until,
        products=shop_products,
        customers=shop_customers,
        orders=shop_orders,
    )
