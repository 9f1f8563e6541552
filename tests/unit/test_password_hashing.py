"""Password hashes: no switch outside the test suite weakens them, and signing in only
ever makes a stored hash stronger, never weaker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from argon2 import PasswordHasher, extract_parameters
from sqlalchemy import select

from backoffice.domain.staff import StaffUser
from backoffice.services import staff

PASSWORD = "owner-password-1"


@pytest.fixture
def full_strength():
    saved = staff._hasher
    staff._hasher = None
    yield
    staff._hasher = saved


def stored_hash(db, login="boss") -> str:
    with db.read() as s:
        return s.execute(select(StaffUser.password_hash).where(StaffUser.login == login)).scalar_one()


def strength(hash_text: str) -> tuple[int, int]:
    p = extract_parameters(hash_text)
    return p.time_cost, p.memory_cost


FULL = (staff._PRODUCTION_PARAMETERS["time_cost"], staff._PRODUCTION_PARAMETERS["memory_cost"])


def test_the_old_fast_hash_switch_weakens_nothing_in_the_app(sqlite_db):
    env = {**os.environ, "BACKOFFICE_FAST_HASH": "1", "BACKOFFICE_NEW_PASSWORD": PASSWORD}
    done = subprocess.run([sys.executable, "-m", "backoffice", "staff", "create-owner", "--db", sqlite_db.url,
                           "--login", "boss", "--name", "Owner"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert strength(stored_hash(sqlite_db)) == FULL


def test_fast_hashing_cannot_be_switched_on_outside_a_test_run():
    code = "from backoffice.services import staff; staff.use_fast_hashing_for_tests()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"})
    assert done.returncode != 0 and "test suite only" in done.stderr


def test_signing_in_with_weaker_settings_keeps_the_stronger_hash(sqlite_db, full_strength):
    staff.create_first_owner(sqlite_db, login="boss", display_name="Owner", password=PASSWORD)
    before = stored_hash(sqlite_db)
    assert strength(before) == FULL
    staff.use_fast_hashing_for_tests()
    staff.authenticate(sqlite_db, login="boss", password=PASSWORD, desk="d")
    assert stored_hash(sqlite_db) == before


def test_signing_in_makes_a_weaker_hash_stronger(sqlite_db, full_strength):
    staff.create_first_owner(sqlite_db, login="boss", display_name="Owner", password=PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with sqlite_db.begin() as s:
        s.execute(StaffUser.__table__.update().values(password_hash=weak))
    staff.authenticate(sqlite_db, login="boss", password=PASSWORD, desk="d")
    assert strength(stored_hash(sqlite_db)) == FULL
