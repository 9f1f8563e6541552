"""Staff accounts: first owner, sign-in and lockout, passwords, roles and who may manage them."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from backoffice import cli
from backoffice.domain.audit import AuditEvent
from backoffice.domain.base import utcnow
from backoffice.domain.enums import AuditOutcome, Role
from backoffice.domain.staff import ROLE_PERMISSIONS, Permission, StaffUser
from backoffice.errors import PermissionDenied, UserFacingError, ValidationError
from backoffice.services import staff

OWNER_PW = "owner-password-1"
NEW_PW = "a-fresh-password-2"


pytestmark = pytest.mark.usefixtures("fast_hashing")


def events(db, action: str | None = None) -> list[AuditEvent]:
    with db.read() as s:
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        rows = list(s.scalars(stmt))
        s.expunge_all()
        return rows


def stored_user(db, staff_id: int) -> StaffUser:
    with db.read() as s:
        user = s.get(StaffUser, staff_id)
        s.expunge_all()
        return user


@pytest.fixture
def real_owner(db):
    return staff.create_first_owner(db, login="Boss", display_name="Shop Owner", password=OWNER_PW,
                                    desk="front")


def add(db, owner, login, role=Role.STAFF, password=NEW_PW):
    return staff.add_staff(db, actor=owner, login=login, display_name=login.title(), role=role,
                           password=password)


# --- first owner -------------------------------------------------------------------------

def test_a_new_database_asks_for_its_first_owner_once(db):
    assert staff.needs_first_owner(db)
    actor = staff.create_first_owner(db, login="  Boss ", display_name="Shop Owner",
                                     password=OWNER_PW, desk="front")
    assert actor.role is Role.OWNER and actor.login == "boss" and actor.desk == "front"
    assert not staff.needs_first_owner(db)
    with pytest.raises(UserFacingError, match="already has staff"):
        staff.create_first_owner(db, login="other", display_name="Other", password=OWNER_PW)
    assert [e.action for e in events(db)] == ["staff_added", "login"]
    assert stored_user(db, actor.staff_id).password_hash.startswith("$argon2id$")


def test_first_owner_details_are_checked_field_by_field(db):
    with pytest.raises(ValidationError) as err:
        staff.create_first_owner(db, login="boss", display_name="Owner", password="short-pw")
    assert set(err.value.fields) == {"password"}
    assert "10 characters" in err.value.fields["password"]
    with pytest.raises(ValidationError) as err:
        staff.create_first_owner(db, login="two words", display_name=" ", password=OWNER_PW)
    assert set(err.value.fields) == {"login", "display_name"}
    assert staff.needs_first_owner(db)


def test_password_rules():
    assert staff.password_problem("123456789") == "Use at least 10 characters."
    assert staff.password_problem("1234567890") is None
    assert staff.password_problem(" " * 12) is not None


def test_production_hashing_is_argon2id_with_real_cost():
    params = staff._PRODUCTION_PARAMETERS
    assert params["memory_cost"] >= 65536 and params["time_cost"] >= 2
    assert PasswordHasher(**params).hash("x" * 12).startswith("$argon2id$v=19$m=65536")


# --- signing in ----------------------------------------------------------------------------

def test_sign_in_returns_who_is_at_the_desk_and_is_audited(db, real_owner):
    actor = staff.authenticate(db, login="BOSS", password=OWNER_PW, desk="desk-2")
    assert (actor.staff_id, actor.role, actor.desk) == (real_owner.staff_id, Role.OWNER, "desk-2")
    last = events(db)[-1]
    assert (last.action, last.staff_id, last.desk, last.outcome) == (
        "login", real_owner.staff_id, "desk-2", AuditOutcome.OK)
    assert stored_user(db, actor.staff_id).last_login_at is not None


def test_unknown_login_is_refused_like_a_wrong_password(db, real_owner):
    with pytest.raises(staff.SignInRefused) as unknown:
        staff.authenticate(db, login="nobody", password=OWNER_PW, desk="d")
    with pytest.raises(staff.SignInRefused) as wrong:
        staff.authenticate(db, login="boss", password="not-the-password", desk="d")
    assert unknown.value.message == wrong.value.message
    failed = events(db, "login_failed")
    assert [e.staff_id for e in failed] == [None, real_owner.staff_id]
    assert all(e.outcome is AuditOutcome.FAILED for e in failed)


def test_three_wrong_passwords_lock_the_account_for_a_while(db, real_owner):
    for _ in range(2):
        with pytest.raises(staff.WrongPassword):
            staff.authenticate(db, login="boss", password="wrong-password", desk="d")
    with pytest.raises(staff.AccountLocked) as locked:
        staff.authenticate(db, login="boss", password="wrong-password", desk="d")
    assert re.fullmatch(r"Too many wrong passwords; this account is locked until \d\d:\d\d\.",
                        locked.value.message)
    until = locked.value.until
    assert timedelta(minutes=4) < until - utcnow() <= staff.LOCK_PERIOD
    assert locked.value.until.astimezone().strftime("%H:%M") in locked.value.message
    # The right password does not open a locked account either.
    with pytest.raises(staff.AccountLocked):
        staff.authenticate(db, login="boss", password=OWNER_PW, desk="d")
    actions = [(e.action, e.outcome) for e in events(db)][2:]
    assert actions == [
        ("login_failed", AuditOutcome.FAILED),
        ("login_failed", AuditOutcome.FAILED),
        ("login_failed", AuditOutcome.FAILED),
        ("login_locked", AuditOutcome.DENIED),
        ("login_locked", AuditOutcome.DENIED),
    ]
    # Once the period is over, the right password works again.
    with db.begin() as s:
        s.execute(update(StaffUser).where(StaffUser.id == real_owner.staff_id)
                  .values(locked_until=utcnow() - timedelta(seconds=1)))
    assert staff.authenticate(db, login="boss", password=OWNER_PW, desk="d").staff_id
    user = stored_user(db, real_owner.staff_id)
    assert user.failed_logins == 0 and user.locked_until is None


def test_a_success_resets_the_count_of_wrong_passwords(db, real_owner):
    for _ in range(2):
        with pytest.raises(staff.WrongPassword):
            staff.authenticate(db, login="boss", password="wrong-password", desk="d")
    staff.authenticate(db, login="boss", password=OWNER_PW, desk="d")
    for _ in range(2):
        with pytest.raises(staff.WrongPassword):
            staff.authenticate(db, login="boss", password="wrong-password", desk="d")


def test_disabled_accounts_cannot_sign_in(db, real_owner):
    clerk = add(db, real_owner, "clerk")
    staff.disable_staff(db, actor=real_owner, staff_id=clerk.id)
    with pytest.raises(staff.AccountDisabled, match="disabled"):
        staff.authenticate(db, login="clerk", password=NEW_PW, desk="d")
    assert events(db)[-1].action == "login_failed" and events(db)[-1].outcome is AuditOutcome.DENIED
    staff.enable_staff(db, actor=real_owner, staff_id=clerk.id)
    assert staff.authenticate(db, login="clerk", password=NEW_PW, desk="d").staff_id == clerk.id


def test_hash_is_renewed_when_the_parameters_change(db, real_owner):
    before = stored_user(db, real_owner.staff_id).password_hash
    staff._hasher = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    staff.authenticate(db, login="boss", password=OWNER_PW, desk="d")
    after = stored_user(db, real_owner.staff_id).password_hash
    assert after != before and "m=16,t=2,p=1" in after
    staff.authenticate(db, login="boss", password=OWNER_PW, desk="d")
    assert stored_user(db, real_owner.staff_id).password_hash == after


def test_sign_in_headless_needs_a_login(db, real_owner):
    with pytest.raises(staff.SignInRefused, match="--as"):
        staff.sign_in_headless(db, login="", password=OWNER_PW)
    assert staff.sign_in_headless(db, login="boss", password=OWNER_PW).desk == "cli"


# --- unlocking an idle desk -----------------------------------------------------------------

def test_unlocking_checks_the_same_password_and_counts_failures(db, real_owner):
    assert staff.verify_password(db, actor=real_owner, password=OWNER_PW)
    assert not staff.verify_password(db, actor=real_owner, password="wrong-password")
    assert not staff.verify_password(db, actor=real_owner, password="wrong-password")
    with pytest.raises(staff.AccountLocked):
        staff.verify_password(db, actor=real_owner, password="wrong-password")
    with pytest.raises(staff.AccountLocked):
        staff.verify_password(db, actor=real_owner, password=OWNER_PW)
    assert [e.action for e in events(db)][2:] == [
        "unlock", "unlock_failed", "unlock_failed", "unlock_failed", "login_locked", "login_locked"]


# --- managing staff ---------------------------------------------------------------------------

def test_owner_adds_staff_who_must_change_the_first_password(db, real_owner):
    summary = add(db, real_owner, "Clerk", Role.ORDER_TAKER)
    assert (summary.login, summary.role, summary.active, summary.must_change_password) == (
        "clerk", Role.ORDER_TAKER, True, True)
    with pytest.raises(FrozenInstanceError):
        summary.login = "x"  # type: ignore[misc]
    clerk = staff.authenticate(db, login="clerk", password=NEW_PW, desk="d")
    assert clerk.role is Role.ORDER_TAKER
    assert staff.password_change_required(db, actor=clerk)
    with pytest.raises(ValidationError) as err:
        staff.change_own_password(db, actor=clerk, old="not-my-password", new="another-password-3")
    assert set(err.value.fields) == {"old"}
    with pytest.raises(ValidationError) as err:
        staff.change_own_password(db, actor=clerk, old=NEW_PW, new="short")
    assert set(err.value.fields) == {"new"}
    staff.change_own_password(db, actor=clerk, old=NEW_PW, new="another-password-3")
    assert not staff.password_change_required(db, actor=clerk)
    with pytest.raises(staff.WrongPassword):
        staff.authenticate(db, login="clerk", password=NEW_PW, desk="d")
    staff.authenticate(db, login="clerk", password="another-password-3", desk="d")


def test_logins_are_unique_without_regard_to_case(db, real_owner):
    add(db, real_owner, "clerk")
    with pytest.raises(ValidationError) as err:
        add(db, real_owner, "CLERK")
    assert set(err.value.fields) == {"login"}


def test_list_staff_gives_plain_summaries(db, real_owner):
    add(db, real_owner, "clerk")
    taker = add(db, real_owner, "taker", Role.ORDER_TAKER)
    staff.disable_staff(db, actor=real_owner, staff_id=taker.id)
    rows = staff.list_staff(db, actor=real_owner)
    assert all(isinstance(r, staff.StaffSummary) for r in rows)
    assert [(r.login, r.active) for r in rows] == [("clerk", True), ("boss", True), ("taker", False)]


def test_reset_password_unlocks_and_forces_a_change(db, real_owner):
    clerk = add(db, real_owner, "clerk")
    staff.change_own_password(db, actor=staff.authenticate(db, login="clerk", password=NEW_PW, desk="d"),
                              old=NEW_PW, new="clerks-own-password")
    for _ in range(3):
        with pytest.raises(staff.SignInRefused):
            staff.authenticate(db, login="clerk", password="wrong-password", desk="d")
    summary = staff.reset_password(db, actor=real_owner, staff_id=clerk.id, new_password="temporary-pw-1")
    assert summary.must_change_password and not summary.is_locked()
    actor = staff.authenticate(db, login="clerk", password="temporary-pw-1", desk="d")
    assert staff.password_change_required(db, actor=actor)
    assert events(db)[-2].action == "password_reset"


def test_the_last_active_owner_cannot_be_disabled_or_demoted(db, real_owner):
    with pytest.raises(UserFacingError, match="last active owner"):
        staff.change_role(db, actor=real_owner, staff_id=real_owner.staff_id, role=Role.STAFF)
    second = add(db, real_owner, "partner", Role.OWNER)
    staff.change_role(db, actor=real_owner, staff_id=second.id, role=Role.STAFF)
    with pytest.raises(UserFacingError, match="own account"):
        staff.disable_staff(db, actor=real_owner, staff_id=real_owner.staff_id)
    # With two owners, one may step down; then the other is the last one.
    staff.change_role(db, actor=real_owner, staff_id=second.id, role=Role.OWNER)
    partner = staff.authenticate(db, login="partner", password=NEW_PW, desk="d")
    staff.change_role(db, actor=real_owner, staff_id=real_owner.staff_id, role=Role.STAFF)
    with pytest.raises(UserFacingError, match="last active owner"):
        staff.change_role(db, actor=partner, staff_id=partner.staff_id, role=Role.ORDER_TAKER)
    roles = {r.login: r.role for r in staff.list_staff(db, actor=partner)}
    assert roles == {"boss": Role.STAFF, "partner": Role.OWNER}


def test_a_demoted_owner_loses_staff_management_at_once(db, real_owner):
    partner = add(db, real_owner, "partner", Role.OWNER)
    partner_actor = staff.authenticate(db, login="partner", password=NEW_PW, desk="d")
    staff.change_role(db, actor=partner_actor, staff_id=real_owner.staff_id, role=Role.STAFF)
    # The old owner's desk still holds an owner Actor; the database says otherwise.
    with pytest.raises(PermissionDenied, match="sign in again"):
        add(db, real_owner, "sneaky")
    assert events(db)[-1].action == "denied:manage_staff"
    assert partner.id


MANAGE_CALLS = {
    "list_staff": lambda db, a, target: staff.list_staff(db, actor=a),
    "add_staff": lambda db, a, target: staff.add_staff(
        db, actor=a, login="new", display_name="New", role=Role.STAFF, password=NEW_PW),
    "disable_staff": lambda db, a, target: staff.disable_staff(db, actor=a, staff_id=target),
    "enable_staff": lambda db, a, target: staff.enable_staff(db, actor=a, staff_id=target),
    "reset_password": lambda db, a, target: staff.reset_password(
        db, actor=a, staff_id=target, new_password=NEW_PW),
    "change_role": lambda db, a, target: staff.change_role(db, actor=a, staff_id=target, role=Role.OWNER),
}


@pytest.mark.parametrize("call", sorted(MANAGE_CALLS))
@pytest.mark.parametrize("role", [Role.STAFF, Role.ORDER_TAKER])
def test_only_the_owner_manages_staff(db, real_owner, role, call):
    assert Permission.MANAGE_STAFF not in ROLE_PERMISSIONS[role]
    summary = add(db, real_owner, "someone", role)
    actor = staff.authenticate(db, login="someone", password=NEW_PW, desk="d")
    before = staff.list_staff(db, actor=real_owner)
    with pytest.raises(PermissionDenied, match="manage staff"):
        MANAGE_CALLS[call](db, actor, summary.id)
    last = events(db)[-1]
    assert (last.action, last.staff_id, last.outcome) == (
        "denied:manage_staff", summary.id, AuditOutcome.DENIED)
    assert staff.list_staff(db, actor=real_owner) == before


@pytest.mark.parametrize("call", sorted(MANAGE_CALLS))
def test_the_owner_may_manage_staff(db, real_owner, call):
    target = add(db, real_owner, "someone")
    MANAGE_CALLS[call](db, real_owner, target.id)
    assert not [e for e in events(db) if e.outcome is AuditOutcome.DENIED]


def test_every_role_may_unlock_and_change_its_own_password(db, real_owner):
    # Scheduled-job accounts have a token, not a password (tests in test_job_account.py).
    for role in (r for r in Role if r != Role.SCHEDULED_JOB):
        login = f"user-{role.value}"
        add(db, real_owner, login, role)
        actor = staff.authenticate(db, login=login, password=NEW_PW, desk="d")
        assert staff.verify_password(db, actor=actor, password=NEW_PW)
        staff.change_own_password(db, actor=actor, old=NEW_PW, new=f"{login}-own-password")
        staff.sign_out(db, actor=actor)
    assert not [e for e in events(db) if e.outcome is AuditOutcome.DENIED]


# --- command line -------------------------------------------------------------------------

@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.delenv("BACKOFFICE_LOGIN", raising=False)
    monkeypatch.delenv("BACKOFFICE_PASSWORD", raising=False)
    monkeypatch.delenv("BACKOFFICE_NEW_PASSWORD", raising=False)
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_staff_commands_create_the_owner_add_and_list(cli_env, monkeypatch, capsys):
    url = cli_env
    monkeypatch.setenv("BACKOFFICE_NEW_PASSWORD", OWNER_PW)
    assert cli.main(["staff", "create-owner", "--db", url, "--login", "boss", "--name", "Shop Owner"]) == 0
    assert "boss" in capsys.readouterr().out
    assert cli.main(["staff", "create-owner", "--db", url, "--login", "again", "--name", "X"]) == 1
    assert "already has staff" in capsys.readouterr().err

    monkeypatch.setenv("BACKOFFICE_PASSWORD", OWNER_PW)
    monkeypatch.setenv("BACKOFFICE_NEW_PASSWORD", NEW_PW)
    assert cli.main(["staff", "add", "--db", url, "--as", "boss", "--login", "clerk",
                     "--name", "Desk Clerk", "--role", "order_taker"]) == 0
    capsys.readouterr()
    assert cli.main(["staff", "list", "--db", url, "--as", "boss"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"boss\s+Owner", out) and re.search(r"clerk\s+Order taker", out)

    monkeypatch.setenv("BACKOFFICE_PASSWORD", NEW_PW)
    assert cli.main(["staff", "list", "--db", url, "--as", "clerk"]) == 1
    assert "may not manage staff" in capsys.readouterr().err


def test_staff_add_refuses_a_short_new_password(cli_env, monkeypatch, capsys):
    url = cli_env
    monkeypatch.setenv("BACKOFFICE_NEW_PASSWORD", "short")
    assert cli.main(["staff", "create-owner", "--db", url, "--login", "boss", "--name", "Owner"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err


def test_the_roles_page_matches_the_permissions_in_the_code():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "roles.md").read_text(encoding="utf-8")
    table = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].startswith("`"):
            table[Permission(cells[1].strip("`"))] = [c == "yes" for c in cells[2:]]
    assert set(table) == set(Permission)
    for permission, (owner, staff_, taker) in table.items():
        assert owner == (permission in ROLE_PERMISSIONS[Role.OWNER]), permission
        assert staff_ == (permission in ROLE_PERMISSIONS[Role.STAFF]), permission
        assert taker == (permission in ROLE_PERMISSIONS[Role.ORDER_TAKER]), permission
