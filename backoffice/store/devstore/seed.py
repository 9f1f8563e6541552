"""Deterministic fake shop data for the dev store: products, customers and orders.

Names and addresses look real but are not: e-mail domains are the reserved example.*
ones, phone numbers use the 555-01xx fictional range (or its equivalents), each handed out
once while the ranges last, and IP addresses come from the documentation ranges. A few
people write their names in other scripts, and about one customer in a hundred registered
twice, as real shops have. Nothing resembles a card number.
"""

from __future__ import annotations

import bisect
import itertools
import random
import time
from calendar import timegm
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import documents as docs
from .shop import CATEGORIES, slugify
from .storage import Storage
from .wire import iso, money

#: The seeded history ends here unless told otherwise (or earlier, if the clock is).
DEFAULT_UNTIL = timegm((2026, 11, 1, 0, 0, 0, 0, 0, 0))
HISTORY_SECONDS = 730 * 86400
CHUNK = 2000

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph "
    "Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Sandra Steven Ashley Paul "
    "Kimberly Andrew Emily Joshua Donna Kevin Michelle Brian Carol George Amanda Timothy Melissa Jason Deborah "
    "Wei Aisha Mohammed Fatima Hiroshi Yuki Priya Arjun Olga Dmitri Ingrid Lars Chloé Amélie Zoë Noémie Søren "
    "Björn José María Lucía Andrés Siobhan Niamh Kwame Amara Thanh Minh Leilani Keanu Astrid Mateo Camila"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera "
    "Campbell Mitchell Carter Roberts O'Brien Müller Schmidt Dubois Lefèvre Jansen de Vries Kowalski Novák "
    "Yamamoto Tanaka Chen Wang Patel Singh Okafor Mensah Haddad Johansson Lindqvist Fernández Ó Súilleabháin"
).split()
# "de Vries" and "Ó Súilleabháin" were split by the word list; join them back.
LAST_NAMES = [n for n in LAST_NAMES if n not in ("de", "Vries", "Ó", "Súilleabháin")] + ["de Vries", "Ó Súilleabháin"]

COMPANIES = (
    "Bluebonnet Bakery", "Gulf Coast Interiors", "Harbor Lane Florists", "Pecan Street Studio", "Northwind Traders",
    "Riverside Dental", "Copper Kettle Café", "Lone Star Print Co.", "Maple & Pine Design", "Summit Outfitters",
)

