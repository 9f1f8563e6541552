"""The phone-order screen driven by the keyboard: returning and new callers, lines, the shop's
shipping methods, pay link emailed by the web store and watched until it says "paid", card
terminal, and the store being away or too old to email the link."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from PySide6.QtCore import QThreadPool, Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from backoffice.domain import Customer, CustomerAddress, Order, OutboxMessage, Payment, Product, ShippingLine
from backoffice.domain.enums import AddressKind, CustomerStatus, OutboxKind, PaymentMethod, PaymentStatus
from backoffice.domain.customer_fields import contact_columns
from backoffice.domain.search import reindex_customer
from backoffice.domain.text import fold
from backoffice.errors import StoreError
from backoffice.services import phone_orders as service
from backoffice.store.connector import StoreCredentials
from backoffice.store.devstore import DevStore
from backoffice.store.woocommerce import WooCommerceConnector
from ui.common.context import AppContext
from ui.orders.phone_order_screen import STORE_AWAY, PhoneOrderScreen
from ui.common.tasks import TaskManager

WAIT_MS = 10_000


class Keyboard:
    """Sends keys to widgets and counts every key pressed."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.count = 0

    def type(self, widget, text: str) -> None:
        self.qtbot.keyClicks(widget, text)
        self.count += len(text)

    def press(self, widget, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        self.qtbot.keyClick(widget, key, modifier)
        self.count += 1


def focused():
    widget = QApplication.focusWidget()
    assert widget is not None, "no widget has the keyboard focus"
    return widget


def add_product(db, sku, name, price, *, stock=None, store_id=None):
    with db.begin() as s:
        p = Product(sku=sku, name=name, name_key=fold(name), price=Decimal(price), store_id=store_id,
                    manage_stock=stock is not None, stock_quantity=stock, status="publish")
        s.add(p)
        s.flush()
        return p.id


def add_customer(db, *, first, last, email, phone_digits, store_id=None, status=CustomerStatus.ACTIVE):
    with db.begin() as s:
        # The columns every path derives (backoffice.domain.customer_fields), not a copy of the rule.
        c = Customer(first_name=first, last_name=last, email=email, phone=f"+{phone_digits}", status=status,
                     store_id=store_id, **contact_columns(first_name=first, last_name=last, company="", email=email,
                                                          phone=f"+{phone_digits}", region="US"))
        s.add(c)
        s.flush()
        for kind in (AddressKind.BILLING, AddressKind.SHIPPING):
            s.add(CustomerAddress(customer_id=c.id, kind=kind, is_default=True, first_name=first,
                                  last_name=last, address_1="1 Main St", city="Houston", state="TX",
                                  postcode="77002", country="US",
                                  email=email if kind is AddressKind.BILLING else ""))
        reindex_customer(s, c.id)
        return c.id


@pytest.fixture
def screen_for(qtbot):
    made = []

    def make(db, actor):
        ctx = AppContext(db=db, actor=actor, tasks=TaskManager())
        screen = PhoneOrderScreen(ctx)
        qtbot.addWidget(screen)
        screen.resize(1300, 800)
        screen.show()
        qtbot.waitExposed(screen)
        screen.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is screen, timeout=WAIT_MS)
        made.append(screen)
        screen.start_new_order()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is screen.caller_box, timeout=WAIT_MS)
        return screen

    yield make
    for screen in made:
        screen.stop_watching()
        assert screen.ctx.tasks.wait_all(WAIT_MS)
        QApplication.processEvents()
    assert QThreadPool.globalInstance().activeThreadCount() == 0


def wait_idle(qtbot, screen):
    qtbot.waitUntil(lambda: not screen.ctx.tasks.busy(), timeout=WAIT_MS)


def has_hits(results) -> bool:
    return results.count() > 0 and results.item(0).data(Qt.ItemDataRole.UserRole) is not None


def pick_caller(qtbot, kb, screen, text):
    kb.type(screen.caller_box, text)
    qtbot.waitUntil(lambda: has_hits(screen.caller_results), timeout=WAIT_MS)
    kb.press(screen.caller_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.caller is not None, timeout=WAIT_MS)


def add_by_keyboard(qtbot, kb, screen, text, lines_after):
    kb.type(focused(), text)
    qtbot.waitUntil(lambda: has_hits(screen.product_results), timeout=WAIT_MS)
    kb.press(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.lines_table.rowCount() == lines_after, timeout=WAIT_MS)


