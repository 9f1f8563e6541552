"""A collision with another desk is told apart from a fault, however the driver reported it:
the sync then says so in a sentence and carries on at the next run."""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.exc import OperationalError

from backoffice.db import is_lock_conflict


def test_a_deadlock_raised_by_the_driver_itself_is_a_collision():
    # COPY runs on the driver's own cursor: its errors are not wrapped by SQLAlchemy.
    assert is_lock_conflict(psycopg.errors.DeadlockDetected("deadlock detected"))
    assert is_lock_conflict(psycopg.errors.SerializationFailure("could not serialize access"))
    assert is_lock_conflict(sqlite3.OperationalError("database is locked"))


def test_wrapped_collisions_still_count_and_other_errors_do_not():
    wrapped = OperationalError("DELETE FROM customer_search", {}, psycopg.errors.DeadlockDetected("deadlock"))
    assert is_lock_conflict(wrapped)
    assert not is_lock_conflict(psycopg.errors.UniqueViolation("duplicate key"))
    assert not is_lock_conflict(sqlite3.OperationalError("no such table: customers"))
    assert not is_lock_conflict(ValueError("database is locked"))