STREETS = {
    "US": ("Oak Street", "Maple Avenue", "Westheimer Road", "Main Street", "Cedar Lane", "Elm Drive",
           "Washington Avenue", "Heights Boulevard", "Lakeview Drive", "Sunset Boulevard", "Pine Street",
           "Magnolia Way"),
    "CA": ("King Street West", "Queen Street East", "Robson Street", "Rue Sainte-Catherine", "Bloor Street"),
    "GB": ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "Park Avenue"),
    "DE": ("Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schillerstraße", "Lindenallee"),
    "FR": ("rue de la Paix", "avenue Victor Hugo", "rue des Lilas", "boulevard Voltaire"),
    "NL": ("Prinsengracht", "Keizersgracht", "Oudegracht", "Dorpsstraat"),
}
PLACES = (
    # (country, city, state, postcode pattern, weight); "#" is a digit, "@" a letter.
    ("US", "Houston", "TX", "770##", 14), ("US", "Austin", "TX", "787##", 6), ("US", "Dallas", "TX", "752##", 5),
    ("US", "San Antonio", "TX", "782##", 4), ("US", "Denver", "CO", "802##", 3), ("US", "Portland", "OR", "972##", 3),
    ("US", "Seattle", "WA", "981##", 3), ("US", "Chicago", "IL", "606##", 4), ("US", "Boston", "MA", "021##", 3),
    ("US", "Atlanta", "GA", "303##", 3), ("US", "Phoenix", "AZ", "850##", 3), ("US", "Nashville", "TN", "372##", 2),
    ("US", "Minneapolis", "MN", "554##", 2), ("US", "San Francisco", "CA", "941##", 3),
    ("US", "Los Angeles", "CA", "900##", 4), ("US", "New York", "NY", "100##", 5), ("US", "Miami", "FL", "331##", 2),
    ("US", "Raleigh", "NC", "276##", 1),
    ("CA", "Toronto", "ON", "M#@ #@#", 3), ("CA", "Vancouver", "BC", "V#@ #@#", 2), ("CA", "Montréal", "QC", "H#@ #@#", 2),
    ("GB", "London", "", "SW1@ #@@", 4), ("GB", "Manchester", "", "M# #@@", 2), ("GB", "Edinburgh", "", "EH# #@@", 2),
    ("DE", "Berlin", "", "10###", 2), ("DE", "München", "", "80###", 2), ("DE", "Hamburg", "", "20###", 1),
    ("FR", "Paris", "", "750##", 2), ("FR", "Lyon", "", "6900#", 1),
    ("NL", "Amsterdam", "", "10## @@", 2), ("NL", "Utrecht", "", "35## @@", 1),
)
#: Phone prefixes in ranges set aside for drama and tests; three digits follow.
PHONES = {"GB": "020 7946 0", "DE": "030 2312 5", "NL": "020 555 0"}
#: Each city's own area codes first; 555-0100 to 555-0199 is the fictional range in each.
AREA_CODES = {
    "Houston": (713, 281, 832, 346), "Austin": (512, 737), "Dallas": (214, 469, 972), "San Antonio": (210, 726),
    "Denver": (303, 720), "Portland": (503, 971), "Seattle": (206,), "Chicago": (312, 773, 872),
    "Boston": (617, 857), "Atlanta": (404, 470, 678), "Phoenix": (602, 480), "Nashville": (615, 629),
    "Minneapolis": (612,), "San Francisco": (415, 628), "Los Angeles": (213, 310, 323), "New York": (212, 646, 917),
    "Miami": (305, 786), "Raleigh": (919, 984), "Toronto": (416, 647, 437), "Vancouver": (604, 778),
    "Montréal": (514, 438),
}
#: Where a city's own area codes are used up, numbers continue in these.
SPARE_AREA_CODES = (201, 202, 203, 205, 207, 208, 209, 215, 216, 217, 218, 219, 224, 225, 228, 229, 231, 234, 239,
                    240, 248, 251, 252, 253, 254, 256, 260, 262, 267, 269, 270, 276, 301, 302, 304, 305, 307, 308,
                    309, 313, 314, 315, 316, 317, 318, 319, 320, 321, 330, 334, 336, 337, 339, 347, 351, 352, 360,
                    361, 386, 401, 402, 405, 406, 407, 408, 409, 410, 412, 413, 414, 417, 419, 423, 425, 432, 434,
                    435, 440, 443, 479, 484, 501, 502, 504, 505, 507, 508, 509, 510, 513, 515, 516, 517, 518, 520,
                    530, 540, 541, 551, 559, 561, 562, 563, 567, 570, 571, 573, 574, 580, 585, 586, 601, 603, 605,
                    606, 607, 608, 609, 610, 614, 616, 618, 619, 620, 623, 626, 630, 631, 636, 641, 646, 650, 651,
                    660, 661, 662, 701, 702, 703, 704, 706, 707, 708, 712, 714, 715, 716, 717, 718, 719, 724, 727,
                    731, 732, 734, 740, 754, 757, 760, 763, 765, 770, 772, 774, 775, 781, 785, 801, 802, 803, 804,
                    805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818, 828, 830, 831, 843, 845, 847, 848, 850,
                    856, 857, 858, 859, 860, 862, 863, 864, 865, 870, 901, 903, 904, 906, 907, 908, 909, 910, 912,
                    913, 914, 915, 916, 918, 920, 925, 928, 931, 936, 937, 940, 941, 947, 949, 951, 952, 954, 956,
                    970, 971, 973, 978, 979, 980, 985, 989)
