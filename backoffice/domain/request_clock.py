"""The legal clock of a privacy request: due date, days left, overdue and due-soon flags."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = timedelta(days=1)


def due_at(received_at: datetime, response_days: int) -> datetime:
    """When an answer is due: `response_days` (the shop's setting) after the request arrived."""
    return received_at + timedelta(days=int(response_days))


def days_left(due: datetime, now: datetime) -> int:
    """Whole days until `due`, counting a started day as a day; once overdue, minus the whole
    days past it (at least one)."""
    return math.ceil((due - now) / DAY) if due >= now else -max(1, math.floor((now - due) / DAY))


@dataclass(frozen=True)
class Urgency:
    days_left: int
    overdue: bool
    due_soon: bool  # due within the reminder window and not yet overdue

    @property
    def label(self) -> str:
        if self.overdue:
            n = -self.days_left
            return f"Overdue by {n} day{'s' if n != 1 else ''}"
        if self.days_left == 0:
            return "Due today"
        return f"{self.days_left} day{'s' if self.days_left != 1 else ''} left"


def urgency(due: datetime, now: datetime, *, is_open: bool, reminder_days: int) -> Urgency:
    """How pressing a request is; a closed request is never overdue nor due soon."""
    left = days_left(due, now)
    overdue = is_open and now > due
    return Urgency(left, overdue, is_open and not overdue and left <= reminder_days)
