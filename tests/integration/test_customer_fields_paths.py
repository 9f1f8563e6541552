"""The same person added by each path (the desk, a phone order, a file import, the store sync) is
found and sorted the same way: the derived columns are equal whichever path wrote them."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.domain import Customer, Product
from backoffice.domain.customer_fields import contact_columns
from backoffice.domain.emails import email_key
from backoffice.domain.text import fold
from backoffice.services import customer_import, sync
from backoffice.services import customers as customers_service
from backoffice.services import phone_orders as po
from backoffice.store.devstore import DevStore
from tests.integration.sync_helpers import FAST, SYNC_ACTOR, connector

DERIVED = ("email_key", "phone_e164", "phone_digits", "phone_rev", "sort_name")
PERSON = {"first_name": "Ǻsa", "last_name": "Strauß-Ørsted", "phone": "(713) 555-0142"}


@pytest.fixture
def store():
    with DevStore(seed=5) as devstore:
        devstore.populate(customers=0, orders=0, products=0)
        yield devstore


def derived(db, email: str) -> dict:
    with db.read() as s:
        c = s.scalars(select(Customer).where(Customer.email_key == email_key(email))).one()
        return {name: getattr(c, name) for name in DERIVED}


def by_desk(db, owner, email, person):
    customers_service.create_customer(db, actor=owner, email=email, **person)


def by_phone_order(db, owner, email, person):
    with db.begin() as s:
        product = Product(sku="TEA", name="Tea", name_key="tea", price=Decimal("5.00"), status="publish")
        s.add(product)
        s.flush()
        product_id = product.id
    po.place_phone_order(db, actor=owner, new_customer=po.NewCustomer(
        email=email, address_1="1 Main St", city="Houston", state="TX", postcode="77002", **person),
        lines=[po.LineInput(product_id)], shipping=po.ShippingInput("flat_rate", "Flat rate", Decimal("4.95")))


def by_import(db, owner, email, person):
    out = io.StringIO()
    csv.writer(out).writerows([["First name", "Last name", "Company", "Email", "Phone"],
                               [person.get("first_name", ""), person.get("last_name", ""),
                                person.get("company", ""), email, person.get("phone", "")]])
    assert customer_import.import_customers(db, actor=owner, data=out.getvalue().encode()).imported == 1


def by_sync(db, owner, email, person, store):
    store.create_customer({"email": email, "first_name": person.get("first_name", ""),
                           "last_name": person.get("last_name", ""),
                           "billing": {"phone": person.get("phone", ""), "company": person.get("company", ""),
                                       "email": email}})
    with connector(store) as conn:
        summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error


def add(path, db, owner, email, person, store):
    if path == "sync":
        by_sync(db, owner, email, person, store)
    else:
        {"desk": by_desk, "phone order": by_phone_order, "import": by_import}[path](db, owner, email, person)


@pytest.mark.parametrize("path", ["desk", "phone order", "import", "sync"])
def test_every_path_derives_the_same_columns(db, owner, store, path):
    email = "Asa.Strauss@Example.com"
    add(path, db, owner, email, PERSON, store)
    expected = contact_columns(first_name=PERSON["first_name"], last_name=PERSON["last_name"], company="",
                               email=email, phone=PERSON["phone"], region="US")
    assert derived(db, email) == expected
    assert expected["sort_name"] == fold("Strauß-Ørsted Ǻsa") and expected["phone_e164"] == "+17135550142"


@pytest.mark.parametrize("path", ["desk", "import", "sync"])
def test_a_customer_known_by_email_only_sorts_by_it_on_every_path(db, owner, store, path):
    email = "Orders@Example.com"
    add(path, db, owner, email, {}, store)
    assert derived(db, email)["sort_name"] == "orders@example.com"


@pytest.mark.parametrize("path", ["desk", "import", "sync"])
def test_a_customer_known_by_company_sorts_by_it_on_every_path(db, owner, store, path):
    email = "buyer@example.com"
    add(path, db, owner, email, {"company": "Ærø Tea Co"}, store)
    assert derived(db, email)["sort_name"] == "aero tea co"
