"""Filling a database with a demo shop, fast: bulk inserts on SQLite, COPY on PostgreSQL.

The rows are written as if a first sync with the web store had happened: every
product, customer and order carries the store id it has in the dev store built
from the same generated shop, so the demo's dev store and database agree.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import func, select, text

from backoffice.db import Database
from backoffice.demo.fake import FakeShop, generate_shop
from backoffice.domain import Customer
from backoffice.domain.base import Base
from backoffice.domain.enums import Role
from backoffice.domain.phones import normalize_phone, phone_suffix_key
from backoffice.domain.staff import StaffUser
from backoffice.domain.text import fold
from backoffice.errors import UserFacingError
from backoffice.services import audit, staff
from backoffice.services import settings as shop_settings
from backoffice.services.search_index import rebuild_search_index

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]

STATUS_OF_CUSTOMER = {"active": "active", "deactivated": "deactivated"}
BULK_TABLES = ("products", "customers", "customer_addresses", "orders", "order_lines", "shipping_lines",
               "order_addresses", "payments", "shipments")
CARRIERS = {"usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL"}


@dataclass(frozen=True)
class DemoSummary:
    products: int
    customers: int
    orders: int
    order_lines: int
    seconds: float


def _cents(amount: Decimal) -> int:
    return int((Decimal(amount) * 100).to_integral_value())


class _Writer:
    """Inserts many rows into one table: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        count = 0
        if self.pg:
            raw = self.conn.connection.driver_connection
            with raw.cursor() as cur:
                with cur.copy(f'COPY {table} ({", ".join(columns)}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            return count
        sql = f'INSERT INTO {table} ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
        cursor = self.conn.connection.driver_connection.cursor()
        # Rows already hold only str, int and None, so sqlite3 takes them as they are.
        cursor.executemany(sql, rows)
        count = cursor.rowcount if cursor.rowcount >= 0 else 0
        cursor.close()
        return count

    def drop_indexes(self, tables: Sequence[str]) -> list[str]:
        """Drop the secondary indexes of `tables`; returns the statements that rebuild them.

        Building an index once over sorted data is much faster than updating it row by row.
        Unique constraints stay, so the load still cannot write duplicates.
        """
        if self.pg:
            rows = self.conn.execute(text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:t) "
                "AND NOT x.indisunique AND NOT x.indisprimary"), {"t": list(tables)}).all()
        else:
            marks = ", ".join("?" * len(tables))
            rows = self.conn.exec_driver_sql(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({marks})", tuple(tables)).all()
        for name, _ddl in rows:
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
        return [ddl for _name, ddl in rows]

    def reset_sequences(self, tables: Iterable[str]) -> None:
        if not self.pg:
            return
        for t in tables:
            self.conn.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT MAX(id) FROM {t}), 0) + 1, false)"
            ))