#: People whose names are written in another script, with the Latin form their email uses.
OTHER_SCRIPTS = (
    ("花子", "山田", "hanako", "yamada"), ("太郎", "佐藤", "taro", "sato"), ("美咲", "鈴木", "misaki", "suzuki"),
    ("Иван", "Петров", "ivan", "petrov"), ("Ольга", "Смирнова", "olga", "smirnova"),
    ("Νίκος", "Παπαδόπουλος", "nikos", "papadopoulos"), ("Ελένη", "Γεωργίου", "eleni", "georgiou"),
    ("伟", "王", "wei", "wang"), ("민준", "김", "minjun", "kim"),
)
#: The first customers of every demo shop, so that the README's examples find someone.
SHOWCASE = (
    # first, last, email, phone, city
    ("María", "García", "maria.garcia@example.com", "(713) 555-0199", "Houston"),
    ("Mary", "Smith", "mary.smith@example.org", "(512) 555-0142", "Austin"),
    ("花子", "山田", "hanako.yamada@example.com", "(206) 555-0117", "Seattle"),
)
_SHOWCASE_PHONES = frozenset(phone for *_, phone, _city in SHOWCASE)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
)
CUSTOMER_NOTES = (
    "Please leave the parcel with the neighbour if I am out.",
    "Gift wrap, please. It is a birthday present.",
    "Ring the bell twice; the first one is broken.",
    "Could you ship this before Friday?",
)
PAYMENT_METHODS = (
    ("stripe", "Credit Card (Stripe)", 50), ("ppcp-gateway", "PayPal", 20), ("bacs", "Direct Bank Transfer", 15),
    ("cheque", "Check payments", 5), ("cod", "Cash on delivery", 10),
)
ADJECTIVES = (
    "Brass Linen Walnut Copper Ceramic Enamel Woven Stoneware Oak Cotton Wool Bamboo Glass Cast-Iron Marble "
    "Rattan Leather Terracotta Pewter Birch Hemp Slate Beeswax Indigo Juniper"
).split()
NOUNS = (
    ("Tea Towel", 16), ("Mixing Bowl", 16), ("Coffee Mug", 16), ("Bread Board", 16), ("Skillet", 16), ("Teapot", 16),
    ("Desk Lamp", 17), ("Throw Pillow", 17), ("Candle", 17), ("Picture Frame", 17), ("Wall Clock", 17),
    ("Doormat", 17), ("Planter", 18), ("Watering Can", 18), ("Garden Trowel", 18), ("Bird Feeder", 18),
    ("Notebook", 19), ("Pen Holder", 19), ("Letter Tray", 19), ("Desk Organiser", 19), ("Bath Mat", 20),
    ("Soap Dish", 20), ("Hand Towel", 20), ("Toothbrush Cup", 20), ("Tray", 15), ("Basket", 15),
)
PRICES = ("4.99", "7.50", "9.99", "12.00", "14.99", "19.99", "24.50", "29.99", "34.99", "39.99", "49.99", "59.00",
          "79.99", "99.00", "129.00")
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class PopulateResult:
    """What one `populate` call added, and how long it took."""

    products: int
    customers: int
    orders: int
    seconds: float


@dataclass
class Person:
    first_name: str
    last_name: str
    email: str
    company: str
    address_1: str
    address_2: str
    city: str
    state: str
    postcode: str
    country: str
    phone: str


def _pattern(r: Any, pattern: str) -> str:
    """Fill a postcode pattern: "#" a digit, "@" a capital letter (`r` is `random.random`)."""
    out = []
    for ch in pattern:
        if ch == "#":
            out.append(str(int(r() * 10)))
        elif ch == "@":
            out.append(_UPPER[int(r() * 26)])
        else:
            out.append(ch)
    return "".join(out)


_TO_ALNUM = bytes((ord(_ALNUM[b % 62]) for b in range(256)))


def _alnum(rng: random.Random, length: int) -> str:
    """Random letters and digits, quickly (bytes mapped onto the 62 characters)."""
    return rng.randbytes(length).translate(_TO_ALNUM).decode("ascii")


def _cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


_ASCII_CACHE: dict[str, str] = {}


def _ascii(text: str) -> str:
    folded = _ASCII_CACHE.get(text)
    if folded is None:
        folded = _ASCII_CACHE[text] = slugify(text).replace("-", "")
    return folded


