"""Merging two customers who are one person: both side by side, the person picks which to keep.

Everything of the other (orders, addresses, notes, newsletter consents, privacy requests)
moves to the one kept, and its empty email, phone or company are filled in; the other is
marked merged. The service audits it and tells the web store; the dialog only asks.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from backoffice.errors import UserFacingError
from backoffice.services import customers as customers_service
from backoffice.services.customers import CustomerDetail, MergeResult
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.styles import ERROR_STYLE
from ui.common.plain_text import plain_label

ROWS = ("Name", "Email", "Phone", "Company", "Address", "Orders", "Customer since", "Web store")


def _facts(detail: CustomerDetail) -> tuple[str, ...]:
    p = detail.profile
    default = next((a for a in detail.addresses if a.is_default), detail.addresses[0] if detail.addresses else None)
    return (
        p.display_name, p.email or "—", p.phone or "—", p.company or "—",
        ", ".join(default.lines) if default else "—",
        f"{len(detail.orders):,}",
        f"{p.created_at.astimezone():%Y-%m-%d}",
        f"account {p.store_id}" if p.store_id else "no account",
    )


def _who(detail: CustomerDetail) -> str:
    """A customer told apart from a twin by what staff see: the name, then the email or phone."""
    p = detail.profile
    other = p.email or p.phone or f"added {p.created_at.astimezone():%Y-%m-%d}"
    return p.display_name if other == p.display_name else f"{p.display_name} ({other})"


def suggested_keep(a: CustomerDetail, b: CustomerDetail) -> tuple[CustomerDetail, str]:
    """Which of two records to offer to keep, and why; the same whichever page it was opened from.

    The one with more orders, then the one with a web store account, then the older one.
    """
    def rank(d: CustomerDetail):
        return (len(d.orders), d.profile.store_id is not None, -d.profile.created_at.timestamp(),
                -d.profile.id)

    first, second = sorted((a, b), key=rank, reverse=True)
    if len(first.orders) != len(second.orders):
        return first, "who has more orders"
    if (first.profile.store_id is None) != (second.profile.store_id is None):
        return first, "who has a web store account"
    return first, "the older record"


def merge_summary(result: MergeResult) -> str:
    """What a merge did, in one sentence for the person who asked for it."""
    orders = result.moved.get("orders", 0)
    parts = [f"{orders:,} order{'' if orders == 1 else 's'}"] if orders else []
    for table, label in (("customer_addresses", "address"), ("customer_notes", "note")):
        n = result.moved.get(table, 0)
        if n:
            parts.append(f"{n:,} {label}{'' if n == 1 else ('es' if label == 'address' else 's')}")
    moved = (" (" + ", ".join(parts) + " moved)") if parts else ""
    if result.merged_name == result.keep_name:
        what = f"Merged the two records of {result.keep_name} into one"
    else:
        what = f"Merged {result.merged_name} into {result.keep_name}"
    return f"{what}{moved}. The web store is told with the next sync."


class MergeCustomersDialog(QDialog):
    """Asks which of two customers to keep, then merges the other into it."""

    def __init__(self, ctx: AppContext, this: CustomerDetail, other_id: int, reason: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Merge customers")
        self.setModal(True)
        self.ctx = ctx
        self.this = this
        self.other: CustomerDetail | None = None
        self.other_id = other_id
        self.result_of_merge: MergeResult | None = None

        intro = QLabel((f"{reason}. " if reason else "") + "Are these one person? Pick the record to keep.")
        intro.setWordWrap(True)
        self.grid = QGridLayout()
        self.keep_this = QRadioButton(f"Keep {_who(this)}")
        self.keep_other = QRadioButton("Keep the other")
        self.keep_this.setObjectName("keepThis")
        self.keep_other.setObjectName("keepOther")
        self.keep_this.setChecked(True)
        self.keep_other.setEnabled(False)
        self.grid.addWidget(self.keep_this, 0, 1)
        self.grid.addWidget(self.keep_other, 0, 2)
        self._cells: list[QLabel] = []
        for row, (label, value) in enumerate(zip(ROWS, _facts(this)), start=1):
            self.grid.addWidget(QLabel(label), row, 0)
            self.grid.addWidget(plain_label(value), row, 1)
            other = plain_label("…")
            self._cells.append(other)
            self.grid.addWidget(other, row, 2)
        what = QLabel(
            "The other record's orders, addresses, notes, newsletter consents and privacy requests move "
            "to the one you keep, and its email, phone or company fill any that are empty there. It is "
            "then marked merged and no longer used. The web store is told; this cannot be undone here.")
        what.setWordWrap(True)
        self.message = plain_label("")
        self.message.setObjectName("mergeMessage")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        # Merging cannot be undone: Enter cancels, the merge takes a deliberate click or Alt+M.
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        cancel.setAutoDefault(True)
        self.merge_button = QPushButton("&Merge")
        self.merge_button.setObjectName("mergeButton")
        self.merge_button.setAutoDefault(False)
        self.merge_button.setDefault(False)
        self.merge_button.setEnabled(False)
        self.suggestion = plain_label("")
        self.suggestion.setObjectName("mergeSuggestion")
        self.suggestion.setWordWrap(True)
        buttons.addButton(self.merge_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.merge_button.clicked.connect(self.merge)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(self.grid)
        layout.addWidget(self.suggestion)
        layout.addWidget(what)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._load_other()

    def _load_other(self) -> None:
        db, actor, other_id = self.ctx.db, self.ctx.actor, self.other_id
        self.ctx.tasks.run_db(
            lambda token, progress: customers_service.get_customer(db, actor=actor, customer_id=other_id),
            on_success=self._show_other, on_failure=self._failed)

    def _show_other(self, detail: CustomerDetail) -> None:
        self.other = detail
        for cell, value in zip(self._cells, _facts(detail)):
            cell.setText(value)
        self.keep_other.setText(f"Keep {_who(detail)}")
        self.keep_other.setEnabled(True)
        keep, why = suggested_keep(self.this, detail)
        (self.keep_other if keep is detail else self.keep_this).setChecked(True)
        self.suggestion.setText(f"Suggested: keep {_who(keep)}, {why}.")
        self.merge_button.setEnabled(True)

    def keep_and_merge_ids(self) -> tuple[int, int]:
        this, other = self.this.profile.id, self.other_id
        return (other, this) if self.keep_other.isChecked() else (this, other)

    def merge(self) -> None:
        keep_id, merge_id = self.keep_and_merge_ids()
        self.merge_button.setEnabled(False)
        db, actor = self.ctx.db, self.ctx.actor
        self.ctx.tasks.run_db(
            lambda token, progress: customers_service.merge_customers(db, actor=actor, keep_id=keep_id,
                                                                      merge_id=merge_id),
            on_success=self._merged, on_failure=self._failed)

    def _merged(self, result: MergeResult) -> None:
        self.result_of_merge = result
        self.ctx.bus.publish(result.changes)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.merge_button.setEnabled(self.other is not None)
        if isinstance(exc, UserFacingError):
            self.message.setText(exc.message)
            self.message.show()
        else:
            show_error(self, exc)


__all__ = ["MergeCustomersDialog"]