def choose_shipping(qtbot, kb, screen, letter, cost):
    kb.press(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    assert focused() is screen.shipping_combo
    kb.type(screen.shipping_combo, letter)
    kb.press(screen.shipping_combo, Qt.Key.Key_Tab)
    assert focused() is screen.shipping_cost
    kb.type(screen.shipping_cost, cost)


# --- with the dev store on loopback ---------------------------------------------------


@pytest.fixture
def devstore():
    store = DevStore(seed=11)
    store.start()
    yield store
    store.close()


def stock_the_shop(db, store):
    """Two products and a returning customer, on the store and here (as after a sync)."""
    ids = {}
    for sku, name, price in (("MUG-01", "Café mug", "12.50"), ("TEA-02", "Green tea", "7.25")):
        record = store.create_product({"name": name, "sku": sku, "regular_price": price,
                                       "manage_stock": True, "stock_quantity": 20})
        ids[sku] = add_product(db, sku, name, price, stock=20, store_id=record["id"])
    record = store.create_customer({
        "email": "ana@example.com", "first_name": "Ana", "last_name": "García",
        "billing": {"first_name": "Ana", "last_name": "García", "address_1": "1 Main St", "city": "Houston",
                    "state": "TX", "postcode": "77002", "country": "US", "email": "ana@example.com",
                    "phone": "+1 713 555 0199"}})
    ids["ana"] = add_customer(db, first="Ana", last="García", email="ana@example.com",
                              phone_digits="17135550199", store_id=record["id"])
    return ids


def test_returning_caller_pays_by_link_while_on_the_line(qtbot, db, order_taker, screen_for, devstore):
    ids = stock_the_shop(db, devstore)
    screen = screen_for(db, order_taker)
    assert screen.watch_interval_ms == 3000
    screen.watch_interval_ms = 500
    screen.connector_provider = lambda: WooCommerceConnector(
        StoreCredentials(devstore.base_url, devstore.consumer_key, devstore.consumer_secret))
    kb = Keyboard(qtbot)

    # The last digits of the caller's number, Enter: the caller is picked.
    pick_caller(qtbot, kb, screen, "0199")
    assert screen.customer_id == ids["ana"]
    assert focused() is screen.product_box
    # Two products, each by a few letters of its SKU or name and Enter.
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    add_by_keyboard(qtbot, kb, screen, "tea", 2)
    # Shipping: Alt+S, "f" for Flat rate, Tab, the cost.
    choose_shipping(qtbot, kb, screen, "f", "5")
    assert screen.preview_total() == Decimal("24.75")
    assert "Total 24.75 USD" in screen.totals_label.text()
    # Pay link (Alt+L), then Ctrl+Enter places the order.
    kb.press(focused(), Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.pay_link_radio.isChecked(), timeout=WAIT_MS)
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    # Saved here, sent to the store at once, and the store's payment page shown.
    qtbot.waitUntil(lambda: screen.pay_url_edit.text() != "", timeout=WAIT_MS)
    state = screen.store_state
    url = screen.pay_url_edit.text()
    assert url.startswith(devstore.base_url + "/checkout/order-pay/")
    assert screen.copy_url_button.isEnabled()
    assert screen.watching and screen.payment_state.text().startswith("Waiting for the payment")
    on_store = devstore.get_order(state.store_id)
    assert on_store["customer_id"] == devstore.list_customers(role="customer")[0]["id"]
    assert sorted((i["sku"], i["quantity"]) for i in on_store["line_items"]) == [("MUG-01", 1), ("TEA-02", 1)]
    assert [(s["method_id"], s["method_title"]) for s in on_store["shipping_lines"]] == [("flat_rate", "Flat rate")]
    assert on_store["total"] == "24.75" and on_store["status"] == "pending"

    # The store emailed the same link to the caller's billing address, once, and the screen says so.
    qtbot.waitUntil(lambda: screen.email_state.text() == "Pay link emailed to a***@example.com.", timeout=WAIT_MS)
    (email,) = devstore.sent_emails()
    assert (email.to, email.order_id, email.kind, email.pay_url) == (
        "ana@example.com", state.store_id, "customer_invoice", url)
    assert screen.send_again_button.isVisible() and screen.send_again_button.isEnabled()

    # The caller pays on the store's page; the screen says so while they are on the line.
    devstore.mark_paid(state.store_id, transaction_id="devpay_test_1")
    qtbot.waitUntil(lambda: screen.payment_state.text() == "Paid", timeout=WAIT_MS)
    assert screen.paid and not screen.watching
    screen.copy_pay_url()
    assert QApplication.clipboard().text() == url

    with db.read() as s:
        order = s.scalars(select(Order)).one()
        assert order.is_paid() and order.store_id == state.store_id and order.total == Decimal("24.75")
        pay = s.scalars(select(Payment)).one()
        assert (pay.method, pay.status, pay.transaction_id) == (
            PaymentMethod.PAY_LINK, PaymentStatus.PAID, "devpay_test_1")
    assert not screen.send_again_button.isEnabled()
    assert not screen.terminal_radio.isEnabled() and not screen.later_radio.isEnabled()  # paid: no other payment
    assert len(devstore.sent_emails()) == 1
    print(f"\nKeystrokes for a returning caller's two-item pay-link order: {kb.count}")
    assert kb.count < 25

    # Ctrl+N's job: a clean screen for the next call.
    screen.start_new_order()
    assert screen.lines == [] and screen.placed is None and screen.pay_url_edit.text() == ""
    assert focused() is screen.caller_box


def test_store_away_then_back_while_the_caller_waits(qtbot, db, order_taker, screen_for, devstore):
    stock_the_shop(db, devstore)
    screen = screen_for(db, order_taker)
    screen.watch_interval_ms = 200
    screen.connector_provider = lambda: WooCommerceConnector(
        StoreCredentials(devstore.base_url, devstore.consumer_key, devstore.consumer_secret),
        max_retries=0, timeout=(1, 2))
    host, port = devstore.base_url.rsplit("//", 1)[1].split(":")
    devstore.stop()
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    choose_shipping(qtbot, kb, screen, "l", "0")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.store_label.text() == STORE_AWAY, timeout=WAIT_MS)
    assert screen.watching and screen.pay_url_edit.text() == ""
    qtbot.waitUntil(lambda: "queued" in screen.email_state.text(), timeout=WAIT_MS)
    assert screen.email_state.text() == ("Pay link email queued: it goes to a***@example.com as soon as the web "
                                         "store has the order.")
    assert not screen.send_again_button.isEnabled()
    with db.read() as s:
        assert s.scalars(select(Order.store_id)).one() is None
    # The store comes back: the next try sends the order, the pay link appears and is emailed.
    devstore.start(host, int(port))
    qtbot.waitUntil(lambda: screen.pay_url_edit.text() != "", timeout=WAIT_MS)
    assert screen.store_label.text() == "The web store has the order."
    assert devstore.count("orders") == 1
    qtbot.waitUntil(lambda: screen.email_state.text() == "Pay link emailed to a***@example.com.", timeout=WAIT_MS)
    assert [e.to for e in devstore.sent_emails()] == ["ana@example.com"]