def _ts(dt: datetime) -> str:
    """A timestamp as both databases read it back: naive UTC with microseconds."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt.isoformat(" ", "microseconds")


def fill_demo_database(
    db: Database,
    *,
    customers: int,
    orders: int,
    products: int = 60,
    seed: int = 1,
    progress: Progress | None = None,
    shop: FakeShop | None = None,
) -> DemoSummary:
    """Fill an empty database with a generated shop, all or nothing.

    Raises UserFacingError when the database already holds a shop (a demo never mixes
    with a real shop's data); when the search index cannot be built after the rows
    went in, the rows are taken out again before the error is raised.
    """
    started = time.perf_counter()
    report = progress or (lambda done, total, text: None)
    refuse_a_shop(db)
    report(0, 6, "Generating the shop")
    # History ending now, so the demo has fresh pending orders to work on.
    shop = shop or generate_shop(customers=customers, orders=orders, products=products, seed=seed,
                                 until=datetime.now(timezone.utc))
    now = _ts(datetime.now(timezone.utc))

    with db.write_engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # A large page cache keeps the many index updates of a bulk load in memory.
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
        w = _Writer(conn)
        rebuild = w.drop_indexes(BULK_TABLES)
        report(1, 6, "Products")
        w.insert(
            "products",
            ("id", "store_id", "sku", "name", "name_key", "price", "manage_stock", "stock_quantity",
             "status", "updated_at", "store_modified_at", "bin_location"),
            (
                # Aisles A to F, twelve shelves each: the stock room a pick list walks.
                (i, i, p.sku, p.name, fold(p.name), _cents(p.price), 1, p.stock, "publish", now, now,
                 f"{'ABCDEF'[(i - 1) // 12 % 6]}-{(i - 1) % 12 + 1:02d}")
                for i, p in enumerate(shop.products, start=1)
            ),
        )

        report(2, 6, "Customers")
        w.insert(
            "customers",
            ("id", "store_id", "status", "first_name", "last_name", "company", "email", "email_key",
             "phone", "phone_e164", "phone_digits", "phone_rev", "sort_name", "restricted", "objected",
             "created_at", "updated_at", "store_modified_at", "deactivated_at", "version"),
            _customer_rows(shop, now),
        )
        w.insert(
            "customer_addresses",
            ("customer_id", "kind", "is_default", "first_name", "last_name", "company", "address_1",
             "address_2", "city", "state", "postcode", "country", "phone", "email"),
            (
                (ci, a.kind, int(ai == 0), a.first_name, a.last_name, a.company, a.address_1, a.address_2,
                 a.city, a.state, a.postcode, a.country, a.phone_raw, c.email or "")
                for ci, c in enumerate(shop.customers, start=1)
                for ai, a in enumerate(c.addresses)
            ),
        )

        report(3, 6, "Orders")
        w.insert(
            "orders",
            ("id", "number", "store_id", "customer_id", "status", "origin", "currency", "subtotal",
             "shipping_total", "discount_total", "tax_total", "total", "customer_note", "payment_method",
             "payment_method_title", "order_key", "created_at", "updated_at", "paid_at", "completed_at",
             "store_modified_at", "anonymised", "version"),
            _order_rows(shop),
        )
        report(4, 6, "Order lines")
        line_count = w.insert(
            "order_lines",
            ("order_id", "product_id", "store_line_id", "sku", "name", "quantity", "unit_price", "total"),
            (
                (oi, pi + 1, None, shop.products[pi].sku, shop.products[pi].name, qty, _cents(price),
                 _cents(price) * qty)
                for oi, o in enumerate(shop.orders, start=1)
                for (pi, qty, price) in o.lines
            ),
        )
        w.insert(
            "shipping_lines",
            ("order_id", "method_id", "method_title", "total"),
            (
                (oi, o.shipping_method, o.shipping_title, _cents(o.shipping_total))
                for oi, o in enumerate(shop.orders, start=1)
            ),
        )
        report(5, 6, "Addresses, payments and tracking")
        w.insert(
            "order_addresses",
            ("order_id", "kind", "first_name", "last_name", "company", "address_1", "address_2", "city",
             "state", "postcode", "country", "phone", "email"),
            _order_address_rows(shop),
        )
        w.insert(
            "payments",
            ("order_id", "method", "status", "gateway", "transaction_id", "card_brand", "card_last4",
             "auth_code", "amount", "currency", "recorded_at", "paid_at"),
            _payment_rows(shop),
        )
        w.insert(
            "shipments",
            ("order_id", "carrier", "tracking_number", "shipped_at"),
            (
                (oi, CARRIERS.get(o.tracking_carrier or "", o.tracking_carrier or ""), o.tracking_number,
                 _ts(o.created_at))
                for oi, o in enumerate(shop.orders, start=1)
                if o.tracking_number
            ),
        )
        report(5, 6, "Indexes")
        for ddl in rebuild:
            conn.exec_driver_sql(ddl)
        w.reset_sequences(BULK_TABLES)
    try:
        _rebuild_search(db, report)
    except BaseException:
        remove_demo_rows(db)
        raise
    report(6, 6, "Done")
    return DemoSummary(
        products=len(shop.products),
        customers=len(shop.customers),
        orders=len(shop.orders),
        order_lines=line_count,
        seconds=time.perf_counter() - started,
    )


# What makes a database a shop's; a demo goes only into one holding none of these.
_SHOP_TABLES = (("customers", "customers"), ("orders", "orders"), ("products", "products"),
                ("staff_users", "staff accounts"))


def refuse_a_shop(db: Database) -> None:
    """Raise UserFacingError when the database holds customers, orders, products or staff."""
    with db.read() as s:
        held = [words for table, words in _SHOP_TABLES
                if s.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None]
    if held:
        raise UserFacingError(
            f"This database already holds {', '.join(held)}; a demo shop is only put into an "
            "empty database. Nothing was changed."
        )


def remove_demo_rows(db: Database) -> None:
    """Take a half-made demo out again: every row of the tables it fills and of the search
    index (they held nothing before: `refuse_a_shop` saw to that)."""
    names = set(BULK_TABLES)
    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in names or table.name.startswith("customer_search"):
                conn.execute(table.delete())


def _rebuild_search(db: Database, report: Progress) -> None:
    report(5, 6, "Search index")
    rebuild_search_index(db)


def _customer_rows(shop: FakeShop, now: datetime):
    for i, c in enumerate(shop.customers, start=1):
        phone = normalize_phone(c.phone_raw, default_region=c.phone_region) if c.phone_raw else None
        digits = phone.digits if phone else None
        email_key = c.email.lower() if c.email else None
        status = STATUS_OF_CUSTOMER.get(c.status, "active")
        created = _ts(c.created_at)
        yield (
            i, i, status, c.first_name, c.last_name, c.company, c.email, email_key,
            c.phone_raw, phone.e164 if phone else None, digits,
            phone_suffix_key(digits) if digits else None,
            fold(f"{c.last_name} {c.first_name}".strip() or c.company),
            0, 0, created, created, created,
            now if status == "deactivated" else None, 1,
        )


def _order_key(seed: int) -> str:
    return "wc_order_" + hashlib.sha1(str(seed).encode()).hexdigest()[:13]


def _order_rows(shop: FakeShop):
    for i, o in enumerate(shop.orders, start=1):
        subtotal = sum(_cents(price) * qty for (_pi, qty, price) in o.lines)
        ship = _cents(o.shipping_total)
        created = _ts(o.created_at)
        paid = created if o.status in ("processing", "completed", "refunded") else None
        completed = created if o.status == "completed" else None
        yield (
            i, str(o.number), i, o.customer_index + 1, o.status, o.origin, o.currency, subtotal, ship,
            0, 0, subtotal + ship, o.customer_note or "", o.payment_method,
            o.payment_title, _order_key(i), created, created,
            paid, completed, created, 0, 1,
        )


def _order_address_rows(shop: FakeShop):
    for i, o in enumerate(shop.orders, start=1):
        c = shop.customers[o.customer_index]
        if not c.addresses:
            continue
        billing = c.addresses[0]
        shipping = c.addresses[o.ship_to] if o.ship_to < len(c.addresses) else billing
        for kind, a in (("billing", billing), ("shipping", shipping)):
            yield (i, kind, a.first_name, a.last_name, a.company, a.address_1, a.address_2, a.city,
                   a.state, a.postcode, a.country, a.phone_raw, c.email if kind == "billing" else "")


def _payment_rows(shop: FakeShop):
    for i, o in enumerate(shop.orders, start=1):
        if o.status not in ("processing", "completed", "refunded"):
            continue
        total = sum(_cents(price) * qty for (_pi, qty, price) in o.lines) + _cents(o.shipping_total)
        created = _ts(o.created_at)
        status = "refunded" if o.status == "refunded" else "paid"
        gateway = {"stripe": "stripe", "paypal": "paypal"}.get(o.payment_method, "")
        yield (i, "store", status, gateway, "", o.card_brand or "", o.card_last4 or None, "",
               total, o.currency, created, created)


DEMO_ACCOUNTS = (
    ("owner", "Olivia Owner", "owner", "demo-owner-pass"),
    ("sam", "Sam Staff", "staff", "demo-staff-pass"),
    ("tara", "Tara Taker", "order_taker", "demo-taker-pass"),
)

DEMO_SETTINGS = {
    "shop.name": "Bayou Tea & Coffee Co.",
    "shop.currency": "USD",
    "shop.default_country": "US",
    "ship_from.name": "Bayou Tea & Coffee Co.",
    "ship_from.address": "2410 Westheimer Rd, Houston, TX 77098, United States",
    "privacy.contact": "privacy@bayoutea.example",
    # What the phone-order screen offers, at the prices the demo's web orders were shipped for.
    "shipping.methods": [
        {"title": "Flat rate", "method_id": "flat_rate", "cost": "5.95"},
        {"title": "USPS Priority Mail", "method_id": "usps_priority", "cost": "9.45"},
        {"title": "Free shipping (orders over 50.00)", "method_id": "free_shipping", "cost": "0.00"},
        {"title": "Local pickup", "method_id": "local_pickup", "cost": "0.00"},
    ],
}


def create_demo_accounts(db: Database) -> tuple[tuple[str, str, str], ...]:
    """The demo shop's staff (owner, staff, order taker) and settings, in one transaction;
    returns (login, role, password). Raises UserFacingError when there are staff already."""

    hashes = {login: staff.hash_password(pw) for login, _name, _role, pw in DEMO_ACCOUNTS}
    with db.begin() as s:
        if s.execute(select(func.count()).select_from(StaffUser)).scalar_one():
            raise UserFacingError("This database already holds staff accounts; the demo's accounts "
                                  "were not added. Nothing was changed.")
        owner = None
        for login, name, role, _pw in DEMO_ACCOUNTS:
            # A demo's passwords are public: nobody should have to change them at first sign-in.
            user = StaffUser(login=login, display_name=name, role=Role(role), password_hash=hashes[login],
                             active=True, failed_logins=0, must_change_password=False)
            s.add(user)
            s.flush()
            owner = owner or user.actor(desk="demo")
            audit.record(s, owner, "staff_added", entity_type="staff", entity_id=user.id,
                         fields=["login", "display_name", "role", "password"])
        shop_settings.write_settings(s, DEMO_SETTINGS, staff_id=owner.staff_id)
    return tuple((login, role, pw) for login, _name, role, pw in DEMO_ACCOUNTS)


def make_demo_shop(db: Database, *, customers: int, orders: int, products: int = 60, seed: int = 1,
                   progress: Progress | None = None) -> tuple[DemoSummary, tuple[tuple[str, str, str], ...]]:
    """A whole demo shop (rows, search index, staff, settings) in an empty database, or
    nothing at all: what went in is taken out again when a later step fails.

    Raises UserFacingError when the database already holds a shop.
    """
    summary = fill_demo_database(db, customers=customers, orders=orders, products=products, seed=seed,
                                 progress=progress)
    try:
        accounts = create_demo_accounts(db)
    except BaseException:
        remove_demo_rows(db)
        raise
    return summary, accounts


def accounts_hint() -> str:
    """The demo's accounts, one per line, for the sign-in window."""
    labels = {"owner": "owner", "staff": "staff", "order_taker": "order taker"}
    lines = [f"{login}  /  {pw}   ({labels[role]})" for login, _n, role, pw in DEMO_ACCOUNTS]
    return "Demo shop accounts:\n" + "\n".join(lines)