class Weighted:
    """Picks from weighted choices with one random number (cheaper than `choices`)."""

    def __init__(self, rng: random.Random, items: Any, weights: Any) -> None:
        self.rng = rng
        self.items = list(items)
        self.cumulative = list(itertools.accumulate(weights))
        self.total = self.cumulative[-1]

    def pick(self) -> Any:
        return self.items[bisect.bisect_right(self.cumulative, self.rng.random() * self.total)]


class Generator:
    """Makes believable people, products and orders from one random source."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.places = Weighted(rng, PLACES, [p[4] for p in PLACES])
        # How many fictional numbers each area code or country range has handed out, so that
        # two strangers never share a number (while the ranges last).
        self._taken: dict[object, int] = {}
        self._spare = 0
        self.showcase = list(SHOWCASE)
        self.payment_methods = Weighted(rng, PAYMENT_METHODS, [p[2] for p in PAYMENT_METHODS])
        self.line_count = Weighted(rng, (1, 2, 3), (60, 30, 10))
        self.quantity = Weighted(rng, (1, 2, 3, 4), (70, 20, 7, 3))

    def _next_in(self, key: object, size: int) -> int | None:
        """The next unused number of a range of `size`, in a scattered order; None when used up."""
        taken = self._taken.get(key, 0)
        if taken >= size:
            return None
        self._taken[key] = taken + 1
        step = 37 if size == 100 else 373 if size == 1000 else 3733
        return (taken * step + 11) % size

    def _phone(self, country: str, city: str) -> str:
        r = self.rng.random
        if country in ("US", "CA"):
            for area in AREA_CODES.get(city, ()):
                while (ending := self._next_in(area, 100)) is not None:
                    if (phone := f"({area}) 555-01{ending:02d}") not in _SHOWCASE_PHONES:
                        return phone
            while self._spare < len(SPARE_AREA_CODES):
                area = SPARE_AREA_CODES[self._spare]
                ending = self._next_in(area, 100)
                if ending is not None:
                    return f"({area}) 555-01{ending:02d}"
                self._spare += 1
            return f"({SPARE_AREA_CODES[int(r() * len(SPARE_AREA_CODES))]}) 555-01{int(r() * 100):02d}"
        if country == "FR":
            ending = self._next_in("FR", 10000)
            ending = int(r() * 10000) if ending is None else ending
            return f"01 99 00 {ending // 100:02d} {ending % 100:02d}"
        ending = self._next_in(country, 1000)
        ending = int(r() * 1000) if ending is None else ending
        return f"{PHONES[country]}{ending:03d}"

    def person(self, number: int, *, guest: bool = False) -> Person:
        r = self.rng.random
        first, last = FIRST_NAMES[int(r() * len(FIRST_NAMES))], LAST_NAMES[int(r() * len(LAST_NAMES))]
        latin: tuple[str, str] | None = None
        if r() < 0.04:
            first, last, *latin = OTHER_SCRIPTS[int(r() * len(OTHER_SCRIPTS))]
        country, city, state, postcode, _ = self.places.pick()
        streets = STREETS[country]
        street = streets[int(r() * len(streets))]
        house = 1 + int(r() * (9799 if country == "US" else 399))
        address_1 = f"{house} {street}" if country in ("US", "CA", "GB", "FR") else f"{street} {house}"
        address_2 = f"Apt {1 + int(r() * 39)}" if r() < 0.12 else ""
        fa, la = latin if latin else (_ascii(first), _ascii(last))
        if guest:
            local = f"{fa}.{la}.guest{number}"
        else:
            style = r()
            local = f"{fa}.{la}{number}" if style < 0.5 else f"{fa[0]}{la}{number}" if style < 0.8 else \
                f"{fa}_{la}.{number}"
        email = f"{local}@{EMAIL_DOMAINS[int(r() * 3)]}"
        phone = self._phone(country, city)
        company = COMPANIES[int(r() * len(COMPANIES))] if r() < 0.1 else ""
        if not guest and self.showcase:
            first, last, email, phone, city = self.showcase.pop(0)
            country, state, postcode = "US", next(p[2] for p in PLACES if p[1] == city), next(
                p[3] for p in PLACES if p[1] == city)
            company = ""
        return Person(first, last, email, company, address_1, address_2, city, state, _pattern(r, postcode),
                      country, phone)

    def same_person_again(self, person: Person, number: int) -> Person:
        """The same person registered a second time: another email, the phone typed differently."""
        digits = "".join(ch for ch in person.phone if ch.isdigit())
        phone = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" if person.country in ("US", "CA") else person.phone
        local, _, _domain = person.email.partition("@")
        return Person(person.first_name, person.last_name, f"{local}.{number}@example.net", person.company,
                      person.address_1, person.address_2, person.city, person.state, person.postcode,
                      person.country, phone)

    def transaction_id(self, method: str) -> str:
        rng = self.rng
        if method == "stripe":
            return "ch_3" + _alnum(rng, 23)
        if method == "ppcp-gateway":
            return rng.choice(_UPPER) + "".join(rng.choices(_UPPER + "0123456789", k=16))
        return ""


def _billing(person: Person) -> dict[str, Any]:
    """The person as an order's billing address (the store's key order)."""
    return {
        "first_name": person.first_name, "last_name": person.last_name, "company": person.company,
        "address_1": person.address_1, "address_2": person.address_2, "city": person.city, "state": person.state,
        "postcode": person.postcode, "country": person.country, "email": person.email, "phone": person.phone,
    }


def _shipping(person: Person) -> dict[str, Any]:
    return {
        "first_name": person.first_name, "last_name": person.last_name, "company": person.company,
        "address_1": person.address_1, "address_2": person.address_2, "city": person.city, "state": person.state,
        "postcode": person.postcode, "country": person.country, "phone": person.phone,
    }


def _customer_address(person: Person, *, email: bool) -> dict[str, Any]:
    """The person as a customer's address (the store's key order differs from an order's)."""
    address = {
        "first_name": person.first_name, "last_name": person.last_name, "company": person.company,
        "address_1": person.address_1, "address_2": person.address_2, "city": person.city,
        "postcode": person.postcode, "country": person.country, "state": person.state,
    }
    if email:
        address["email"] = person.email
    address["phone"] = person.phone
    return address


