"""The home screen: figures a key away from their screens, the requests badge, and fresh figures after a change."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt

from backoffice.domain import Order
from backoffice.domain.base import utcnow
from backoffice.domain.enums import OrderOrigin, OrderStatus, RequestKind, Role
from backoffice.services.changes import Changes
from backoffice.services.privacy import register
from tests.conftest import make_staff
from ui.shell.app import build_window

WAIT_MS = 10_000


def _window(qtbot, db, actor):
    window = build_window(db, actor)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    home = window.screens["HomeScreen"]
    qtbot.waitUntil(lambda: home.summary is not None, timeout=WAIT_MS)
    return window, home


def test_home_shows_what_waits_and_each_figure_opens_its_screen(qtbot, sqlite_db):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    with sqlite_db.begin() as s:
        for _ in range(2):
            s.add(Order(status=OrderStatus.PROCESSING, origin=OrderOrigin.PHONE, created_by_staff_id=owner.staff_id,
                        paid_at=utcnow()))
    register.log_request(sqlite_db, actor=owner, kind=RequestKind.ACCESS, requester_name="Ann Example",
                         received_at=utcnow() - timedelta(days=60))
    window, home = _window(qtbot, sqlite_db, owner)
    window.resize(1600, 900)  # wide enough for every tab to keep its name
    qtbot.waitUntil(lambda: not window.navigation.compact(), timeout=WAIT_MS)
    assert home.tiles["phoneOrdersTile"].value == "2"
    assert home.tiles["toShipTile"].value == "2"
    assert home.tiles["requestsTile"].value == "1"
    assert "1 overdue" in home.tiles["requestsTile"].accessibleName()
    # The badge on the requests tab, and the status bar's sentence, without opening that screen.
    privacy_tab = window.tabs.indexOf(window.screens.slot("PrivacyScreen"))
    assert window.tabs.tabText(privacy_tab) == "Privacy requests (1)"
    assert "overdue" in window.alarm_label.text()
    assert window.screens.slot("PrivacyScreen").built() is None
    assert home.chart.days[-1].orders == 2

    tile = home.tiles["requestsTile"]
    tile.setFocus()
    qtbot.keyClick(tile, Qt.Key.Key_Space)
    assert window.current_screen_name() == "PrivacyScreen"
    window.show_screen("HomeScreen")
    home.tiles["toShipTile"].setFocus()
    qtbot.keyClick(home.tiles["toShipTile"], Qt.Key.Key_Space)
    assert window.current_screen_name() == "ShippingScreen"  # the orders to ship, on the shipping screen
    window.ctx.tasks.wait_all(WAIT_MS)
    window.close()


def test_home_figures_follow_a_change_published_elsewhere(qtbot, sqlite_db):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    window, home = _window(qtbot, sqlite_db, owner)
    assert home.tiles["phoneOrdersTile"].value == "0"
    with sqlite_db.begin() as s:
        order = Order(status=OrderStatus.PROCESSING, origin=OrderOrigin.PHONE, created_by_staff_id=owner.staff_id)
        s.add(order)
        s.flush()
        oid = order.id
    window.ctx.bus.publish(Changes(orders=frozenset({oid})))
    qtbot.waitUntil(lambda: home.tiles["phoneOrdersTile"].value == "1", timeout=WAIT_MS)
    assert home.chart.days[-1].orders == 1
    window.ctx.tasks.wait_all(WAIT_MS)
    window.close()


def test_an_order_taker_home_has_only_its_figures(qtbot, sqlite_db):
    taker = make_staff(sqlite_db, Role.ORDER_TAKER, "taker")
    with sqlite_db.begin() as s:
        s.add(Order(status=OrderStatus.PROCESSING, origin=OrderOrigin.WEB))  # the web store's: not theirs
        s.add(Order(status=OrderStatus.PROCESSING, origin=OrderOrigin.PHONE, created_by_staff_id=taker.staff_id))
    window, home = _window(qtbot, sqlite_db, taker)
    assert list(home.tiles) == ["phoneOrdersTile"]
    # The chart counts the orders they took, and says so (an empty chart is not an empty shop).
    assert home.chart.days[-1].orders == 1
    assert home.tiles["phoneOrdersTile"].accessibleName() == "phone order today: 1"
    assert home.chart.accessibleDescription().startswith("1 order you took in the last 6 weeks")
    window.ctx.tasks.wait_all(WAIT_MS)
    window.close()


def test_a_tile_grows_to_show_a_detail_that_wraps(qtbot):
    from PySide6.QtWidgets import QGridLayout, QWidget

    from ui.home.home_screen import Tile

    page = QWidget()
    grid = QGridLayout(page)
    tiles = [Tile(f"tile{i}", "newsletters", ("person on newsletter lists", "people on newsletter lists"),
                  "NewslettersScreen") for i in range(3)]
    for i, tile in enumerate(tiles):
        grid.addWidget(tile, 0, i)
    qtbot.addWidget(page)
    tiles[0].set_value("66", "Email newsletter 37, SMS newsletter 16, Postal catalogue 13")
    page.resize(1000, 400)  # a tile about 330 px wide, as on a 1024-wide window
    page.show()
    qtbot.waitExposed(page)
    words = tiles[0].words
    qtbot.waitUntil(lambda: words.height() >= words.heightForWidth(words.width()))
    # Every line of the detail is inside the tile, none cut off at its bottom edge.
    assert words.geometry().bottom() < tiles[0].height()
    assert tiles[0].height() > 64
