"""Recording a customer's consent on the phone (under the wording read out to them) and
their opt-out from one list or all, from the customer page."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from backoffice.services.newsletters import consent as consent_service
from backoffice.services.newsletters.consent import METHOD_LABELS, CustomerConsent
from ui.common.context import AppContext
from ui.newsletters.form_dialog import SaveFormDialog

STATUS_WORDS = {None: "not on the list", "subscribed": "subscribed", "unconfirmed": "not confirmed yet",
                "unsubscribed": "unsubscribed", "cleaned": "address bounced"}


class _ConsentDialog(SaveFormDialog):
    error_object_name = "consentError"

    def __init__(self, ctx: AppContext, customer_id: int, state: CustomerConsent, title: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, title, parent)
        self.customer_id = customer_id
        self.state = state

    def _methods(self, methods) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName("consentMethod")
        for m in methods:
            combo.addItem(METHOD_LABELS[m], m)
        return combo


class SubscribeDialog(_ConsentDialog):
    """Pick the list and the wording read out to the caller, and how they agreed."""

    def __init__(self, ctx: AppContext, customer_id: int, state: CustomerConsent,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, customer_id, state, "Subscribe to a newsletter list", parent)
        self.setObjectName("subscribeDialog")
        self.list_combo = QComboBox()
        self.list_combo.setObjectName("subscribeList")
        for lst in state.lists:
            self.list_combo.addItem(f"{lst.name} ({STATUS_WORDS.get(lst.status and lst.status.value, '')})",
                                    lst.list_id)
        self.wording = QPlainTextEdit()
        self.wording.setObjectName("consentWording")
        self.wording.setReadOnly(True)
        self.wording.setMaximumHeight(90)
        self.wording_label = QLabel("")
        self.wording_label.setObjectName("wordingVersion")
        self.method = self._methods(consent_service.SUBSCRIBE_METHODS)
        self.source = QLineEdit()
        self.source.setObjectName("consentSource")
        self.source.setPlaceholderText("IP address of a web form, if known")
        self.form.addRow("List", self.list_combo)
        self.form.addRow("Read this out", self.wording)
        self.form.addRow("", self.wording_label)
        self.form.addRow("How", self.method)
        self.form.addRow("Source", self.source)
        self.list_combo.currentIndexChanged.connect(self._show_wording)
        self._show_wording()
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("They agreed: subscribe")

    def _current(self):
        list_id = self.list_combo.currentData()
        return next((lst for lst in self.state.lists if lst.list_id == list_id), None)

    def _show_wording(self) -> None:
        lst = self._current()
        self.wording.setPlainText(lst.wording if lst else "")
        self.wording_label.setText(f"Wording version {lst.wording_version}; {lst.purpose}" if lst else "")

    def save(self) -> None:
        lst = self._current()
        if lst is None or lst.wording_id is None:
            self.error.setText("Choose a list with a consent wording.")
            self.error.show()
            return
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        method, source, wording_id = self.method.currentData(), self.source.text().strip(), lst.wording_id
        self._run(lambda: consent_service.subscribe(db, actor=actor, customer_id=cid, list_id=lst.list_id,
                                                    wording_id=wording_id, method=method, source_address=source))


class UnsubscribeDialog(_ConsentDialog):
    """Opt the person out of one list or all of them, as they asked (phone, email, letter).
    Order confirmations and other transactional messages are not lists and go on."""

    def __init__(self, ctx: AppContext, customer_id: int, state: CustomerConsent,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, customer_id, state, "Unsubscribe", parent)
        self.setObjectName("unsubscribeDialog")
        self.list_combo = QComboBox()
        self.list_combo.setObjectName("unsubscribeList")
        self.list_combo.addItem("All newsletter lists", None)
        for lst in state.lists:
            self.list_combo.addItem(f"{lst.name} ({STATUS_WORDS.get(lst.status and lst.status.value, '')})",
                                    lst.list_id)
        self.method = self._methods(consent_service.UNSUBSCRIBE_METHODS)
        note = QLabel("Order confirmations, shipping news and policy notices are not newsletters; "
                      "they are still sent.")
        note.setWordWrap(True)
        self.form.addRow("From", self.list_combo)
        self.form.addRow("Asked by", self.method)
        self.form.addRow("", note)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("Unsubscribe")

    def save(self) -> None:
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        list_id, method = self.list_combo.currentData(), self.method.currentData()
        self._run(lambda: consent_service.unsubscribe(db, actor=actor, customer_id=cid, list_id=list_id,
                                                      method=method))