_RECENT_STATUSES = (("processing", 40), ("pending", 22), ("on-hold", 13), ("completed", 18), ("failed", 7))
_OLDER_STATUSES = (("completed", 72), ("cancelled", 7), ("refunded", 5), ("failed", 5), ("processing", 4),
                   ("pending", 4), ("on-hold", 3))


def populate(storage: Storage, rng: random.Random, *, customers: int, orders: int, products: int,
             until: float) -> PopulateResult:
    """Add fake data in one transaction; ids continue after what the store already has."""
    started = time.perf_counter()
    gen = Generator(rng)
    start = until - HISTORY_SECONDS
    with storage.bulk():
        product_docs = _make_products(storage, gen, products, start)
        if not product_docs and orders:
            product_docs = [d for d in (storage.get("products", i) for i in storage.all_ids("products")) if d]
            if not product_docs:
                product_docs = _make_products(storage, gen, 20, start)
        people, created = _make_people(storage, gen, customers, start, until)
        paying: dict[int, str] = {}
        _make_orders(storage, gen, orders, start, until, people, created, product_docs, paying)
        _store_customers(storage, people, created, paying)
        for product in product_docs:
            docs.refresh_product(product)
        storage.bulk_upsert("products", product_docs)
    return PopulateResult(products, customers, orders, time.perf_counter() - started)


