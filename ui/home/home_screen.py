"""The home screen: today's phone orders, orders to ship, requests due, the sync, list sizes, a chart."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

from backoffice.domain.roles import Permission
from backoffice.errors import UserFacingError
from backoffice.services.changes import Changes
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.home.orders_chart import OrdersChart
from ui.shell.icons import icon
from ui.sync.sync_status import status_text

if TYPE_CHECKING:
    from backoffice.services import home

# Changes often come in bursts (a sync publishes many): read the figures once after the burst.
RELOAD_DELAY_MS = 400


TILE_MIN_HEIGHT = 64


class Tile(QPushButton):
    """A figure and what it counts; pressing it (click, Enter or Space) opens its screen."""

    def __init__(self, name: str, icon_name: str, captions: tuple[str, str],
                 screens: str | tuple[str, ...]) -> None:
        super().__init__()
        self.setObjectName(name)
        self.screens = (screens,) if isinstance(screens, str) else screens
        # (for one, for any other count): "1 phone order today", "2 phone orders today".
        self.captions = captions
        self.caption = captions[1]
        # As tall as its words need at its width (a detail may wrap to a third line), at least 64.
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        picture = QLabel()
        picture.setPixmap(icon(icon_name).pixmap(QSize(24, 24), self.devicePixelRatioF()))
        self.number = QLabel("…")
        self.number.setObjectName("tileNumber")
        font = self.number.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.number.setFont(font)
        self.number.setMinimumWidth(self.number.fontMetrics().horizontalAdvance("0000"))
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.words = QLabel(self.caption)
        self.words.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        row.setSpacing(10)
        row.addWidget(picture)
        row.addWidget(self.number)
        row.addWidget(self.words, 1)
        # The labels only draw; the button under them takes the clicks and the keys.
        for label in (picture, self.number, self.words):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.set_value("…")

    # A button sizes itself by its own text, which a tile has none of: its layout's labels say.
    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return max(TILE_MIN_HEIGHT, self.layout().totalHeightForWidth(width))

    def sizeHint(self) -> QSize:
        hint = self.layout().totalSizeHint()
        return QSize(hint.width(), max(TILE_MIN_HEIGHT, hint.height()))

    def minimumSizeHint(self) -> QSize:
        hint = self.layout().totalMinimumSize()
        return QSize(hint.width(), max(TILE_MIN_HEIGHT, hint.height()))

    def set_value(self, value: str, detail: str = "") -> None:
        self.value = value
        self.caption = self.captions[0] if value == "1" else self.captions[1]
        self.number.setText(value)
        self.words.setText(self.caption + (f"<br><span style='color:#555'>{escape(detail)}</span>" if detail else ""))
        self.setAccessibleName(f"{self.caption}: {value}" + (f". {detail}" if detail else ""))
        self.setToolTip(self.accessibleName())


class HomeScreen(QWidget):
    title = "Home"
    permission = Permission.VIEW_OWN_ORDERS

    screen_requested = Signal(object)  # class names of screens, the first that exists is shown
    alarm_changed = Signal(str)
    requests_waiting = Signal(int, int)  # overdue, due soon
    find_requested = Signal(str)  # what was typed in the find box: the customers screen takes over

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("homeScreen")
        self.ctx = ctx
        self.summary: home.HomeSummary | None = None
        self._loading = False
        self._again = False
        self._find_waiting = False
        heading = QLabel("<h2>Today</h2>")
        # Whoever signs in can type a caller's name at once: the first key moves to Customers.
        self.find = QLineEdit()
        self.find.setObjectName("homeFind")
        self.find.setPlaceholderText("Find a customer: name, phone, email, postcode or order number")
        self.find.setAccessibleName("Find a customer")
        self.find.setClearButtonEnabled(True)
        self.find.textEdited.connect(self._find_typed)
        if not ctx.may(Permission.FIND_CUSTOMERS):
            self.find.hide()
        self.tiles: dict[str, Tile] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        wanted = [
            ("phoneOrdersTile", "phone", ("phone order today", "phone orders today"), "OrdersScreen",
             Permission.VIEW_OWN_ORDERS),
            # Without a shipping screen the orders list is where orders to ship are found.
            ("toShipTile", "shipping", ("order to ship", "orders to ship"), ("ShippingScreen", "OrdersScreen"),
             Permission.VIEW_ALL_ORDERS),
            ("requestsTile", "requests", ("privacy request overdue or due soon",
                                          "privacy requests overdue or due soon"), "PrivacyScreen",
             Permission.LOG_PRIVACY_REQUEST),
            ("syncTile", "sync", ("message waiting for the web store", "messages waiting for the web store"),
             "SyncScreen", Permission.RUN_SYNC),
            ("listsTile", "newsletters", ("person on newsletter lists", "people on newsletter lists"),
             "NewslettersScreen", Permission.MANAGE_NEWSLETTERS),
        ]
        for name, icon_name, captions, screen, permission in wanted:
            if not ctx.may(permission):
                continue
            tile = Tile(name, icon_name, captions, screen)
            tile.clicked.connect(lambda _c=False, tile=tile: self.open_tile(tile))
            n = len(self.tiles)
            grid.addWidget(tile, n // 3, n % 3)
            self.tiles[name] = tile
        self.chart = OrdersChart()
        self.status = QLabel("")
        self.status.setObjectName("homeStatus")
        self.status.setWordWrap(True)
        body = QWidget()
        inner = QVBoxLayout(body)
        inner.addWidget(self.find)
        inner.addWidget(heading)
        inner.addLayout(grid)
        inner.addSpacing(8)
        inner.addWidget(self.chart)
        inner.addWidget(self.status)
        inner.addStretch(1)
        # On a wide screen the figures stay together instead of spreading over the whole width.
        body.setMaximumWidth(1180)
        # On a small screen the figures scroll instead of squeezing into each other.
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(scroll)
        tiles = list(self.tiles.values())
        for a, b in zip([self.find, *tiles], tiles):
            QWidget.setTabOrder(a, b)
        self.setFocusProxy(self._first())
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RELOAD_DELAY_MS)
        self._timer.timeout.connect(self.reload)
        ctx.bus.changed.connect(self._on_changes)
        sync = getattr(ctx, "sync_controller", None)
        if sync is not None:
            sync.status_changed.connect(self._sync_status)
        # The window may be on screen before the database is open: the figures follow it.
        ctx.when_ready(self.reload)

    def _first(self) -> QWidget:
        if not self.find.isHidden():
            return self.find
        return next(iter(self.tiles.values()), self.find)

    def focus_default(self) -> None:
        self._first().setFocus(Qt.FocusReason.OtherFocusReason)

    def _find_typed(self, text: str) -> None:
        if not text.strip():
            return
        if not self.ctx.ready:
            # What is typed before the database is open stays here, and moves on once it is.
            if not self._find_waiting:
                self._find_waiting = True
                self.ctx.when_ready(self._hand_over_find)
            return
        self.find.clear()
        self.find_requested.emit(text)

    def _hand_over_find(self) -> None:
        self._find_waiting = False
        if self.find.text().strip() and self.find.hasFocus():
            self._find_typed(self.find.text())

    def open_tile(self, tile: Tile) -> None:
        self.screen_requested.emit(tile.screens)

    # --- loading ------------------------------------------------------------------------

    def reload(self) -> None:
        if self._loading:
            self._again = True
            return
        self._loading = True
        db, actor = self.ctx.db, self.ctx.actor

        def work(token, progress):
            from backoffice.services import home  # late: SQLAlchemy loads behind the painted window

            return home.home_summary(db, actor=actor)

        self.ctx.tasks.run_db(work,
                              on_success=self._loaded, on_failure=self._failed)

    def _on_changes(self, changes: Changes) -> None:
        if changes.orders or changes.requests or changes.outbox or changes.lists or changes.customers:
            self._timer.start()

    def _loaded(self, summary: home.HomeSummary) -> None:
        self._loading = False
        self.summary = summary
        self._show(summary)
        if self._again:
            self._again = False
            self.reload()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        if isinstance(exc, UserFacingError):
            self.status.setText(exc.message)
        else:
            show_error(self, exc)

    def _show(self, s: home.HomeSummary) -> None:
        self._set("phoneOrdersTile", s.phone_orders_today)
        self._set("toShipTile", s.orders_to_ship)
        if s.requests_overdue is not None:
            waiting = s.requests_overdue + (s.requests_due_soon or 0)
            detail = f"{s.requests_overdue} overdue, {s.requests_due_soon} due within the week" if waiting else ""
            self._set("requestsTile", waiting, detail)
            from backoffice.services.privacy.register import QueueAlarm  # late: as the figures

            alarm = QueueAlarm(s.requests_overdue, s.requests_due_soon or 0)
            self.alarm_changed.emit(alarm.sentence())
            self.requests_waiting.emit(s.requests_overdue, s.requests_due_soon or 0)
        if s.sync is not None:
            self._sync_status(s.sync)
        if s.list_sizes is not None:
            total = sum(x.subscribed for x in s.list_sizes)
            detail = ", ".join(f"{x.name} {x.subscribed}" for x in s.list_sizes[:3])
            self._set("listsTile", total, detail or "no lists yet")
        self.chart.set_days(s.orders_per_day, own=s.orders_per_day_own)

    def _set(self, name: str, value, detail: str = "") -> None:
        tile = self.tiles.get(name)
        if tile is not None and value is not None:
            tile.set_value(str(value), detail)

    def _sync_status(self, status) -> None:
        tile = self.tiles.get("syncTile")
        if tile is None or status is None:
            return
        health, _tip = status_text(status)
        tile.set_value(str(status.waiting), health)
