"""The full customer scan's judgement of customers gone from the store, against a scripted listing:
only an id missing from its page's range and not found by id is gone, and a listing that does not
rise by id, or lists no one, unlinks no one."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice.domain import Customer
from backoffice.services.sync_common import DEFAULT_OPTIONS, RunStats
from backoffice.services.sync_pull import PullContext, pull_all_customers
from backoffice.store.connector import Page


def _record(store_id: int, role: str = "customer") -> dict:
    return {
        "id": store_id, "email": f"c{store_id}@example.com", "first_name": "Casey", "last_name": f"Number{store_id}",
        "role": role, "username": f"c{store_id}", "date_created_gmt": "2025-01-02T03:04:05",
        "date_modified_gmt": "2025-01-02T03:04:05", "billing": {}, "shipping": {},
    }


class ScriptedStore:
    """Answers the customer listing with the given pages, and look-ups by id from `exists`."""

    def __init__(self, pages: list[list[int]], exists: set[int] | None = None, staff: set[int] = frozenset()):
        self.pages = pages
        self.exists = set(exists if exists is not None else (i for page in pages for i in page))
        self.staff = staff
        self.looked_up: list[int] = []

    def _rec(self, store_id: int) -> dict:
        return _record(store_id, "administrator" if store_id in self.staff else "customer")

    def iter_customers(self, role: str = "all", *, cancel=None):
        for number, ids in enumerate(self.pages, 1):
            yield Page([self._rec(i) for i in ids], number=number, total=sum(map(len, self.pages)),
                       total_pages=len(self.pages))

    def get_customers(self, ids):
        ids = list(ids)
        self.looked_up.extend(ids)
        return [self._rec(i) for i in sorted(ids) if i in self.exists]


def _scan(db, store) -> RunStats:
    ctx = PullContext(db=db, options=DEFAULT_OPTIONS, stats=RunStats(), region="US")
    pull_all_customers(ctx, store)
    return ctx.stats


def _linked(db) -> set[int]:
    with db.read() as s:
        return set(s.execute(select(Customer.store_id).where(Customer.store_id.is_not(None))).scalars())


@pytest.fixture
def six(db):
    """Six customers linked here, store ids 1 to 6."""
    _scan(db, ScriptedStore([[1, 2, 3], [4, 5, 6]]))
    assert _linked(db) == {1, 2, 3, 4, 5, 6}
    return db


def test_an_id_missing_from_its_range_is_gone_only_when_the_store_has_no_such_account(six):
    db = six
    # 4 moved onto the page before while the store was read (a delete before it shifts it): still there.
    moved = ScriptedStore([[1, 2, 3], [5, 6]], exists={1, 2, 3, 4, 5, 6})
    assert not _scan(db, moved).unlinked_customers
    assert moved.looked_up == [4]
    assert _linked(db) == {1, 2, 3, 4, 5, 6}

    deleted = ScriptedStore([[1, 2, 3], [5, 6]])
    stats = _scan(db, deleted)
    assert len(stats.unlinked_customers) == 1
    assert _linked(db) == {1, 2, 3, 5, 6}


def test_the_end_of_the_listing_covers_every_id_above_it(six):
    db = six
    store = ScriptedStore([[1, 2], [3]], exists={1, 2, 3, 5})
    assert len(_scan(db, store).unlinked_customers) == 2
    assert _linked(db) == {1, 2, 3, 5}


def test_staff_accounts_count_as_listed(six):
    db = six
    # Store id 2 is a staff account now: never copied, but on the page, so not gone.
    store = ScriptedStore([[1, 2, 3], [4, 5, 6]], staff={2})
    assert not _scan(db, store).unlinked_customers
    assert store.looked_up == []
    assert 2 in _linked(db)


@pytest.mark.parametrize("pages", [[[3, 1, 2], [4, 6]], [[1, 2, 3], [3, 6]], [[]], []],
                         ids=["unordered", "repeated", "one-empty-page", "no-page"])
def test_a_listing_that_does_not_rise_by_id_or_lists_no_one_unlinks_no_one(six, pages):
    db = six
    store = ScriptedStore(pages, exists=set())
    assert not _scan(db, store).unlinked_customers
    assert _linked(db) == {1, 2, 3, 4, 5, 6}
