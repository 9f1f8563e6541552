"""The ids a very large change names (an import of millions of customers) are held compactly,
and open screens ask them what they ask a frozenset."""

from __future__ import annotations

import sys
from array import array

from backoffice.services.changes import Changes, IdSet


def test_an_id_set_answers_as_a_frozenset_does():
    ids = IdSet(array("q", [3, 5, 9]))
    assert 5 in ids and 4 not in ids and 10 not in ids and "5" not in ids
    assert len(ids) == 3 and list(ids) == [3, 5, 9] and bool(ids) and not IdSet()
    assert ids == frozenset({3, 5, 9}) and frozenset({9, 3, 5}) == ids and hash(ids) == hash(frozenset({3, 5, 9}))
    assert (ids | frozenset({1})) == {1, 3, 5, 9} and (frozenset({1}) | ids) == {1, 3, 5, 9}
    assert ids & {5, 6} == {5}
    assert list(IdSet([9, 3, 3, 5])) == [3, 5, 9]  # given out of order: sorted, once each
    merged = Changes(customers=ids) | Changes(customers=frozenset({4}), orders=frozenset({1}))
    assert 4 in merged.customers and 9 in merged.customers and merged.orders == {1}


def test_a_million_ids_take_eight_bytes_each():
    many = IdSet(array("q", range(1, 1_000_001)))
    assert 1_000_000 in many and 0 not in many
    assert sys.getsizeof(many._ids) < 8.5 * 1_000_000
