"""Promise P1: no card number is recorded anywhere, whichever way it comes in.

Two valid test card numbers are typed and pasted into the phone-order screen, put in a
customer note and an order note through the services, imported from a CSV file (in a
name, an address line and a note, with separators and without, and in a row that is
rejected and saved to a rejected-rows file), received from the web store in an order
(the sync's guard on everything it takes in), and written to the log. Then the SQLite
database file with its -wal and -journal, the log files, the exports, the outbox rows
and every request sent to the store are scanned byte by byte for the digits, with and
without separators: only the last 4 digits may remain.
"""

from __future__ import annotations

import logging
import random
import re
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from backoffice.domain import Customer, CustomerNote, Order, OutboxMessage
from backoffice.domain.enums import Role
from backoffice.services import customer_import
from backoffice.services import customers as customers_service
from backoffice.services import phone_orders as po
from backoffice.services import sync
from backoffice.store.connector import StoreCredentials
from tests.integration.sync_helpers import SYNC_ACTOR
from backoffice.store.woocommerce import WooCommerceConnector
from tests.card_canary import assert_no_card_in_database, leaks, luhn_complete
from tests.conftest import make_staff
from tests.ui.test_phone_order_screen import (
    WAIT_MS,
    Keyboard,
    add_by_keyboard,
    choose_shipping,
    focused,
    pick_caller,
    stock_the_shop,
)
from ui.common.context import AppContext
from ui.orders.phone_order_screen import PhoneOrderScreen
from ui.common.tasks import TaskManager

VISA = "4111 1111 1111 1111"
MASTERCARD = "5555-5555-5555-4444"


def fresh_canaries(count: int) -> list[tuple[str, str]]:
    """Fresh random card numbers (real issuer prefixes, 13-19 digits), each typed another
    way a determined tester would: (ASCII digits, as typed)."""
    rng = random.Random()
    forms = [
        lambda g: "\n".join(g),                                   # a line break between groups
        lambda g: "    ".join(g),                                 # four spaces
        lambda g: "\u3000".join(to_full_width(x) for x in g),     # a Japanese keyboard
        lambda g: "\u200b".join(g),                               # zero-width spaces
        lambda g: "\u00ad".join(g),                               # soft hyphens
        lambda g: "\uff0d".join(g),                               # full-width hyphens
        lambda g: "/".join(g), lambda g: ",".join(g), lambda g: "_".join(g),
        lambda g: "cc" + "".join(g) + "x",                        # touching letters
        lambda g: g[0] + "." + "".join(g[1:]),                    # 4111.111111111111
        lambda g: " \u2013\t".join(g),                           # an en dash and a tab
    ]
    out = []
    for n in range(count):
        prefix = rng.choice(["4", "51", "2221", "37", "6011", "3528", "62", "5018"])
        size = rng.randint(13, 19)
        digits = luhn_complete(prefix + "".join(rng.choice("0123456789")
                                                for _ in range(size - 1 - len(prefix))))
        groups = [digits[i:i + 4] for i in range(0, len(digits), 4)]
        out.append((digits, forms[n % len(forms)](groups)))
    return out


def to_full_width(text: str) -> str:
    return "".join(chr(0xFF10 + int(ch)) for ch in text)


def assert_no_canary(blob: bytes, where: str, canaries) -> None:
    """No canary in ``blob`` read as text by its digits only (any script, any separators)."""
    for encoding in ("utf-8", "utf-16-le"):
        text = blob.decode(encoding, "ignore")
        for digits, _ in canaries:
            assert not leaks(text, digits), f"card {digits[-4:]} ({encoding}) in {where}"


def forbidden_patterns() -> list[bytes]:
    """Each card's digits run together, spaced and dashed, and its first 12 digits alone:
    anything longer than the last 4 is a leak."""
    out = []
    for card in (VISA, MASTERCARD):
        digits = re.sub(r"\D", "", card)
        for part in (digits, digits[:12]):
            groups = [part[i:i + 4] for i in range(0, len(part), 4)]
            for sep in ("", " ", "-", "."):
                out.append(sep.join(groups).encode())
                out.append(sep.join(groups).encode("utf-16-le"))
    return out


def assert_no_card(blob: bytes, where: str) -> None:
    for pattern in forbidden_patterns():
        assert pattern not in blob, f"a card number ({pattern[:4]!r}…) was found in {where}"


STORE = {"seed": 23, "capture": True}


def connector_for(store):
    return WooCommerceConnector(StoreCredentials(store.base_url, store.consumer_key, store.consumer_secret))


