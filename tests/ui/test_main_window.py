"""The first window shows the shop's orders; the self-test starts the app and exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import Qt

from backoffice.demo.load import fill_demo_database
from backoffice.domain.enums import Role
from tests.conftest import make_staff
from ui.app import build_window


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
    result = subprocess.run([sys.executable, "-m", "ui.launcher", "--self-test", "--db", url],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "self-test ok" in result.stdout
    assert (tmp_path / "fresh.db").exists()


def test_the_app_shows_its_own_icon(qapp):
    from ui.app import application, resource_path

    assert resource_path("backoffice.png").is_file()
    app = application()
    icon = app.windowIcon()
    assert not icon.isNull()
    assert not icon.pixmap(32, 32).toImage().isNull()
