"""The home screen's figures: counted from what is in the database, and only what the role may see."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backoffice.domain import Order
from backoffice.domain.audit import AuditEvent
from backoffice.domain.base import utcnow
from backoffice.domain.enums import OrderOrigin, OrderStatus, RequestKind
from backoffice.domain.newsletters import NewsletterList
from backoffice.domain.orders import Shipment
from backoffice.errors import PermissionDenied
from backoffice.services import home
from backoffice.services.privacy import register


def _order(s, *, status=OrderStatus.PROCESSING, origin=OrderOrigin.WEB, ago=timedelta(0), by=None, paid=True):
    o = Order(number=None, status=status, origin=origin, created_at=utcnow() - ago, created_by_staff_id=by,
              paid_at=utcnow() - ago if paid else None)
    s.add(o)
    s.flush()
    return o


def test_figures_count_what_waits(db, owner, order_taker):
    with db.begin() as s:
        _order(s, origin=OrderOrigin.PHONE, by=owner.staff_id)
        _order(s, origin=OrderOrigin.PHONE, by=order_taker.staff_id)
        _order(s, origin=OrderOrigin.PHONE, ago=timedelta(days=3))
        shipped = _order(s)
        s.add(Shipment(order_id=shipped.id, tracking_number="1Z999"))
        _order(s, status=OrderStatus.COMPLETED, ago=timedelta(days=10))
        _order(s, ago=timedelta(days=100))  # before the chart, still to ship
        _order(s, paid=False, ago=timedelta(days=200))  # not paid yet: not to ship
        s.add(NewsletterList(name="Monthly", channel="email"))
    register.log_request(db, actor=owner, kind=RequestKind.ACCESS, requester_name="Ann Example",
                         received_at=utcnow() - timedelta(days=60))
    register.log_request(db, actor=owner, kind=RequestKind.ACCESS, requester_name="Bob Example")

    summary = home.home_summary(db, actor=owner)
    assert summary.phone_orders_today == 2
    assert summary.orders_to_ship == 4  # paid and open ones, less the one with a parcel
    assert summary.requests_overdue == 1
    assert summary.list_sizes == (home.ListSize("Monthly", 0),)
    assert len(summary.orders_per_day) == 7 * home.CHART_WEEKS
    assert summary.orders_per_day[-1].orders == 3
    assert sum(d.orders for d in summary.orders_per_day) == 5
    assert summary.sync is not None and summary.sync.waiting == 0


def test_an_order_taker_sees_their_own_phone_orders_and_no_queues(db, owner, order_taker):
    with db.begin() as s:
        _order(s, origin=OrderOrigin.PHONE, by=owner.staff_id)
        _order(s, origin=OrderOrigin.PHONE, by=order_taker.staff_id)
    summary = home.home_summary(db, actor=order_taker)
    assert summary.phone_orders_today == 1
    assert summary.orders_to_ship is None
    assert summary.requests_overdue is None and summary.sync is None and summary.list_sizes is None
    assert sum(d.orders for d in summary.orders_per_day) == 1


def test_an_actor_without_orders_is_refused_and_the_refusal_is_audited(db, owner, monkeypatch):
    from backoffice.domain.staff import Actor, Permission

    class Nobody(Actor):
        def may(self, permission: Permission) -> bool:
            return False

    nobody = Nobody(staff_id=owner.staff_id, login="nobody", role=owner.role)
    with pytest.raises(PermissionDenied):
        home.home_summary(db, actor=nobody)
    with db.read() as s:
        assert s.query(AuditEvent).filter(AuditEvent.action.like("denied:%")).count() == 1