def test_pay_link_then_terminal_tells_the_store_at_once(qtbot, db, order_taker, screen_for, devstore):
    stock_the_shop(db, devstore)
    screen = screen_for(db, order_taker)
    screen.watch_interval_ms = 60_000
    screen.connector_provider = lambda: WooCommerceConnector(
        StoreCredentials(devstore.base_url, devstore.consumer_key, devstore.consumer_secret))
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "tea", 1)
    choose_shipping(qtbot, kb, screen, "l", "0")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.pay_url_edit.text() != "", timeout=WAIT_MS)
    store_id = screen.store_state.store_id
    # The caller would rather read the card to the terminal.
    kb.press(focused(), Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.record_payment_button.isEnabled(), timeout=WAIT_MS)
    fields = screen.terminal_fields
    for key, text in (("transaction_id", "ch_9Zz"), ("card_brand", "Mastercard"), ("last4", "4444")):
        fields[key].setFocus()
        kb.type(fields[key], text)
    kb.press(focused(), Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.payment_state.text() == "Paid", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: devstore.get_order(store_id)["status"] == "processing", timeout=WAIT_MS)
    on_store = devstore.get_order(store_id)
    assert on_store["transaction_id"] == "ch_9Zz" and on_store["date_paid"]
    assert "5555" not in str(on_store)


def test_pay_link_switched_to_pay_later(qtbot, db, order_taker, screen_for, devstore):
    stock_the_shop(db, devstore)
    screen = screen_for(db, order_taker)
    screen.connector_provider = lambda: WooCommerceConnector(
        StoreCredentials(devstore.base_url, devstore.consumer_key, devstore.consumer_secret))
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "tea", 1)
    choose_shipping(qtbot, kb, screen, "l", "0")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.pay_url_edit.text() != "", timeout=WAIT_MS)
    store_id = screen.store_state.store_id
    assert not screen.pay_later_button.isHidden() and not screen.pay_later_button.isEnabled()
    kb.press(focused(), Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.pay_later_button.isEnabled(), timeout=WAIT_MS)
    screen.later_combo.setCurrentIndex(0)  # invoice
    screen.pay_later_button.click()
    qtbot.waitUntil(lambda: screen.payment_state.text() == "To be paid later: Invoice.", timeout=WAIT_MS)
    assert not screen.watching
    qtbot.waitUntil(lambda: devstore.get_order(store_id)["status"] == "on-hold", timeout=WAIT_MS)
    assert devstore.get_order(store_id)["payment_method"] in ("", "invoice")


def test_a_store_too_old_to_email_the_link_says_so_and_the_link_is_read_out(qtbot, db, order_taker, screen_for,
                                                                             devstore):
    devstore.order_actions = False
    stock_the_shop(db, devstore)
    screen = screen_for(db, order_taker)
    screen.watch_interval_ms = 60_000
    screen.connector_provider = lambda: WooCommerceConnector(
        StoreCredentials(devstore.base_url, devstore.consumer_key, devstore.consumer_secret))
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    choose_shipping(qtbot, kb, screen, "f", "5")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "too old" in screen.email_state.text(), timeout=WAIT_MS)
    assert screen.email_state.text() == (
        "The pay link was not emailed: the web store is too old to email it (that needs WooCommerce 9.5 or "
        "newer). Read the link out or copy it.")
    # The link is there to read out or copy, and the order is watched until paid as before.
    assert screen.pay_url_edit.text().startswith(devstore.base_url + "/checkout/order-pay/")
    assert screen.copy_url_button.isEnabled() and screen.watching
    assert screen.store_label.text() == "The web store has the order."
    assert not screen.send_again_button.isEnabled()
    assert devstore.sent_emails() == []


