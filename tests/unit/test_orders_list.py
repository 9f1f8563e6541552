"""The orders list names every buyer, guests included, and order takers see only their own orders."""

from __future__ import annotations

from decimal import Decimal

from backoffice.domain import Order, OrderAddress
from backoffice.domain.enums import AddressKind, OrderStatus
from backoffice.services.orders import get_order, list_orders_page


def test_guest_order_shows_the_billing_name(db, staff):
    with db.begin() as s:
        order = Order(number="9001", status=OrderStatus.PROCESSING, total=Decimal("12.50"))
        order.addresses.append(OrderAddress(kind=AddressKind.BILLING, first_name="Zoë", last_name="Guest",
                                            city="Houston"))
        s.add(order)
    rows = list_orders_page(db, actor=staff).rows
    assert [r.customer_name for r in rows] == ["Zoë Guest"]
    assert get_order(db, actor=staff, order_id=rows[0].id).customer_name == "Zoë Guest (guest)"


def test_order_taker_lists_only_orders_they_took(db, order_taker, staff):
    with db.begin() as s:
        s.add(Order(number="1", created_by_staff_id=order_taker.staff_id))
        s.add(Order(number="2", created_by_staff_id=staff.staff_id))
        s.add(Order(number="3"))
    assert [r.number for r in list_orders_page(db, actor=order_taker).rows] == ["1"]
    assert sorted(r.number for r in list_orders_page(db, actor=staff).rows) == ["1", "2", "3"]


def test_search_and_filters_narrow_the_list_and_its_count(db, staff, order_taker):
    from datetime import date, datetime, timedelta, timezone

    from backoffice.domain.enums import OrderOrigin
    from backoffice.services import customers as customers_service
    from backoffice.services.orders import OrderFilters, count_orders, order_takers

    maria = customers_service.create_customer(db, actor=staff, first_name="María", last_name="García",
                                              email="maria@example.com", phone="+1 (713) 555-0199").customer.id
    now = datetime.now(timezone.utc)
    with db.begin() as s:
        s.add(Order(number="2001", customer_id=maria, status=OrderStatus.PROCESSING, paid_at=now,
                    origin=OrderOrigin.PHONE, created_by_staff_id=order_taker.staff_id, created_at=now))
        s.add(Order(number="2002", customer_id=maria, status=OrderStatus.PENDING, created_at=now - timedelta(days=40)))
        guest = Order(number="3001", status=OrderStatus.PROCESSING, paid_at=now, printed_at=now, created_at=now)
        guest.addresses.append(OrderAddress(kind=AddressKind.BILLING, first_name="Gus", email="Gus@Example.org"))
        s.add(guest)

    def numbers(**kw):
        f = OrderFilters(**kw)
        found = sorted(r.number for r in list_orders_page(db, actor=staff, filters=f).rows)
        assert count_orders(db, actor=staff, filters=f) == len(found)
        return found

    assert numbers(search="200") == ["2001", "2002"]
    assert numbers(search="#3001") == ["3001"]
    assert numbers(search="garc") == ["2001", "2002"]
    assert numbers(search="713 555 0199") == ["2001", "2002"]
    assert numbers(search="maria@example.com") == ["2001", "2002"]
    assert numbers(search="gus@example.org") == ["3001"]
    assert numbers(search="nobody at all") == []
    assert numbers(paid=True) == ["2001", "3001"]
    assert numbers(paid=False) == ["2002"]
    assert numbers(origin="phone") == ["2001"]
    assert numbers(taken_by=order_taker.staff_id) == ["2001"]
    assert numbers(printed=True) == ["3001"]
    assert numbers(printed=False, search="garc", paid=True) == ["2001"]
    today = date.today()
    assert numbers(date_from=today - timedelta(days=7)) == ["2001", "3001"]
    assert numbers(date_to=today - timedelta(days=7)) == ["2002"]
    assert [c.id for c in order_takers(db, actor=staff)] == [order_taker.staff_id]
