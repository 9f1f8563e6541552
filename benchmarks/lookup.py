"""How fast the desk finds a customer: `python -m benchmarks.lookup --customers 1000000 [--db URL]`.

Builds (or reuses, keyed by size) a database of synthetic customers in several
scripts and countries, filled with Core executemany, then times every kind of
search-box query through `search_customers` next to the same lookup written as
bare SQL on the same database in the same run, and the customers list's first page.
Each query is timed `--rounds` times; the figures are over all those searches.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import platformdirs
from sqlalchemy import func, insert, select, text

from backoffice.db import Database, open_database
from backoffice.domain import Customer, CustomerAddress, Order
from backoffice.domain.enums import AddressKind, CustomerStatus, OrderOrigin, OrderStatus, Role
from backoffice.domain.phones import phone_suffix_key
from backoffice.domain.staff import Actor
from backoffice.domain.text import fold
from backoffice.services import customers as svc
from backoffice.services.search_index import rebuild_search_index, search_index_needs_rebuild

# --- Synthetic customers ------------------------------------------------------------------

# (weight, first names, last names, phone plan, postcode maker, email domain)
# Non-Latin names carry a Latin form after ":" for their email address.
_LOCALES = {
    "us": (34,
           "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
           "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Nancy Daniel Lisa "
           "Matthew Betty Anthony Sandra Mark Ashley Donald Emily Steven Kimberly Andrew Donna",
           "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
           "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
           "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
           "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter",
           "us", "us", "example.com"),
    "gb": (9,
           "Oliver Amelia George Isla Harry Ava Noah Mia Jack Ivy Leo Lily Arthur Florence Muhammad "
           "Freya Oscar Poppy Charlie Grace",
           "Taylor Davies Evans Thomas Roberts Walker Wright Robinson Thompson White Hughes Edwards "
           "Green Hall Wood Harris Lewis Martin Jackson Clarke Turner Hill Cooper Ward Morris",
           "gb", "gb", "example.co.uk"),
    "de": (10,
           "Lukas Hannah Jürgen Søren Jörg Mia Björn Käthe Leon Emma Felix Lena Maximilian Sophie "
           "Günter Anna Jonas Marie Moritz Lea",
           "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
           "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann "
           "Hartmann Lange Weiß Groß Köhler",
           "de", "de", "example.de"),
    "fr": (7,
           "Amélie Léa Chloé Zoé Théo Gaëlle Hélène Jérôme François Noël Inès Éloïse Loïc Renée "
           "Céline Benoît",
           "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
           "Lefèbvre Michel Garçon Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent",
           "fr", "fr", "example.fr"),
    "es": (5,
           "José María Carmen Ángel Lucía Álvaro Sofía Martín Paula Íñigo Nuria Raúl Begoña Jesús",
           "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín Jiménez "
           "Ruiz Hernández Díaz Moreno Muñoz Álvarez Romero Alonso Gutiérrez Carreño Quiñones",
           "es", "es", "example.es"),
    "pl": (3,
           "Łukasz Małgorzata Paweł Agnieszka Michał Katarzyna Wojciech Żaneta Grzegorz Jolanta",
           "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański "
           "Woźniak Dąbrowski Kozłowski Jankowski Mazur",
           "pl", "pl", "example.pl"),
    "ru": (10,
           "Александр:aleksandr Сергей:sergey Дмитрий:dmitry Андрей:andrey Алексей:aleksey "
           "Анна:anna Мария:maria Елена:elena Ольга:olga Наталья:natalya Татьяна:tatyana "
           "Ирина:irina Светлана:svetlana Юлия:yulia Артём:artyom Фёдор:fyodor Алёна:alyona",
           "Иванов:ivanov Смирнов:smirnov Кузнецов:kuznetsov Попов:popov Васильев:vasilyev "
           "Петров:petrov Соколов:sokolov Михайлов:mikhailov Новиков:novikov Фёдоров:fyodorov "
           "Морозов:morozov Волков:volkov Алексеев:alekseev Лебедев:lebedev Семёнов:semyonov "
           "Егоров:egorov Павлов:pavlov Козлов:kozlov Степанов:stepanov Николаев:nikolaev",
           "ru", "ru", "example.ru"),
    "gr": (5,
           "Γιώργος:giorgos Μαρία:maria Δημήτρης:dimitris Ελένη:eleni Νίκος:nikos Αικατερίνη:aikaterini "
           "Κώστας:kostas Σοφία:sofia Γιάννης:giannis Αγγελική:angeliki Παναγιώτης:panagiotis",
           "Παπαδόπουλος:papadopoulos Παπαδάκης:papadakis Γεωργίου:georgiou Οικονόμου:oikonomou "
           "Νικολάου:nikolaou Ιωάννου:ioannou Κωνσταντίνου:konstantinou Αντωνίου:antoniou "
           "Μακρής:makris Βλάχος:vlachos Αθανασίου:athanasiou Καραγιάννης:karagiannis",
           "gr", "gr", "example.gr"),
    "jp": (7,
           "太郎:taro 花子:hanako 翔:sho 陽菜:hina 大翔:hiroto 結衣:yui 蓮:ren 葵:aoi 健太:kenta "
           "美咲:misaki さくら:sakura ゆうき:yuki",
           "佐藤:sato 鈴木:suzuki 高橋:takahashi 田中:tanaka 伊藤:ito 渡辺:watanabe 山本:yamamoto "
           "中村:nakamura 小林:kobayashi 加藤:kato 吉田:yoshida 山田:yamada 佐々木:sasaki 松本:matsumoto",
           "jp", "jp", "example.jp"),
    "cn": (3,
           "伟:wei 芳:fang 娜:na 敏:min 静:jing 强:qiang 磊:lei 军:jun 洋:yang 勇:yong",
           "王:wang 李:li 张:zhang 刘:liu 陈:chen 杨:yang 黄:huang 赵:zhao 吴:wu 周:zhou",
           "cn", "cn", "example.cn"),
}
_COMPANY_WORDS = ("Tea House", "Coffee Roasters", "Trading", "Catering", "Hotel", "Café",
                  "Logistics", "Büro Service", "Deli", "Bakery", "Imports", "& Sons")


def _names(spec: str) -> list[tuple[str, str]]:
    out = []
    for word in spec.split():
        native, _, latin = word.partition(":")
        out.append((native, latin or _plain(native)))
    return out


def _plain(name: str) -> str:
    return "".join(c for c in fold(name) if c.isalnum() and c.isascii())


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _phone(rng: random.Random, plan: str) -> tuple[str, str]:
    """(as typed, E.164 digits) for a number that the phone metadata accepts as valid."""
    if plan == "us":
        area = rng.choice(("713", "281", "832", "346", "512", "212", "415", "312"))
        sub = str(rng.randint(2, 9)) + _digits(rng, 2)
        line = _digits(rng, 4)
        return rng.choice((f"({area}) {sub}-{line}", f"{area}-{sub}-{line}", f"+1 {area} {sub} {line}")), f"1{area}{sub}{line}"
    if plan == "gb":
        rest = "7" + _digits(rng, 7)
        return f"020 {rest[:4]} {rest[4:]}", f"4420{rest}"
    if plan == "de":
        rest = str(rng.randint(2, 9)) + _digits(rng, 6)
        return f"+49 30 {rest}", f"4930{rest}"
    if plan == "fr":
        rest = _digits(rng, 8)
        return f"01 {rest[:2]} {rest[2:4]} {rest[4:6]} {rest[6:]}", f"331{rest}"
    if plan == "es":
        rest = _digits(rng, 7)
        return f"+34 91 {rest}", f"3491{rest}"
    if plan == "pl":
        rest = _digits(rng, 7)
        return f"+48 22 {rest[:3]} {rest[3:5]} {rest[5:]}", f"4822{rest}"
    if plan == "ru":
        rest = _digits(rng, 7)
        return f"+7 495 {rest[:3]}-{rest[3:5]}-{rest[5:]}", f"7495{rest}"
    if plan == "gr":
        rest = _digits(rng, 7)
        return f"+30 210 {rest}", f"30210{rest}"
    if plan == "jp":
        rest = _digits(rng, 8)
        return f"03-{rest[:4]}-{rest[4:]}", f"813{rest}"
    rest = _digits(rng, 8)
    return f"+86 10 {rest[:4]} {rest[4:]}", f"8610{rest}"


def _postcode(rng: random.Random, kind: str) -> str:
    if kind == "us":
        return f"{rng.randint(10000, 99999)}"
    if kind == "gb":
        area = rng.choice(("SW1A", "EC1A", "W1A", "NW1", "SE1", "E14", "N1", "M1", "B33", "LS1"))
        return f"{area} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    if kind in ("de", "fr", "es"):
        return f"{rng.randint(1000, 99999):05d}"
    if kind == "pl":
        return f"{rng.randint(0, 99):02d}-{rng.randint(0, 999):03d}"
    if kind == "ru":
        return f"{rng.randint(100000, 199999)}"
    if kind == "gr":
        return f"{rng.randint(100, 859)} {rng.randint(10, 99)}"
    if kind == "jp":
        return f"{rng.randint(100, 999)}-{rng.randint(0, 9999):04d}"
    return f"{rng.randint(100000, 999999)}"


def fill_customers(db: Database, count: int, *, seed: int = 7, batch: int = 20_000,
                   progress: Callable[[str], None] = print) -> None:
    """Insert `count` synthetic customers with addresses and some orders (Core executemany)."""
    rng = random.Random(seed)
    locales = list(_LOCALES.items())
    weights = [spec[0] for _, spec in locales]
    pools = {k: (_names(spec[1]), _names(spec[2])) for k, spec in locales}
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    order_no = 100000
    customer_t, address_t, order_t = Customer.__table__, CustomerAddress.__table__, Order.__table__
    started = time.perf_counter()
    next_id = 1
    with db.engine.begin() as conn:
        while next_id <= count:
            customers, addresses, orders = [], [], []
            for cid in range(next_id, min(count, next_id + batch - 1) + 1):
                key, spec = rng.choices(locales, weights)[0]
                firsts, lasts = pools[key]
                first, first_latin = rng.choice(firsts)
                last, last_latin = rng.choice(lasts)
                typed, digits = _phone(rng, spec[3])
                email = f"{first_latin}.{last_latin}{cid % 997}@{spec[5]}".lower()
                company = ""
                if rng.random() < 0.12:
                    company = f"{last} {rng.choice(_COMPANY_WORDS)}"
                created = now - timedelta(minutes=rng.randint(0, 5 * 365 * 24 * 60))
                status = CustomerStatus.ACTIVE if rng.random() < 0.97 else CustomerStatus.DEACTIVATED
                customers.append({
                    "id": cid, "store_id": None, "status": status, "first_name": first,
                    "last_name": last, "company": company, "email": email, "email_key": email,
                    "phone": typed, "phone_e164": "+" + digits, "phone_digits": digits,
                    "phone_rev": phone_suffix_key(digits),
                    "sort_name": fold(f"{last} {first}"), "username": None, "restricted": False,
                    "objected": False, "created_at": created, "updated_at": created,
                    "store_modified_at": None, "store_digest": None, "deactivated_at": None,
                    "erased_at": None, "merged_into_id": None, "version": 1,
                })
                postcode = _postcode(rng, spec[4])
                for kind in ((AddressKind.BILLING,) if rng.random() < 0.7
                             else (AddressKind.BILLING, AddressKind.SHIPPING)):
                    addresses.append({
                        "customer_id": cid, "kind": kind, "is_default": True, "first_name": first,
                        "last_name": last, "company": company, "address_1": f"{rng.randint(1, 999)} Main St",
                        "address_2": "", "city": "Springfield", "state": "", "postcode": postcode,
                        "country": spec[3].upper()[:2], "phone": typed,
                        "email": email if kind is AddressKind.BILLING else "",
                    })
                for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
                    order_no += 1
                    orders.append({
                        "number": str(order_no), "store_id": None, "reference": None,
                        "customer_id": cid, "status": rng.choice(list(OrderStatus)[:6]),
                        "origin": OrderOrigin.WEB, "currency": "USD", "subtotal": 10,
                        "shipping_total": 0, "discount_total": 0, "tax_total": 0, "total": 10,
                        "customer_note": "", "payment_method": "", "payment_method_title": "",
                        "payment_url": None, "order_key": None, "created_at": created,
                        "updated_at": created, "paid_at": None, "completed_at": None,
                        "store_modified_at": None, "created_by_staff_id": None,
                        "anonymised": False, "version": 1,
                    })
            conn.execute(insert(customer_t), customers)
            conn.execute(insert(address_t), addresses)
            if orders:
                conn.execute(insert(order_t), orders)
            next_id += len(customers)
            progress(f"  {next_id - 1:>9,} customers written ({time.perf_counter() - started:.1f} s)")


# --- The database to measure ------------------------------------------------------------------


def cache_url(count: int) -> str:
    folder = platformdirs.user_cache_path("backoffice", appauthor=False) / "benchmarks"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / f'lookup-{count}.db'}"


def _ensure_postgres_database(url: str) -> None:
    """Create the PostgreSQL database `url` names when the server has none of that name."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": parsed.database}).first()
            if exists is None:
                print(f"Creating the database {parsed.database}")
                conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def prepare(url: str, count: int) -> Database:
    """A database with exactly `count` synthetic customers and a built search index.

    A cached database from an older version is upgraded when opened; when the
    upgrade reshaped the search index, only the index is built again. A PostgreSQL
    database that does not exist yet is created.
    """
    if url.startswith("postgres"):
        _ensure_postgres_database(url)
    db = open_database(url)
    with db.engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
    if have and have != count:
        print(f"The database holds {have:,} customers, not {count:,}: starting it again")
        path = db.sqlite_path
        db.dispose()
        if path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        else:
            _truncate_postgres(url)
        db = open_database(url)
        have = 0
    if not have:
        print(f"Writing {count:,} customers (addresses, some orders)...")
        started = time.perf_counter()
        fill_customers(db, count)
        print(f"  written in {time.perf_counter() - started:.1f} s")
    if not search_index_needs_rebuild(db):
        print(f"Reusing {count:,} customers at {db.engine.url.render_as_string(hide_password=True)}")
        return db
    print("Building the search index...")
    started = time.perf_counter()
    terms = rebuild_search_index(db)
    print(f"  {terms:,} terms in {time.perf_counter() - started:.1f} s")
    analyze(db)
    return db


