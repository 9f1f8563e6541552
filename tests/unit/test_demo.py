"""The demo shop fills a database with data that looks like a real shop's, on both databases."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from backoffice.demo.load import DEMO_ACCOUNTS, create_demo_accounts, fill_demo_database
from backoffice.domain import Customer, Order, OrderAddress, OrderLine, Payment
from backoffice.domain.enums import OrderStatus
from backoffice.errors import UserFacingError
from backoffice.services import staff
from backoffice.services.orders import get_order, list_orders_page


@pytest.fixture(autouse=True)
def _fast_hashing():
    staff.use_fast_hashing_for_tests()


def test_demo_shop_looks_like_a_real_shop(db):
    summary = fill_demo_database(db, customers=300, orders=900, seed=3)
    assert (summary.customers, summary.orders) == (300, 900)
    with db.read() as s:
        statuses = set(s.scalars(select(Order.status).distinct()))
        assert {OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.ON_HOLD, OrderStatus.COMPLETED,
                OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.FAILED} <= statuses
        names = " ".join(f"{a} {b}" for a, b in s.execute(select(Customer.first_name, Customer.last_name)))
        assert any(ord(ch) > 0x2E80 for ch in names), "no names in East Asian scripts"
        assert any("\u0400" <= ch <= "\u04ff" for ch in names), "no Cyrillic names"
        assert any(ch in "éèëöüäøåłçñ" for ch in names.lower()), "no accented Latin names"
        with_phone = s.execute(select(func.count()).where(Customer.phone != "")).scalar_one()
        parsed = s.execute(select(func.count()).where(Customer.phone_e164.is_not(None))).scalar_one()
        assert parsed == with_phone > 200, "a typed phone number was not understood"
        # Totals add up: lines plus shipping.
        for order in s.scalars(select(Order).limit(50)):
            lines = s.scalars(select(OrderLine.total).where(OrderLine.order_id == order.id)).all()
            assert order.total == sum(lines) + order.shipping_total
        assert s.execute(select(func.count()).select_from(OrderAddress)).scalar_one() == 1800
        # Paid by card on the web store: only brand and last 4 are known here.
        last4 = s.scalars(select(Payment.card_last4).where(Payment.card_last4.is_not(None))).all()
        assert last4 and all(len(x) == 4 and x.isdigit() for x in last4)


def test_demo_accounts_sign_in_and_see_orders(db):
    fill_demo_database(db, customers=50, orders=120)
    create_demo_accounts(db)
    login, _name, _role, password = DEMO_ACCOUNTS[0]
    owner = staff.authenticate(db, login=login, password=password, desk="test")
    page = list_orders_page(db, actor=owner, limit=25)
    assert len(page.rows) == 25 and page.next_key is not None
    newest = page.rows[0]
    detail = get_order(db, actor=owner, order_id=newest.id)
    assert detail.lines and detail.billing is not None
    second = list_orders_page(db, actor=owner, after=page.next_key, limit=25)
    assert not {r.id for r in page.rows} & {r.id for r in second.rows}
    assert second.rows[0].created_at <= page.rows[-1].created_at


def test_demo_refuses_a_database_with_customers(db):
    fill_demo_database(db, customers=10, orders=10)
    with pytest.raises(UserFacingError, match="already holds customers"):
        fill_demo_database(db, customers=10, orders=10)


def test_demo_is_deterministic(tmp_path):
    from backoffice.db import open_database

    names = []
    for i in range(2):
        db = open_database(f"sqlite:///{tmp_path}/d{i}.db")
        fill_demo_database(db, customers=40, orders=40, seed=7)
        with db.read() as s:
            names.append(s.execute(select(Customer.first_name, Customer.email).order_by(Customer.id)).all())
        db.dispose()
    assert names[0] == names[1]


def test_headless_demo_command_fills_and_reports(tmp_path):
    url = f"sqlite:///{tmp_path}/cli.db"
    cmd = [sys.executable, "-m", "backoffice", "demo", "--headless", "--customers", "120", "--orders",
           "300", "--db", url]
    env = dict(os.environ)
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "120 customers, 300 orders" in first.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert again.returncode == 1
    assert again.stderr.strip().count("\n") == 0 and "already holds customers" in again.stderr


def test_demo_phone_orders_offer_the_shipping_the_demo_shop_charges(db):
    from decimal import Decimal

    from backoffice.services.settings import get_setting

    create_demo_accounts(db)
    methods = {m.method_id: (m.title, m.cost) for m in get_setting(db, "shipping.methods")}
    assert methods["flat_rate"] == ("Flat rate", Decimal("5.95"))
    assert methods["usps_priority"] == ("USPS Priority Mail", Decimal("9.45"))
    assert methods["local_pickup"][1] == Decimal("0.00")


# --- a demo never goes into a shop, and never stays half made ---------------------------

def row_counts(db) -> dict[str, int]:
    from backoffice.domain.base import Base

    with db.read() as s:
        return {t.name: s.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables}


def _shop_with(db, what):
    from decimal import Decimal

    from backoffice.domain import Order, Product
    from backoffice.domain.enums import Role
    from tests.conftest import make_staff

    if what == "staff accounts":
        make_staff(db, Role.OWNER)
        return
    with db.begin() as s:
        if what == "customers":
            s.add(Customer(first_name="Real", last_name="Customer"))
        elif what == "orders":
            s.add(Order(number="1001", total=Decimal("5.00")))
        elif what == "products":
            s.add(Product(sku="TEA-1", name="Real tea", price=Decimal("4.00")))


@pytest.mark.parametrize("what", ["customers", "orders", "products", "staff accounts"])
def test_the_headless_demo_refuses_a_shop_and_writes_nothing(sqlite_db, what, capsys):
    from backoffice import cli

    _shop_with(sqlite_db, what)
    before = row_counts(sqlite_db)
    assert cli.main(["demo", "--headless", "--customers", "20", "--orders", "20", "--db", sqlite_db.url]) == 1
    assert f"already holds {what}" in capsys.readouterr().err
    assert row_counts(sqlite_db) == before


@pytest.mark.parametrize("step", ["search index", "accounts"])
def test_a_demo_that_fails_midway_leaves_nothing_behind(db, step, monkeypatch, capsys):
    from backoffice import cli
    from backoffice.demo import load
    from backoffice.services import settings as shop_settings

    def broken(*_args, **_kwargs):
        raise UserFacingError("The disk is full.")

    if step == "search index":
        monkeypatch.setattr(load, "_rebuild_search", broken)
    else:
        monkeypatch.setattr(shop_settings, "write_settings", broken)
    before = row_counts(db)
    assert cli.main(["demo", "--headless", "--customers", "30", "--orders", "40", "--db", db.url]) == 1
    assert "The disk is full." in capsys.readouterr().err
    after = row_counts(db)
    assert after == before, {k: (before[k], v) for k, v in after.items() if v != before[k]}


def test_a_demo_shop_has_people_on_its_lists_and_requests_on_their_clock(db):
    from backoffice.demo.activity import add_demo_activity
    from backoffice.services.newsletters import lists as newsletter_lists
    from backoffice.services.newsletters.consent import customer_consent
    from backoffice.services.privacy import register

    fill_demo_database(db, customers=300, orders=300, seed=3)
    create_demo_accounts(db)
    login, _name, _role, password = DEMO_ACCOUNTS[0]
    owner = staff.authenticate(db, login=login, password=password, desk="demo")
    done = add_demo_activity(db, actor=owner, seed=3)
    assert done.subscribed > 30 and done.requests == 3
    views = {v.name: v for v in newsletter_lists.list_lists(db, actor=owner)}
    assert views["Email newsletter"].subscribed > 20 and views["SMS newsletter"].subscribed > 0
    assert sum(v.subscribed for v in views.values()) == done.subscribed - done.opted_out
    # Each person on a list is there with the wording they agreed to and how they gave it.
    member = newsletter_lists.list_members(db, actor=owner, list_id=views["Email newsletter"].id,
                                          status="subscribed").rows[0]
    (given,) = [r for r in customer_consent(db, actor=owner, customer_id=member.customer_id).history
                if r.list_name == "Email newsletter"]
    assert given.wording.startswith("Yes, please send me") and given.taken_by == "Olivia Owner"
    assert given.method == "phone"
    alarm = register.queue_alarm(db, actor=owner)
    assert (alarm.overdue, alarm.due_soon) == (1, 1)
    assert len(register.list_requests(db, actor=owner)) == 3
