"""Open screens follow what services change: the customer's audit tab, the audit trail, the orders
list once the store numbers an order, the status bar's waiting count and the sync screen's list."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backoffice import secrets
from backoffice.domain import Customer, CustomerAddress, Product
from backoffice.domain.enums import AddressKind, Role
from backoffice.domain.search import reindex_customer
from backoffice.domain.text import fold
from backoffice.services import customers as customers_service
from backoffice.services import phone_orders as po
from backoffice.services import settings as settings_service
from backoffice.store.devstore import DevStore
from tests.conftest import make_staff
from tests.integration.sync_helpers import FAST, connector
from tests.ui.conftest import open_page
from ui.staff.audit_screen import AuditScreen
from ui.customers.customer_page import CustomerPage
from ui.orders.orders_screen import OrdersScreen
from ui.sync.sync_screen import SyncScreen
from ui.sync.sync_status import SyncController, SyncStatusWidget

WAIT_MS = 30_000


def _audit_actions(page) -> list[str]:
    return [page.audit.item(r, 2).text() for r in range(page.audit.rowCount())]


def test_the_customer_audit_tab_shows_the_view_and_a_note_at_once(qtbot, sqlite_db, ctx_for):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    cid = customers_service.create_customer(sqlite_db, actor=owner, first_name="María", last_name="García",
                                            email="maria.garcia@example.com").customer.id
    ctx = ctx_for(sqlite_db, owner)
    page = open_page(qtbot, ctx, CustomerPage, cid, size=(1100, 700))
    first = _audit_actions(page)
    # The view that opened the page is in its own audit tab.
    assert len(first) == 2 and "view" in first[0].lower()
    page.note_text.setPlainText("Prefers a call after five")
    page.add_note()
    qtbot.waitUntil(lambda: len(_audit_actions(page)) == 3, timeout=WAIT_MS)
    assert "note" in _audit_actions(page)[0].lower()
    ctx.tasks.wait_all(WAIT_MS)


def test_the_audit_trail_screen_shows_new_entries_without_refresh(qtbot, sqlite_db, ctx_for):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    ctx = ctx_for(sqlite_db, owner)
    screen = AuditScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(lambda: not ctx.tasks.busy(), timeout=WAIT_MS)
    before = screen.model.rowCount()
    result = customers_service.create_customer(sqlite_db, actor=owner, first_name="Mary", last_name="Smith")
    ctx.bus.publish(result.changes)
    qtbot.waitUntil(lambda: screen.model.rowCount() == before + 1, timeout=WAIT_MS)
    # A view publishes nothing; the screen reads the trail again when it comes back to the front.
    screen.hide()
    customers_service.get_customer(sqlite_db, actor=owner, customer_id=result.customer.id)
    screen.show()
    qtbot.waitUntil(lambda: screen.model.rowCount() == before + 2, timeout=WAIT_MS)
    ctx.tasks.wait_all(WAIT_MS)


@pytest.fixture
def store():
    with DevStore(seed=5) as devstore:
        yield devstore


def _stock(db, store) -> dict[str, int]:
    """A product and a customer known to the store and here, as after a sync."""
    record = store.create_product({"name": "Café mug", "sku": "MUG-01", "regular_price": "12.50"})
    store_customer = store.create_customer({"email": "ana@example.com", "first_name": "Ana", "last_name": "García"})
    with db.begin() as s:
        product = Product(sku="MUG-01", name="Café mug", name_key=fold("Café mug"), price=Decimal("12.50"),
                          store_id=record["id"], status="publish")
        s.add(product)
        customer = Customer(first_name="Ana", last_name="García", email="ana@example.com",
                            email_key="ana@example.com", sort_name="garcia ana", store_id=store_customer["id"])
        s.add(customer)
        s.flush()
        s.add(CustomerAddress(customer_id=customer.id, kind=AddressKind.BILLING, is_default=True,
                              first_name="Ana", last_name="García", address_1="1 Main St", city="Houston",
                              postcode="77002", country="US", email="ana@example.com"))
        reindex_customer(s, customer.id)
        return {"product": product.id, "customer": customer.id}


def test_a_push_numbers_the_order_in_the_list_and_empties_the_waiting_counts(qtbot, sqlite_db, ctx_for, store):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    settings_service.set_settings(sqlite_db, actor=owner, values={"store.url": store.base_url})
    secrets.set_store_credentials(store.base_url, store.consumer_key, store.consumer_secret)
    ids = _stock(sqlite_db, store)
    ctx = ctx_for(sqlite_db, owner)
    controller = SyncController(ctx, connector_factory=lambda db: connector(store), options=FAST)
    try:
        orders = OrdersScreen(ctx)
        qtbot.addWidget(orders)
        sync_screen = SyncScreen(ctx, controller=controller)
        qtbot.addWidget(sync_screen)
        status = SyncStatusWidget(controller)
        qtbot.addWidget(status)
        placed = po.place_phone_order(sqlite_db, actor=owner, customer_id=ids["customer"],
                                      lines=[po.LineInput(ids["product"])],
                                      shipping=po.ShippingInput("flat_rate", "Flat rate", "5"),
                                      payment=po.PaymentChoice())
        ctx.bus.publish(placed.changes)

        def number() -> str:
            model = orders.model
            rows = [model.row_at(r) for r in range(model.rowCount())]
            return next((r.number for r in rows if r.id == placed.order_id), "")

        qtbot.waitUntil(lambda: number().startswith("(local"), timeout=WAIT_MS)
        # The order and its pay link wait to be sent.
        qtbot.waitUntil(lambda: "2 waiting" in status.text(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: sync_screen.outbox_model.rowCount() >= 1, timeout=WAIT_MS)

        assert controller.sync_now()
        qtbot.waitUntil(lambda: not controller.running, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: bool(number()) and not number().startswith("(local"), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: "waiting" not in status.text(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: sync_screen.outbox_model.rowCount() == 0, timeout=WAIT_MS)
    finally:
        controller.shutdown()
        ctx.tasks.wait_all(WAIT_MS)
