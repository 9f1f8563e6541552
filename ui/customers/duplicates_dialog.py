"""Every group of customers on file that may be one person, for staff to look through.

The groups (same phone, same email, same name and postcode) are read on the database
pool; double-clicking a customer, or Enter, opens their page, where the merge is made.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from backoffice.services import customers as customers_service
from backoffice.services.customers import DuplicateGroup, Duplicates
from ui.common.context import AppContext
from ui.customers.customers_table_model import STATUS_LABELS
from ui.common.errors import show_error
from ui.common.plain_text import plain_label

#: Groups read of each kind; a shop with more sees the first ones and merges those first.
GROUP_LIMIT = 200


class DuplicatesDialog(QDialog):
    """Groups of possible duplicates; opening a customer leaves the dialog open for the next."""

    customer_opened = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Possible duplicates")
        self.resize(820, 520)
        self.ctx = ctx
        self.groups: list[DuplicateGroup] = []
        self.state = plain_label("Looking for customers who may be the same person…")
        self.state.setObjectName("duplicatesState")
        self.state.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setObjectName("duplicateGroups")
        self.tree.setHeaderLabels(["Customer", "Phone", "Email", "Status"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.setRootIsDecorated(True)
        self.tree.itemActivated.connect(self._activated)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addWidget(self.tree, 1)
        layout.addWidget(QLabel("Open a customer to compare the records and merge them from their page."))
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        self.ctx.tasks.run_db(
            lambda token, progress: customers_service.find_duplicates(db, actor=actor, limit=GROUP_LIMIT),
            on_success=self._show, on_failure=lambda exc: show_error(self, exc))

    def _show(self, found: Duplicates) -> None:
        groups = list(found.groups)
        self.groups = groups
        self.tree.clear()
        for group in groups:
            head = QTreeWidgetItem([f"{group.label}: {len(group.customers)} customers"])
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for row in group.customers:
                item = QTreeWidgetItem([row.name, row.phone, row.email, STATUS_LABELS.get(row.status, str(row.status))])
                item.setData(0, Qt.ItemDataRole.UserRole, row.id)
                head.addChild(item)
            self.tree.addTopLevelItem(head)
        self.tree.expandAll()
        self.state.setText(found.summary())
        if groups:
            self.tree.setCurrentItem(self.tree.topLevelItem(0).child(0))
            self.tree.setFocus()

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        customer_id = item.data(0, Qt.ItemDataRole.UserRole)
        if customer_id is not None:
            self.customer_opened.emit(int(customer_id))


__all__ = ["DuplicatesDialog"]
