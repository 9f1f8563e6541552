"""A sync against a store whose listings hold broken records among good ones: each broken
record is named in the run's summary and the log with what was wrong, every other record
is kept, and the sync carries on and succeeds."""

from __future__ import annotations

import copy
import logging

import pytest
from sqlalchemy import select

from backoffice.domain import Customer, Order, Product
from backoffice.services import sync
from backoffice.store.connector import Page, StoreCredentials
from backoffice.store.devstore import DevStore
from backoffice.store.woocommerce import WooCommerceConnector
from tests.integration.sync_helpers import FAST, SYNC_ACTOR, assert_matches_store, connector

HUGE = "z" * 200_000


class PlantingConnector(WooCommerceConnector):
    """The dev store's connector, with records planted on the first page of some listings
    (as if the store had sent them) and records of the store changed on the way."""

    def __init__(self, *args, plant: dict[str, list], spoil: dict[tuple[str, int], dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plant = plant
        self.spoil = spoil or {}

    def _spoiled(self, path: str, records: list) -> list:
        kind = path.strip("/").split("/")[0]
        out = []
        for record in records:
            change = self.spoil.get((kind, record.get("id"))) if isinstance(record, dict) else None
            out.append({**record, **change} if change else record)
        return out

    def iter_pages(self, path, params=None, *, cancel=None, **kwargs):
        light = bool(params and params.get("_fields"))
        for page in super().iter_pages(path, params, cancel=cancel, **kwargs):
            page = page.decoded()
            records = list(page) if light else self._spoiled(path, list(page))
            if page.number == 1 and not light and path in self.plant and not (params or {}).get("include"):
                records = records[:1] + copy.deepcopy(self.plant[path]) + records[1:]
            yield Page(records, number=page.number, total=page.total, total_pages=page.total_pages)

    def get_customers(self, ids, *, cancel=None):
        return self._spoiled("/customers", super().get_customers(ids, cancel=cancel))


@pytest.fixture
def store():
    with DevStore(seed=29) as devstore:
        devstore.populate(customers=15, orders=40, products=6)
        yield devstore


def _planting(store, plant, spoil=None) -> PlantingConnector:
    credentials = StoreCredentials(store.base_url, store.consumer_key, store.consumer_secret)
    return PlantingConnector(credentials, plant=plant, spoil=spoil, backoff_base=0.01, backoff_cap=2.0,
                             max_retries=4, timeout=(2, 10))


def test_broken_records_are_named_and_left_out_and_the_rest_is_kept(db, store, caplog):
    customer = copy.deepcopy(store.list_customers(role="customer")[0])
    order = copy.deepcopy(store.list_orders()[0])
    product = copy.deepcopy(store.list_products()[0])
    plant = {
        "/customers": [
            {**customer, "id": 90001, "email": "list@example.com", "billing": ["1 Main St"]},
            {**customer, "id": 90002, "email": "cut@example.com", "first_name": "Cut"} | {"last_name": None},
            {"id": 90003, "first_name": "Only a name"},  # cut short
            ["not", "a", "record"],
            {**customer, "id": "ninety", "email": "text-id@example.com"},
            {**customer, "id": 90006, "email": "huge@example.com", "last_name": HUGE},
        ],
        "/orders": [
            {**order, "id": 90101, "line_items": {"id": 1}},
            {**order, "id": 90102, "total": "NaN"},
            {**order, "id": 90103, "customer_id": 2**40},
            None,
        ],
        "/products": [
            {**product, "id": 90201, "sku": "HOSTILE-1", "price": [9]},
            {**product, "id": 90202, "sku": "HOSTILE-2", "stock_quantity": float("inf")},
        ],
    }
    with _planting(store, plant) as conn, caplog.at_level(logging.WARNING):
        summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    expected = [
        "customer 90001: its billing address is a list, not an address",
        "customer 90003: its email is missing (the record was cut short)",
        "customer 90006: its last name is 200,000 characters long",
        "not a record",
        "its id is text 'ninety', not a whole number",
        "order 90101: its line items are a set of fields, not a list",
        "order 90102: its total 'NaN' is not an amount a shop can have",
        f"order 90103: its customer id {2**40} is out of range",
        "product 90201: its price is a list, not an amount",
        "product 90202: its stock quantity is a number 'inf', not a whole number",
    ]
    for line in expected:
        assert line in caplog.text, line
    # One line each for eleven records (a twelfth planted, with a null last name, is fine):
    # the summary names ten and counts the rest.
    assert "11 records the store sent could not be read and were left out" in summary.text
    assert sum(line in summary.text for line in expected) == 10
    assert summary.text.endswith("\n- and 1 more, each named in the log")
    # Everything the store really has is here, as it has it (and the one planted record that was fine).
    assert_matches_store(db, store, customers=False)
    with db.read() as s:
        linked = set(s.execute(select(Customer.store_id).where(Customer.store_id.is_not(None))).scalars())
        assert linked == {c["id"] for c in store.list_customers(role="customer")} | {90002}
        assert s.execute(select(Customer.first_name).where(Customer.store_id == 90002)).scalar_one() == "Cut"
        assert not s.execute(select(Customer.id).where(Customer.store_id.in_([90001, 90003, 90006]))).all()
        assert not s.execute(select(Order.id).where(Order.store_id.in_([90101, 90102, 90103]))).all()
        assert not s.execute(select(Product.id).where(Product.store_id.in_([90201, 90202]))).all()
        held = s.execute(select(Product.store_id)).scalars().all()
    assert {p["id"] for p in store.list_products() if p.get("status") != "trash"} <= set(held)


def test_a_broken_copy_of_a_record_kept_here_changes_nothing_and_the_next_good_one_is_read(db, store):
    with connector(store) as conn:
        assert sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR).ok
    victim = store.list_customers(role="customer")[1]["id"]
    with db.read() as s:
        before = s.execute(select(Customer).where(Customer.store_id == victim)).scalar_one()
        before = (before.first_name, before.last_name, before.email, before.phone)
    spoil = {("customers", victim): {"billing": "gone", "first_name": "<b>Changed</b>",
                                     "date_modified_gmt": "2099-01-01T00:00:00"}}
    with _planting(store, {}, spoil) as conn:
        summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert f"customer {victim}: its billing address is text, not an address" in summary.text
    with db.read() as s:
        after = s.execute(select(Customer).where(Customer.store_id == victim)).scalar_one()
        assert (after.first_name, after.last_name, after.email, after.phone) == before
    # The store mends the record: the next run reads it, names nothing.
    with connector(store) as conn:
        summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok and "could not be read" not in summary.text
    assert_matches_store(db, store)
