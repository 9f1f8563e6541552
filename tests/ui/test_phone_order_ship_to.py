"""A phone order ships to another of the caller's addresses, or to one typed for this order."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from backoffice.domain import CustomerAddress, Order, OrderAddress
from backoffice.domain.enums import AddressKind
from backoffice.errors import ValidationError
from backoffice.services import phone_orders as po
from tests.ui.test_phone_order_screen import (  # noqa: F401 (fixtures)
    WAIT_MS,
    Keyboard,
    add_by_keyboard,
    add_customer,
    add_product,
    away,
    focused,
    pick_caller,
    screen_for,
    wait_idle,
)


def _office(db, customer_id) -> int:
    with db.begin() as s:
        a = CustomerAddress(customer_id=customer_id, kind=AddressKind.SHIPPING, is_default=False,
                            first_name="Ana", last_name="García", address_1="500 Office Park", city="Austin",
                            state="TX", postcode="78701", country="US")
        s.add(a)
        s.flush()
        return a.id


def _shipped_to(db) -> list[str]:
    with db.read() as s:
        return [a.address_1 for a in s.scalars(select(OrderAddress).join(Order, Order.id == OrderAddress.order_id)
                                               .where(OrderAddress.kind == AddressKind.SHIPPING)
                                               .order_by(Order.id))]


def _place(qtbot, kb, screen):
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)


def test_the_caller_picks_another_of_her_addresses_then_a_one_off(qtbot, db, order_taker, screen_for, away):
    add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    ana = add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    _office(db, ana)
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)

    pick_caller(qtbot, kb, screen, "0199")
    combo = screen.ship_to.combo
    qtbot.waitUntil(lambda: combo.count() == 3, timeout=WAIT_MS)
    assert "1 Main St" in combo.itemText(0) and "500 Office Park" in combo.itemText(1)
    add_by_keyboard(qtbot, kb, screen, "caf", 1)
    screen.shipping_combo.setCurrentIndex(0)
    combo.setCurrentIndex(1)
    _place(qtbot, kb, screen)
    qtbot.waitUntil(lambda: screen.next_order_button.isEnabled(), timeout=WAIT_MS)
    wait_idle(qtbot, screen)
    assert _shipped_to(db) == ["500 Office Park"]

    screen.request_new_order()
    pick_caller(qtbot, kb, screen, "0199")
    qtbot.waitUntil(lambda: combo.count() == 3, timeout=WAIT_MS)
    add_by_keyboard(qtbot, kb, screen, "caf", 1)
    screen.shipping_combo.setCurrentIndex(0)
    combo.setCurrentIndex(combo.findData(screen.ship_to.ONE_OFF))
    assert screen.ship_to.one_off.isVisible()
    qtbot.keyClicks(screen.ship_to.one_off.fields["address_1"], "7 Harbour Rd")
    qtbot.keyClicks(screen.ship_to.one_off.fields["postcode"], "77550")
    _place(qtbot, kb, screen)
    city_error = screen.ship_to.one_off.errors["city"]
    qtbot.waitUntil(lambda: city_error.isVisible(), timeout=WAIT_MS)
    assert city_error.text() == "Enter the city." and screen.placed is None
    qtbot.keyClicks(screen.ship_to.one_off.fields["city"], "Galveston")
    qtbot.mouseClick(screen.place_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.next_order_button.isEnabled(), timeout=WAIT_MS)
    wait_idle(qtbot, screen)
    assert _shipped_to(db) == ["500 Office Park", "7 Harbour Rd"]
    with db.read() as s:  # a one-off address is not kept on the customer
        kept = [a.address_1 for a in s.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == ana))]
    assert "7 Harbour Rd" not in kept


def test_an_address_of_someone_else_is_refused(db, order_taker):
    mug = add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    ana = add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    bob = add_customer(db, first="Bob", last="Lee", email="bob@example.com", phone_digits="17135550100")
    theirs = _office(db, bob)
    with pytest.raises(ValidationError) as refused:
        po.place_phone_order(db, actor=order_taker, customer_id=ana, lines=[po.LineInput(mug, 1)],
                             shipping=po.ShippingInput("flat_rate", "Flat rate", "5"), ship_to=theirs)
    assert "not one of this customer's" in refused.value.message
    with pytest.raises(ValidationError) as card:
        po.place_phone_order(db, actor=order_taker, customer_id=ana, lines=[po.LineInput(mug, 1)],
                             shipping=po.ShippingInput("flat_rate", "Flat rate", "5"),
                             ship_to={"address_1": "4111 1111 1111 1111", "city": "X", "postcode": "1"})
    assert "card number" in card.value.fields["ship_to.address_1"]


def test_free_shipping_over_an_amount_is_greyed_below_it(qtbot, db, owner, order_taker, screen_for, away):
    from backoffice.services.settings import write_settings

    with db.begin() as s:
        write_settings(s, {"shipping.methods": [
            {"title": "Flat rate", "method_id": "flat_rate", "cost": "6.50"},
            {"title": "Free shipping (orders over 50.00)", "method_id": "free_shipping", "cost": "0",
             "min_total": "50.00"}]})
    mug = add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    ana = add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    qtbot.waitUntil(lambda: screen.shipping_combo.count() == 2, timeout=WAIT_MS)
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "caf", 1)
    free = screen.shipping_combo.model().item(1)
    assert not free.isEnabled() and "orders of 50.00 or more" in free.toolTip()
    screen.shipping_combo.setCurrentIndex(1)  # chosen anyway (it was chosen before a line went)
    assert "50.00 or more" in screen.shipping_error.text() and screen.shipping_error.isVisible()
    qtbot.mouseClick(screen.place_button, Qt.MouseButton.LeftButton)
    assert screen.placed is None
    screen.lines = [(screen.lines[0][0], 4)]  # 4 mugs: 50.00
    screen._fill_table()
    screen._update_totals()
    assert free.isEnabled() and not screen.shipping_error.isVisible()

    # The service refuses it too, whatever a screen sends.
    with pytest.raises(ValidationError, match="50.00 or more"):
        po.place_phone_order(db, actor=order_taker, customer_id=ana, lines=[po.LineInput(mug, 1)],
                             shipping=po.ShippingInput("free_shipping", "Free shipping (orders over 50.00)", "0"))
