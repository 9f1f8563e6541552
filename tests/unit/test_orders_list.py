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
