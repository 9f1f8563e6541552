"""The first window shows the shop's orders; the self-test starts the app and exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import Qt

from backoffice.demo.load import fill_demo_database
from backoffice.domain import Customer, Order
from backoffice.domain.enums import CustomerStatus, OrderStatus, Role
from backoffice.services import customers as customers_service
from backoffice.services.changes import Changes
from tests.conftest import make_staff
from ui.shell.app import build_window

WAIT_MS = 10_000


def test_main_window_lists_orders_and_opens_one(qtbot, sqlite_db):
    fill_demo_database(sqlite_db, customers=80, orders=450, seed=2)
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    window = build_window(sqlite_db, owner)
    qtbot.addWidget(window)
    window.show()
    screen = window.show_screen("OrdersScreen")
    model = screen.model
    qtbot.waitUntil(lambda: model.rowCount() >= 200, timeout=10_000)
    assert model.rowCount() == 200  # one page, more on scroll
    screen.table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() == 400, timeout=10_000)
    first = model.index(0, 0)
    number = model.data(first)
    screen.table.setCurrentIndex(first)
    qtbot.keyClick(screen.table, Qt.Key.Key_Return)
    page = window.tabs.currentWidget()
    qtbot.waitUntil(lambda: page.detail is not None, timeout=10_000)
    assert number in page.heading.text()
    assert page.lines.rowCount() >= 1
    window.ctx.tasks.wait_all()
    window.close()


def tab_text(window, page) -> str:
    index = window.tabs.indexOf(page)
    assert index >= 0, "the page has no tab"
    return window.tabs.tabText(index)


def test_page_tabs_show_the_order_number_and_the_customer_name(qtbot, sqlite_db):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    maria = customers_service.create_customer(sqlite_db, actor=owner, first_name="María", last_name="García",
                                              email="maria@example.com").customer.id
    nameless = customers_service.create_customer(sqlite_db, actor=owner,
                                                 email="only.an.email@example.com").customer.id
    with sqlite_db.begin() as s:
        # The local id and the number people use differ, as they do in a synced shop.
        s.add(Order(id=3858, number="4119", customer_id=maria, status=OrderStatus.PROCESSING))
        erased = Customer(status=CustomerStatus.ERASED, sort_name="")
        s.add(erased)
        s.flush()
        erased_id = erased.id
    window = build_window(sqlite_db, owner)
    qtbot.addWidget(window)
    window.show()

    order = window.open_order(3858)
    qtbot.waitUntil(lambda: order.detail is not None, timeout=WAIT_MS)
    assert tab_text(window, order) == "Order 4119"
    assert "4119" in order.heading.text()
    tabs = window.tabs.count()
    window.show_screen("OrdersScreen")
    assert window.open_order(3858) is order
    assert window.tabs.count() == tabs
    assert window.tabs.currentWidget() is order

    customer = window.open_customer(maria)
    qtbot.waitUntil(lambda: customer.detail is not None, timeout=WAIT_MS)
    assert tab_text(window, customer) == "María García"
    assert window.open_customer(maria) is customer
    assert window.tabs.count() == tabs + 1

    only_email = window.open_customer(nameless)
    qtbot.waitUntil(lambda: only_email.detail is not None, timeout=WAIT_MS)
    assert tab_text(window, only_email) == "only.an.email@example.com"

    gone = window.open_customer(erased_id)
    qtbot.waitUntil(lambda: gone.detail is not None, timeout=WAIT_MS)
    assert tab_text(window, gone) == gone.heading.text() != ""
    assert "#" not in tab_text(window, gone)

    # The name changes at another desk; the page reloads and its tab follows.
    customers_service.update_customer(sqlite_db, actor=owner, customer_id=maria,
                                      expected_version=customer.detail.version, changes={"first_name": "Mariana"})
    window.ctx.bus.publish(Changes(customers=frozenset({maria})))
    qtbot.waitUntil(lambda: tab_text(window, customer) == "Mariana García", timeout=WAIT_MS)
    window.ctx.tasks.wait_all()
    window.close()


def test_order_taker_sees_only_own_orders(qtbot, sqlite_db):
    fill_demo_database(sqlite_db, customers=20, orders=60, seed=2)
    taker = make_staff(sqlite_db, Role.ORDER_TAKER, "taker")
    window = build_window(sqlite_db, taker)
    qtbot.addWidget(window)
    screen = window.show_screen("OrdersScreen")
    failures = []
    screen.model.load_failed.connect(failures.append)
    loaded = []
    screen.model.page_loaded.connect(loaded.append)
    qtbot.waitUntil(lambda: bool(loaded or failures), timeout=10_000)
    # An empty list must come from a load that worked, not from one that failed.
    assert failures == [] and loaded == [0]
    assert screen.model.rowCount() == 0
    assert "AuditScreen" not in window.screens
    window.ctx.tasks.wait_all()
    window.close()


def test_self_test_starts_migrates_and_exits_zero(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-m", "ui.shell.launcher", "--self-test", "--db", url],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "self-test ok" in result.stdout
    assert (tmp_path / "fresh.db").exists()


def test_self_test_says_why_a_database_cannot_be_opened_and_waits_on_nobody(tmp_path):
    import sqlite3

    newer = tmp_path / "newer.db"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    cmd = [sys.executable, "-m", "ui.shell.launcher", "--self-test", "--db"]
    assert subprocess.run([*cmd, f"sqlite:///{newer}"], capture_output=True, env=env, timeout=120).returncode == 0
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff_future'")
    for url, reason in ((f"sqlite:///{newer}", "newer version"),
                        ("postgresql://postgres@127.0.0.1:1/shop", "No database server answers")):
        result = subprocess.run([*cmd, url], capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode != 0
        assert reason in result.stderr


def test_the_app_shows_its_own_icon(qapp):
    from ui.shell.app import application, resource_path

    assert resource_path("backoffice.png").is_file()
    app = application()
    icon = app.windowIcon()
    assert not icon.isNull()
    assert not icon.pixmap(32, 32).toImage().isNull()


def test_an_order_takers_desk_neither_syncs_nor_reads_the_sync_state(qtbot, sqlite_db):
    from sqlalchemy import select

    from backoffice.domain.audit import AuditEvent
    from backoffice.domain.enums import AuditOutcome

    taker = make_staff(sqlite_db, Role.ORDER_TAKER, "tina")
    window = build_window(sqlite_db, taker)
    qtbot.addWidget(window)
    window.show()
    qtbot.wait(300)
    assert not window.sync_status.isVisible() and "SyncScreen" not in window.screens
    assert not window.sync.timer.isActive() and not window.sync.status_timer.isActive()
    window.sync.shutdown()
    with sqlite_db.read() as s:
        refused = s.execute(select(AuditEvent.action).where(AuditEvent.outcome == AuditOutcome.DENIED)).all()
    assert refused == []


def test_each_screen_is_listed_with_its_own_title_and_permission():
    """The window names its tabs before importing the screens: the list must say what the classes say."""
    from ui.shell.main_window import SCREENS, _load

    for spec, title, permission in SCREENS:
        cls = _load(spec)
        assert (cls.title, cls.permission) == (title, permission), spec


def test_the_to_ship_tab_counts_the_orders_to_ship_and_keeps_the_count_when_the_window_is_resized(qtbot, sqlite_db):
    from backoffice.services.fulfilment import to_ship

    fill_demo_database(sqlite_db, customers=40, orders=200, seed=5)
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    waiting = to_ship.count_to_ship(sqlite_db, actor=owner)
    assert waiting > 0
    window = build_window(sqlite_db, owner)
    qtbot.addWidget(window)
    window.resize(1500, 800)
    window.show()
    slot = window.screens.slot("ShippingScreen")
    expected = f"To ship ({waiting:,})"
    qtbot.waitUntil(lambda: window.tabs.tabText(window.tabs.indexOf(slot)) == expected, timeout=WAIT_MS)
    window.resize(1400, 800)
    qtbot.wait(20)
    assert window.tabs.tabText(window.tabs.indexOf(slot)) == expected
    assert window.navigation.screen_actions["ShippingScreen"].shortcut().toString() in \
        window.tabs.tabToolTip(window.tabs.indexOf(slot))
    window.ctx.tasks.wait_all()
    window.close()
