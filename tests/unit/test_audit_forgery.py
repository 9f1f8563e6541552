"""Forging the audit trail with write access to the database alone is found by
`audit verify`: a changed, inserted, reordered, renumbered or deleted entry, a cut
end, an emptied table, and a chain recomputed from scratch without the shop's key."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat

import pytest
from sqlalchemy import select, text

from backoffice import cli, secrets
from backoffice.domain.audit import AuditEvent
from backoffice.errors import PermissionDenied, UserFacingError
from backoffice.services import audit


def add_events(db, actor, n, *, action="view_customer"):
    with db.begin() as s:
        for i in range(n):
            audit.record(s, actor, action, entity_type="customer", entity_id=i, customer_id=i,
                         fields=["email"])


def check(db) -> audit.ChainReport:
    return audit.check_chain(db)


TABLE = AuditEvent.__table__


def rows(db) -> list[dict]:
    with db.engine.connect() as c:
        return [dict(r._mapping) for r in c.execute(select(TABLE).order_by(TABLE.c.seq))]


def insert(db, row):
    with db.engine.begin() as c:
        c.execute(TABLE.insert().values(**row))


def sql(db, statement, **params):
    with db.engine.begin() as c:
        c.execute(text(statement), params)


def digest(prev_hash, row):
    at = row["at"]
    body = json.dumps(
        [prev_hash, at.strftime("%Y-%m-%dT%H:%M:%S.%f"), row["staff_id"], row["desk"], row["action"],
         row["entity_type"], row["entity_id"], row["customer_id"], row["fields"], str(row["outcome"])],
        separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def rewrite_whole_trail(db, new_rows, *, key=b"a guess at the key, 32 bytes...."):
    """What a forger with write access does: write the rows back with every hash and MAC
    worked out again (with a key of their own, since they cannot read the desk's)."""
    sql(db, "DELETE FROM audit_events")
    prev_hash = prev_mac = ""
    for seq, row in enumerate(new_rows, start=1):
        row = dict(row, seq=seq, prev_hash=prev_hash)
        row["hash"] = digest(prev_hash, row)
        body = json.dumps([prev_mac, seq, row["id"], row["hash"]], separators=(",", ":"))
        row["mac"] = hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
        insert(db, row)
        prev_hash, prev_mac = row["hash"], row["mac"]


@pytest.fixture
def trail(db, owner):
    add_events(db, owner, 6)
    report = check(db)
    assert report.ok and report.checked == 6, report.sentence()
    return db


def test_an_untouched_trail_is_intact_and_says_so(trail):
    assert check(trail).sentence() == "The audit trail is intact (6 entries checked)."


def test_a_changed_entry_is_found(trail):
    sql(trail, "UPDATE audit_events SET outcome = 'ok', action = 'view_order' WHERE seq = 3")
    report = check(trail)
    assert not report.ok and report.first_bad_id == rows(trail)[2]["id"]
    assert "content does not match" in report.reason


def test_a_changed_entry_with_the_chain_recomputed_is_found(trail):
    # The forger deletes a refusal's traces by rewriting it as a plain view and works
    # every hash out again: the MACs need the key, which is not in the database.
    forged = rows(trail)
    forged[2]["customer_id"] = 999
    rewrite_whole_trail(trail, forged)
    report = check(trail)
    assert not report.ok and report.first_bad_id == forged[0]["id"]
    assert "MAC does not match" in report.reason


def test_an_emptied_table_refilled_from_scratch_is_found(trail, owner):
    sql(trail, "DELETE FROM audit_events")
    assert "saw it reach number 6" in check(trail).reason
    # Even the app writing on from nothing does not hide it.
    add_events(trail, owner, 2)
    report = check(trail)
    assert not report.ok and "saw it reach number 6" in report.reason


def test_an_inserted_entry_is_found(trail):
    forged = rows(trail)
    # A sign-in that never happened, slipped in as entry 4 with a hash that fits and
    # the MAC of a real entry (the only kind the forger has).
    extra = dict(forged[3], id=forged[-1]["id"] + 1, action="login", seq=4)
    extra["hash"] = digest(forged[2]["hash"], extra)
    sql(trail, "DELETE FROM audit_events WHERE seq > 3")
    later = [extra] + [dict(r, id=r["id"] + 100, seq=r["seq"] + 1) for r in forged[3:]]
    for row in later:
        insert(trail, row)
    report = check(trail)
    assert not report.ok and report.first_bad_id == extra["id"]
    assert "MAC does not match" in report.reason


def test_a_deleted_entry_is_found_even_with_the_numbers_closed_up(trail):
    ids = [r["id"] for r in rows(trail)]
    sql(trail, "DELETE FROM audit_events WHERE seq = 4")
    report = check(trail)
    assert not report.ok and report.first_bad_id == ids[4]
    assert "number 4 to 4 are missing" in report.reason
    # Closing the gap in the numbers and relinking the hash does not help.
    sql(trail, "UPDATE audit_events SET seq = seq - 1 WHERE seq > 4")
    later = rows(trail)
    sql(trail, "UPDATE audit_events SET prev_hash = :h WHERE id = :i", h=later[2]["hash"], i=later[3]["id"])
    report = check(trail)
    assert not report.ok and report.first_bad_id == ids[4]


def test_reordered_entries_are_found(trail):
    before = rows(trail)
    # Swap the contents of entries 2 and 3, ids and all, keeping the numbering.
    a, b = before[1], before[2]
    sql(trail, "UPDATE audit_events SET seq = 1000 WHERE id = :i", i=a["id"])
    sql(trail, "UPDATE audit_events SET seq = 2 WHERE id = :i", i=b["id"])
    sql(trail, "UPDATE audit_events SET seq = 3 WHERE id = :i", i=a["id"])
    report = check(trail)
    assert not report.ok and report.first_bad_id == b["id"]


def test_an_entry_whose_id_alone_changed_is_found(trail):
    r = rows(trail)[5]
    sql(trail, "UPDATE audit_events SET id = :new WHERE id = :old", new=r["id"] + 50, old=r["id"])
    report = check(trail)
    assert not report.ok and report.first_bad_id == r["id"] + 50
    assert "MAC does not match" in report.reason


def test_a_cut_end_is_found(trail):
    sql(trail, "DELETE FROM audit_events WHERE seq > 4")
    report = check(trail)
    assert not report.ok and report.first_bad_id is None
    assert "ends at entry number 4, but this desk saw it reach number 6" in report.reason


def test_a_refusal_cut_from_the_end_is_found(trail, order_taker):
    with pytest.raises(PermissionDenied):
        audit.list_events(trail, actor=order_taker)
    assert rows(trail)[-1]["action"] == "denied:read_audit"
    sql(trail, "DELETE FROM audit_events WHERE seq = 7")
    report = check(trail)
    assert not report.ok and "saw it reach number 7" in report.reason


def test_an_entry_written_without_the_key_is_reported(trail, owner, memory_keyring):
    memory_keyring.items.clear()
    add_events(trail, owner, 1)
    report = check(trail)
    assert not report.ok and "has not got the shop's audit key" in report.reason


def test_the_checkpoint_is_owner_only_and_names_the_latest_entry(trail):
    with trail.read() as s:
        path = audit.checkpoint_path(audit.database_name(s))
    data = json.loads(path.read_text())
    assert data["seq"] == 6 and data["id"] == rows(trail)[-1]["id"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert secrets.audit_key(data["database"]) not in path.read_text()


def test_verify_from_the_command_line_names_the_problem(trail, capsys):
    url = trail.url
    assert cli.main(["audit", "verify", "--db", url]) == 0
    assert "intact (6 entries checked)" in capsys.readouterr().out
    sql(trail, "DELETE FROM audit_events WHERE seq > 2")
    assert cli.main(["audit", "verify", "--db", url]) == 1
    assert "this desk saw it reach number 6" in capsys.readouterr().out


def test_a_second_desk_set_up_with_the_key_checks_and_extends_the_trail(trail, owner, memory_keyring,
                                                                        capsys, monkeypatch, tmp_path):
    key_text = audit.export_audit_key(trail, actor=owner)
    # The second desk: its own keyring and data folder.
    memory_keyring.items.clear()
    monkeypatch.setenv("BACKOFFICE_DATA_DIR", str(tmp_path / "desk2"))
    report = check(trail)
    assert not report.ok and "has not got the shop's audit key" in report.reason
    with pytest.raises(UserFacingError, match="does not check this database"):
        audit.import_audit_key(trail, key_text=key_text[:-8] + "00000000")
    assert "keyring" in audit.import_audit_key(trail, key_text=key_text)
    report = check(trail)
    assert report.ok and "kept no checkpoint" in report.sentence()
    add_events(trail, owner, 2)
    assert check(trail).sentence() == "The audit trail is intact (9 entries checked)."


def test_only_the_owner_exports_the_key(trail, staff):
    with pytest.raises(PermissionDenied, match="may not change the shop's settings"):
        audit.export_audit_key(trail, actor=staff)
    assert rows(trail)[-1]["action"] == "denied:manage_settings"


def test_a_trail_begun_before_keys_is_keyed_from_the_next_entry(db, owner, memory_keyring):
    # Entries as an older version wrote them: chained by hash only, no MAC.
    add_events(db, owner, 3)
    memory_keyring.items.clear()
    with db.read() as s:
        audit.checkpoint_path(audit.database_name(s)).unlink()
    sql(db, "UPDATE audit_events SET mac = ''")
    report = check(db)
    assert report.ok and "not keyed yet" in report.sentence()
    add_events(db, owner, 2)
    report = check(db)
    assert report.ok, report.sentence()
    assert "Entries 1 to 3 were written before the trail was keyed" in report.sentence()
    # The early entries are covered by the keyed ones after them.
    sql(db, "UPDATE audit_events SET customer_id = 77 WHERE seq = 2")
    assert not check(db).ok


def test_an_older_database_is_numbered_on_upgrade_and_keyed_from_then_on(tmp_path, memory_keyring):
    from datetime import datetime, timezone

    from backoffice import migrations
    from backoffice.db import Database, create_db_engine
    from tests.conftest import make_staff
    from backoffice.domain.enums import Role

    url = f"sqlite:///{tmp_path}/old.db"
    old = Database(url=url, engine=create_db_engine(url))
    migrations.upgrade(old, "0006")
    # Three entries as the version before wrote them: a hash chain only.
    prev = ""
    with old.engine.begin() as c:
        for i in range(1, 4):
            row = {"id": i, "at": datetime(2026, 11, 1, 9, i, tzinfo=timezone.utc).replace(tzinfo=None),
                   "staff_id": None, "desk": "front", "action": "login_failed", "entity_type": "staff",
                   "entity_id": None, "customer_id": None, "fields": "[]", "outcome": "failed"}
            row["hash"] = digest(prev, row)
            c.execute(text("INSERT INTO audit_events (id, at, staff_id, desk, action, entity_type, entity_id, "
                           "customer_id, fields, outcome, prev_hash, hash) VALUES (:id, :at, :staff_id, :desk, "
                           ":action, :entity_type, :entity_id, :customer_id, :fields, :outcome, :prev, :hash)"),
                      {**row, "prev": prev})
            prev = row["hash"]
    migrations.upgrade(old)
    assert [r["seq"] for r in rows(old)] == [1, 2, 3] and all(r["mac"] == "" for r in rows(old))
    report = check(old)
    assert report.ok and "not keyed yet" in report.sentence(), report.sentence()
    add_events(old, make_staff(old, Role.OWNER), 2)
    report = check(old)
    assert report.ok and report.checked == 5
    assert "Entries 1 to 3 were written before the trail was keyed" in report.sentence()
    old.dispose()


def test_a_desk_without_a_keyring_does_not_start_a_key_it_would_lose(db, owner, memory_keyring, monkeypatch):
    monkeypatch.setattr(secrets, "keyring_available", lambda: False)
    add_events(db, owner, 2)
    assert [r["mac"] for r in rows(db)] == ["", ""] and not memory_keyring.items
    assert "not keyed yet" in check(db).sentence()
    # The first desk that can keep the key starts the keyed trail.
    monkeypatch.setattr(secrets, "keyring_available", lambda: True)
    add_events(db, owner, 1)
    report = check(db)
    assert report.ok and "Entries 1 to 2 were written before the trail was keyed" in report.sentence()
