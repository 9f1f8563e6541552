"""A form of shop settings, built from their declarations in `backoffice.domain.settings`.

Each setting gets the field its type calls for (a spin box with the allowed range for a
whole number, a line for text), its label, its help under it, and a place for the
problem the service names. Loading and saving run on the database pool; Save sends only
what changed, all of it or nothing, and every refused value is named under its field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from backoffice.domain.settings import SETTINGS_BY_KEY, SettingSpec
from backoffice.errors import UserFacingError, ValidationError
from backoffice.services import settings as settings_service
from backoffice.services.changes import Changes
from ui.common.context import AppContext
from ui.common.errors import show_error
from ui.common.styles import ERROR_STYLE

SAVED_STYLE = "color: #1b7f3b;"
HELP_STYLE = "color: #5f6368;"

Section = tuple[str, Sequence[str]]
# Codes a few letters long get a field to match.
SHORT_FIELDS = {"shop.currency": 3, "shop.default_country": 2}


def _object_name(key: str) -> str:
    head, *rest = key.replace("_", ".").split(".")
    return head + "".join(part.capitalize() for part in rest) + "Field"


class SettingsForm(QWidget):
    """Sections of settings with one Save and one Revert."""

    saved = Signal(object)  # the Changes of a save, after other screens heard of it

    def __init__(self, ctx: AppContext, sections: Sequence[Section], *, saved_text: str = "Saved.",
                 parent: QWidget | None = None) -> None:
        """`actions` (the message, Revert and Save) sits under the sections; a page that
        scrolls the form may take it out and place it where it stays in view."""
        super().__init__(parent)
        self.ctx = ctx
        self.saved_text = saved_text
        self.fields: dict[str, QLineEdit | QSpinBox | QCheckBox] = {}
        self.problems: dict[str, QLabel] = {}
        self._loaded_values: dict[str, Any] = {}
        self._loaded = False
        self._publishing = False
        self._filling = False

        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        labels: list[QLabel] = []
        for title, keys in sections:
            group = QGroupBox(title)
            form = QFormLayout(group)
            for key in keys:
                spec = SETTINGS_BY_KEY[key]
                field = self._field_for(spec)
                problem = QLabel("")
                problem.setObjectName(_object_name(key).removesuffix("Field") + "Problem")
                problem.setStyleSheet(ERROR_STYLE)
                problem.setWordWrap(True)
                problem.hide()
                column = QVBoxLayout()
                column.setSpacing(2)
                if field.maximumWidth() < 10_000:  # a narrow field keeps to the left of its column
                    line = QHBoxLayout()
                    line.addWidget(field)
                    line.addStretch(1)
                    column.addLayout(line)
                else:
                    column.addWidget(field)
                if spec.help:
                    help_label = QLabel(spec.help)
                    help_label.setStyleSheet(HELP_STYLE)
                    help_label.setWordWrap(True)
                    column.addWidget(help_label)
                column.addWidget(problem)
                label = QLabel(spec.label)
                label.setBuddy(field)
                labels.append(label)
                form.addRow(label, column)
                self.fields[key] = field
                self.problems[key] = problem
            root.addWidget(group)

        # One column of labels across the sections, so the fields line up.
        width = max((label.sizeHint().width() for label in labels), default=0)
        for label in labels:
            label.setMinimumWidth(width)

        self.actions = QWidget()
        buttons = QHBoxLayout(self.actions)
        buttons.setContentsMargins(0, 0, 0, 0)
        self.message = QLabel("")
        self.message.setObjectName("settingsMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.revert_button = QPushButton("Re&vert")
        self.save_button = QPushButton("&Save")
        self.revert_button.clicked.connect(lambda: self.load())
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.message, 4)
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        root.addWidget(self.actions)
        ctx.bus.changed.connect(self._on_changes)
        self._set_dirty(False)

    def _field_for(self, spec: SettingSpec) -> QLineEdit | QSpinBox | QCheckBox:
        if spec.type is bool:
            field = QCheckBox()
            field.setMaximumWidth(field.sizeHint().width() + 8)
            field.toggled.connect(self._edited)
        elif spec.type is int:
            field = QSpinBox()
            field.setRange(spec.minimum if spec.minimum is not None else 0,
                           spec.maximum if spec.maximum is not None else 1_000_000)
            field.setMaximumWidth(field.fontMetrics().horizontalAdvance("0" * 8) + 40)
            field.valueChanged.connect(self._edited)
        else:
            field = QLineEdit()
            if spec.key in SHORT_FIELDS:
                field.setMaxLength(SHORT_FIELDS[spec.key])
                field.setMaximumWidth(field.fontMetrics().horizontalAdvance("W" * 4) + 16)
            field.textEdited.connect(self._edited)
        field.setObjectName(_object_name(spec.key))
        if spec.help:
            field.setToolTip(spec.help)
        return field

    # --- loading ---------------------------------------------------------------------

    def load(self, *, keep_message: bool = False) -> None:
        """Read the settings (database pool) and show them, dropping unsaved edits."""
        self.ctx.tasks.run_db(lambda token, progress: settings_service.all_settings(self.ctx.db),
                              on_success=lambda values: self._show(values, keep_message=keep_message),
                              on_failure=lambda exc: show_error(self, exc), owner=self)

    def _show(self, values: dict[str, Any], *, keep_message: bool = False) -> None:
        self._filling = True
        try:
            for key, field in self.fields.items():
                value = values.get(key, SETTINGS_BY_KEY[key].default)
                if isinstance(field, QCheckBox):
                    field.setChecked(bool(value))
                elif isinstance(field, QSpinBox):
                    field.setValue(int(value))
                else:
                    field.setText(str(value or ""))
                    field.setCursorPosition(0)
                self._loaded_values[key] = self._value(key)
        finally:
            self._filling = False
        self._loaded = True
        self._show_problems({})
        if not keep_message:
            self._say(None)
        self._set_dirty(False)

    def _on_changes(self, changes: Changes) -> None:
        if changes.settings and not self._dirty and not self._publishing:
            self.load()

    # --- editing and saving ----------------------------------------------------------

    def _value(self, key: str) -> Any:
        field = self.fields[key]
        if isinstance(field, QCheckBox):
            return field.isChecked()
        return field.value() if isinstance(field, QSpinBox) else field.text()

    def changed_values(self) -> dict[str, Any]:
        """What the person changed since the settings were read."""
        return {key: self._value(key) for key in self.fields
                if self._value(key) != self._loaded_values.get(key)}

    def _edited(self, *_args) -> None:
        if not self._filling:
            self._set_dirty(bool(self.changed_values()))

    def _set_dirty(self, dirty: bool) -> None:
        self._dirty = dirty
        self.save_button.setEnabled(dirty and self._loaded)
        self.revert_button.setEnabled(dirty)

    def has_unsaved_changes(self) -> bool:
        return self._dirty

    def save(self) -> None:
        """Save what changed (database pool): all of it, or nothing and each problem named."""
        values = self.changed_values()
        if not values:
            return
        self.save_button.setEnabled(False)
        self.ctx.tasks.run_db(
            lambda token, progress: settings_service.set_settings(self.ctx.db, actor=self.ctx.actor, values=values),
            on_success=lambda changes: self._saved(changes, values), on_failure=self._save_failed, owner=self)

    def _saved(self, changes: Changes, values: dict[str, Any]) -> None:
        self._loaded_values.update(values)
        self._show_problems({})
        self._set_dirty(bool(self.changed_values()))
        self._publishing = True
        try:
            self.ctx.bus.publish(changes)
        finally:
            self._publishing = False
        self._say(self.saved_text, SAVED_STYLE)
        self.saved.emit(changes)
        if not self._dirty:
            # The service may have tidied a value (an address without its last slash): show it.
            self.load(keep_message=True)

    def _save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, ValidationError):
            self._show_problems(exc.fields)
            self._say(exc.message)
        elif isinstance(exc, UserFacingError):
            self._say(exc.message)
        else:
            show_error(self, exc)

    def _show_problems(self, fields: dict[str, str]) -> None:
        first = None
        for key, label in self.problems.items():
            text = fields.get(key, "")
            label.setText(text)
            label.setVisible(bool(text))
            if text and first is None:
                first = self.fields[key]
        if first is not None:
            first.setFocus()

    def _say(self, text: str | None, style: str = ERROR_STYLE) -> None:
        self.message.setStyleSheet(style)
        self.message.setText(text or "")
        self.message.setVisible(bool(text))


__all__ = ["SettingsForm"]
