"""The orders to ship: paid, open, nothing sent yet; oldest first, paged, counted."""

from __future__ import annotations

from backoffice.domain import Shipment
from backoffice.domain.enums import OrderStatus
from backoffice.services.fulfilment import slips
from backoffice.services.fulfilment.to_ship import count_to_ship, list_to_ship_page
from tests.unit.fulfilment_helpers import add_products, make_order


def test_paid_open_unshipped_orders_oldest_first_and_paged(db, staff):
    with db.begin() as s:
        products = add_products(s)
        for i in range(5):
            make_order(s, products, number=f"80{i}", minutes=10 - i)
        make_order(s, products, number="unpaid", paid=False)
        make_order(s, products, number="done", status=OrderStatus.COMPLETED)
        make_order(s, products, number="gone", status=OrderStatus.CANCELLED)
        sent = make_order(s, products, number="sent")
        s.add(Shipment(order_id=sent.id, carrier="UPS", tracking_number="1Z999AA10123456784"))
    assert count_to_ship(db, actor=staff) == 5
    first = list_to_ship_page(db, actor=staff, limit=3)
    second = list_to_ship_page(db, actor=staff, limit=3, after=first.next_key)
    assert [r.number for r in first.rows + second.rows] == ["804", "803", "802", "801", "800"]
    assert second.next_key is None
    row = first.rows[0]
    # 2 tea + 1 mug; 3 socks refunded.
    assert (row.ship_to, row.shipping_method, row.items) == ("Иван Петров", "Flat rate", 3)
    assert [r.number for r in list_to_ship_page(db, actor=staff, number="#803").rows] == ["803"]
    slips.mark_printed(db, actor=staff, order_ids=[row.id])
    assert "804" not in [r.number for r in list_to_ship_page(db, actor=staff, not_printed=True).rows]