def _make_products(storage: Storage, gen: Generator, count: int, start: float) -> list[dict[str, Any]]:
    rng = gen.rng
    combos = [(adj, noun, cat) for adj in ADJECTIVES for noun, cat in NOUNS]
    rng.shuffle(combos)
    out = []
    taken: set[str] = set()
    for n, pid in enumerate(storage.take_ids("post", count)):
        adj, noun, category = combos[n % len(combos)]
        name = f"{adj} {noun}" if n < len(combos) else f"{adj} {noun} No. {n // len(combos) + 1}"
        created = iso(start - rng.randrange(30 * 86400, 400 * 86400))
        regular = rng.choice(PRICES)
        sale = ""
        if rng.random() < 0.15:
            sale = money(Decimal(regular) * Decimal("0.8"))
        slug = slugify(name)
        if slug in taken or storage.slug_taken(slug):
            slug = f"{slug}-{pid}"
        taken.add(slug)
        product = docs.new_product(
            pid, created=created, name=name, slug=slug, sku=f"DS-{pid:06d}",
            regular_price=regular, sale_price=sale, stock_quantity=rng.choice((0,) + tuple(range(5, 300, 7))),
            description=f"<p>{'An' if adj[0] in 'AEIOU' else 'A'} {adj.lower()} {noun.lower()}, made to last and "
                        "easy to care for.</p>",
            short_description=f"{adj} {noun.lower()}.", categories=[dict(CATEGORIES[category])],
            weight=f"{rng.randrange(1, 40) / 10:.1f}",
        )
        docs.set_date(product, "date_modified", created)
        out.append(product)
    return out


def _make_people(storage: Storage, gen: Generator, count: int, start: float,
                 until: float) -> tuple[list[tuple[int, Person]], list[float]]:
    rng = gen.rng
    ids = storage.take_ids("user", count)
    times = sorted(rng.uniform(start - 30 * 86400, until - 86400) for _ in range(count))
    people: list[tuple[int, Person]] = []
    for cid in ids:
        # About one customer in a hundred registered twice: the duplicates a shop really has.
        if len(people) > 10 and rng.random() < 0.01:
            people.append((cid, gen.same_person_again(people[int(rng.random() * len(people))][1], cid)))
        else:
            people.append((cid, gen.person(cid)))
    return people, times


def _make_orders(storage: Storage, gen: Generator, count: int, start: float, until: float,
                 people: list[tuple[int, Person]], created: list[float], products: list[dict[str, Any]],
                 paying: dict[int, str]) -> None:
    rng = gen.rng
    times = sorted(rng.uniform(start, until) for _ in range(count))
    recent = Weighted(rng, [s for s, _ in _RECENT_STATUSES], [w for _, w in _RECENT_STATUSES])
    older = Weighted(rng, [s for s, _ in _OLDER_STATUSES], [w for _, w in _OLDER_STATUSES])
    statuses = [(recent if until - t < 3 * 86400 else older).pick() for t in times]
    for missing in [s for s in docs.ORDER_STATUSES[:7] if s not in statuses]:
        if count >= 7:
            while True:
                index = rng.randrange(count)
                if statuses.count(statuses[index]) > 1:
                    statuses[index] = missing
                    break
    chunk: list[dict[str, Any]] = []
    n_products = len(products)
    by_id = {product["id"]: product for product in products}
    price_cents = [int(Decimal(p["price"] or "0") * 100) for p in products]
    r = rng.random
    for t, status in zip(times, statuses):
        oid = storage.next_id("post")
        known = bisect.bisect_right(created, t)
        customer_id = 0
        if known and r() < 0.82:
            customer_id, person = people[int(r() * known)]
        else:
            person = gen.person(oid, guest=True)
        shipping = _shipping(person) if r() < 0.85 else _shipping(gen.person(oid))
        order = docs.new_order(oid, now=t, order_key="wc_order_" + _alnum(rng, 13),
                               created_via="checkout", billing=_billing(person), shipping=shipping)
        order["customer_id"] = customer_id
        method, title, _ = gen.payment_methods.pick()
        order["payment_method"], order["payment_method_title"] = method, title
        order["customer_ip_address"] = f"203.0.113.{1 + int(r() * 254)}"
        order["customer_user_agent"] = USER_AGENTS[int(r() * len(USER_AGENTS))]
        if r() < 0.05:
            order["customer_note"] = CUSTOMER_NOTES[int(r() * len(CUSTOMER_NOTES))]
        subtotal = 0
        lines = order["line_items"]
        for _ in range(gen.line_count.pick()):
            index = int(n_products * r() ** 2)
            product = products[index]
            quantity = gen.quantity.pick()
            cents = price_cents[index] * quantity
            subtotal += cents
            total = _cents(cents)
            lines.append({
                "id": storage.next_id("order_item"), "name": product["name"], "product_id": product["id"],
                "variation_id": 0, "quantity": quantity, "tax_class": "", "subtotal": total, "subtotal_tax": "0.00",
                "total": total, "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": product["sku"],
                "price": docs.line_price(total, quantity), "image": {"id": "", "src": ""}, "parent_name": None,
            })
        if subtotal >= 7500:
            ship = ("free_shipping", "Free shipping", 0)
        elif r() < 0.1:
            ship = ("local_pickup", "Local pickup", 0)
        else:
            ship = ("flat_rate", "Flat rate", 500 if subtotal < 4000 else 750)
        order["shipping_lines"].append(docs.shipping_line(storage.next_id("order_item"), method_id=ship[0],
                                                          method_title=ship[1], total=Decimal(ship[2]) / 100))
        order["shipping_total"] = _cents(ship[2])
        order["total"] = _cents(subtotal + ship[2])
        order["meta_data"] = [
            {"id": storage.next_id("order_meta"), "key": "is_vat_exempt", "value": "no"},
            {"id": storage.next_id("order_meta"), "key": "_wc_order_attribution_source_type",
             "value": ("typein", "organic", "referral", "utm")[int(r() * 4)]},
        ]
        _settle(storage, gen, order, status, t, until)
        order["status"] = status
        if status in ("processing", "completed", "refunded") and customer_id:
            paying[customer_id] = max(paying.get(customer_id, ""), order["date_paid"] or "")
        for item in lines:
            if item["meta_data"]:
                by_id[item["product_id"]]["total_sales"] += item["quantity"]
        order["is_editable"] = status in ("pending", "on-hold")
        order["needs_payment"] = status in ("pending", "failed")
        order["needs_processing"] = True
        if customer_id:
            order["_links"] = docs.order_links(oid, customer_id)
        chunk.append(order)
        if len(chunk) >= CHUNK:
            storage.bulk_insert("orders", chunk)
            chunk.clear()
    if chunk:
        storage.bulk_insert("orders", chunk)


