"""A collision with another desk is told apart from a fault, however the driver reported it:
the sync then says so in a sentence and carries on at the next run, and work at the desk or
on the command line says so in words and to try again."""

from __future__ import annotations

import argparse
import sqlite3

import psycopg
from sqlalchemy.exc import OperationalError

from backoffice import cli
from backoffice.db import LOCK_CONFLICT_MESSAGE, as_user_facing, is_lock_conflict
from backoffice.errors import ConflictError


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


def _collision() -> OperationalError:
    return OperationalError("UPDATE customers SET status=%(status)s", {}, psycopg.errors.DeadlockDetected("deadlock"))


def test_a_collision_reaches_people_as_a_sentence_and_other_errors_as_they_were():
    told = as_user_facing(_collision())
    assert isinstance(told, ConflictError)
    assert told.message == LOCK_CONFLICT_MESSAGE and "Try it again" in told.message
    assert "deadlock" in told.details  # the technical words stay in the details
    other = OperationalError("SELECT 1", {}, psycopg.errors.UniqueViolation("duplicate key"))
    assert as_user_facing(other) is other
    refused = ConflictError("Another desk merged them.")
    assert as_user_facing(refused) is refused


def test_a_command_that_collided_says_so_and_to_try_again(capsys):
    def work(args):
        raise _collision()

    code = cli.run(argparse.Namespace(func=work, command="request"))
    assert code == 1
    err = capsys.readouterr().err
    assert err.strip() == f"backoffice: {LOCK_CONFLICT_MESSAGE}"