def test_a_card_number_is_nowhere(qtbot, sqlite_db, store, tmp_path):
    from backoffice.logsetup import configure_logging

    db = sqlite_db
    owner = make_staff(db, Role.OWNER, "owner")
    ids = stock_the_shop(db, store)
    log_dir = tmp_path / "logs"
    exports = tmp_path / "exports"
    exports.mkdir()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    configure_logging(log_dir=log_dir)
    canaries = fresh_canaries(24)
    try:
        _every_path_in(qtbot, db, owner, ids, store, exports)
        _fresh_canaries_through(db, owner, ids, store, canaries)
    finally:
        for handler in list(root.handlers):
            if handler not in saved_handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(saved_level)
        logging.captureWarnings(False)

    # What the test fed in did arrive, masked, so the scan below means something.
    with db.read() as s:
        notes = " ".join(s.scalars(select(Order.customer_note)).all())
        notes += " ".join(s.scalars(select(CustomerNote.text)).all())
        outbox = [(m.id, f"{m.reference} {m.payload} {m.last_error}")
                  for m in s.scalars(select(OutboxMessage))]
        imported = s.execute(select(Customer.first_name, Customer.email)
                             .where(Customer.email == "dana@example.com")).one()
    for ending in ("ends 1111", "ends 4444"):
        assert ending in notes
    assert len([n for n in notes.split("[card number removed") if n]) >= 6
    assert imported.first_name == "Dana [card number removed, ends 1111]"
    rejects = exports / "rejected-customers.csv"
    assert b"eve at example" in rejects.read_bytes() and b"ends 4444" in rejects.read_bytes()
    assert store.captured and any(b"ends 1111" in body for body in store.captured)
    assert (log_dir / "backoffice.log").read_bytes().count(b"card number removed") >= 2

    path = db.sqlite_path
    scanned = []
    for suffix in ("", "-wal", "-journal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            assert_no_card(side.read_bytes(), side.name)
            scanned.append(side.name)
    assert "shop.db-wal" in scanned
    assert len(outbox) >= 3
    for row_id, text in outbox:
        assert_no_card(text.encode(), f"outbox row {row_id}")
    for file in log_dir.iterdir():
        assert_no_card(file.read_bytes(), f"log file {file.name}")
    for file in exports.iterdir():
        assert_no_card(file.read_bytes(), f"export {file.name}")
    for number, body in enumerate(store.captured):
        assert_no_card(body, f"request {number} to the web store")
    for logged in store.requests_log:
        assert_no_card(repr(logged).encode(), "the store's request log")

    # The fresh canaries, read by digits only: every value of every table, the database
    # file with its WAL, the log files and every request sent to the store.
    assert_no_card_in_database(db, [d for d, _ in canaries] + ["4111111111111111", "5555555555554444"])
    for side in scanned:
        assert_no_canary(path.with_name(side).read_bytes(), side, canaries)
    for file in log_dir.iterdir():
        assert_no_canary(file.read_bytes(), f"log file {file.name}", canaries)
    for number, body in enumerate(store.captured):
        assert_no_canary(body, f"request {number} to the web store", canaries)

    # Once the database is closed (WAL checkpointed into the file), still nothing.
    db.dispose()
    assert_no_card(path.read_bytes(), path.name)
    assert_no_canary(path.read_bytes(), path.name, canaries)


def _every_path_in(qtbot, db, owner, ids, store, exports) -> None:
    log = logging.getLogger("backoffice.phone")

    # 1. Typed and pasted into the phone-order screen's note, then placed and pushed.
    ctx = AppContext(db=db, actor=owner, tasks=TaskManager())
    screen = PhoneOrderScreen(ctx)
    qtbot.addWidget(screen)
    screen.connector_provider = lambda: connector_for(store)
    screen.watch_interval_ms = 300
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is screen, timeout=WAIT_MS)
    screen.start_new_order()
    kb = Keyboard(qtbot)
    pick_caller(qtbot, kb, screen, "0199")
    add_by_keyboard(qtbot, kb, screen, "mug", 1)
    choose_shipping(qtbot, kb, screen, "f", "5")
    kb.press(focused(), Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert focused() is screen.note_edit
    kb.type(screen.note_edit, f"She read out {VISA} ")
    QGuiApplication.clipboard().setText(MASTERCARD)
    screen.note_edit.paste()
    assert "4444" in screen.note_edit.toPlainText()
    screen.note_edit.undo()
    screen.note_edit.undo()
    assert "ends 1111" in screen.note_edit.toPlainText()
    kb.press(focused(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: screen.pay_url_edit.text() != "", timeout=WAIT_MS)
    screen.stop_watching()
    assert ctx.tasks.wait_all(WAIT_MS)
    QApplication.processEvents()
    screen.close()

    # 2. Through the services: a customer note and a phone order's note and address.
    customers_service.add_note(db, actor=owner, customer_id=ids["ana"], text=f"Card on file? {MASTERCARD}!")
    placed = po.place_phone_order(
        db, actor=owner,
        new_customer=po.NewCustomer(first_name="Bob", last_name="Stone", email="bob@example.com",
                                    phone="713 555 0123", address_1="2 Elm St", address_2=VISA,
                                    city="Houston", postcode="77003"),
        lines=[po.LineInput(ids["TEA-02"], 2)], shipping=po.ShippingInput("flat_rate", "Flat rate", "5"),
        note=f"pay with {MASTERCARD} exp 01/29 cvc 123")
    assert len(placed.card_messages) == 2
    # A card number in a payment reference is refused, not stored.
    with pytest.raises(Exception, match="card number"):
        po.record_terminal_payment(db, actor=owner, order_id=placed.order_id, gateway="stripe",
                                   transaction_id=VISA, card_brand="Visa", last4="1111")

    # 3. Imported from a spreadsheet: in a name, an address line and notes, run together and
    # grouped; a rejected row goes to the rejected-rows file, saved with the exports.
    visa_digits, mastercard_digits = re.sub(r"\D", "", VISA), re.sub(r"\D", "", MASTERCARD)
    sheet = (
        "First name,Last name,Email,Phone,Address 1,Address 2,City,Zip,Notes\r\n"
        f"Dana {visa_digits},Roe,dana@example.com,713 555 0177,4 Pine St,{MASTERCARD},Houston,77005,"
        f"\"called, paid with {VISA}\"\r\n"
        f"Eve,Moe,eve at example.com,{visa_digits},{mastercard_digits},,Houston,77006,card {MASTERCARD}\r\n"
    ).encode()
    imported = customer_import.import_customers(db, actor=owner, data=sheet)
    assert (imported.imported, imported.rejected, imported.report.masked) == (1, 1, 6)
    customer_import.write_rejected_rows(imported.report, exports / "rejected-customers.csv")

    # 4. Received from the store: an order placed on the store with the numbers in it.
    product = store.list_products()[0]
    store.create_order({
        "status": "processing", "customer_note": f"my card is {VISA}, thanks",
        "billing": {"first_name": "Cy", "last_name": "Web", "address_1": "3 Oak St",
                    "address_2": MASTERCARD, "city": "Houston", "postcode": "77004", "country": "US",
                    "email": "cy@example.com", "phone": "+1 713 555 0144"},
        "line_items": [{"product_id": product["id"], "quantity": 1}],
        "meta_data": [{"key": "_checkout_comment", "value": f"card {MASTERCARD}"}],
    })
    with connector_for(store) as connector:
        summary = sync.run_sync(db, connector, full_customer_scan=True, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    with db.read() as s:
        pulled = s.scalars(select(Order).where(Order.customer_note.like("my card is%"))).one()
        assert "ends 1111" in pulled.customer_note
        assert s.scalars(select(Customer)).all()

    # 5. Written to the log, as a message argument and inside an exception.
    log.warning("Caller read out %s while ordering", VISA)
    try:
        raise ValueError(f"could not parse {MASTERCARD}")
    except ValueError:
        log.exception("Parsing failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert Decimal(placed.total) > 0


def _fresh_canaries_through(db, owner, ids, store, canaries) -> None:
    """Each fresh canary through the services, the phone order sent to the store, the sync
    of a customer and an order made on the store, and the log."""
    texts = [typed for _, typed in canaries]
    log = logging.getLogger("backoffice.canary")
    for n, typed in enumerate(texts[:6]):
        customers_service.add_note(db, actor=owner, customer_id=ids["ana"], text=f"note {n}: {typed} ok")
    placed = po.place_phone_order(
        db, actor=owner,
        new_customer=po.NewCustomer(first_name="Cid", last_name="Roe", email="cid@example.com",
                                    phone="713 555 0124", company=texts[6], address_1="5 Elm St",
                                    address_2=texts[7], city="Houston", postcode="77003"),
        lines=[po.LineInput(ids["TEA-02"], 1)], shipping=po.ShippingInput("flat_rate", texts[8], "5"),
        note=f"{texts[9]} exp 12/28 cvv 123")
    with db.read() as s:
        note = s.scalars(select(Order.customer_note).where(Order.id == placed.order_id)).one()
    assert "12/28" not in note and "123" not in note.replace("ends ", "")
    product = store.list_products()[0]
    customer = store.create_customer({
        "email": "dee@example.com", "first_name": "Dee", "last_name": texts[10],
        "billing": {"first_name": "Dee", "last_name": texts[10], "company": texts[11], "address_1": texts[12],
                    "city": "Houston", "postcode": "77004", "country": "US", "email": "dee@example.com",
                    "phone": texts[13]}})
    store.create_order({
        "status": "processing", "customer_id": customer["id"], "customer_note": texts[14],
        "payment_method_title": texts[15], "transaction_id": texts[16],
        "billing": {"first_name": "Dee", "last_name": "Web", "address_1": texts[17], "city": "Houston",
                    "postcode": "77004", "country": "US", "email": "dee@example.com", "phone": texts[18]},
        "line_items": [{"product_id": product["id"], "quantity": 1}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": texts[19], "total": "5.00"}],
        "meta_data": [{"key": "_tracking_number", "value": texts[20]}],
    })
    with connector_for(store) as connector:
        summary = sync.run_sync(db, connector, full_customer_scan=True, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    for typed in texts[21:]:
        log.warning("Caller read out %s", typed)
    try:
        raise ValueError(f"could not parse {texts[21]}")
    except ValueError:
        log.exception("Parsing failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
