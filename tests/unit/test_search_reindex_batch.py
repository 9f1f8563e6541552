"""Bringing the search entries of some customers up to date in batches (what the sync does
after a pull) leaves the index as a rebuild of the whole index would, on both databases."""

from __future__ import annotations

from sqlalchemy import select, update

from backoffice.domain import Order
from backoffice.domain.customers import Customer
from backoffice.domain.enums import CustomerStatus
from backoffice.domain.search import CustomerSearchTerm, CustomerSearchText, CustomerSearchWord
from backoffice.services import customers as svc
from backoffice.services.search_index import rebuild_search_index, reindex_customers


def _index(db):
    with db.read() as s:
        terms = sorted(s.execute(select(CustomerSearchTerm.customer_id, CustomerSearchTerm.kind,
                                        CustomerSearchTerm.term)).all())
        texts = sorted(s.execute(select(CustomerSearchText.customer_id, CustomerSearchText.body)).all())
        words = sorted(s.execute(select(CustomerSearchWord.suffix, CustomerSearchWord.word)).all())
    return terms, texts, words


def test_batches_of_changed_customers_match_a_rebuild(db, owner):
    ids = [svc.create_customer(db, actor=owner, first_name=first, last_name=last, email=email, phone=phone).customer.id
           for first, last, email, phone in (
               ("María", "García", "maria.garcia@example.com", "+1 (713) 555-0199"),
               ("Jürgen", "Müller", "j.mueller@example.de", "+49 30 1234567"),
               ("Olga", "Quixotic", "olga@example.org", ""),
               ("太郎", "山田", "yamada@example.jp", "+81 3-1234-5678"),
           )]
    # Changed behind the index's back, as the sync's bulk writes change them.
    with db.begin() as s:
        s.execute(update(Customer).where(Customer.id == ids[0]).values(last_name="Garcés"))
        s.execute(update(Customer).where(Customer.id == ids[2]).values(status=CustomerStatus.ERASED))
        s.add(Order(number="10042", customer_id=ids[1]))
    assert reindex_customers(db, [ids[0], ids[1], ids[2], 999_999], batch_size=2) == 4
    incremental = _index(db)
    rebuild_search_index(db)
    assert incremental == _index(db)
    words = {word for _suffix, word in incremental[2]}
    assert "garces" in words and "garcia" not in words  # the old name's word went with it
    assert "quixotic" not in words  # erased: out of the index
    assert any(cid == ids[1] and "10042" in term for cid, _kind, term in incremental[0])
