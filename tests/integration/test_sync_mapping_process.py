"""A long listing of orders is mapped (card guard, conversions) in a process of its own:
what lands here is the same as when it is mapped in this process, card numbers masked, and
a mapping process that fails leaves the work to this one."""

from __future__ import annotations

import dataclasses

import orjson
import pytest
from sqlalchemy import select

from backoffice.domain import Order
from backoffice.services import store_mapping as sm
from backoffice.services import sync
from backoffice.services.sync_common import PageMapper, map_order_page_rows, new_order_rows, unpack_order_page
from backoffice.store.devstore import DevStore

from .sync_helpers import FAST, SYNC_ACTOR, assert_matches_store, connector, visible_store_orders

CARD = "4111 1111 1111 1111"


@pytest.fixture(scope="module")
def store():
    with DevStore(seed=11) as devstore:
        devstore.populate(customers=30, orders=420, products=10)
        last = max(o["id"] for o in devstore.list_orders())
        devstore.update_order(last, {"customer_note": f"my card is {CARD} thanks"})
        yield devstore


@pytest.fixture
def process_ready(monkeypatch):
    """The mapping process is waited for once started, so every later page goes to it."""
    start = PageMapper.start

    def start_and_wait(self):
        start(self)
        if self._ready is not None:
            self._ready.result(timeout=300)

    monkeypatch.setattr(PageMapper, "start", start_and_wait)


def _orders(db) -> dict:
    with db.read() as s:
        return {r.store_id: r for r in s.execute(select(
            Order.store_id, Order.number, Order.status, Order.subtotal, Order.total, Order.customer_note,
            Order.payment_method_title, Order.created_at, Order.paid_at, Order.store_modified_at)).all()}


