"""Errors that reach people as sentences, and the ones that stay technical."""

from __future__ import annotations

import threading
from typing import Any


class BackofficeError(Exception):
    """Base of every error the back office raises on purpose."""


class UserFacingError(BackofficeError):
    """An error whose message is a sentence a person at the desk understands.

    The message says what happened and what was (or was not) done.
    """

    def __init__(self, message: str, *, details: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Cancelled(BackofficeError):
    """The user cancelled a long task; nothing to report."""


def check_cancel(cancel: Any) -> None:
    """Raise `Cancelled` if the token (with `is_cancelled()`, or a `threading.Event`) has fired;
    None never fires."""
    if cancel is None:
        return
    if isinstance(cancel, threading.Event):
        fired = cancel.is_set()
    else:
        fired = cancel.is_cancelled()
    if fired:
        raise Cancelled()


class PermissionDenied(UserFacingError):
    """The signed-in staff member's role does not allow this action."""


class NotFound(UserFacingError):
    """The record asked for does not exist (any more)."""


class ConflictError(UserFacingError):
    """Someone else changed the record since it was loaded; nothing was overwritten."""


class ValidationError(UserFacingError):
    """Input that cannot be saved; `fields` maps a field name to its message."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = dict(fields or {})


class StoreError(UserFacingError):
    """The web store refused, failed or did not answer."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        retryable: bool = False,
        details: str | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.code = code
        self.retryable = retryable


class DatabaseTooNew(UserFacingError):
    """The database was written by a newer version of the app."""
