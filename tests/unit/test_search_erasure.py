"""After an erasure, the search index keeps nothing of the customer's text: not in its
tables, not in the word table, not in SQLite's fragment index segments or log."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from backoffice.domain import Customer, CustomerAddress
from backoffice.domain import personal_data
from backoffice.domain.enums import AddressKind, CustomerStatus, Role
from backoffice.domain.search import (
    CustomerSearchTerm,
    CustomerSearchText,
    CustomerSearchWord,
    forget_customer_text,
    reindex_customer,
)
from backoffice.domain.text import fold
from backoffice.services import customers as svc
from backoffice.services.search_index import compact_search_index
from tests.conftest import make_staff

# A surname in a script nobody else in the shop writes, and an address nobody else has.
SURNAME = "ქართველიშვილი"
EMAIL = "qwyx.zolotl77@obscure-mail.example"
SECRETS = [fold(SURNAME).encode(), b"zolotl77", b"77ltoloz", b"obscure-mail"]


def _add(db, first, last, email, postcode="") -> int:
    """A customer as a sync would write one: the record, an address, its index entry."""
    with db.begin() as s:
        c = Customer(status=CustomerStatus.ACTIVE, first_name=first, last_name=last, company="",
                     email=email, email_key=email.lower(), phone="", sort_name=fold(f"{last} {first}"))
        s.add(c)
        s.flush()
        s.add(CustomerAddress(customer_id=c.id, kind=AddressKind.BILLING, is_default=True,
                              first_name=first, last_name=last, company="", address_1="1 Main St",
                              address_2="", city="Springfield", state="", postcode=postcode,
                              country="US", phone="", email=email))
        reindex_customer(s, c.id)
        return c.id


def _shop(db) -> int:
    for i, (first, last) in enumerate([("Anna", "Smith"), ("Oliver", "Blacksmith"), ("Eleni", "Papadaki"),
                                       ("Jürgen", "Müller"), ("Taro", "Yamada")]):
        _add(db, first, last, f"{first.lower()}.{i}@example.com", postcode=f"1000{i}")
    cid = _add(db, "Nino", SURNAME, EMAIL)
    # Later changes to other customers: the fragment index grows more segments.
    for i in range(3):
        _add(db, "Maria", f"Garcia{i}", f"maria{i}@example.es")
    return cid


def _erase_record(s, cid: int) -> None:
    """What the erasure does to the customer's own rows, by the personal-data registry."""
    for name in ("customers", "customer_addresses"):
        entry = personal_data.table(name)
        t = entry.sa_table
        values = {c.column: (None if c.erase == "null" else "") for c in entry.columns}
        key = t.c.id if name == "customers" else t.c.customer_id
        s.execute(update(t).where(key == cid).values(values))
    s.execute(update(Customer.__table__).where(Customer.__table__.c.id == cid)
              .values(status=CustomerStatus.ERASED))


def _file_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def _trigrams(word: str) -> list[bytes]:
    return [word[i:i + 3].encode() for i in range(len(word) - 2)]


def test_forgetting_a_customer_leaves_no_bytes_of_their_text_in_the_sqlite_file(sqlite_db):
    db = sqlite_db
    actor = make_staff(db, Role.OWNER)
    cid = _shop(db)
    assert [h.id for h in svc.search_customers(db, actor=actor, query="ველიშვ")] == [cid]
    assert [h.id for h in svc.search_customers(db, actor=actor, query="zolotl77@")] == [cid]
    path = db.sqlite_path
    before = _file_bytes(path)
    assert all(secret in before for secret in SECRETS)

    with db.begin() as s:
        _erase_record(s, cid)
        forget_customer_text(s, cid)
    # The rows are gone, and secure_delete has overwritten them; but the fragment
    # index still holds the deleted trigrams in its older segments.
    raw = db.engine.raw_connection()
    try:
        raw.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    middle = path.read_bytes()
    assert not any(secret in middle for secret in SECRETS)
    assert any(t in middle for t in _trigrams(fold(SURNAME)))

    assert compact_search_index(db) is True
    after = _file_bytes(path)
    assert not any(secret in after for secret in SECRETS)
    assert not any(t in after for t in _trigrams(fold(SURNAME)))
    assert not path.with_name(path.name + "-wal").exists() or path.with_name(path.name + "-wal").stat().st_size == 0
    assert svc.search_customers(db, actor=actor, query="ველიშვ") == []
    assert svc.search_customers(db, actor=actor, query="zolotl77@") == []
    # Everyone else is still found, fragments included.
    assert [h.name for h in svc.search_customers(db, actor=actor, query="lacksmi")] == ["Oliver Blacksmith"]


def test_forgetting_a_customer_empties_their_rows_and_their_own_words(db, owner):
    cid = _shop(db)
    word = fold(SURNAME)
    with db.engine.connect() as c:
        assert c.execute(select(func.count()).where(CustomerSearchWord.word == word)).scalar() > 0
    with db.begin() as s:
        _erase_record(s, cid)
        forget_customer_text(s, cid)
    compact_search_index(db)
    with db.engine.connect() as c:
        for model in (CustomerSearchTerm, CustomerSearchText):
            assert c.execute(select(func.count()).select_from(model)
                             .where(model.customer_id == cid)).scalar() == 0
        assert c.execute(select(func.count()).where(CustomerSearchWord.word == word)).scalar() == 0
        # Words other customers still have stay ("garcia0" ends in "arcia0").
        assert c.execute(select(func.count()).where(CustomerSearchWord.word == "garcia0")).scalar() > 0
    assert svc.search_customers(db, actor=owner, query="შვილ") == []
    assert {h.name for h in svc.search_customers(db, actor=owner, query="arcia")} == {
        "Maria Garcia0", "Maria Garcia1", "Maria Garcia2"}


def test_compacting_prunes_words_left_by_an_erasure_through_the_registry(db, owner):
    """An erasure that only clears the index columns (as the registry says) leaves the
    word table holding the customer's words; compacting removes them."""
    cid = _shop(db)
    with db.begin() as s:
        for table in ("customer_search", "customer_search_text"):
            entry = personal_data.table(table)
            t = entry.sa_table
            s.execute(update(t).where(t.c.customer_id == cid).values({c.column: None for c in entry.columns}))
    with db.engine.connect() as c:
        assert c.execute(select(func.count()).where(CustomerSearchWord.word == fold(SURNAME))).scalar() > 0
    compact_search_index(db)
    with db.engine.connect() as c:
        assert c.execute(select(func.count()).where(CustomerSearchWord.word == fold(SURNAME))).scalar() == 0
        assert c.execute(select(func.count()).where(CustomerSearchWord.word == "blacksmith")).scalar() > 0
