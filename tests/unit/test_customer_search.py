"""The search box: every kind of query finds the right customer, best first, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from backoffice.domain import Order
from backoffice.domain import personal_data
from backoffice.domain.enums import Role
from backoffice.domain.search import (
    SOURCES,
    CustomerSearchTerm,
    CustomerSearchText,
    CustomerSearchWord,
    check_sources,
    reindex_customer,
)
from backoffice.services import customers as svc
from backoffice.services.search_index import rebuild_search_index, search_index_needs_rebuild
from tests.conftest import make_staff


def add(db, actor, first="", last="", *, postcode="", **kw) -> int:
    address = {"address_1": "1 Main St", "city": "Somewhere", "postcode": postcode} if postcode else None
    return svc.create_customer(db, actor=actor, first_name=first, last_name=last,
                               address=address, **kw).customer.id


@pytest.fixture
def shop(db, owner):
    ids = {
        "garcia": add(db, owner, "María", "García", email="maria.garcia@example.com",
                      phone="+1 (713) 555-0199", postcode="77002"),
        "taylor": add(db, owner, "Oliver", "Taylor", email="oliver@example.co.uk",
                      phone="+44 20 7946 0958", postcode="SW1A 1AA"),
        "muller": add(db, owner, "Jürgen", "Müller", company="Müller Kaffeerösterei GmbH",
                      email="j.mueller@example.de", phone="+49 30 1234567", postcode="10115"),
        "yamada": add(db, owner, "太郎", "山田", email="yamada@example.jp",
                      phone="+81 3-1234-5678", postcode="100-0001"),
        "ivanova": add(db, owner, "Алёна", "Иванова", email="alyona@example.ru",
                       phone="+7 495 123-45-67"),
        "eleni": add(db, owner, "Ελένη", "Παπαδοπούλου", email="eleni@example.gr",
                     phone="+30 210 1234567"),
        "smith": add(db, owner, "John", "Smith", email="john.smith@example.com",
                     phone="(713) 555-0123"),
        "blacksmith": add(db, owner, "Anna", "Blacksmith", email="anna.b@example.org"),
        "zip": add(db, owner, "Paula", "Zipper", postcode="10042"),
    }
    with db.begin() as s:
        s.add(Order(number="10042", customer_id=ids["garcia"]))
        s.flush()
        reindex_customer(s, ids["garcia"])
    return ids


def ids_for(db, actor, query, **kw):
    return [h.id for h in svc.search_customers(db, actor=actor, query=query, **kw)]


def first_hit(db, actor, query):
    hits = svc.search_customers(db, actor=actor, query=query)
    assert hits, f"nothing found for {query!r}"
    return hits[0]


@pytest.mark.parametrize("query, who", [
    ("+1 (713) 555-0199", "garcia"),
    ("7135550199", "garcia"),
    ("713-555-0199", "garcia"),
    ("555 0199", "garcia"),
    ("0199", "garcia"),
    ("+44 20 7946 0958", "taylor"),
    ("020 7946 0958", "taylor"),
    ("00 44 20 7946 0958", "taylor"),
    ("7946 0958", "taylor"),
    ("+49 30 1234567", "muller"),
    ("030 1234567", "muller"),
    ("+81 3-1234-5678", "yamada"),
    ("03-1234-5678", "yamada"),
    ("5678", "yamada"),
])
def test_phone_in_any_format_or_its_last_digits(db, owner, shop, query, who):
    assert first_hit(db, owner, query).id == shop[who]
    assert first_hit(db, owner, query).match == "phone"


def test_a_whole_phone_number_is_an_exact_match(db, owner, shop):
    hit = first_hit(db, owner, "+1 (713) 555-0199")
    assert hit.exact and hit.phone == "+1 (713) 555-0199"
    assert not first_hit(db, owner, "0199").exact


def test_last_digits_find_only_numbers_ending_so(db, owner, shop):
    assert ids_for(db, owner, "0123") == [shop["smith"]]
    assert set(ids_for(db, owner, "4567")) == {shop["muller"], shop["ivanova"], shop["eleni"]}
    assert ids_for(db, owner, "713 555") == []  # no number ends with these digits


@pytest.mark.parametrize("query, who", [
    ("garc", "garcia"),
    ("GARCÍA", "garcia"),
    ("garcia", "garcia"),
    ("maria garcia", "garcia"),
    ("García María", "garcia"),
    ("maria g", "garcia"),
    ("MÜLLER", "muller"),
    ("muller", "muller"),
    ("jurgen", "muller"),
    ("иван", "ivanova"),
    ("ИВАНОВА", "ivanova"),
    ("алена", "ivanova"),
    ("Алёна Иванова", "ivanova"),
    ("παπαδο", "eleni"),
    ("ΕΛΕΝΗ", "eleni"),
    ("Ελενη Παπαδοπουλου", "eleni"),
    ("山田", "yamada"),
    ("太郎", "yamada"),
    ("山田 太郎", "yamada"),
])
def test_part_of_a_name_in_any_script_ignoring_accents_and_case(db, owner, shop, query, who):
    hit = first_hit(db, owner, query)
    assert hit.id == shop[who]
    assert hit.match == "name"


def test_a_fragment_inside_a_name(db, owner, shop):
    hits = svc.search_customers(db, actor=owner, query="mith")
    assert {h.id for h in hits} == {shop["smith"], shop["blacksmith"]}
    assert all(h.match == "text" and h.rank == svc.FRAGMENT for h in hits)
    assert ids_for(db, owner, "απαδό") == [shop["eleni"]]
    assert ids_for(db, owner, "ванов") == [shop["ivanova"]]


@pytest.mark.parametrize("query, who, rank", [
    ("maria.garcia@example.com", "garcia", svc.EXACT),
    ("Maria.Garcia@EXAMPLE.com", "garcia", svc.EXACT),
    ("maria.gar", "garcia", svc.PREFIX),
    ("j.mueller@", "muller", svc.PREFIX),
])
def test_email_whole_or_its_beginning(db, owner, shop, query, who, rank):
    hit = first_hit(db, owner, query)
    assert (hit.id, hit.match, hit.rank) == (shop[who], "email", rank)


def test_part_of_an_email_inside_it(db, owner, shop):
    assert ids_for(db, owner, "example.de") == [shop["muller"]]
    assert ids_for(db, owner, "garcia@exa") == [shop["garcia"]]
    assert set(ids_for(db, owner, "example.com")) == {shop["garcia"], shop["smith"]}


@pytest.mark.parametrize("query, who", [
    ("SW1A 1AA", "taylor"),
    ("sw1a1aa", "taylor"),
    ("SW1A", "taylor"),
    ("77002", "garcia"),
    ("100-0001", "yamada"),
    ("1000001", "yamada"),
])
def test_postcode(db, owner, shop, query, who):
    hit = first_hit(db, owner, query)
    assert (hit.id, hit.match) == (shop[who], "postcode")


def test_order_number_comes_before_a_postcode_with_the_same_digits(db, owner, shop):
    hits = svc.search_customers(db, actor=owner, query="10042")
    assert [(h.id, h.match, h.rank) for h in hits[:2]] == [
        (shop["garcia"], "order", svc.EXACT), (shop["zip"], "postcode", svc.WORD)]
    assert first_hit(db, owner, "#10042").id == shop["garcia"]


def test_company_whole_or_any_word(db, owner, shop):
    for query in ("kaffeer", "Müller Kaffee", "gmbh"):
        assert shop["muller"] in ids_for(db, owner, query), query
    assert first_hit(db, owner, "kaffeerösterei").match == "company"


def test_best_first_exact_then_word_then_prefix_then_fragment(db, owner, shop):
    hits = svc.search_customers(db, actor=owner, query="smith")
    assert [h.id for h in hits] == [shop["smith"], shop["blacksmith"]]
    assert [h.rank for h in hits] == [svc.WORD, svc.FRAGMENT]
    extra = add(db, owner, "Smithers", "Jones")
    hits = svc.search_customers(db, actor=owner, query="smith")
    assert [h.id for h in hits] == [shop["smith"], extra, shop["blacksmith"]]
    assert [h.rank for h in hits] == [svc.WORD, svc.PREFIX, svc.FRAGMENT]


def test_limit_and_empty_query(db, owner, shop):
    assert svc.search_customers(db, actor=owner, query="   ") == []
    assert len(svc.search_customers(db, actor=owner, query="example", limit=2)) == 2


def test_results_carry_what_tells_callers_apart(db, owner, shop):
    hit = first_hit(db, owner, "0958")
    assert hit.name == "Oliver Taylor"
    assert hit.email == "oliver@example.co.uk"
    assert hit.postcode == "SW1A 1AA"


def test_an_edit_is_found_at_once_and_the_old_value_no_more(db, owner, shop):
    cid = shop["smith"]
    detail = svc.get_customer(db, actor=owner, customer_id=cid)
    svc.update_customer(db, actor=owner, customer_id=cid, expected_version=detail.version,
                        changes={"last_name": "Okonkwo", "phone": "+1 281 555 0147"})
    assert first_hit(db, owner, "okonk").id == cid
    assert first_hit(db, owner, "0147").id == cid
    assert cid not in ids_for(db, owner, "john smith")
    assert cid not in ids_for(db, owner, "555-0123")


def test_merged_customer_is_not_found_the_kept_one_is(db, owner, shop):
    svc.merge_customers(db, actor=owner, keep_id=shop["smith"], merge_id=shop["garcia"])
    assert first_hit(db, owner, "10042").id == shop["smith"]  # the order moved with its number
    assert shop["garcia"] not in ids_for(db, owner, "garcia")


def test_the_bulk_rebuild_gives_the_same_index_as_reindexing_one_by_one(db, owner, shop):
    def snapshot():
        with db.engine.connect() as c:
            terms = set(c.execute(select(CustomerSearchTerm.customer_id, CustomerSearchTerm.kind,
                                         CustomerSearchTerm.term)).all())
            texts = set(c.execute(select(CustomerSearchText.customer_id, CustomerSearchText.body)).all())
            words = set(c.execute(select(CustomerSearchWord.suffix, CustomerSearchWord.word)).all())
        return terms, texts, words

    before = snapshot()
    queries = ["mith", "0199", "garcia", "example.de", "SW1A", "山田", "10042", "rcia@exa", "ller"]
    answers = {q: ids_for(db, owner, q) for q in queries}
    seen = []
    written = rebuild_search_index(db, progress=lambda done, total, _: seen.append((done, total)))
    assert snapshot() == before
    assert ("mith", "smith") in before[2] and ("lacksmith", "blacksmith") in before[2]
    assert written == len(before[0])
    assert seen[-1] == (len(shop), len(shop))
    assert {q: ids_for(db, owner, q) for q in queries} == answers


def test_needs_rebuild_when_customers_have_no_terms(db, owner, shop):
    assert not search_index_needs_rebuild(db)
    with db.engine.begin() as c:
        c.execute(CustomerSearchTerm.__table__.delete())
    assert search_index_needs_rebuild(db)
    rebuild_search_index(db)
    assert not search_index_needs_rebuild(db)


def test_the_index_is_declared_with_the_personal_data_registry():
    check_sources()
    tables = {t.table: t for t in personal_data.registry()}
    assert {c.column for c in tables["customer_search"].columns} == {"term"}
    assert {c.column for c in tables["customer_search_text"].columns} == {"body"}
    assert all(c.erase == "null" and not c.export
               for name in ("customer_search", "customer_search_text") for c in tables[name].columns)
    for table in ("customers", "customer_addresses"):
        declared = {c.column for c in tables[table].columns}
        assert {key.split(".", 1)[1] for key in SOURCES if key.startswith(table + ".")} == declared


def test_erasure_by_the_registry_clears_the_index_and_the_fragment_index(db, owner, shop):
    cid = shop["blacksmith"]
    assert cid in ids_for(db, owner, "lacksmi")
    with db.begin() as s:
        for table in ("customer_search", "customer_search_text"):
            entry = personal_data.table(table)
            t = entry.sa_table
            values = {c.column: None for c in entry.columns if c.erase == "null"}
            s.execute(update(t).where(t.c.customer_id == cid).values(values))
    assert cid not in ids_for(db, owner, "lacksmi")
    assert cid not in ids_for(db, owner, "anna.b@example.org")
    if db.backend == "sqlite":
        with db.engine.connect() as c:
            # Nothing left in the trigram index either (the triggers kept it in step).
            assert c.execute(text("SELECT count(*) FROM customer_search_fts "
                                  "WHERE body LIKE '%lacksmi%'")).scalar() == 0


def test_phone_search_covers_the_shared_phone_rule():
    from backoffice.domain.phones import phone_query

    stored = {"17135550199", "442079460958", "49301234567", "81312345678", "5550199"}
    for typed in ("+1 (713) 555-0199", "7135550199", "1 713 555 0199", "555 0199", "0199",
                  "+44 20 7946 0958", "020 7946 0958", "0044 20 7946 0958", "+49 30 1234567",
                  "030 1234567", "+81 3-1234-5678", "03-1234-5678", "12345"):
        for region in ("US", "GB", "DE"):
            shared = phone_query(typed, default_region=region)
            exact, suffix = svc.phone_search(typed, default_region=region)
            ours = {d for d in stored if d in exact or d.endswith(suffix)}
            theirs = {d for d in stored if shared.matches(d)}
            assert theirs <= ours, (typed, region)


def test_migration_0002_goes_down_and_up_again(sqlite_db, tmp_path):
    from alembic import command

    from backoffice import migrations

    with sqlite_db.engine.connect() as conn:
        command.downgrade(migrations.config(conn), "0001")
        conn.commit()
        left = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE name LIKE 'customer_search%'").fetchall()
    assert left == []
    assert migrations.upgrade(sqlite_db)
    with sqlite_db.engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master").fetchall()}
    assert {"customer_search", "customer_search_text", "customer_search_fts",
            "customer_search_text_ai", "customer_search_text_ad", "customer_search_text_au"} <= names


def test_a_long_fragment_is_checked_whole(db, owner, shop):
    # The index is asked for part of it; only customers holding all of it come back.
    assert ids_for(db, owner, "ria.garcia@example.com") == [shop["garcia"]]
    assert ids_for(db, owner, "ria.garcia@example.org") == []
    assert svc.fragment_probe("ria.garcia@example.com") == "ia.garcia@"


def test_the_end_of_the_part_before_the_at_sign(db, owner, shop):
    underscore = add(db, owner, "Anna", "Berg", email="anna_b@example.org")
    lookalike = add(db, owner, "Anna", "Borg", email="annaxb@example.org")
    hit = first_hit(db, owner, "rcia@")
    assert (hit.id, hit.match, hit.rank) == (shop["garcia"], "email", svc.FRAGMENT)
    assert ids_for(db, owner, "rcia@exa") == [shop["garcia"]]
    assert ids_for(db, owner, "rcia@exb") == []  # the domain must start so too
    # An underscore is a character of the address, not a wildcard.
    assert ids_for(db, owner, "na_b@") == [underscore]
    assert ids_for(db, owner, "naxb@example.org") == [lookalike]


def test_an_exact_email_leaves_out_addresses_that_only_end_the_same(db, owner):
    anna = add(db, owner, "Anna", "Berg", email="anna@example.com")
    joanna = add(db, owner, "Joanna", "Lind", email="joanna@example.com")
    assert ids_for(db, owner, "anna@example.com") == [anna]
    hits = svc.search_customers(db, actor=owner, query="anna@example")
    assert [(h.id, h.rank) for h in hits] == [(anna, svc.PREFIX), (joanna, svc.FRAGMENT)]


def test_a_fragment_inside_a_word_follows_edits_and_unused_words_leave(db, owner, shop):
    cid = shop["blacksmith"]
    detail = svc.get_customer(db, actor=owner, customer_id=cid)
    svc.update_customer(db, actor=owner, customer_id=cid, expected_version=detail.version,
                        changes={"last_name": "Goldsmith"})
    assert ids_for(db, owner, "oldsmi") == [cid]
    assert ids_for(db, owner, "lacksmi") == []
    assert set(ids_for(db, owner, "mith")) == {shop["smith"], cid}
    with db.engine.connect() as c:
        words = set(c.execute(select(CustomerSearchWord.word)).scalars())
    assert {"goldsmith", "smith"} <= words and "blacksmith" not in words


def test_a_fragment_inside_a_word_is_found_for_many_customers(db, owner):
    ids = {add(db, owner, "Kim", f"Hallworth{i}") for i in range(25)}
    hits = svc.search_customers(db, actor=owner, query="llwort", limit=30)
    assert {h.id for h in hits} == ids
    assert all(h.rank == svc.FRAGMENT and h.match == "text" for h in hits)
    assert len(svc.search_customers(db, actor=owner, query="llwort")) == 20


def test_migration_0004_empties_the_index_and_a_rebuild_restores_it(sqlite_db):
    from alembic import command

    from backoffice import migrations

    owner = make_staff(sqlite_db, Role.OWNER)
    cid = add(sqlite_db, owner, "Anna", "Blacksmith", email="anna.b@example.org")
    with sqlite_db.engine.connect() as conn:
        command.downgrade(migrations.config(conn), "0003")
        conn.commit()
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master").fetchall()}
    assert "customer_search_word" not in names
    assert migrations.upgrade(sqlite_db)
    assert search_index_needs_rebuild(sqlite_db)
    assert svc.search_customers(sqlite_db, actor=owner, query="lacksmi") == []
    rebuild_search_index(sqlite_db)
    assert not search_index_needs_rebuild(sqlite_db)
    assert ids_for(sqlite_db, owner, "lacksmi") == [cid]
    assert ids_for(sqlite_db, owner, "na.b@") == [cid]


def test_a_fragment_across_the_punctuation_of_an_email(db, owner, shop):
    hit = first_hit(db, owner, "ria.gar")
    assert (hit.id, hit.match, hit.rank) == (shop["garcia"], "email", svc.FRAGMENT)
    assert ids_for(db, owner, "n.smi") == [shop["smith"]]
    assert ids_for(db, owner, "j.mue") == [shop["muller"]]
    assert ids_for(db, owner, "ria.gax") == []
    # Typed without its dot, the address is found too.
    hit = first_hit(db, owner, "riagarc")
    assert (hit.id, hit.match, hit.rank) == (shop["garcia"], "text", svc.FRAGMENT)
    # A dot is not a wildcard: "ria-gar" and "riaXgar" are other addresses.
    dashed = add(db, owner, "Lucia", "Vega", email="lu.ria-gar@example.net")
    assert ids_for(db, owner, "ria-gar") == [dashed]
    assert set(ids_for(db, owner, "riagar")) == {shop["garcia"], dashed}


def test_a_fragment_reaching_far_before_the_punctuation_is_checked_whole(db, owner):
    patricia = add(db, owner, "Patricia", "Garza", email="patricia.garza@example.com")
    alicia = add(db, owner, "Alicia", "Garza", email="alicia.garza@example.com")
    lucia = add(db, owner, "Lucía", "Garzón", email="lu-cia_garzon@example.com")
    assert ids_for(db, owner, "tricia.garz") == [patricia]
    assert ids_for(db, owner, "alicia.ga") == [alicia]
    assert set(ids_for(db, owner, "cia.garz")) == {patricia, alicia}
    assert set(ids_for(db, owner, "a.garza")) == {patricia, alicia}
    assert ids_for(db, owner, "cia_garz") == [lucia]
    assert ids_for(db, owner, "lu-cia_g") == [lucia]
    assert ids_for(db, owner, "xtricia.garz") == []
    # Past the "@": the domain is not cut into joint terms, the fragment index has it.
    assert len(ids_for(db, owner, "example.co")) == 3


def test_postgresql_asks_the_trigram_index_for_a_fragment_squashed():
    assert svc.fragment_probe("ria.gar", postgres=True) == "riagar"
    assert svc.fragment_probe("ria.gar") == "ria.gar"
    # Words apart keep their space; too little left keeps the fragment as typed.
    assert svc.fragment_probe("ria gar", postgres=True) == "ria gar"
    assert svc.fragment_probe("a.b", postgres=True) == "a.b"
    assert svc.fragment_probe("maria.garcia.lopez", postgres=True) == "mariagarci"


def test_migration_0006_empties_the_index_and_a_rebuild_restores_it(sqlite_db):
    from alembic import command

    from backoffice import migrations

    owner = make_staff(sqlite_db, Role.OWNER)
    cid = add(sqlite_db, owner, "María", "García", email="maria.garcia@example.com")
    with sqlite_db.engine.connect() as conn:
        command.downgrade(migrations.config(conn), "0005")
        conn.commit()
    assert migrations.upgrade(sqlite_db)
    assert search_index_needs_rebuild(sqlite_db)
    rebuild_search_index(sqlite_db)
    assert ids_for(sqlite_db, owner, "riagar") == [cid]


def test_email_joint_terms_start_just_before_each_punctuation():
    from backoffice.domain.search import email_joint_terms

    assert email_joint_terms("maria.garcia@example.com") == [
        "a.garcia@example.com", "ia.garcia@example.com", "ria.garcia@example.com am"]
    assert email_joint_terms("j.mueller@example.de") == ["j.mueller@example.de"]
    assert email_joint_terms("anna@example.org") == []


@pytest.mark.parametrize("query, who", [
    ("mar gar", "garcia"),
    ("gar mar", "garcia"),
    ("Jür Mül", "muller"),
    ("jo smi", "smith"),
    ("smi jo", "smith"),
])
def test_the_beginnings_of_first_and_last_name(db, owner, shop, query, who):
    hit = first_hit(db, owner, query)
    assert (hit.id, hit.match, hit.rank) == (shop[who], "name", svc.PREFIX)


def test_the_beginnings_of_two_words_find_many_customers(db, owner):
    ids = {add(db, owner, first, "Hallworth") for first in ("Maria", "Mark", "Martin", "Marlene")}
    add(db, owner, "Maria", "Holt")
    add(db, owner, "Anna", "Hallworth")
    assert set(ids_for(db, owner, "mar hallw")) == ids
    assert set(ids_for(db, owner, "hallw mar")) == ids
