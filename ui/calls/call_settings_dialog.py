"""This desk's call settings: the loopback call address for phone systems that open a URL."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.settings import desk_settings


class CallSettingsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Call settings of this desk")
        enabled, port = desk_settings.call_endpoint()
        intro = QLabel(
            "Phone systems that can run a program use <tt>backoffice call NUMBER</tt>; nothing to "
            "switch on. Those that can only open a web address (Ringotel, Wildix) need the call "
            "address below. It answers this computer only, takes nothing but a number, and "
            "shows nothing while the desk is locked.")
        intro.setWordWrap(True)
        self.enabled = QCheckBox("Answer the call address on this desk")
        self.enabled.setObjectName("callEndpointEnabled")
        self.enabled.setChecked(enabled)
        self.port = QSpinBox()
        self.port.setObjectName("callEndpointPort")
        self.port.setRange(1024, 65535)
        self.port.setValue(port)
        self.address = QLineEdit()
        self.address.setObjectName("callEndpointAddress")
        self.address.setReadOnly(True)
        self.port.valueChanged.connect(self._show_address)
        self.enabled.toggled.connect(self._show_address)
        form = QFormLayout()
        form.addRow(self.enabled)
        form.addRow("Port", self.port)
        form.addRow("Address to paste", self.address)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(460, self.sizeHint().height())
        self._show_address()

    def _show_address(self, *_args) -> None:
        self.port.setEnabled(self.enabled.isChecked())
        self.address.setEnabled(self.enabled.isChecked())
        self.address.setText(f"http://127.0.0.1:{self.port.value()}/call?number=")

    def accept(self) -> None:
        desk_settings.set_call_endpoint(self.enabled.isChecked(), self.port.value())
        super().accept()
