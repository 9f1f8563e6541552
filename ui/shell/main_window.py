"""The main window: a tab per screen the signed-in role may use, and pages opened as tabs."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from backoffice import __version__
from backoffice.collector import set_aside_for_good
from backoffice.domain import text as word_tables
from backoffice.domain.roles import ROLE_LABELS, Permission
from backoffice.errors import UserFacingError
from ui.common.context import AppContext
from ui.shell.icons import icon
from ui.shell.navigation import REQUESTS_SCREEN, Navigation
from ui.shell.shortcuts_dialog import ShortcutsDialog
from ui.shell.window_state import fit_to_screen
from ui.common.styles import ERROR_STYLE
from ui.sync.sync_status import SyncController, SyncStatusWidget

log = logging.getLogger(__name__)

# Screens in tab order: where the class lives ("module:Class"), its tab title and the
# permission it needs. Kept here rather than read off the classes so that the window opens
# without importing every screen (some bring PDF and network libraries); each class has the
# same `title` and `permission` (a test holds them to it).
SCREENS = (
    ("ui.home.home_screen:HomeScreen", "Home", Permission.VIEW_OWN_ORDERS),
    ("ui.customers.customers_screen:CustomersScreen", "Customers", Permission.FIND_CUSTOMERS),
    ("ui.orders.orders_screen:OrdersScreen", "Orders", Permission.VIEW_OWN_ORDERS),
    ("ui.shipping.shipping_screen:ShippingScreen", "To ship", Permission.PRINT_DOCUMENTS),
    ("ui.orders.phone_order_screen:PhoneOrderScreen", "Phone order", Permission.TAKE_PHONE_ORDER),
    ("ui.privacy.requests_screen:PrivacyScreen", "Privacy requests", Permission.LOG_PRIVACY_REQUEST),
    ("ui.newsletters.newsletters_screen:NewslettersScreen", "Newsletters", Permission.MANAGE_NEWSLETTERS),
    ("ui.sync.sync_screen:SyncScreen", "Sync", Permission.RUN_SYNC),
    ("ui.staff.audit_screen:AuditScreen", "Audit trail", Permission.READ_AUDIT),
    ("ui.staff.staff_screen:StaffScreen", "Staff", Permission.MANAGE_STAFF),
    ("ui.settings.shop_settings_screen:ShopSettingsScreen", "Shop settings", Permission.MANAGE_SETTINGS),
)


def _shipping_title(ctx: AppContext) -> str:
    """The shipping tab's title with its count, read on the database pool."""
    from backoffice.services.fulfilment import to_ship  # late: keeps start-up quick

    return f"To ship ({to_ship.count_to_ship(ctx.db, actor=ctx.actor):,})"


# Screens whose tab title counts something, and how to count it before the screen is built
# (the screen itself keeps its title up to date once it is).
COUNTED_TITLES = {"ShippingScreen": _shipping_title}


# Characters of a page's title shown on its tab.
TAB_TITLE_MAX = 40


def _load(spec: str):
    """The screen class named by "module:Class" (imported now, the first time it is needed)."""
    module_name, _, cls_name = spec.partition(":")
    return getattr(importlib.import_module(module_name), cls_name)


class _ScreenSlot(QWidget):
    """A screen's tab: the screen's module is imported and the screen made the first time it is needed."""

    def __init__(self, spec: str, title: str, make) -> None:
        super().__init__()
        self.spec = spec
        self.name = spec.partition(":")[2]
        self.title = title
        self._cls = None
        self._make = make
        self._screen: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    @property
    def cls(self):
        if self._cls is None:
            self._cls = _load(self.spec)
        return self._cls

    def built(self) -> QWidget | None:
        return self._screen

    def screen(self) -> QWidget:
        if self._screen is None:
            self._screen = self._make(self.cls)
            self._layout.addWidget(self._screen)
            self.setFocusProxy(self._screen)
        return self._screen


