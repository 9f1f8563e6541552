"""PostgreSQL connections cut off under the desk (a restarted server, a killed backend):
the next search still answers, without a ping before every search."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from backoffice import db as dbmod
from backoffice.db import Database, create_db_engine
from backoffice.domain.enums import Role
from backoffice.services import customers as svc
from tests.conftest import _truncate_all, make_staff


@pytest.fixture
def pg(pg_database_url):
    database = Database(url=pg_database_url, engine=create_db_engine(pg_database_url))
    _truncate_all(database)
    yield database
    database.dispose()


def _kill_backends(url: str) -> int:
    """Terminate every server process serving `url`'s database, from another connection."""
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            return c.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalar_one()
    finally:
        admin.dispose()


def _fill_pool(db: Database, n: int = 3) -> None:
    conns = [db.engine.raw_connection() for _ in range(n)]
    for c in conns:
        c.close()


def _setup(db: Database):
    owner = make_staff(db, Role.OWNER)
    cid = svc.create_customer(db, actor=owner, first_name="Maria", last_name="García",
                              email="maria.garcia@example.com", phone="+1 713 555 0199").customer.id
    return owner, cid


def test_a_search_answers_after_the_server_cut_every_connection(pg):
    owner, cid = _setup(pg)
    _fill_pool(pg)
    assert [h.id for h in svc.search_customers(pg, actor=owner, query="garcia")] == [cid]
    assert _kill_backends(pg.url) >= 1

    assert [h.id for h in svc.search_customers(pg, actor=owner, query="0199")] == [cid]
    # The other pooled connections were dead too: they are checked and replaced before
    # their next use, so work that is not retried also succeeds at once.
    assert svc.get_customer(pg, actor=owner, customer_id=cid).profile.email == "maria.garcia@example.com"
    assert [h.id for h in svc.search_customers(pg, actor=owner, query="maria.garcia@")] == [cid]


def test_a_connection_left_idle_is_checked_before_use(pg, monkeypatch):
    owner, cid = _setup(pg)
    _fill_pool(pg)
    monkeypatch.setattr(dbmod, "IDLE_CHECK_AFTER", 0.0)
    _kill_backends(pg.url)
    # Not a search (no second try): the checkout itself found the dead connection.
    assert svc.get_customer(pg, actor=owner, customer_id=cid).profile.last_name == "García"


def test_searches_in_a_row_do_not_ping_the_server(pg, monkeypatch):
    owner, _cid = _setup(pg)
    pings = []
    real = pg.engine.dialect.do_ping
    monkeypatch.setattr(pg.engine.dialect, "do_ping", lambda conn: pings.append(1) or real(conn))
    for query in ("garcia", "0199", "maria", "example.com", "713"):
        svc.search_customers(pg, actor=owner, query=query)
    assert pings == []


def test_when_every_try_is_cut_off_the_search_fails_with_the_database_error(pg, monkeypatch):
    owner, _cid = _setup(pg)
    calls = []
    real = svc._find

    def counted(db, query, limit):
        calls.append(query)
        return real(db, query, limit)

    # The server ends the connection in the middle of every search.
    monkeypatch.setattr(svc, "_find", counted)
    monkeypatch.setattr(svc, "_pg_search_sql", lambda *a: "SELECT pg_terminate_backend(pg_backend_pid())")
    with pytest.raises(OperationalError) as failure:
        svc.search_customers(pg, actor=owner, query="garcia")
    assert failure.value.connection_invalidated
    assert calls == ["garcia", "garcia"]  # tried once more, not forever
    monkeypatch.undo()
    assert svc.search_customers(pg, actor=owner, query="garcia")


def test_run_read_tries_again_only_after_a_cut_off_connection(pg):
    cut = DBAPIError.instance(None, None, OSError("server closed the connection"), Exception,
                              connection_invalidated=True)
    calls = []

    def once_cut():
        calls.append(1)
        if len(calls) == 1:
            raise cut
        return "answer"

    assert pg.run_read(once_cut) == "answer" and len(calls) == 2

    def broken():
        calls.append(1)
        raise ValueError("not about the connection")

    calls.clear()
    with pytest.raises(ValueError):
        pg.run_read(broken)
    assert len(calls) == 1


def test_a_desk_starts_no_parallel_workers_and_keeps_settings_given_in_its_url(pg_database_url):
    """A desk's statements read a screenful of rows: parallel workers cost more than they save.
    Server settings a shop put in the database's URL still hold."""
    url = make_url(pg_database_url).update_query_dict({"options": "-c work_mem=7MB"})
    for given in (pg_database_url, url.render_as_string(hide_password=False)):
        engine = create_db_engine(given)
        try:
            with engine.connect() as c:
                assert c.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar_one() == "0"
                if given != pg_database_url:
                    assert c.exec_driver_sql("SHOW work_mem").scalar_one() == "7MB"
        finally:
            engine.dispose()
