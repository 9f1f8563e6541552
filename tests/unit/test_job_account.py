"""`backoffice sync` from cron: it signs in, or acts as a scheduled-job account whose token
the keyring keeps; it is audited as that account, and order takers may not sync."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice import cli
from backoffice.domain.audit import AuditEvent
from backoffice.domain.enums import AuditOutcome, Role
from backoffice.errors import PermissionDenied, UserFacingError, ValidationError
from backoffice.services import staff, sync
from tests.unit.test_service_permissions import DeadStore

OWNER_PW = "owner-password-1"
TAKER_PW = "taker-password-1"


pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def boss(sqlite_db):
    return staff.create_first_owner(sqlite_db, login="boss", display_name="Owner", password=OWNER_PW)


def trail(db) -> list[tuple]:
    with db.read() as s:
        return [tuple(r) for r in s.execute(
            select(AuditEvent.staff_id, AuditEvent.desk, AuditEvent.action, AuditEvent.outcome)
            .order_by(AuditEvent.seq))]


def test_the_owner_makes_a_job_account_whose_token_nobody_sees(sqlite_db, boss, monkeypatch, capsys,
                                                              memory_keyring):
    monkeypatch.setenv("BACKOFFICE_PASSWORD", OWNER_PW)
    assert cli.main(["staff", "add-job-account", "--db", sqlite_db.url, "--as", "boss"]) == 0
    out = capsys.readouterr().out
    assert "scheduled-job" in out and "backoffice sync --job scheduled-job" in out
    tokens = [v for (_svc, k), v in memory_keyring.items.items() if k.startswith("job-token:")]
    assert len(tokens) == 1 and len(tokens[0]) >= 40 and tokens[0] not in out
    [job] = [a for a in staff.list_staff(sqlite_db, actor=boss) if a.login == "scheduled-job"]
    assert job.role is Role.SCHEDULED_JOB and job.role_label == "Scheduled job"


def test_a_cron_sync_acts_and_is_audited_as_the_job_account(sqlite_db, boss, monkeypatch, capsys):
    made = staff.add_job_account(sqlite_db, actor=boss)
    monkeypatch.delenv("BACKOFFICE_PASSWORD", raising=False)
    # No store keys here: the run stops there, after signing in.
    assert cli.main(["sync", "--db", sqlite_db.url, "--job", "scheduled-job",
                     "--store", "https://shop.example.com"]) == 1
    assert "store-keys" in capsys.readouterr().err
    assert trail(sqlite_db)[-1] == (made.account.id, "scheduled", "login", AuditOutcome.OK)
    # The run itself is recorded under the same account.
    actor = staff.sign_in_job(sqlite_db, login="scheduled-job")
    sync.run_sync(sqlite_db, DeadStore(), actor=actor)
    assert (made.account.id, "scheduled", "sync_run", AuditOutcome.OK) in trail(sqlite_db)


def test_without_the_token_the_job_cannot_sign_in(sqlite_db, boss, memory_keyring, capsys):
    staff.add_job_account(sqlite_db, actor=boss)
    memory_keyring.items.clear()
    assert cli.main(["sync", "--db", sqlite_db.url, "--job", "scheduled-job"]) == 1
    err = capsys.readouterr().err
    assert "holds no token for the job account scheduled-job" in err and "add-job-account" in err


def test_a_persons_account_cannot_run_as_a_job(sqlite_db, boss, monkeypatch):
    # Even given the person's own password as the token, --job only takes job accounts.
    monkeypatch.setenv(staff.ENV_JOB_TOKEN, OWNER_PW)
    with pytest.raises(staff.SignInRefused, match="not a scheduled-job account"):
        staff.sign_in_job(sqlite_db, login="boss")


def test_sync_needs_someone_to_act_as(sqlite_db, boss, monkeypatch, capsys):
    monkeypatch.delenv("BACKOFFICE_LOGIN", raising=False)
    monkeypatch.setenv("BACKOFFICE_PASSWORD", OWNER_PW)
    assert cli.main(["sync", "--db", sqlite_db.url]) == 1
    assert "--as LOGIN" in capsys.readouterr().err


def test_order_takers_may_not_sync(sqlite_db, boss, monkeypatch, capsys):
    taker = staff.add_staff(sqlite_db, actor=boss, login="tina", display_name="Tina", role=Role.ORDER_TAKER,
                            password=TAKER_PW)
    monkeypatch.setenv("BACKOFFICE_PASSWORD", TAKER_PW)
    assert cli.main(["sync", "--db", sqlite_db.url, "--as", "tina", "--store", "https://shop.example.com"]) == 1
    assert "Order taker accounts may not sync with the web store" in capsys.readouterr().err
    assert trail(sqlite_db)[-1] == (taker.id, "cli", "denied:run_sync", AuditOutcome.DENIED)


def test_a_job_account_is_not_made_as_a_persons_account(sqlite_db, boss):
    with pytest.raises(ValidationError, match="add-job-account"):
        staff.add_staff(sqlite_db, actor=boss, login="bot", display_name="Bot", role=Role.SCHEDULED_JOB,
                        password="a-long-password-1")
    staff_member = staff.add_staff(sqlite_db, actor=boss, login="sam", display_name="Sam", role=Role.STAFF,
                                   password="a-long-password-1")
    with pytest.raises(PermissionDenied):
        staff.add_job_account(sqlite_db, actor=staff_member_actor(staff_member))


def staff_member_actor(summary):
    from backoffice.domain.staff import Actor

    return Actor(summary.id, summary.login, summary.role, "desk")


def test_a_job_account_never_becomes_a_persons_and_back(sqlite_db, boss):
    job = staff.add_job_account(sqlite_db, actor=boss).account
    with pytest.raises(UserFacingError, match="cannot take each other's roles"):
        staff.change_role(sqlite_db, actor=boss, staff_id=job.id, role=Role.OWNER)
    sam = staff.add_staff(sqlite_db, actor=boss, login="sam", display_name="Sam", role=Role.STAFF,
                          password="a-long-password-1")
    with pytest.raises(UserFacingError, match="cannot take each other's roles"):
        staff.change_role(sqlite_db, actor=boss, staff_id=sam.id, role=Role.SCHEDULED_JOB)