def test_send_the_link_again(qtbot, db, order_taker, screen_for, devstore):
    stock_the_shop(db, devstore)
    screen = screen_for(db, order_taker)
    screen.watch_interval_ms = 60_000
    screen.connector_provider = lambda: WooCommerceConnector(
        StoreCredentials(devstore.base_url, devstore.consumer_key, devstore.consumer_secret))
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "tea", 1)
    choose_shipping(qtbot, kb, screen, "l", "0")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.send_again_button.isEnabled(), timeout=WAIT_MS)
    assert len(devstore.sent_emails()) == 1
    # The caller did not get it: one click, one more email, sent at once.
    screen.send_again_button.click()
    qtbot.waitUntil(lambda: len(devstore.sent_emails()) == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: screen.send_again_button.isEnabled(), timeout=WAIT_MS)
    assert screen.email_state.text() == "Pay link emailed to a***@example.com."
    assert {e.order_id for e in devstore.sent_emails()} == {screen.store_state.store_id}


def test_shipping_methods_come_from_the_shop_setting(qtbot, db, owner, order_taker, screen_for, away):
    from backoffice.services.settings import set_settings

    set_settings(db, actor=owner, values={"shipping.methods": [
        {"title": "Courier (next day)", "method_id": "flat_rate", "cost": "9.50"},
        {"title": "Pick up at the shop", "method_id": "local_pickup", "cost": "0"},
    ]})
    add_product(db, "MUG-01", "Café mug", "12.50")
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    qtbot.waitUntil(lambda: screen.shipping_combo.count() == 2, timeout=WAIT_MS)
    assert screen.shipping_combo.itemText(0) == "Courier (next day) — 9.50 USD"
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    # A letter picks the method and fills in its cost.
    kb.press(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    kb.type(screen.shipping_combo, "c")
    assert screen.shipping_cost.text() == "9.50"
    assert screen.preview_total() == Decimal("22.00")
    assert "Total 22.00 USD" in screen.totals_label.text()
    kb.press(screen.shipping_combo, Qt.Key.Key_Down)
    assert screen.shipping_cost.text() == "0.00"
    kb.press(screen.shipping_combo, Qt.Key.Key_Up)
    assert screen.shipping_combo.currentData().title == "Courier (next day)"
    # The cost stays editable: Tab selects it and typing replaces it.
    kb.press(screen.shipping_combo, Qt.Key.Key_Tab)
    assert focused() is screen.shipping_cost
    kb.type(screen.shipping_cost, "7")
    assert screen.preview_total() == Decimal("19.50")
    assert "Total 19.50 USD" in screen.totals_label.text()
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.placed is not None, timeout=WAIT_MS)
    with db.read() as s:
        line = s.scalars(select(ShippingLine)).one()
        assert (line.method_id, line.method_title, line.total) == ("flat_rate", "Courier (next day)", Decimal("7.00"))


# --- without a store -----------------------------------------------------------------


def test_store_away_order_is_saved_and_watching_goes_on(qtbot, db, order_taker, screen_for):
    add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.watch_interval_ms = 100
    calls = []

    def away():
        calls.append(threading.current_thread() is threading.main_thread())
        raise StoreError("The web store did not answer.", retryable=True)

    screen.connector_provider = away
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    assert focused() is screen.product_box
    add_by_keyboard(qtbot, kb, screen, "caf", 1)
    choose_shipping(qtbot, kb, screen, "l", "0")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.store_label.text() == STORE_AWAY, timeout=WAIT_MS)
    # It keeps trying while the screen shows the order, never on the GUI thread.
    qtbot.waitUntil(lambda: len(calls) >= 3, timeout=WAIT_MS)
    assert not any(calls)
    assert screen.watching
    with db.read() as s:
        order = s.scalars(select(Order)).one()
        assert order.total == Decimal("12.50") and order.store_id is None
        assert s.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all() == [
            OutboxKind.CREATE_ORDER, OutboxKind.SEND_PAY_LINK]
    assert "queued" in screen.email_state.text() and "a***@example.com" in screen.email_state.text()
    screen.start_new_order()
    assert not screen.watching
    assert focused() is screen.caller_box
    wait_idle(qtbot, screen)
    count = len(calls)
    qtbot.wait(400)
    assert len(calls) == count


@pytest.fixture
def away():
    def provider():
        raise StoreError("The web store did not answer.", retryable=True)

    return provider


