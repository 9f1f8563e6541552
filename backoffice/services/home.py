"""The home screen's figures: what waits today, each read with one small count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.enums import OrderOrigin, SubscriptionStatus
from backoffice.domain.newsletters import NewsletterList, Subscription
from backoffice.domain.orders import Order
from backoffice.domain.staff import Actor, Permission
from backoffice.services import access
from backoffice.services.fulfilment.to_ship import to_ship_conditions
from backoffice.services import sync_state
from backoffice.services.privacy import register

# How far back the orders-per-day chart reaches.
CHART_WEEKS = 6


@dataclass(frozen=True)
class DayCount:
    day: date
    orders: int


@dataclass(frozen=True)
class ListSize:
    name: str
    subscribed: int


@dataclass(frozen=True)
class HomeSummary:
    """What the home screen shows; a figure the person may not see is None."""

    phone_orders_today: int
    orders_to_ship: int | None
    requests_overdue: int | None
    requests_due_soon: int | None
    sync: sync_state.SyncStatus | None
    list_sizes: tuple[ListSize, ...] | None
    orders_per_day: tuple[DayCount, ...]
    #: True when the chart counts only the orders this person took (a role that sees no others').
    orders_per_day_own: bool = False


def _local_midnight(now: datetime) -> datetime:
    local = now.astimezone()
    return datetime.combine(local.date(), time.min, tzinfo=local.tzinfo)


def phone_orders_today(s: Session, actor: Actor, now: datetime) -> int:
    """Phone orders placed since midnight here; an order taker counts only their own."""
    stmt = select(func.count()).select_from(Order).where(
        Order.origin == OrderOrigin.PHONE, Order.created_at >= _local_midnight(now))
    if not actor.may(Permission.VIEW_ALL_ORDERS):
        stmt = stmt.where(Order.created_by_staff_id == actor.staff_id)
    return int(s.execute(stmt).scalar_one())


def orders_to_ship(s: Session) -> int:
    """Paid orders waiting to go out, by the shipping area's own rule (`to_ship_conditions`)."""
    return int(s.execute(select(func.count()).select_from(Order).where(*to_ship_conditions())).scalar_one())


def newsletter_list_sizes(s: Session) -> tuple[ListSize, ...]:
    """Subscribed people per active list, largest first.

    Subscribed people are counted as the newsletters screen counts them (one subscription
    row per person and list, status subscribed).
    """
    stmt = (select(NewsletterList.name, func.count(Subscription.id))
            .outerjoin(Subscription, (Subscription.list_id == NewsletterList.id)
                       & (Subscription.status == SubscriptionStatus.SUBSCRIBED))
            .where(NewsletterList.active.is_(True))
            .group_by(NewsletterList.id, NewsletterList.name))
    rows = [ListSize(name, int(n)) for name, n in s.execute(stmt)]
    return tuple(sorted(rows, key=lambda r: (-r.subscribed, r.name)))


def orders_per_day(s: Session, actor: Actor, now: datetime, weeks: int = CHART_WEEKS) -> tuple[DayCount, ...]:
    """Orders created on each of the last `weeks` weeks' days (UTC days), today last; counts only."""
    today = now.astimezone(now.tzinfo).date()
    first = today - timedelta(days=7 * weeks - 1)
    since = datetime.combine(first, time.min, tzinfo=now.tzinfo)
    # date() is a function in both SQLite (a text day) and PostgreSQL (a date).
    day = func.date(Order.created_at)
    stmt = select(day, func.count()).where(Order.created_at >= since).group_by(day)
    if not actor.may(Permission.VIEW_ALL_ORDERS):
        stmt = stmt.where(Order.created_by_staff_id == actor.staff_id)
    counts = {str(d)[:10]: int(n) for d, n in s.execute(stmt)}
    days = (first + timedelta(days=i) for i in range(7 * weeks))
    return tuple(DayCount(d, counts.get(d.isoformat(), 0)) for d in days)


def home_summary(db: Database, *, actor: Actor, now: datetime | None = None) -> HomeSummary:
    """The home screen's figures for `actor`: only what the role may see. Raises PermissionDenied."""
    access.require(db, actor, Permission.VIEW_OWN_ORDERS)
    now = now or utcnow()
    with db.read() as s:
        today = phone_orders_today(s, actor, now)
        to_ship = orders_to_ship(s) if actor.may(Permission.VIEW_ALL_ORDERS) else None
        sizes = newsletter_list_sizes(s) if actor.may(Permission.MANAGE_NEWSLETTERS) else None
        chart = orders_per_day(s, actor, now)
    overdue = due = None
    if actor.may(Permission.LOG_PRIVACY_REQUEST):
        alarm = register.queue_alarm(db, actor=actor, now=now)
        overdue, due = alarm.overdue, alarm.due_soon
    status = sync_state.sync_status(db, actor=actor) if actor.may(Permission.RUN_SYNC) else None
    return HomeSummary(today, to_ship, overdue, due, status, sizes, chart,
                       orders_per_day_own=not actor.may(Permission.VIEW_ALL_ORDERS))


def requests_waiting(db: Database, *, actor: Actor, now: datetime | None = None) -> register.QueueAlarm | None:
    """Privacy requests overdue and due soon, for the navigation's badge; None when the role has no queue."""
    if not actor.may(Permission.LOG_PRIVACY_REQUEST):
        return None
    return register.queue_alarm(db, actor=actor, now=now)