def test_orders_mapped_in_a_process_of_their_own_land_as_mapped_here(db, store, process_ready):
    options = dataclasses.replace(FAST, mapping_process_pages=1)
    with connector(store) as conn:
        summary = sync.run_sync(db, conn, full_customer_scan=True, options=options, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.mapped_order_pages >= 3, "the pages were not handed to the mapping process"
    assert summary.cards_masked >= 1
    assert_matches_store(db, store)
    here = _orders(db)
    for record in visible_store_orders(store):
        item = sm.order_data(sm.guard_record(sm.order_view(record)))
        row = here[record["id"]]
        assert (row.subtotal, row.total, row.customer_note, row.payment_method_title, row.store_modified_at) == (
            item.values["subtotal"], item.values["total"], item.values["customer_note"],
            item.values["payment_method_title"], item.modified_at)
    notes = [r.customer_note for r in here.values() if "card" in (r.customer_note or "")]
    assert notes and all(CARD not in n and "1111 1111" not in n for n in notes), notes


def test_a_mapping_process_that_fails_leaves_the_pages_to_this_one():
    mapper = PageMapper(sm.map_order_page)
    try:
        mapper.start()
        mapper._ready.result(timeout=300)
        failing = mapper.ahead([{"no id": True}])  # order_data needs the store's id
        assert failing is not None and failing() is None
        assert mapper.ahead([]) is None, "a broken mapping process is not used again"
    finally:
        mapper.close()


@pytest.fixture
def hostile_store():
    """Three pages of orders; on the first a note with a control character, on the second
    an order whose total is no amount."""
    with DevStore(seed=13) as devstore:
        devstore.populate(customers=20, orders=260, products=8)
        ids = sorted(o["id"] for o in devstore.list_orders())
        noted, broken = ids[5], ids[150]
        doc = devstore._storage.get("orders", noted)
        doc["customer_note"] = "ring the bell\x07 twice"
        devstore._storage.save("orders", doc)
        doc = devstore._storage.get("orders", broken)
        doc["total"] = "NaN"
        devstore._storage.save("orders", doc)
        yield devstore, noted, broken


def test_pages_read_undecoded_are_screened_in_the_mapping_process(db, hostile_store, process_ready):
    store, noted, broken = hostile_store
    options = dataclasses.replace(FAST, mapping_process_pages=1)
    with connector(store) as conn:
        summary = sync.run_sync(db, conn, full_customer_scan=True, options=options, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.mapped_order_pages >= 2, "the pages were not handed to the mapping process"
    assert f"order {broken}: its total 'NaN' is not an amount a shop can have" in summary.text
    here = _orders(db)
    assert broken not in here
    assert here[noted].customer_note == "ring the bell twice"
    wanted = {o["id"]: o for o in visible_store_orders(store) if o["id"] != broken}
    assert set(here) == set(wanted)
    for store_id, record in wanted.items():
        assert here[store_id].total == sm.order_data(sm.order_view(record)).values["total"]


def test_orders_already_here_on_pages_mapped_elsewhere_are_updated(db, store, process_ready, monkeypatch):
    options = dataclasses.replace(FAST, mapping_process_pages=1)
    remapped = []
    remap = sm.remap_raw_order_page
    monkeypatch.setattr(sm, "remap_raw_order_page", lambda *a: remapped.append(a[1]) or remap(*a))
    with connector(store) as conn:
        assert sync.run_sync(db, conn, full_customer_scan=True, options=options, actor=SYNC_ACTOR).ok
        changed = sorted(o["id"] for o in visible_store_orders(store))[:210]  # three pages of changes
        for order_id in changed:
            store.update_order(order_id, {"customer_note": f"changed {order_id} on {db.backend}"})
        summary = sync.run_sync(db, conn, options=options, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.mapped_order_pages >= 1
    here = _orders(db)
    assert all(here[i].customer_note == f"changed {i} on {db.backend}" for i in changed)
    assert remapped, "no page mapped in part held orders already here"
    assert_matches_store(db, store)


def test_a_short_page_read_undecoded_is_read_again(db, store, process_ready):
    options = dataclasses.replace(FAST, mapping_process_pages=1)
    store.faults.limit_to("/orders")
    store.faults.truncate_next(1)
    try:
        with connector(store) as conn:
            summary = sync.run_sync(db, conn, full_customer_scan=True, options=options, actor=SYNC_ACTOR)
    finally:
        store.faults.reset()
    assert summary.ok, summary.error
    assert_matches_store(db, store)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_page_mapped_in_the_process_comes_back_as_mapped_here(store, dialect):
    """What the mapping process sends back (plain values) is read back into the very
    orders, rows, parcels, fees, refunds, problems and guard report it mapped."""
    records = sorted(store.list_orders(), key=lambda r: r["id"])[:100]
    first, second = dict(records[0]), dict(records[1])
    first["meta_data"] = [*first.get("meta_data", []), {"id": 900, "key": sm.TRACKING_META_KEY, "value": [
        {"tracking_provider": "UPS", "tracking_number": "1Z999", "date_shipped": "1700000000"},
        {"tracking_provider": "DHL", "tracking_number": "JD014"}]},
        {"id": 901, "key": "_backoffice_ref", "value": "PH-000123"}]
    first["fee_lines"] = [{"id": 7, "name": "Gift wrap", "total": "2.50", "total_tax": "0.25"}]
    first["refunds"] = [{"id": 8, "reason": "Broken mug", "total": "-4.00"}]
    first["customer_note"] = f"my card is {CARD} thanks"
    second["date_paid_gmt"] = None
    records[0], records[1] = first, second
    records.append({"id": "not a number"})  # left out, with a sentence
    body = orjson.dumps(records)
    job = (body, 1, 101, 101, 1)

    expected = sm.map_raw_order_page(job)
    got = unpack_order_page(map_order_page_rows(job + (dialect,)))

    assert expected is not None and got.problems == expected.problems and got.problems
    assert (got.count, got.last_id, got.customers) == (expected.count, expected.last_id, expected.customers)
    assert (got.report.found, got.report.places) == (expected.report.found, expected.report.places)
    assert got.report.found >= 1
    assert len(got.items) == len(expected.items) == 100
    for mine, theirs in zip(got.items, expected.items):
        assert mine.rows == new_order_rows(theirs, dialect)
        for name in ("store_id", "status", "reference", "customer_store_id", "tracking", "transaction_id",
                     "created_at", "modified_at", "paid_at", "fees", "refunds"):
            assert getattr(mine, name) == getattr(theirs, name), name
        assert mine.whole is False
    assert got.items[0].tracking[0]["shipped_at"].tzinfo is not None
    assert got.items[0].reference == "PH-000123" and got.items[0].fees and got.items[0].refunds