def analyze(db) -> None:
    """Fresh planner statistics (and, on SQLite, the write-ahead log folded into the file)."""
    if db.backend == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        # Outside a transaction: a checkpoint cannot run inside one.
        raw = db.engine.raw_connection()
        try:
            raw.dbapi_connection.execute("ANALYZE")
            raw.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


def _truncate_postgres(url: str) -> None:
    from backoffice.domain.base import Base

    db = open_database(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    db.dispose()


# --- Queries --------------------------------------------------------------------------------


def _sample(db: Database, n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    with db.engine.connect() as conn:
        top = conn.execute(select(func.max(Customer.id))).scalar_one()
        ids = sorted(rng.sample(range(1, top + 1), min(n * 4, top)))
        rows = conn.execute(text(
            "SELECT c.id, c.first_name, c.last_name, c.company, c.email, c.phone, c.phone_digits, "
            "(SELECT a.postcode FROM customer_addresses a WHERE a.customer_id = c.id LIMIT 1), "
            "(SELECT o.number FROM orders o WHERE o.customer_id = c.id LIMIT 1) "
            "FROM customers c WHERE c.id IN (" + ",".join(map(str, ids)) + ")"
        )).all()
    keys = ("id", "first", "last", "company", "email", "phone", "digits", "postcode", "order")
    return [dict(zip(keys, r)) for r in rows]


def _is_latin(s: str) -> bool:
    return all(c.isascii() or "\u00c0" <= c <= "\u024f" for c in s)


def query_sets(people: list[dict], n: int, seed: int) -> dict[str, list[tuple[str, int]]]:
    """Query text and the customer it should find, per kind of query."""
    rng = random.Random(seed)
    sets: dict[str, list[tuple[str, int]]] = {}

    def add(kind, items):
        items = [i for i in items if i is not None]
        rng.shuffle(items)
        sets[kind] = items[:n]

    us = [p for p in people if p["digits"].startswith("1")]
    add("phone, as stored", [(p["phone"], p["id"]) for p in people])
    add("phone, +country code", [("+" + p["digits"], p["id"]) for p in people])
    add("phone, national (US)",
        [(f"({d[1:4]}) {d[4:7]}-{d[7:]}", p["id"]) for p in us for d in [p["digits"]]])
    add("phone, last 4 digits", [(p["digits"][-4:], p["id"]) for p in people])
    add("phone, last 7 digits", [(p["digits"][-7:], p["id"]) for p in people])
    add("email, whole", [(p["email"].upper() if i % 2 else p["email"], p["id"]) for i, p in enumerate(people)])
    add("email, beginning", [(p["email"][:8], p["id"]) for p in people])
    add("email, inside", [(p["email"].split("@")[0][-6:] + "@", p["id"]) for p in people])
    # Across the dot of the part before the "@" ("ria.gar"): the email joint terms.
    add("email, inside, no @", [(f"{a[-3:]}.{b[:3]}", p["id"]) for p in people
                                for a, _, b in [p["email"].split("@")[0].partition(".")] if b])
    add("name, first and last", [(f"{p['first']} {p['last']}", p["id"]) for p in people])
    add("name, first and last beginnings",
        [(f"{p['first'][:3]} {p['last'][:3]}", p["id"]) for p in people if _is_latin(p["first"] + p["last"])])
    add("name, beginning (Latin)", [(p["last"][:4], p["id"]) for p in people if _is_latin(p["last"])])
    add("name, beginning (other scripts)",
        [(p["last"][:2], p["id"]) for p in people if not _is_latin(p["last"])])
    add("name, inside a word",
        [(p["last"][1:5], p["id"]) for p in people if _is_latin(p["last"]) and len(p["last"]) >= 6])
    add("postcode", [(p["postcode"], p["id"]) for p in people if p["postcode"]])
    add("order number", [(p["order"], p["id"]) for p in people if p["order"]])
    add("company", [(p["company"].split()[-1], p["id"]) for p in people if p["company"]])
    return sets


# --- Bare SQL: the same lookups, written by hand on the raw connection ---------------------------

_BARE_ROWS = ("c.id, c.first_name, c.last_name, c.company, c.email, c.phone, c.status")


def bare_sql(dialect: str, kind: str, query: str, region: str) -> tuple[str, dict]:
    """The one hand-written statement answering `query` of `kind` (keys computed here, untimed)."""
    from backoffice.domain.emails import email_key
    from backoffice.domain.search import JOINT_REACH, PREFIX_END, order_number_key, postcode_key
    from backoffice.services.customers import phone_search

    def terms(where: str, **params) -> tuple[str, dict]:
        return (f"SELECT {_BARE_ROWS} FROM customer_search s JOIN customers c ON c.id = s.customer_id "
                f"WHERE {where} LIMIT 20", params)

    if kind.startswith("phone"):
        exact, suffix = phone_search(query, default_region=region)
        if kind in ("phone, last 4 digits", "phone, last 7 digits"):
            low = suffix[::-1]
            return terms("s.kind = 'p' AND s.term >= :lo AND s.term < :hi", lo=low, hi=low + PREFIX_END)
        return terms("s.kind = 'p' AND s.term = :t", t=exact[0][::-1] if query.startswith("+")
                     else exact[1][::-1])
    if kind == "email, whole":
        return terms("s.kind = 'e' AND s.term = :t", t=email_key(query))
    if kind == "email, beginning":
        key = email_key(query)
        return terms("s.kind = 'e' AND s.term >= :lo AND s.term < :hi", lo=key, hi=key + PREFIX_END)
    if kind == "email, inside":
        # The end of the part before the "@": a prefix of the emails stored reversed so.
        low = fold(query).rpartition("@")[0][::-1]
        return terms("s.kind = 'r' AND s.term >= :lo AND s.term < :hi", lo=low, hi=low + PREFIX_END)
    if kind == "name, inside a word":
        # Word endings starting with the fragment, then the names starting with those words.
        frag = fold(query)
        join = "CROSS JOIN" if dialect == "sqlite" else "JOIN"
        return (f"SELECT {_BARE_ROWS} FROM customer_search_word w {join} customer_search s "
                "ON s.kind = 'n' AND s.term >= w.word AND s.term < w.word || :end "
                "JOIN customers c ON c.id = s.customer_id "
                "WHERE w.suffix >= :lo AND w.suffix < :hi AND w.suffix <> w.word LIMIT 20",
                {"lo": frag, "hi": frag + PREFIX_END, "end": PREFIX_END})
    if kind == "name, first and last beginnings":
        # The whole words the first one begins, each followed by the second, as name prefixes.
        first, rest = fold(query).split(" ", 1)
        join = "CROSS JOIN" if dialect == "sqlite" else "JOIN"
        return (f"SELECT {_BARE_ROWS} FROM customer_search_word w {join} customer_search s "
                "ON s.kind = 'n' AND s.term >= w.word || :rest AND s.term < w.word || :rest || :end "
                "JOIN customers c ON c.id = s.customer_id "
                "WHERE w.suffix >= :lo AND w.suffix < :hi AND w.suffix = w.word LIMIT 20",
                {"lo": first, "hi": first + PREFIX_END, "rest": " " + rest, "end": PREFIX_END})
    if kind == "email, inside, no @":
        # The email from just before the dot on: a prefix of the joint terms.
        frag = fold(query)
        low = frag[max(0, frag.index(".") - JOINT_REACH):]
        return terms("s.kind = 'j' AND s.term >= :lo AND s.term < :hi", lo=low, hi=low + PREFIX_END)
    if kind.startswith("name"):
        key = " ".join(fold(query).split())
        return terms("s.kind = 'n' AND s.term >= :lo AND s.term < :hi", lo=key, hi=key + PREFIX_END)
    if kind == "postcode":
        return terms("s.kind = 'z' AND s.term = :t", t=postcode_key(query))
    if kind == "order number":
        return terms("s.kind = 'o' AND s.term = :t", t=order_number_key(query))
    key = fold(query)
    return terms("s.kind = 'c' AND s.term >= :lo AND s.term < :hi", lo=key, hi=key + PREFIX_END)


def _native(dialect: str, sql: str) -> str:
    import re

    return re.sub(r":(\w+)", r"%(\1)s", sql) if dialect == "postgresql" else sql


# --- Measuring ------------------------------------------------------------------------------------


def _stats(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return statistics.median(samples) * 1e6, p95 * 1e6


def measure(db: Database, *, queries: int, seed: int, rounds: int = 3) -> None:
    actor = Actor(staff_id=None, login="benchmark", role=Role.OWNER, desk="benchmark")
    dialect = db.backend
    region = svc._default_region(db)
    people = _sample(db, queries, seed)
    sets = query_sets(people, queries, seed)
    raw = db.engine.raw_connection()
    if dialect == "postgresql":
        # Plain SQL, planned each time: no prepared generic plans behind the figures.
        raw.dbapi_connection.prepare_threshold = None
    cur = raw.cursor()
    prepared = {kind: [(_native(dialect, sql), params) for sql, params in
                       (bare_sql(dialect, kind, q, region) for q, _ in items)]
                for kind, items in sets.items()}
    # Warm both paths (page cache, statement caches). Then, per kind and round, the
    # service answers every query of the kind, one after the other as at a desk,
    # then the bare SQL does on its own connection: alternating query by query
    # would make the database server switch between the two connections' processes
    # on every search, which no desk does.
    for kind, items in sets.items():
        for (q, _), (sql, params) in zip(items, prepared[kind]):
            svc.search_customers(db, actor=actor, query=q)
            cur.execute(sql, params)
            cur.fetchall()
    print()
    print(f"{'query kind':34} {'n':>5} {'service µs':>18} {'bare SQL µs':>18} {'ratio':>6} {'in top 20':>9}")
    print(f"{'':34} {'':>5} {'median':>9}{'p95':>9} {'median':>9}{'p95':>9}")
    all_service = []
    for kind, items in sets.items():
        service, bare, found = [], [], 0
        for _ in range(rounds):
            for q, who in items:
                t0 = time.perf_counter()
                hits = svc.search_customers(db, actor=actor, query=q)
                service.append(time.perf_counter() - t0)
                found += any(h.id == who for h in hits)
            for sql, params in prepared[kind]:
                t0 = time.perf_counter()
                cur.execute(sql, params)
                cur.fetchall()
                bare.append(time.perf_counter() - t0)
        all_service.extend(service)
        (sm, sp), (bm, bp) = _stats(service), _stats(bare)
        print(f"{kind:34} {len(service):>5} {sm:>9.0f}{sp:>9.0f} {bm:>9.0f}{bp:>9.0f} "
              f"{sm / bm:>6.1f} {found / len(service):>9.0%}")
    am, ap = _stats(all_service)
    print(f"{'all kinds':34} {len(all_service):>5} {am:>9.0f}{ap:>9.0f}")
    cur.close()
    raw.close()

    # The customers list: first page, the next one, and the count shown above it.
    def timed(fn, runs=21):
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            result = fn()
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples) * 1e3, result

    first_ms, page = timed(lambda: svc.list_customers_page(db, actor=actor, sort="name"))
    next_ms, _ = timed(lambda: svc.list_customers_page(db, actor=actor, sort="name", after=page.next_key))
    newest_ms, _ = timed(lambda: svc.list_customers_page(db, actor=actor, sort="newest"))
    count_ms, total = timed(lambda: svc.count_customers(db, actor=actor), runs=3)
    print()
    print(f"customers list, first page of {len(page.rows)} by name: {first_ms:.2f} ms "
          f"(next page {next_ms:.2f} ms, newest first {newest_ms:.2f} ms); "
          f"count of {total:,}: {count_ms:.0f} ms")


def _warm(db: Database) -> None:
    """Read the database once, as a desk that has been open a while has it in memory."""
    path = db.sqlite_path
    if path is not None:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    else:
        with db.engine.connect() as conn:
            for table in ("customer_search", "customer_search_text", "customers", "customer_addresses"):
                conn.exec_driver_sql(f"SELECT count(*) FROM {table}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", help="database URL (default: a SQLite file in the cache folder)")
    parser.add_argument("--queries", type=int, default=200, help="queries per kind")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=3, help="times each query is timed")
    args = parser.parse_args(argv)
    url = args.db or cache_url(args.customers)
    db = prepare(url, args.customers)
    _warm(db)
    print(f"{db.backend} · {args.customers:,} customers · Python {sys.version.split()[0]} · "
          f"{os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f}")
    measure(db, queries=args.queries, seed=args.seed, rounds=args.rounds)
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
