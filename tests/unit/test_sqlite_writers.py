"""Two desks on one SQLite file: work that reads and then writes waits its turn."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from backoffice.domain.staff import StaffUser
from backoffice.domain.enums import Role


def _add_staff(s, login: str) -> None:
    s.add(StaffUser(login=login, display_name=login, role=Role.STAFF, password_hash="!"))


def test_a_read_then_write_waits_for_another_desks_write_instead_of_failing(sqlite_db):
    db = sqlite_db
    read_done = threading.Event()
    other_wrote = threading.Event()
    errors: list[BaseException] = []

    def first_desk():
        try:
            with db.begin() as s:
                s.scalar(select(func.count()).select_from(StaffUser))
                read_done.set()
                # The other desk tries to write now; give it time to get in first if it can.
                other_wrote.wait(0.5)
                _add_staff(s, "first")
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    def second_desk():
        read_done.wait(5)
        try:
            with db.begin() as s:
                _add_staff(s, "second")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            other_wrote.set()

    threads = [threading.Thread(target=first_desk), threading.Thread(target=second_desk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    with db.read() as s:
        assert set(s.scalars(select(StaffUser.login))) == {"first", "second"}
