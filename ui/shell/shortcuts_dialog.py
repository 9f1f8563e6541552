"""Help → Keyboard shortcuts: a list made from the window's own actions, so it never goes stale."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QDialogButtonBox, QHeaderView, QMainWindow, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)


@dataclass(frozen=True)
class Shortcut:
    menu: str
    action: str
    keys: str


def _plain(text: str) -> str:
    # "&Find customer" is shown as "Find customer"; "&&" stays one ampersand.
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")


def window_shortcuts(window: QMainWindow) -> list[Shortcut]:
    """Every action of `window`'s menus that has a shortcut, in menu order, then the others."""
    found: list[Shortcut] = []
    seen: set[int] = set()

    def add(menu: str, action: QAction) -> None:
        keys = [k for k in action.shortcuts() if not k.isEmpty()]
        if id(action) in seen or not keys or action.isSeparator():
            return
        seen.add(id(action))
        text = " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)
        found.append(Shortcut(menu, _plain(action.text()), text))

    def walk(menu_title: str, actions) -> None:
        for action in actions:
            sub = action.menu()
            if sub is not None:
                walk(_plain(sub.title()), sub.actions())
            else:
                add(menu_title, action)

    walk("", window.menuBar().actions())
    for action in window.findChildren(QAction):
        add("Other", action)
    return found


class ShortcutsDialog(QDialog):
    """The keyboard shortcuts of a window, by menu."""

    def __init__(self, window: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.shortcuts = window_shortcuts(window)
        self.table = QTableWidget(len(self.shortcuts), 3)
        self.table.setObjectName("shortcutsTable")
        self.table.setAccessibleName("Keyboard shortcuts")
        self.table.setHorizontalHeaderLabels(["Menu", "Does", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        for row, s in enumerate(self.shortcuts):
            for col, text in enumerate((s.menu, s.action, s.keys)):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        height = min(640, 80 + self.table.verticalHeader().length())
        self.resize(520, max(300, height))
        self.table.setFocus()

    def keys_for(self, action_text: str) -> str | None:
        """The keys shown for the action named `action_text` (without its '&')."""
        for s in self.shortcuts:
            if s.action == action_text:
                return s.keys
        return None