def test_new_caller_typed_in_the_same_screen_with_inline_checks(qtbot, db, order_taker, screen_for, away):
    add_product(db, "TEA-02", "Green tea", "7.25")
    add_customer(db, first="Bea", last="Stone", email="bea@example.com", phone_digits="17135550123")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    kb.press(focused(), Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    # A button's mnemonic clicks it after a short visible press.
    qtbot.waitUntil(lambda: screen.new_customer_group.isVisible(), timeout=WAIT_MS)
    assert focused() is screen.new_fields["first_name"]
    kb.type(focused(), "Bob")
    kb.press(focused(), Qt.Key.Key_Tab)
    kb.type(focused(), "Stone")
    kb.press(focused(), Qt.Key.Key_Tab)
    kb.type(focused(), "bob@example")
    kb.press(focused(), Qt.Key.Key_Tab)
    assert screen.field_errors["email"].isVisible()
    assert "dot" in screen.field_errors["email"].text()
    kb.type(focused(), "12")
    kb.press(focused(), Qt.Key.Key_Tab)
    assert "not a valid phone number for US" in screen.field_errors["phone"].text()
    # Fix both: the messages go as soon as the field is typed in again.
    kb.press(focused(), Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    kb.press(focused(), Qt.Key.Key_End)
    kb.type(focused(), ".com")
    assert not screen.field_errors["email"].isVisible()
    kb.press(focused(), Qt.Key.Key_Tab)
    screen.new_fields["phone"].selectAll()
    kb.type(focused(), "713 555 0123")
    kb.press(focused(), Qt.Key.Key_Tab)
    # Same phone as Bea Stone: the desk is warned and can use her instead.
    qtbot.waitUntil(lambda: screen.similar_label.isVisible(), timeout=WAIT_MS)
    assert "A similar customer exists: Bea Stone (same phone number)" in screen.similar_label.text()
    assert screen.use_similar_button.isVisible()
    for key, text in (("address_1", "2 Elm St"), ("city", "Houston"), ("postcode", "77003")):
        screen.new_fields[key].setFocus()
        kb.type(screen.new_fields[key], text)
    kb.press(focused(), Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    assert focused() is screen.product_box
    add_by_keyboard(qtbot, kb, screen, "tea", 1)
    choose_shipping(qtbot, kb, screen, "f", "4.5")
    kb.press(focused(), Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.later_radio.isChecked() and focused() is screen.later_combo,
                    timeout=WAIT_MS)
    kb.type(screen.later_combo, "b")
    assert screen.payment_method() is PaymentMethod.BANK_TRANSFER
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.placed is not None, timeout=WAIT_MS)
    assert "To be paid later: Bank transfer" in screen.payment_state.text()
    assert "11.75 USD" in screen.placed_label.text()
    wait_idle(qtbot, screen)
    with db.read() as s:
        bob = s.scalars(select(Customer).where(Customer.email == "bob@example.com")).one()
        assert bob.phone_e164 == "+17135550123"
        order = s.scalars(select(Order)).one()
        assert (order.customer_id, order.status.value, order.total) == (bob.id, "on-hold", Decimal("11.75"))
        kinds = s.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        assert kinds == [OutboxKind.CREATE_CUSTOMER, OutboxKind.CREATE_ORDER]


def test_service_validation_shows_next_to_the_fields(qtbot, db, order_taker, screen_for, away):
    add_product(db, "TEA-02", "Green tea", "7.25")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    kb.press(focused(), Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: focused() is screen.new_fields["first_name"], timeout=WAIT_MS)
    kb.type(focused(), "Bob")
    kb.press(focused(), Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    add_by_keyboard(qtbot, kb, screen, "tea", 1)
    choose_shipping(qtbot, kb, screen, "l", "0")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.form_error.isVisible(), timeout=WAIT_MS)
    assert screen.placed is None and screen.place_button.isEnabled()
    assert screen.field_errors["email"].isVisible()
    assert screen.field_errors["address_1"].text() == "Enter the street address."
    assert focused() is screen.new_fields["email"]
    with db.read() as s:
        assert s.scalars(select(Order)).all() == []


def test_lines_quantities_delete_and_totals(qtbot, db, order_taker, screen_for, away):
    add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    add_product(db, "TEA-02", "Green tea", "7.25")
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "garcia")
    kb.press(focused(), Qt.Key.Key_Q, Qt.KeyboardModifier.AltModifier)
    assert focused() is screen.qty_spin
    screen.qty_spin.selectAll()
    kb.type(focused(), "3")
    kb.press(focused(), Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    assert screen.qty_spin.value() == 1
    add_by_keyboard(qtbot, kb, screen, "green", 2)
    add_by_keyboard(qtbot, kb, screen, "mug", 2)  # the same product again adds to its line
    assert [(h.sku, q) for h, q in screen.lines] == [("MUG-01", 4), ("TEA-02", 1)]
    assert screen.preview_total() == Decimal("57.25")
    assert "Total 57.25 USD" in screen.totals_label.text()
    # Down from the product box goes to its results; Up at the top comes back.
    kb.type(screen.product_box, "tea")
    qtbot.waitUntil(lambda: has_hits(screen.product_results), timeout=WAIT_MS)
    kb.press(screen.product_box, Qt.Key.Key_Down)
    assert focused() is screen.product_results
    kb.press(screen.product_results, Qt.Key.Key_Up)
    assert focused() is screen.product_box
    screen.product_box.clear()
    # Quantities are edited in the table; Delete removes a line.
    screen.lines_table.setFocus()
    screen.lines_table.setCurrentCell(1, 2)
    item = screen.lines_table.item(1, 2)
    item.setText("2")
    assert screen.lines[1][1] == 2
    item = screen.lines_table.item(1, 2)
    item.setText("zero")
    assert screen.lines[1][1] == 2 and screen.lines_error.isVisible()
    screen.lines_table.setCurrentCell(0, 1)
    kb.press(screen.lines_table, Qt.Key.Key_Delete)
    assert [(h.sku, q) for h, q in screen.lines] == [("TEA-02", 2)]
    assert "Total 14.50 USD" in screen.totals_label.text()


def test_nothing_found_says_what_to_do_and_enter_picks_nothing(qtbot, db, order_taker, screen_for, away):
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    kb = Keyboard(qtbot)
    kb.type(screen.caller_box, "zzzq")
    kb.press(screen.caller_box, Qt.Key.Key_Return)  # before the answer: picks when it comes
    qtbot.waitUntil(lambda: screen.caller_results.count() == 1, timeout=WAIT_MS)
    assert "Alt+W enters a new customer" in screen.caller_results.item(0).text()
    kb.press(screen.caller_box, Qt.Key.Key_Down)
    kb.press(screen.caller_box, Qt.Key.Key_Return)
    wait_idle(qtbot, screen)
    assert screen.customer_id is None and focused() is screen.caller_box
    # Enter straight after typing picks the first hit as soon as it arrives.
    screen.caller_box.clear()
    kb.type(screen.caller_box, "garc")
    kb.press(screen.caller_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.caller is not None, timeout=WAIT_MS)
    assert screen.caller.name == "Ana García" and focused() is screen.product_box


def test_repeat_last_order_in_one_action(qtbot, db, order_taker, screen_for, away):
    from backoffice.services import phone_orders as po

    mug = add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    tea = add_product(db, "TEA-02", "Green tea", "7.25")
    ana = add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    po.place_phone_order(db, actor=order_taker, customer_id=ana,
                         lines=[po.LineInput(tea, 2), po.LineInput(mug, 1)],
                         shipping=po.ShippingInput("flat_rate", "Flat rate", "5"))
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "ana@")
    qtbot.waitUntil(lambda: screen.repeat_button.isEnabled(), timeout=WAIT_MS)
    assert "Last order" in screen.caller_label.text()
    kb.press(focused(), Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: len(screen.lines) == 2, timeout=WAIT_MS)
    assert [(h.sku, q) for h, q in screen.lines] == [("TEA-02", 2), ("MUG-01", 1)]
    assert screen.preview_total() == Decimal("27.00")


def test_deactivated_caller_is_refused_in_words(qtbot, db, order_taker, screen_for, away):
    add_product(db, "MUG-01", "Café mug", "12.50")
    add_customer(db, first="Dee", last="Gone", email="dee@example.com", phone_digits="17135550177",
                 status=CustomerStatus.DEACTIVATED)
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "dee")
    assert "deactivated" in screen.caller_refusal.text()
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    choose_shipping(qtbot, kb, screen, "l", "0")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.form_error.isVisible(), timeout=WAIT_MS)
    assert "deactivated" in screen.form_error.text()
    assert screen.placed is None