class _Screens(Mapping):
    """The screens this person may use, by class name; a screen is built when first looked up."""

    def __init__(self, window) -> None:
        self._slots: dict[str, _ScreenSlot] = {}

    def add(self, name: str, slot: _ScreenSlot) -> None:
        self._slots[name] = slot

    def slot(self, name: str) -> _ScreenSlot | None:
        return self._slots.get(name)

    def __getitem__(self, name: str) -> QWidget:
        return self._slots[name].screen()

    def __iter__(self):
        return iter(self._slots)

    def __len__(self) -> int:
        return len(self._slots)

    def built(self) -> list[QWidget]:
        """The screens made so far (the others hold nothing yet)."""
        return [w for slot in self._slots.values() if (w := slot.built()) is not None]


class MainWindow(QMainWindow):
    sign_out_requested = Signal()
    # Emitted once, when the database is open and what the screen in front asked of it at
    # that moment has been answered: the rest (the call panel, the sync's status, counts on
    # tabs, the search's word tables) is set up then, so that the figures in front come first.
    settled = Signal()

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        # Who is signed in, once; the app's name last, so the platform adds it no second time.
        self.setWindowTitle(f"{ctx.actor.login} ({ROLE_LABELS[ctx.actor.role]}) — Back office")
        fit_to_screen(self)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabsClosable(True)
        self.tabs.tabCloseRequested.connect(self._close_tab)
        self.setCentralWidget(self.tabs)
        # One sync controller per window, created before the screens that show it.
        self.sync = SyncController(ctx, self)
        # Screens that keep a queue on a clock (privacy requests) say here what is overdue or due soon.
        self.alarm_label = QLabel()
        self.alarm_label.setObjectName("alarmLabel")
        self.alarm_label.setStyleSheet(ERROR_STYLE)
        self.screens = _Screens(self)
        for spec, title, permission in SCREENS:
            if not ctx.may(permission):
                continue
            slot = _ScreenSlot(spec, title, self._make_screen)
            self.screens.add(slot.name, slot)
            index = self.tabs.addTab(slot, title)
            self.tabs.tabBar().setTabButton(index, self.tabs.tabBar().ButtonPosition.RightSide, None)
        # Only the screen in front is built, once the window is on screen; each other one the
        # first time it is shown. A tab whose title counts something (orders to ship) has its
        # count read in the background meanwhile.
        self.tabs.currentChanged.connect(self._build_current)
        self._build_current(self.tabs.currentIndex())
        self.settled.connect(self._count_titles)
        ctx.bus.changed.connect(self._recount_titles)
        self._pages: dict[tuple[str, int], QWidget] = {}
        self.navigation = Navigation(self, self.tabs, [(n, self.screens.slot(n).title, self.screens.slot(n))
                                                       for n in self.screens], self.show_screen)
        self._build_menus()
        self.db_label = QLabel(f"{ctx.actor.login} at {ctx.actor.desk or 'this desk'} · opening the database…")
        ctx.when_ready(self._show_where)
        ctx.opening.failed.connect(self._database_failed)
        self.statusBar().addWidget(self.db_label, 1)
        self.sync_status = SyncStatusWidget(self.sync, self)
        self.sync_status.clicked.connect(lambda: self.show_screen("SyncScreen"))
        # Order takers may not sync: their desk neither runs it nor reads its state.
        if ctx.may(Permission.RUN_SYNC):
            self.statusBar().addPermanentWidget(self.sync_status)
        else:
            self.sync_status.hide()
        self.statusBar().addPermanentWidget(self.alarm_label)
        if ctx.may(Permission.RUN_SYNC):
            self.settled.connect(self.sync.start)
        self.settled.connect(self._after_settled)
        self._settled = False
        # Connected last: the screen in front has asked for its data by the time this runs.
        ctx.when_ready(self._settle_after_queued_work)

    def _settle_after_queued_work(self) -> None:
        # The database pool runs one task at a time, in order: this one ends after theirs.
        self.ctx.tasks.run_db(lambda token, progress: None, on_success=lambda _none: self._settle(),
                              on_failure=lambda exc: self._settle(), owner=self)

    def _settle(self) -> None:
        if not self._settled:
            self._settled = True
            self.settled.emit()

    @property
    def is_settled(self) -> bool:
        return self._settled

    def _show_where(self) -> None:
        from backoffice.db import safe_url  # late: SQLAlchemy loads behind the painted window

        where = safe_url(self.ctx.db.url)
        self.db_label.setText(f"{self.ctx.actor.login} at {self.ctx.actor.desk or 'this desk'} · {where}")

    def _database_failed(self, exc: BaseException) -> None:
        """The database could not be opened behind the window: say why, and close."""
        message = exc.message if isinstance(exc, UserFacingError) else f"{type(exc).__name__}: {exc}"
        self.db_label.setText("The database could not be opened")
        QMessageBox.critical(self, "The database could not be opened", message)
        self._leaving_confirmed = True
        self.close()

    def _after_settled(self) -> None:
        # The search's word tables, built behind the window rather than on the first keystroke;
        # then what lives as long as the desk is set aside from the collector's walks.
        self.ctx.tasks.run_db(lambda token, progress: word_tables.prepare_tables(),
                              on_success=lambda _none: set_aside_for_good(),
                              on_failure=lambda exc: None, owner=self)

    # --- navigation -------------------------------------------------------------------

    def _make_screen(self, cls) -> QWidget:
        screen = cls(self.ctx, self)
        if hasattr(screen, "order_opened"):
            screen.order_opened.connect(self.open_order)
        if hasattr(screen, "customer_opened"):
            screen.customer_opened.connect(self.open_customer)
        if hasattr(screen, "title_changed"):
            slot = self.screens.slot(cls.__name__)
            screen.title_changed.connect(lambda title, slot=slot: self._retitle(slot, title))
        if hasattr(screen, "alarm_changed"):
            screen.alarm_changed.connect(self.alarm_label.setText)
        if hasattr(screen, "screen_requested"):
            screen.screen_requested.connect(self.show_first_screen)
        if hasattr(screen, "find_requested"):
            screen.find_requested.connect(self.find_customer)
        if hasattr(screen, "requests_waiting"):
            screen.requests_waiting.connect(
                lambda overdue, due: self.navigation.set_badge(REQUESTS_SCREEN, overdue, due))
        return screen

    def _count_titles(self) -> None:
        """Read the counts of tabs whose title counts something and whose screen is not built."""
        ctx = self.ctx
        for name, count_title in COUNTED_TITLES.items():
            slot = self.screens.slot(name)
            if slot is None or slot.built() is not None:
                continue
            ctx.tasks.run_db(lambda token, progress, count_title=count_title: count_title(ctx),
                             on_success=lambda title, slot=slot: self._counted(slot, title),
                             on_failure=lambda exc: None, owner=self)

    def _counted(self, slot: _ScreenSlot, title: str) -> None:
        if slot.built() is None:
            self._retitle(slot, title)

    def _recount_titles(self, changes) -> None:
        if changes.orders:
            self._count_titles()

    def _build_current(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if isinstance(widget, _ScreenSlot):
            widget.screen()

    def show_screen(self, name: str) -> QWidget | None:
        slot = self.screens.slot(name)
        if slot is None:
            return None
        screen = slot.screen()
        self.tabs.setCurrentWidget(slot)
        focus = getattr(screen, "focus_default", None)
        if focus:
            focus()
        return screen

    def find_customer(self, text: str) -> None:
        """Show the customers screen searching for `text`, the cursor after it to type on."""
        screen = self.show_screen("CustomersScreen")
        if screen is not None:
            screen.search.setText(text)
            screen.search.setFocus(Qt.FocusReason.OtherFocusReason)
            screen.search.deselect()
            screen.search.end(False)

    def show_first_screen(self, names) -> QWidget | None:
        """Show the first of `names` this person has (a screen another role or build lacks is skipped)."""
        for name in names:
            if self.screens.slot(name) is not None:
                return self.show_screen(name)
        return None

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
            if isinstance(page, _ScreenSlot):
                # A screen's tab title counts something ("To ship (3)"): the tabs keep it when
                # refitted, and its tooltip keeps the screen's key.
                self.navigation.set_title(page.name, short)
            else:
                self.tabs.setTabToolTip(index, getattr(page, "tab_tooltip", "") or title)
                self.navigation.fit_tabs()

    def open_order(self, order_id: int) -> QWidget:
        from ui.orders.order_page import OrderPage  # late: keeps start-up quick

        return self._open_page(("order", order_id), lambda: OrderPage(self.ctx, order_id, self))

    def open_customer(self, customer_id: int) -> QWidget | None:
        cls = _load("ui.customers.customer_page:CustomerPage")
        if cls is None:
            return None
        return self._open_page(("customer", customer_id), lambda: cls(self.ctx, customer_id, self))

    def _close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if isinstance(widget, _ScreenSlot):
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
        go.addSeparator()
        self.sign_out_action = QAction("Sign &out", self)
        self.sign_out_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.sign_out_action.triggered.connect(self.request_sign_out)
        go.addAction(self.sign_out_action)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        quit_action.triggered.connect(self.request_quit)
        go.addAction(quit_action)
        self.menuBar().addMenu(self.navigation.menu)
        help_menu = self.menuBar().addMenu("&Help")
        keys = QAction(icon("keyboard"), "&Keyboard shortcuts", self)
        keys.setObjectName("keyboardShortcuts")
        keys.setShortcuts([QKeySequence("Ctrl+/"), QKeySequence(QKeySequence.StandardKey.HelpContents)])
        keys.triggered.connect(self.show_shortcuts)
        help_menu.addAction(keys)
        about = QAction("&About", self)
        about.triggered.connect(lambda: QMessageBox.about(
            self, "About backoffice",
            f"backoffice {__version__}\nThe back office for a small web shop."))
        help_menu.addAction(about)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self).exec()

    def current_screen_name(self) -> str | None:
        """The class name of the screen in front, or None when a page is in front."""
        widget = self.tabs.currentWidget()
        return widget.cls.__name__ if isinstance(widget, _ScreenSlot) else None

    def new_phone_order(self) -> None:
        screen = self.show_screen("PhoneOrderScreen")
        start = getattr(screen, "request_new_order", None)
        if start:
            start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_shown_once", False):
            self._shown_once = True
            # Whoever just signed in can type at once: the cursor waits in the first screen's
            # search box (Ctrl+F would put it there too).
            slot = self.tabs.currentWidget()
            if isinstance(slot, _ScreenSlot):
                focus = getattr(slot.screen(), "focus_default", None)
                if focus:
                    focus()

    # --- leaving ---------------------------------------------------------------------

    def unsaved_work(self) -> list[str]:
        """What open screens and pages hold that is not saved, in words ("a phone order being taken")."""
        found = []
        widgets = self.screens.built() + list(self._pages.values())
        for widget in widgets:
            describe = getattr(widget, "unsaved_work", None)
            text = describe() if describe else ""
            if text:
                found.append(text)
        return found

    def confirm_discard(self, leaving: str) -> bool:
        """Ask before `leaving` ("Sign out", "Quit") throws unsaved work away; True to go on."""
        work = self.unsaved_work()
        if not work:
            return True
        answer = QMessageBox.question(
            self, f"{leaving} and discard?",
            f"Not saved yet: {'; '.join(work)}.\n\n{leaving} anyway and discard it?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    def request_sign_out(self) -> None:
        """Sign out (asking first if work would be lost); the app then asks who is at the desk."""
        if self.confirm_discard("Sign out"):
            self.sign_out_requested.emit()

    def request_quit(self) -> None:
        if self.confirm_discard("Quit"):
            self._leaving_confirmed = True
            self.close()

    def closeEvent(self, event) -> None:
        # Closing from the title bar asks like Quit; a close the app itself decided does not.
        if (event.spontaneous() and not getattr(self, "_leaving_confirmed", False)
                and not self.confirm_discard("Close the window")):
            event.ignore()
            return
        self.sync.shutdown(10_000)
        self.ctx.tasks.wait_all(5000)
        super().closeEvent(event)