def _settle(storage: Storage, gen: Generator, order: dict[str, Any], status: str, t: float, until: float) -> None:
    """Give an order the dates, ids and stock marks its status implies."""
    r = gen.rng.random
    method = order["payment_method"]
    paid_at = min(t + 5 + int(r() * 595), until)
    modified = t
    if status in ("processing", "completed", "refunded"):
        docs.set_date(order, "date_paid", iso(paid_at))
        order["transaction_id"] = gen.transaction_id(method)
        modified = paid_at
    if status in ("completed", "refunded"):
        done = min(paid_at + 3600 + int(r() * 4.9 * 86400), until)
        docs.set_date(order, "date_completed", iso(done))
        modified = done
    if status == "refunded":
        refunded_at = min(modified + 86400 + int(r() * 19 * 86400), until)
        reason = ("", "Damaged in transit", "Changed my mind")[int(r() * 3)]
        order["refunds"] = [{"id": storage.next_id("post"), "reason": reason, "total": "-" + order["total"]}]
        modified = refunded_at
    if status in ("cancelled", "failed"):
        modified = min(t + 60 + int(r() * 3 * 86400), until)
    if status in ("processing", "completed", "on-hold", "refunded"):
        for item in order["line_items"]:
            item["meta_data"].append(docs.item_meta(storage.next_id("order_item_meta"), "_reduced_stock",
                                                    str(item["quantity"])))
    docs.set_date(order, "date_modified", iso(modified))


def _store_customers(storage: Storage, people: list[tuple[int, Person]], created: list[float],
                     paying: dict[int, str]) -> None:
    chunk = []
    for (cid, person), t in zip(people, created):
        when = iso(t)
        customer = docs.new_customer(
            cid, created=when, modified=max(when, paying.get(cid, "")), email=person.email,
            username=person.email.split("@", 1)[0], first_name=person.first_name, last_name=person.last_name,
        )
        customer["billing"] = _customer_address(person, email=True)
        customer["shipping"] = _customer_address(person, email=False)
        customer["is_paying_customer"] = cid in paying
        chunk.append(customer)
        if len(chunk) >= CHUNK:
            storage.bulk_insert("customers", chunk)
            chunk = []
    if chunk:
        storage.bulk_insert("customers", chunk)
