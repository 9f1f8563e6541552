"""Listings read several pages at once: the same records in the same order, each page once,
failures and cancels reported as for one page at a time."""

from __future__ import annotations

import threading

import pytest

from backoffice.errors import Cancelled, StoreError
from backoffice.services.sync_common import pages_in_parallel

from .sync_helpers import connector


STORE = {"seed": 5, "customers": 40, "orders": 730, "products": 10, "shared": True}


@pytest.fixture(autouse=True)
def clean(store):
    store.faults.reset()
    yield
    store.faults.reset()


def _ids(pages) -> list[int]:
    return [record["id"] for page in pages for record in page]


def test_pages_read_side_by_side_come_in_order_each_once(store):
    with connector(store) as one:
        expected = _ids(one.iter_orders())
    store.reset_stats()
    with connector(store) as conn, pages_in_parallel(conn, 4):
        pages = list(conn.iter_pages("/orders", {"orderby": "id", "order": "asc"}, per_page=50))
    assert _ids(pages) == expected and len(expected) >= 730
    assert [p.number for p in pages] == list(range(1, len(pages) + 1))
    asked = sorted(int(r.query["page"]) for r in store.requests_log if r.path.endswith("/orders"))
    assert asked == list(range(1, len(pages) + 1)), "a page was asked for twice or not at all"


def test_a_page_that_keeps_failing_stops_the_listing_after_the_pages_before_it(store):
    with connector(store, max_retries=1) as conn, pages_in_parallel(conn, 3):
        pages = conn.iter_pages("/orders", {"orderby": "id"}, per_page=50)
        first = next(pages)
        store.faults.limit_to("/orders")
        store.faults.fail_next(50, status=500)
        with pytest.raises(StoreError) as caught:
            list(pages)
    assert "internal error" in caught.value.message
    assert first.number == 1


def test_a_cancel_stops_a_listing_read_side_by_side(store):
    cancel = threading.Event()
    seen = []
    store.faults.latency_ms = 30
    with connector(store) as conn, pages_in_parallel(conn, 3):
        with pytest.raises(Cancelled):
            for page in conn.iter_pages("/orders", {"orderby": "id"}, per_page=50, cancel=cancel):
                seen.append(page.number)
                if page.number == 3:
                    cancel.set()
    assert seen == [1, 2, 3]
    active = [t for t in threading.enumerate() if t.name.startswith("store-pages")]
    assert active == [], "a page reader was left running"
