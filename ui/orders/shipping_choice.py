"""Shipping methods with a minimum order: greyed in the list below it, with the reason."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox


def mark_minimums(combo: QComboBox, subtotal: Decimal) -> str:
    """Grey the methods this subtotal does not reach (the reason in their tooltip); return why
    the chosen one may not be used, or "" when it may."""
    model = combo.model()
    for row in range(combo.count()):
        option = combo.itemData(row)
        why = option.refusal(subtotal) if hasattr(option, "refusal") else ""
        if isinstance(model, QStandardItemModel) and model.item(row) is not None:
            model.item(row).setEnabled(not why)
        combo.setItemData(row, why or None, Qt.ItemDataRole.ToolTipRole)
    current = combo.currentData()
    return current.refusal(subtotal) if current is not None and hasattr(current, "refusal") else ""
