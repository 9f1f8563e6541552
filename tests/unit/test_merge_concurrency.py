"""Two desks merging the same customers at once, and notes on a merged customer."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from backoffice.domain.customers import Customer
from backoffice.errors import UserFacingError, ValidationError
from backoffice.services import customers as svc


def _pair(db, actor, n: int) -> tuple[int, int]:
    a = svc.create_customer(db, actor=actor, first_name="Ann", last_name=f"Lee{n}",
                            email=f"ann{n}@example.com").customer.profile.id
    b = svc.create_customer(db, actor=actor, first_name="Ann", last_name=f"Lee{n}",
                            phone=f"+1 713 555 01{n:02d}").customer.profile.id
    return a, b


def _race(db, actor, a: int, b: int) -> list[object]:
    """Merge a into b and b into a at the same moment; each result or the error it raised."""
    start = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(i: int, keep: int, merge: int) -> None:
        start.wait()
        try:
            results[i] = svc.merge_customers(db, actor=actor, keep_id=keep, merge_id=merge)
        except BaseException as exc:  # noqa: BLE001 - the test looks at what each desk got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(0, a, b)), threading.Thread(target=run, args=(1, b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_crossed_merges_at_once_leave_one_merge_and_a_sentence(db, staff):
    for n in range(8):
        a, b = _pair(db, staff, n)
        results = _race(db, staff, a, b)
        ok = [r for r in results if isinstance(r, svc.MergeResult)]
        refused = [r for r in results if not isinstance(r, svc.MergeResult)]
        assert len(ok) == 1, results
        # The other desk is told in words, never a raw database error.
        assert len(refused) == 1 and isinstance(refused[0], UserFacingError), results
        with db.read() as s:
            rows = {c.id: c.merged_into_id for c in s.scalars(select(Customer).where(Customer.id.in_([a, b])))}
        # Exactly one of the two points at the other; never both at each other.
        assert sorted(v is None for v in rows.values()) == [False, True], rows


def test_a_note_on_a_merged_customer_is_refused_and_names_where_to_add_it(db, staff):
    a, b = _pair(db, staff, 1)
    svc.merge_customers(db, actor=staff, keep_id=a, merge_id=b)
    with pytest.raises(ValidationError, match="merged into Ann Lee1; the note was not saved") as refused:
        svc.add_note(db, actor=staff, customer_id=b, text="Prefers morning delivery.")
    assert str(a) not in refused.value.message.replace("Lee1", "")
    assert [n.text for n in svc.get_customer(db, actor=staff, customer_id=a).notes] == []


def test_the_duplicates_list_says_when_it_shows_only_some_groups(db, staff):
    for n in range(3):
        _pair(db, staff, n + 10)  # three pairs with the same name, and a phone or an email each
        svc.create_customer(db, actor=staff, first_name="Bo", last_name=f"Twin{n}", phone=f"+1 281 555 02{n:02d}")
        svc.create_customer(db, actor=staff, first_name="Cy", last_name=f"Twin{n}", phone=f"+1 281 555 02{n:02d}")
    found = svc.find_duplicates(db, actor=staff, limit=2)
    assert found.totals["phone"] == 3 and len([g for g in found if g.reason == "phone"]) == 2
    assert "Showing the first 2 of 3 “same phone number”" in found.summary()
    everything = svc.find_duplicates(db, actor=staff, limit=100)
    assert "Showing" not in everything.summary()
