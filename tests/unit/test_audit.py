"""The audit trail: the owner reads it page by page, nobody else can, it holds no personal
values, the app cannot change it, and tampering with the file is found."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, text, update

from backoffice import cli, secrets
from backoffice.domain.audit import AuditEvent
from backoffice.domain.base import utcnow
from backoffice.domain.enums import AuditOutcome, Role
from backoffice.errors import PermissionDenied, ValidationError
from backoffice.services import audit, staff

OWNER_PW = "owner-password-1"


pytestmark = pytest.mark.usefixtures("fast_hashing")


def add_events(db, actor, n, *, action="view_customer", customer_id=None):
    with db.begin() as s:
        for i in range(n):
            audit.record(s, actor, action, entity_type="customer", entity_id=i,
                         customer_id=customer_id, fields=["email"])


def all_ids(db) -> list[int]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


# --- who may read it ----------------------------------------------------------------------

@pytest.mark.parametrize("who", ["staff", "order_taker"])
def test_only_the_owner_reads_the_audit_trail(db, owner, who, request):
    actor = request.getfixturevalue(who)
    add_events(db, owner, 2)
    with pytest.raises(PermissionDenied, match="read the audit trail"):
        audit.list_events(db, actor=actor)
    rows = audit.list_events(db, actor=owner)
    assert rows[0].action == "denied:read_audit"
    assert rows[0].staff_id == actor.staff_id and rows[0].outcome is AuditOutcome.DENIED
    assert rows[0].staff_login == actor.login


def test_pages_go_back_in_time_by_id_without_gaps_or_repeats(db, owner):
    add_events(db, owner, 25)
    seen, before = [], None
    while True:
        page = audit.list_events(db, actor=owner, before_id=before, limit=10)
        if not page:
            break
        assert len(page) <= 10
        assert [r.id for r in page] == sorted((r.id for r in page), reverse=True)
        seen += [r.id for r in page]
        before = page[-1].id
    assert seen == sorted(all_ids(db), reverse=True)
    assert len(seen) == 25


def test_filters_by_staff_customer_action_and_dates(db, owner, staff):
    add_events(db, owner, 3, customer_id=7)
    add_events(db, staff, 2, customer_id=8)
    add_events(db, staff, 1, action="view_order", customer_id=7)
    with pytest.raises(PermissionDenied):
        audit.list_events(db, actor=staff)

    def ids(**kw):
        return len(audit.list_events(db, actor=owner, **kw))

    assert ids(staff_id=staff.staff_id) == 4  # three views and the refusal
    assert ids(customer_id=7) == 4
    assert ids(customer_id=7, staff_id=staff.staff_id) == 1
    assert ids(action="view_order") == 1
    assert ids(action=audit.ANY_DENIED) == 1
    now = utcnow()
    assert ids(since=now - timedelta(minutes=5)) == 7
    assert ids(since=now + timedelta(minutes=5)) == 0
    assert ids(until=now - timedelta(minutes=5)) == 0
    rows = audit.list_events(db, actor=owner, customer_id=8)
    assert rows[0].fields == ("email",) and rows[0].entity_type == "customer"
    assert rows[0].action_label == audit.action_label("view_customer")


def test_the_filter_offers_every_known_action():
    actions = audit.audit_actions()
    assert actions[0] == audit.ANY_DENIED
    for name in ("login", "login_failed", "login_locked", "staff_added", "denied:export_personal_data"):
        assert name in actions
    assert audit.action_label("denied:erase_personal_data") == "Refused: erase personal data"
    assert audit.action_label("login_locked") == "Account locked"
    # An action nobody named yet still reads as words.
    assert audit.action_label("print_carrier_labels") == "Print carrier labels"


def test_the_filter_also_offers_actions_found_in_the_trail(db, owner):
    add_events(db, owner, 1, action="print_carrier_labels")
    assert "print_carrier_labels" not in audit.audit_actions()
    assert "print_carrier_labels" in audit.audit_actions(db)


# --- append-only, names only ----------------------------------------------------------------

def test_the_app_cannot_change_or_delete_audit_events(db, owner):
    add_events(db, owner, 3)
    with pytest.raises(audit.AuditTamperingRefused):
        with db.begin() as s:
            s.get(AuditEvent, 2).action = "nothing_happened"
    with pytest.raises(audit.AuditTamperingRefused):
        with db.begin() as s:
            s.delete(s.get(AuditEvent, 2))
    with pytest.raises(audit.AuditTamperingRefused):
        with db.begin() as s:
            s.execute(update(AuditEvent).where(AuditEvent.id == 1).values(customer_id=5))
    with pytest.raises(audit.AuditTamperingRefused):
        with db.begin() as s:
            s.execute(delete(AuditEvent))
    assert all_ids(db) == [1, 2, 3]
    with db.read() as s:
        assert audit.verify_chain(s).ok


@pytest.mark.parametrize("kwargs", [
    {"action": "looked at anna@example.com"},
    {"action": "view_customer", "fields": ["anna@example.com"]},
    {"action": "view_customer", "fields": ["+1 713 555 0100"]},
    {"action": "view_customer", "fields": ["Anna Smith"]},
    {"action": "view_customer", "entity_type": "customer Anna"},
])
def test_record_refuses_what_looks_like_a_value(db, owner, kwargs):
    with pytest.raises(ValueError) as err:
        with db.begin() as s:
            audit.record(s, owner, **kwargs)
    assert "anna" not in str(err.value).lower() and "713" not in str(err.value)
    assert all_ids(db) == []


def test_the_trail_holds_none_of_the_personal_values_used(db):
    values = {
        "owner login": "m.kowalska",
        "owner name": "Małgorzata Kowalska",
        "owner password": "Zielona-Herbata-42",
        "clerk login": "j.nowak",
        "clerk name": "Jan Nowak-Wiśniewski",
        "clerk password": "Czerwone-Wino-77",
        "clerk's own password": "Niebieskie-Niebo-9",
        "wrong password": "Żółty-Ser-Gouda",
        "mistyped login": "m.kowalskaa",
        "reset password": "Tymczasowe-Haslo-5",
    }
    owner = staff.create_first_owner(db, login=values["owner login"], display_name=values["owner name"],
                                     password=values["owner password"], desk="front")
    clerk = staff.add_staff(db, actor=owner, login=values["clerk login"], display_name=values["clerk name"],
                            role=Role.ORDER_TAKER, password=values["clerk password"])
    clerk_actor = staff.authenticate(db, login=values["clerk login"], password=values["clerk password"],
                                     desk="back")
    staff.change_own_password(db, actor=clerk_actor, old=values["clerk password"],
                              new=values["clerk's own password"])
    with pytest.raises(ValidationError):
        staff.change_own_password(db, actor=clerk_actor, old=values["wrong password"],
                                  new=values["reset password"])
    with pytest.raises(staff.SignInRefused):
        staff.authenticate(db, login=values["mistyped login"], password=values["owner password"], desk="d")
    for _ in range(3):
        with pytest.raises(staff.SignInRefused):
            staff.authenticate(db, login=values["clerk login"], password=values["wrong password"], desk="d")
    assert not staff.verify_password(db, actor=owner, password=values["wrong password"])
    staff.reset_password(db, actor=owner, staff_id=clerk.id, new_password=values["reset password"])
    staff.change_role(db, actor=owner, staff_id=clerk.id, role=Role.STAFF)
    staff.disable_staff(db, actor=owner, staff_id=clerk.id)
    with pytest.raises(PermissionDenied):
        audit.list_events(db, actor=clerk_actor)
    staff.sign_out(db, actor=owner)

    with db.engine.connect() as c:
        rows = c.execute(text("SELECT * FROM audit_events")).all()
    assert len(rows) >= 15
    dump = "\n".join(" ".join("" if v is None else str(v) for v in row) for row in rows).casefold()
    for label, value in values.items():
        assert value.casefold() not in dump, f"the audit trail holds the {label}"
    for part in ("kowalsk", "nowak", "herbata", "wino", "gouda"):
        assert part not in dump


# --- the command line ---------------------------------------------------------------------

def run_cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "backoffice", *args],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_audit_verify_finds_a_row_changed_in_the_file(sqlite_db, owner_in_file):
    add_events(sqlite_db, owner_in_file, 6, customer_id=3)
    url = sqlite_db.url
    sqlite_db.dispose()
    # A fresh process has no keyring here: the key comes as a cron job's would.
    with sqlite_db.read() as s:
        key_env = {"BACKOFFICE_AUDIT_KEY": secrets.audit_key(audit.database_name(s))}
    ok = run_cli("audit", "verify", "--db", url, env=key_env)
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout and "(8 entries checked)" in ok.stdout

    con = sqlite3.connect(sqlite_db.sqlite_path)
    with con:
        con.execute("UPDATE audit_events SET customer_id = 4 WHERE id = 5")
    con.close()
    broken = run_cli("audit", "verify", "--db", url, env=key_env)
    assert broken.returncode == 1
    assert "broken at entry 5" in broken.stdout
    assert "4 entries before it are intact" in broken.stdout


def test_audit_verify_finds_a_removed_row(sqlite_db, owner_in_file):
    add_events(sqlite_db, owner_in_file, 4)
    sqlite_db.dispose()
    con = sqlite3.connect(sqlite_db.sqlite_path)
    with con:
        con.execute("DELETE FROM audit_events WHERE id = 3")
    con.close()
    assert cli.main(["audit", "verify", "--db", sqlite_db.url]) == 1


@pytest.fixture
def owner_in_file(sqlite_db):
    return staff.create_first_owner(sqlite_db, login="boss", display_name="Owner", password=OWNER_PW)


def test_audit_list_needs_the_owners_password(sqlite_db, owner_in_file, monkeypatch, capsys):
    add_events(sqlite_db, owner_in_file, 2, customer_id=42)
    add_events(sqlite_db, owner_in_file, 1, customer_id=43)
    url = sqlite_db.url
    monkeypatch.setenv("BACKOFFICE_PASSWORD", "not-the-password")
    assert cli.main(["audit", "list", "--db", url, "--as", "boss"]) == 1
    assert "password is wrong" in capsys.readouterr().err
    monkeypatch.setenv("BACKOFFICE_PASSWORD", OWNER_PW)
    assert cli.main(["audit", "list", "--db", url, "--as", "boss", "--customer", "42"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and all("customer 42" in line and "view_customer" in line for line in lines)
    assert cli.main(["audit", "list", "--db", url, "--as", "boss", "--limit", "1"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and " login " in out[0]


def test_audit_list_as_nobody_is_a_sentence(sqlite_db, owner_in_file, monkeypatch, capsys):
    monkeypatch.delenv("BACKOFFICE_LOGIN", raising=False)
    monkeypatch.setenv("BACKOFFICE_PASSWORD", OWNER_PW)
    assert cli.main(["audit", "list", "--db", sqlite_db.url]) == 1
    assert "--as LOGIN" in capsys.readouterr().err

