"""Going between screens: a menu entry, icon and shortcut for every screen, and next/previous page."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QTabWidget

from ui.shell.icons import icon


@dataclass(frozen=True)
class ScreenKey:
    shortcut: str
    icon: str
    label: str


# Each known screen keeps its shortcut whatever the role, so a desk's habits survive a role
# change; a screen not listed here gets the next free Ctrl+digit.
SCREEN_KEYS: dict[str, ScreenKey] = {
    "HomeScreen": ScreenKey("Ctrl+1", "home", "&Home"),
    "CustomersScreen": ScreenKey("Ctrl+2", "customers", "&Customers"),
    "OrdersScreen": ScreenKey("Ctrl+3", "orders", "&Orders"),
    "PhoneOrderScreen": ScreenKey("Ctrl+4", "phone", "New &phone order"),
    "PrivacyScreen": ScreenKey("Ctrl+5", "requests", "Privacy &requests"),
    "NewslettersScreen": ScreenKey("Ctrl+6", "newsletters", "&Newsletters"),
    "ShippingScreen": ScreenKey("Ctrl+7", "shipping", "Sh&ipping"),
    "SyncScreen": ScreenKey("Ctrl+8", "sync", "&Sync"),
    "AuditScreen": ScreenKey("Ctrl+9", "audit", "&Audit trail"),
    "StaffScreen": ScreenKey("Ctrl+0", "staff", "S&taff"),
    "ShopSettingsScreen": ScreenKey("Ctrl+,", "settings", "Shop s&ettings"),
}
SPARE_SHORTCUTS = ("Ctrl+Shift+1", "Ctrl+Shift+2", "Ctrl+Shift+3", "Ctrl+Shift+4", "Ctrl+Shift+5")

NEXT_PAGE_KEYS = ("Ctrl+Tab", "Ctrl+PgDown")
PREVIOUS_PAGE_KEYS = ("Ctrl+Shift+Tab", "Ctrl+PgUp")

REQUESTS_SCREEN = "PrivacyScreen"


def screen_key(name: str, title: str, taken: set[str]) -> ScreenKey:
    """The shortcut, icon and menu label of screen `name`; unknown screens get a spare key."""
    known = SCREEN_KEYS.get(name)
    if known is not None:
        return known
    spare = next((k for k in SPARE_SHORTCUTS if k not in taken), "")
    return ScreenKey(spare, "", title)


def badge_text(title: str, overdue: int, due: int) -> str:
    """A screen's tab title with a count of what waits on a clock: "Privacy requests (2)"."""
    waiting = overdue + due
    return f"{title} ({waiting})" if waiting else title


class Navigation(QObject):
    """Builds the Screens menu and the page-switching actions of a main window.

    `screens` are (class name, title, slot widget) in tab order; `show(name)` brings one forward.
    """

    def __init__(self, window: QMainWindow, tabs: QTabWidget, screens, show) -> None:
        super().__init__(window)
        self.window = window
        self.tabs = tabs
        self.screen_actions: dict[str, QAction] = {}
        self._titles: dict[str, str] = {}
        self._slots = {}
        taken = {k.shortcut for k in SCREEN_KEYS.values()}
        self.menu = QMenu("&Screens", window)
        for name, title, slot in screens:
            key = screen_key(name, title, taken)
            taken.add(key.shortcut)
            action = QAction(icon(key.icon), key.label, window)
            action.setObjectName(f"show{name}")
            if key.shortcut:
                action.setShortcut(QKeySequence(key.shortcut))
            # Reachable from anywhere in the window, even while a table or a field has the focus.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _checked=False, name=name: show(name))
            window.addAction(action)
            self.menu.addAction(action)
            self.screen_actions[name] = action
            self._titles[name] = title
            self._slots[name] = slot
            index = tabs.indexOf(slot)
            if index >= 0:
                tabs.setTabIcon(index, icon(key.icon))
                tabs.setTabToolTip(index, f"{title} ({QKeySequence(key.shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
                                   if key.shortcut else title)
        self._badges: dict[str, tuple[int, int]] = {}
        self._fitting = False
        # On a narrow window the screens' tabs give up their words (the icon, tooltip and
        # accessible name stay) before any tab is pushed off the bar.
        tabs.currentChanged.connect(lambda _i: self.fit_tabs())
        tabs.installEventFilter(self)
        self.menu.addSeparator()
        self.next_action = self._page_action("Ne&xt page", NEXT_PAGE_KEYS, 1)
        self.previous_action = self._page_action("Pre&vious page", PREVIOUS_PAGE_KEYS, -1)

    def _page_action(self, text: str, keys: tuple[str, ...], step: int) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName("nextPage" if step > 0 else "previousPage")
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda: self.step(step))
        self.window.addAction(action)
        self.menu.addAction(action)
        return action

    def step(self, step: int) -> None:
        """Bring the next (1) or previous (-1) open page forward, round the end."""
        count = self.tabs.count()
        if count:
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % count)
            widget = self.tabs.currentWidget()
            if widget is not None:
                widget.setFocus(Qt.FocusReason.TabFocusReason)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.fit_tabs()
        return False

    def _tab_text(self, name: str, compact: bool) -> str:
        overdue, due = self._badges.get(name, (0, 0))
        if compact:
            return f"{overdue + due}" if overdue + due else ""
        return badge_text(self._titles[name], overdue, due)

    def fit_tabs(self) -> None:
        """Words on every screen's tab when they fit; else on the one in front only."""
        if self._fitting:
            return
        self._fitting = True
        try:
            bar = self.tabs.tabBar()
            for compact in (False, True):
                for name, slot in self._slots.items():
                    index = self.tabs.indexOf(slot)
                    if index >= 0:
                        front = index == self.tabs.currentIndex()
                        self.tabs.setTabText(index, self._tab_text(name, compact and not front))
                        bar.setAccessibleTabName(index, self._tab_text(name, False))
                if bar.sizeHint().width() <= self.tabs.width():
                    break
        finally:
            self._fitting = False

    def compact(self) -> bool:
        """Whether the screens' tabs show only their icons."""
        return any(self.tabs.tabText(self.tabs.indexOf(slot)) != self._tab_text(name, False)
                   for name, slot in self._slots.items())

    def set_title(self, name: str, title: str) -> None:
        """Screen `name`'s tab says `title` from now on ("To ship (3)")."""
        if name in self._titles:
            self._titles[name] = title
            self.fit_tabs()

    def set_badge(self, name: str, overdue: int, due: int) -> None:
        """Show on screen `name`'s tab and menu entry how many items are due or overdue."""
        slot = self._slots.get(name)
        if slot is None:
            return
        title = self._titles[name]
        self._badges[name] = (overdue, due)
        index = self.tabs.indexOf(slot)
        if index >= 0:
            self.fit_tabs()
            # Red while something is overdue; the style's own colour again once nothing is.
            self.tabs.tabBar().setTabTextColor(index, QColor("#b3261e") if overdue else QColor())
        action = self.screen_actions[name]
        action.setText(badge_text(SCREEN_KEYS.get(name, ScreenKey("", "", title)).label, overdue, due))
        parts = [f"{overdue} overdue"] if overdue else []
        if due:
            parts.append(f"{due} due soon")
        action.setToolTip(f"{title}: {', '.join(parts)}" if parts else title)