def test_card_terminal_payment_recorded_by_reference(qtbot, db, order_taker, screen_for, away, monkeypatch):
    opened = []
    monkeypatch.setattr("ui.orders.phone_order_screen.QDesktopServices.openUrl", lambda url: opened.append(url.toString()))
    from backoffice.services.settings import write_settings

    with db.begin() as s:
        write_settings(s, {"payments.terminal_url": "https://dashboard.example.com/terminal",
                           "payments.terminal_gateway": "stripe"})
    add_product(db, "MUG-01", "Café mug", "12.50")
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    qtbot.waitUntil(lambda: screen.terminal_url != "", timeout=WAIT_MS)
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    choose_shipping(qtbot, kb, screen, "l", "0")
    kb.press(focused(), Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.terminal_radio.isChecked() and screen.terminal_group.isVisible(),
                    timeout=WAIT_MS)
    screen.open_terminal_button.click()
    assert opened == ["https://dashboard.example.com/terminal"]
    assert not screen.record_payment_button.isEnabled()  # nothing to pay for yet
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.placed is not None, timeout=WAIT_MS)
    assert focused() is screen.terminal_fields["transaction_id"]
    assert screen.terminal_fields["gateway"].text() == "stripe"
    # A card number typed into a reference field is masked on the spot.
    kb.type(focused(), "4111 1111 1111 1111")
    assert "ends 1111" in focused().text() and focused().notice.isVisible()
    # Correcting the field takes the warning away.
    focused().selectAll()
    kb.type(focused(), "ch_3PqA1b2C3d")
    assert focused().text() == "ch_3PqA1b2C3d" and not focused().notice.isVisible()
    kb.press(focused(), Qt.Key.Key_Tab)
    kb.type(focused(), "Visa")
    kb.press(focused(), Qt.Key.Key_Tab)
    kb.type(focused(), "4242 4242 4242 1881")  # the whole number by mistake: its last four stay
    assert screen.terminal_fields["last4"].text() == "1881"
    kb.press(focused(), Qt.Key.Key_Tab)
    kb.type(focused(), "A1B2C3")
    kb.press(focused(), Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.paid, timeout=WAIT_MS)
    assert screen.payment_state.text() == "Paid"
    wait_idle(qtbot, screen)
    with db.read() as s:
        pay = s.scalars(select(Payment)).one()
        assert (pay.method, pay.status, pay.transaction_id, pay.card_brand, pay.card_last4, pay.auth_code) == (
            PaymentMethod.TERMINAL, PaymentStatus.PAID, "ch_3PqA1b2C3d", "Visa", "1881", "A1B2C3")
        assert s.scalars(select(Order)).one().is_paid()


