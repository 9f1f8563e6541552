"""Orders for the shipping tests: addresses with phone and email, options, refunds, a bundle."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from backoffice.domain import Order, OrderAddress, OrderLine, ShippingLine
from backoffice.domain.catalog import Product
from backoffice.domain.enums import AddressKind, OrderStatus

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def add_products(s) -> dict[str, int]:
    ids = {}
    for sku, bin_ in (("TEA-GREEN", "B-02"), ("MUG-BLUE", "A-01"), ("BOX-GIFT", "C-09"), ("SOCK-RED", "A-07")):
        p = Product(sku=sku, name=sku.title(), price=Decimal("9.99"), bin_location=bin_)
        s.add(p)
        s.flush()
        ids[sku] = p.id
    return ids


def make_order(s, products: dict[str, int], *, number: str, first: str = "Иван", last: str = "Петров",
               method: str = "flat_rate", title: str = "Flat rate", paid: bool = True,
               status: OrderStatus = OrderStatus.PROCESSING, minutes: int = 0, note: str = "",
               gift_message: str = "", lines=None) -> Order:
    order = Order(number=number, status=status, total=Decimal("123.45"), currency="USD",
                  created_at=T0 + timedelta(minutes=minutes), paid_at=T0 if paid else None,
                  customer_note=note, gift_message=gift_message)
    order.addresses.append(OrderAddress(kind=AddressKind.BILLING, first_name=first, last_name=last,
                                        address_1="1 Billing Way", city="Houston", postcode="77002",
                                        country="US", phone="+1 713 555 0101", email="ivan@example.com"))
    order.addresses.append(OrderAddress(kind=AddressKind.SHIPPING, first_name=first, last_name=last,
                                        address_1="ул. Ленина 5", city="Москва", postcode="101000",
                                        country="RU", phone="+7 495 123 4567", email="ship@example.com"))
    order.shipping_lines.append(ShippingLine(method_id=method, method_title=title, total=Decimal("7.50")))
    for sku, qty, refunded, options in lines or (
            ("TEA-GREEN", 2, 0, [["Size", "Large tin"]]),
            ("MUG-BLUE", 1, 0, []),
            ("SOCK-RED", 3, 3, [])):
        order.lines.append(OrderLine(product_id=products[sku], sku=sku, name=f"{sku.title()} item",
                                     quantity=qty, refunded_quantity=refunded,
                                     options=json.dumps(options) if options else "",
                                     unit_price=Decimal("41.17"), total=Decimal("82.34")))
    s.add(order)
    s.flush()
    return order


def add_bundle(s, products: dict[str, int], order: Order) -> None:
    box = OrderLine(order_id=order.id, product_id=products["BOX-GIFT"], sku="BOX-GIFT", name="Gift box",
                    quantity=1, unit_price=Decimal("55.00"), total=Decimal("55.00"))
    s.add(box)
    s.flush()
    s.add(OrderLine(order_id=order.id, product_id=products["TEA-GREEN"], sku="TEA-GREEN", name="Green tea (in box)",
                    quantity=1, bundled_in_line_id=box.id))
    s.flush()
