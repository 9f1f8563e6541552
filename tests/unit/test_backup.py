"""Backups: a round trip gives the shop back as it was; a newer backup is refused."""

from __future__ import annotations

import sqlite3
import stat

import pytest
from sqlalchemy import func, select

from backoffice.domain.customers import Customer
from backoffice.domain.enums import Role
from backoffice.errors import DatabaseTooNew, PermissionDenied, UserFacingError
from backoffice.services import backup, customers
from tests.conftest import make_staff


def _count(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Customer))


def test_backup_then_restore_gives_the_shop_back_as_it_was(sqlite_db, tmp_path):
    db = sqlite_db
    owner = make_staff(db, Role.OWNER, "owner")
    customers.create_customer(db, actor=owner, first_name="Ada", last_name="Byron")
    out = tmp_path / "shop-backup.db"
    info = backup.backup_database(actor=owner, db=db, out=out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert str(out.resolve()) in [b.path for b in backup.list_backups(actor=owner, db=db)]
    assert info.size > 0

    customers.create_customer(db, actor=owner, first_name="Made", last_name="Later")
    assert _count(db) == 2
    kept = backup.restore_database(actor=owner, db=db, backup=out)
    assert _count(db) == 1
    # The database as it was before the restore is kept, with the later customer in it.
    with sqlite3.connect(kept.path) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 2


def test_a_backup_never_replaces_a_file_unasked_nor_the_database(sqlite_db, tmp_path):
    owner = make_staff(sqlite_db, Role.OWNER, "owner")
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    with pytest.raises(UserFacingError):
        backup.backup_database(actor=owner, db=sqlite_db, out=existing)
    assert existing.read_text() == "keep me"
    with pytest.raises(UserFacingError):
        backup.backup_database(actor=owner, db=sqlite_db, out=sqlite_db.sqlite_path, replace=True)


def test_a_backup_from_a_newer_version_is_refused(sqlite_db, tmp_path):
    owner = make_staff(sqlite_db, Role.OWNER, "owner")
    out = tmp_path / "b.db"
    backup.backup_database(actor=owner, db=sqlite_db, out=out)
    with sqlite3.connect(out) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    customers.create_customer(sqlite_db, actor=owner, first_name="Still", last_name="Here")
    with pytest.raises(DatabaseTooNew):
        backup.restore_database(actor=owner, db=sqlite_db, backup=out)
    assert _count(sqlite_db) == 1


def test_a_file_that_is_not_a_shop_is_refused(sqlite_db, tmp_path):
    owner = make_staff(sqlite_db, Role.OWNER, "owner")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(UserFacingError, match="not a backup"):
        backup.restore_database(actor=owner, db=sqlite_db, backup=junk)


@pytest.mark.parametrize("role", [Role.STAFF, Role.ORDER_TAKER])
def test_only_the_owner_backs_up(sqlite_db, tmp_path, role):
    someone = make_staff(sqlite_db, role)
    with pytest.raises(PermissionDenied):
        backup.backup_database(actor=someone, db=sqlite_db, out=tmp_path / "b.db")
    assert not (tmp_path / "b.db").exists()


def test_postgresql_is_pointed_to_pg_dump(db, owner, tmp_path):
    if db.backend != "postgresql":
        pytest.skip("about PostgreSQL")
    with pytest.raises(UserFacingError, match="pg_dump"):
        backup.backup_database(actor=owner, db=db, out=tmp_path / "b.db")


def test_the_command_line_round_trip(tmp_path, monkeypatch, capsys):
    from backoffice import cli
    from backoffice.db import open_database

    url = f"sqlite:///{tmp_path / 'shop.db'}"
    db = open_database(url)
    from backoffice.services import staff

    staff.create_first_owner(db, login="boss", display_name="Boss", password="a long enough password", desk="t")
    db.dispose()
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "a long enough password")
    out = tmp_path / "b.db"
    assert cli.main(["backup", "--db", url, "--as", "boss", "--out", str(out)]) == 0
    assert out.exists()
    assert cli.main(["backup", "--db", url, "--as", "boss", "--out", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["restore", str(out), "--db", url, "--as", "boss"]) == 0
    assert "kept at" in capsys.readouterr().out
