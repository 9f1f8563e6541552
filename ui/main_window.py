"""The main window: a tab per screen the signed-in role may use, and pages opened as tabs."""

from __future__ import annotations

import importlib
import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from backoffice import __version__
from backoffice.db import safe_url
from backoffice.domain.staff import ROLE_LABELS
from ui.context import AppContext

log = logging.getLogger(__name__)

# Screens in tab order, as "module:Class". Each class has `title` and `permission`
# and takes the AppContext; screens whose module is not installed are left out.
SCREENS = (
    "ui.customers_screen:CustomersScreen",
    "ui.orders_screen:OrdersScreen",
    "ui.shipping.shipping_screen:ShippingScreen",
    "ui.phone_order_screen:PhoneOrderScreen",
    "ui.privacy_screen:PrivacyScreen",
    "ui.newsletters_screen:NewslettersScreen",
    "ui.sync_screen:SyncScreen",
    "ui.audit_screen:AuditScreen",
    "ui.staff_screen:StaffScreen",
    "ui.shop_settings_screen:ShopSettingsScreen",
)


# Characters of a page's title shown on its tab.
TAB_TITLE_MAX = 40


def _load(spec: str):
    module_name, _, cls_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return getattr(module, cls_name)


class MainWindow(QMainWindow):
    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(f"Back office — {ctx.actor.login} ({ROLE_LABELS[ctx.actor.role]})")
        self.resize(1200, 780)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.tabCloseRequested.connect(self._close_tab)
        self.setCentralWidget(self.tabs)
        self.screens: dict[str, QWidget] = {}
        # One sync controller per window, created before the screens that show it.
        from ui.sync_status import SyncController, SyncStatusWidget

        self.sync = SyncController(ctx, self)
        for spec in SCREENS:
            cls = _load(spec)
            if cls is None or not ctx.may(cls.permission):
                continue
            screen = cls(ctx, self)
            self.screens[cls.__name__] = screen
            index = self.tabs.addTab(screen, cls.title)
            self.tabs.tabBar().setTabButton(index, self.tabs.tabBar().ButtonPosition.RightSide, None)
            if hasattr(screen, "order_opened"):
                screen.order_opened.connect(self.open_order)
            if hasattr(screen, "customer_opened"):
                screen.customer_opened.connect(self.open_customer)
            if hasattr(screen, "title_changed"):
                screen.title_changed.connect(lambda title, screen=screen: self._retitle(screen, title))
        self._pages: dict[tuple[str, int], QWidget] = {}
        self._build_menus()
        where = safe_url(ctx.db.url)
        self.db_label = QLabel(f"{ctx.actor.login} at {ctx.actor.desk or 'this desk'} · {where}")
        self.statusBar().addWidget(self.db_label, 1)
        self.sync_status = SyncStatusWidget(self.sync, self)
        self.sync_status.clicked.connect(lambda: self.show_screen("SyncScreen"))
        self.statusBar().addPermanentWidget(self.sync_status)
        self.sync.start()

    # --- navigation -------------------------------------------------------------------

    def show_screen(self, name: str) -> QWidget | None:
        screen = self.screens.get(name)
        if screen is not None:
            self.tabs.setCurrentWidget(screen)
            focus = getattr(screen, "focus_default", None)
            if focus:
                focus()
        return screen

    def _open_page(self, key: tuple[str, int], make) -> QWidget:
        """Bring an open page forward, or open it in a new tab titled as the page names itself."""
        page = self._pages.get(key)
        if page is None or self.tabs.indexOf(page) < 0:
            page = make()
            self._pages[key] = page
            self.tabs.addTab(page, "")
            self._retitle(page, page.tab_title)
            # The page knows its number or name only once it has loaded, and again after a reload.
            page.title_changed.connect(lambda title, page=page: self._retitle(page, title))
            if hasattr(page, "order_opened"):
                page.order_opened.connect(self.open_order)
            if hasattr(page, "customer_opened"):
                page.customer_opened.connect(self.open_customer)
        self.tabs.setCurrentWidget(page)
        return page

    def _retitle(self, page: QWidget, title: str) -> None:
        index = self.tabs.indexOf(page)
        if index >= 0:
            # A long company name would push the other tabs off the bar; the tooltip has it whole.
            short = title if len(title) <= TAB_TITLE_MAX else title[:TAB_TITLE_MAX - 1].rstrip() + "…"
            self.tabs.setTabText(index, short)
            self.tabs.setTabToolTip(index, getattr(page, "tab_tooltip", "") or title)

    def open_order(self, order_id: int) -> QWidget:
        from ui.order_page import OrderPage

        return self._open_page(("order", order_id), lambda: OrderPage(self.ctx, order_id, self))

    def open_customer(self, customer_id: int) -> QWidget | None:
        cls = _load("ui.customer_page:CustomerPage")
        if cls is None:
            return None
        return self._open_page(("customer", customer_id), lambda: cls(self.ctx, customer_id, self))

    def _close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if widget in self.screens.values():
            return
        self.tabs.removeTab(index)
        for key, page in list(self._pages.items()):
            if page is widget:
                del self._pages[key]
        widget.deleteLater()

    # --- menus ------------------------------------------------------------------------

    def _build_menus(self) -> None:
        go = self.menuBar().addMenu("&Go")
        find = QAction("&Find customer", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: self.show_screen("CustomersScreen"))
        go.addAction(find)
        new_order = QAction("&New phone order", self)
        new_order.setShortcut(QKeySequence("Ctrl+N"))
        new_order.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        new_order.triggered.connect(self.new_phone_order)
        go.addAction(new_order)
        orders = QAction("&Orders", self)
        orders.triggered.connect(lambda: self.show_screen("OrdersScreen"))
        go.addAction(orders)
        close = QAction("&Close page", self)
        close.setShortcut(QKeySequence("Ctrl+W"))
        close.triggered.connect(lambda: self._close_tab(self.tabs.currentIndex()))
        go.addAction(close)
        self.lock_action = QAction("&Lock desk", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        go.addAction(self.lock_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About backoffice",
            f"backoffice {__version__}\nThe back office for a small web shop."))
        help_menu.addAction(about)

    def new_phone_order(self) -> None:
        screen = self.show_screen("PhoneOrderScreen")
        start = getattr(screen, "request_new_order", None)
        if start:
            start()

    def closeEvent(self, event) -> None:
        self.sync.shutdown(10_000)
        self.ctx.tasks.wait_all(5000)
        super().closeEvent(event)