def test_ctrl_n_never_drops_a_half_taken_order_unasked(qtbot, db, order_taker, screen_for, away, monkeypatch):
    add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "caf", 1)
    asked = []

    def answer(choice):
        def question(parent, title, text, *args, **kwargs):
            asked.append(text)
            return choice
        return question

    # Cancel: the order stays as it was, with the caller and the line.
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Cancel))
    screen.request_new_order()
    assert len(asked) == 1 and "Ana García" in asked[0] and "1 product line" in asked[0]
    assert [hit.sku for hit, _qty in screen.lines] == ["MUG-01"] and screen.customer_id is not None
    # Discard: a clean screen for the next call.
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Discard))
    screen.request_new_order()
    assert screen.lines == [] and screen.customer_id is None
    assert focused() is screen.caller_box
    # Nothing to lose: no question at all.
    screen.request_new_order()
    assert len(asked) == 2


def test_a_placed_order_needs_no_question_and_offers_the_next_call(qtbot, db, order_taker, screen_for, away,
                                                                    monkeypatch):
    add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "caf", 1)
    choose_shipping(qtbot, kb, screen, "l", "0")
    assert not screen.next_order_button.isEnabled()
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.next_order_button.isEnabled(), timeout=WAIT_MS)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked about a placed order"))
    screen.request_new_order()
    assert screen.lines == [] and screen.placed is None and not screen.next_order_button.isEnabled()
    wait_idle(qtbot, screen)


def test_the_next_order_in_the_window_is_charged_its_shipping_too(qtbot, db, owner, order_taker, screen_for,
                                                                   away):
    from backoffice.services.settings import write_settings

    with db.begin() as s:
        write_settings(s, {"shipping.methods": [
            {"title": "Flat rate", "method_id": "flat_rate", "cost": "6.50"},
            {"title": "Local pickup", "method_id": "local_pickup", "cost": "0"}]})
    add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    qtbot.waitUntil(lambda: screen.shipping_combo.count() == 2, timeout=WAIT_MS)
    kb = Keyboard(qtbot)
    for call in range(2):
        pick_caller(qtbot, kb, screen, "0199")
        add_by_keyboard(qtbot, kb, screen, "caf", 1)
        kb.press(focused(), Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
        kb.type(screen.shipping_combo, "f")
        # The method's cost is filled in, on the first call and on the next one alike.
        assert screen.shipping_cost.text() == "6.50", f"call {call + 1}"
        kb.press(screen.shipping_combo, Qt.Key.Key_Tab)
        screen.shipping_cost.selectAll()
        kb.type(screen.shipping_cost, "7.00")  # the person may still change it
        kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: screen.next_order_button.isEnabled(), timeout=WAIT_MS)
        wait_idle(qtbot, screen)
        screen.request_new_order()
        # The next caller comes later than a combo box's type-ahead ("f" then "f" is "ff").
        qtbot.wait(QApplication.keyboardInputInterval() + 100)
    with db.read() as s:
        assert [o.shipping_total for o in s.scalars(select(Order).order_by(Order.id))] == [
            Decimal("7.00"), Decimal("7.00")]


@pytest.mark.parametrize("width", [1024, 1600])
def test_the_pay_link_is_shown_whole_to_read_out(qtbot, db, order_taker, screen_for, width):
    screen = screen_for(db, order_taker)
    screen.resize(width, 700)
    url = "https://shop.example.com/checkout/order-pay/4268/?pay_for_order=true&key=wc_order_AbCdEf123456XyZ"
    screen.pay_url_edit.setText(url)
    qtbot.wait(100)
    view = screen.pay_url_edit
    lines = int(view.document().documentLayout().documentSize().height())
    # Every line of the address fits in the box: nothing to scroll to, nothing cut off.
    assert view.viewport().height() >= lines * view.fontMetrics().lineSpacing()
    assert view.text() == url
    # The message above it points down to it.
    layout_order = [screen.payment_state.y(), view.y()]
    assert layout_order == sorted(layout_order)


def test_a_new_caller_keeps_what_was_typed_and_is_warned_about_the_likeliest_match(
        qtbot, db, order_taker, screen_for, away):
    add_customer(db, first="Anthony", last="Patel", email="ap@example.com", phone_digits="17135550144")
    add_customer(db, first="Carol", last="Adams", email="carol@example.com", phone_digits="17135550144")
    screen = screen_for(db, order_taker)
    kb = Keyboard(qtbot)
    kb.type(screen.caller_box, "713-555-0144")
    # Both callers on that number are listed, each with where they live, nothing cut off.
    qtbot.waitUntil(lambda: screen.caller_results.count() == 2, timeout=WAIT_MS)
    texts = [screen.caller_results.item(i).text() for i in range(2)]
    assert any("carol@example.com" in t and "77002 Houston" in t for t in texts)
    kb.press(focused(), Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: screen.new_customer_group.isVisible(), timeout=WAIT_MS)
    # The digits typed to find the caller are the new customer's phone: not typed twice.
    assert screen.new_fields["phone"].text() == "713-555-0144"
    kb.type(screen.new_fields["first_name"], "Carol")
    kb.press(focused(), Qt.Key.Key_Tab)
    kb.type(focused(), "Adams")
    kb.press(focused(), Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: "Carol Adams" in screen.similar_label.text(), timeout=WAIT_MS)
    text = screen.similar_label.text()
    # Carol Adams (same name and phone) comes before the stranger who shares the phone.
    assert text.index("Carol Adams") < text.index("Anthony Patel")
    assert screen.use_similar_button.text().replace("&", "") == "Use Carol Adams"


def test_name_tab_quantity_enter_adds_the_product(qtbot, db, order_taker, screen_for, away):
    add_product(db, "MUG-01", "Café mug", "12.50", stock=10)
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    assert focused() is screen.product_box
    kb.type(focused(), "mug")
    kb.press(focused(), Qt.Key.Key_Tab)
    assert focused() is screen.qty_spin
    screen.qty_spin.selectAll()
    kb.type(focused(), "3")
    kb.press(focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.lines_table.rowCount() == 1, timeout=WAIT_MS)
    assert [(hit.sku, qty) for hit, qty in screen.lines] == [("MUG-01", 3)]
    assert focused() is screen.product_box
def test_with_tax_on_the_screen_quotes_the_store_total_before_placing(qtbot, db, order_taker, screen_for, devstore):
    ids = stock_the_shop(db, devstore)
    devstore.set_tax_rate("8.25", country="US", state="TX")
    with db.begin() as s:
        from backoffice.domain import CustomerAddress
        from backoffice.domain.enums import AddressKind
        s.add(CustomerAddress(customer_id=ids["ana"], kind=AddressKind.SHIPPING, is_default=True, first_name="Ana",
                              last_name="García", address_1="1 Main St", city="Houston", state="TX",
                              postcode="77002", country="US"))
    screen = screen_for(db, order_taker)
    screen.connector_provider = lambda: WooCommerceConnector(
        StoreCredentials(devstore.base_url, devstore.consumer_key, devstore.consumer_secret))
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    choose_shipping(qtbot, kb, screen, "f", "5")
    # 12.50 + 5.00 shipping, 8.25% on both: the store's 1.44 tax, 18.94 in all.
    qtbot.waitUntil(lambda: "Tax 1.44 USD" in screen.totals_label.text(), timeout=WAIT_MS)
    assert "Total 18.94 USD" in screen.totals_label.text()
    assert screen.preview_total() == Decimal("18.94")
    # Paid on the terminal: the total recorded is the store's.
    screen.terminal_radio.setChecked(True)
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.placed is not None, timeout=WAIT_MS)
    assert screen.placed.total == Decimal("18.94")
    assert "18.94" in screen.placed_label.text()
    # The order reaches the store with the same total.
    qtbot.waitUntil(lambda: screen.store_state is not None and screen.store_state.store_id is not None,
                    timeout=WAIT_MS)
    assert devstore.get_order(screen.store_state.store_id)["total"] == "18.94"


def test_offline_the_screen_says_the_total_is_provisional(qtbot, db, order_taker, screen_for, away):
    add_product(db, "MUG-01", "Café mug", "12.50")
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    choose_shipping(qtbot, kb, screen, "f", "5")
    qtbot.waitUntil(lambda: "Provisional total" in screen.totals_label.text(), timeout=WAIT_MS)
    assert "Total 17.50 USD" in screen.totals_label.text()


def test_the_screen_shows_the_services_quote_and_the_order_is_saved_with_it(
        qtbot, db, order_taker, screen_for, away):
    product_id = add_product(db, "MUG-01", "Café mug", "12.50")
    add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    with db.begin() as s:
        # The price changed after the line was picked: the quote and the order follow the catalogue.
        s.get(Product, product_id).price = Decimal("13.00")
    choose_shipping(qtbot, kb, screen, "f", "5")
    qtbot.waitUntil(lambda: "Provisional total" in screen.totals_label.text(), timeout=WAIT_MS)
    assert "Total 18.00 USD" in screen.totals_label.text()
    assert screen.preview_total() == Decimal("18.00")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.placed is not None, timeout=WAIT_MS)
    assert screen.placed.total == Decimal("18.00")


def test_a_caller_whose_store_account_was_deleted_is_not_given_one_without_the_desk_choosing(
        qtbot, db, order_taker, screen_for, away):
    from backoffice.domain.base import utcnow

    add_product(db, "MUG-01", "Café mug", "12.50")
    customer_id = add_customer(db, first="Ana", last="García", email="ana@example.com", phone_digits="17135550199")
    with db.begin() as s:
        # Read from the store once, then its account was deleted there.
        s.get(Customer, customer_id).store_modified_at = utcnow()
    screen = screen_for(db, order_taker)
    screen.connector_provider = away
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    assert screen.account_combo.isVisible() and "deleted on the web store" in screen.account_question.text()
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    choose_shipping(qtbot, kb, screen, "f", "5")
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "guest order" in screen.caller_refusal.text(), timeout=WAIT_MS)
    assert screen.placed is None
    screen.account_combo.setCurrentIndex(screen.account_combo.findData(service.StoreAccount.GUEST))
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.placed is not None, timeout=WAIT_MS)
