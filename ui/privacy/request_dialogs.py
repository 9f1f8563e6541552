"""Dialogs of the privacy area: log a request, record the identity check, refuse."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QWidget

from backoffice.domain.enums import RequestKind
from backoffice.services.changes import Changes
from backoffice.services.privacy import disclosures, fulfil, identity, register
from ui.common.context import AppContext
from ui.common.service_form_dialog import ServiceFormDialog


class _ResultDialog(ServiceFormDialog):
    def __init__(self, ctx: AppContext, title: str, intro: str, parent: QWidget | None = None) -> None:
        super().__init__(ctx.tasks, title, intro, parent)
        self.ctx = ctx
        self.result = None
        self.setMinimumWidth(520)

    def _clears_error(self, key: str, edit: QPlainTextEdit) -> None:
        # Like a line edit's, a text box's message goes once the person types in it.
        edit.textChanged.connect(lambda: self.form.set_error(key, None))

    def finished_with(self, result) -> None:
        self.result = result
        changes = getattr(result, "changes", None)
        if changes is not None:
            self.ctx.bus.publish(changes)
        self.accept()


class LogRequestDialog(_ResultDialog):
    """A new request: for a customer (from their page) or for someone with no record here."""

    ok_text = "&Log request"

    def __init__(self, ctx: AppContext, customer_id: int | None = None, customer_name: str = "",
                 parent: QWidget | None = None) -> None:
        who = f"for {customer_name or 'this customer'}" if customer_id else \
            "for someone with no record here (write who asked and how to reach them)"
        super().__init__(ctx, "Log a privacy request",
                         f"Log the request {who}. Its answer is due within the shop's response time.", parent)
        self.setObjectName("logRequestDialog")
        self.customer_id = customer_id
        self.kind = QComboBox()
        for kind in RequestKind:
            self.kind.addItem(register.KIND_LABELS[kind], kind.value)
        self.channel = QComboBox()
        for key, label in register.CHANNELS.items():
            self.channel.addItem(label, key)
        self.form.add_field("kind", "&Request", self.kind)
        self.form.add_field("channel", "Came &by", self.channel)
        self.name = QLineEdit()
        self.contact = QLineEdit()
        if customer_id is None:
            self.form.add_field("requester_name", "&Name", self.name)
            self.form.add_field("requester_contact", "&Email or phone", self.contact)
        self.details = QPlainTextEdit()
        self.details.setFixedHeight(70)
        self.form.add_field("details", "&What they asked", self.details)

    def local_problems(self) -> dict[str, str]:
        if self.customer_id is None and not (self.name.text().strip() or self.contact.text().strip()):
            return {"requester_name": "Who asked? Give a name or how to reach them."}
        return {}

    def work(self) -> Callable[[], register.LoggedRequest]:
        db, actor = self.ctx.db, self.ctx.actor
        values = dict(kind=self.kind.currentData(), channel=self.channel.currentData(),
                      customer_id=self.customer_id, requester_name=self.name.text(),
                      requester_contact=self.contact.text(), details=self.details.toPlainText())
        return lambda: register.log_request(db, actor=actor, **values)


class VerifyIdentityDialog(_ResultDialog):
    """How the requester's identity was checked (the shop's ways, or a few words)."""

    ok_text = "&Record check"

    def __init__(self, ctx: AppContext, request_id: int, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Identity check for request {request_id}",
                         "A request is fulfilled only once the requester is shown to be the person "
                         "the data is about. Record how you checked.", parent)
        self.setObjectName("verifyIdentityDialog")
        self.request_id = request_id
        self.method = QComboBox()
        for key, label in identity.METHODS.items():
            self.method.addItem(label, key)
        self.method.addItem("Another way (describe it)", "")
        self.other = QLineEdit()
        self.form.add_field("method", "&Checked by", self.method)
        self.form.add_field("other", "&Describe", self.other)

    def local_problems(self) -> dict[str, str]:
        if not self.method.currentData() and len(self.other.text().strip()) < 4:
            return {"other": "Describe how the identity was checked."}
        return {}

    def work(self) -> Callable[[], register.RequestRow]:
        db, actor, rid = self.ctx.db, self.ctx.actor, self.request_id
        method = self.method.currentData() or self.other.text()
        return lambda: identity.verify_identity(db, actor=actor, request_id=rid, method=method)

    def finished_with(self, result) -> None:
        self.result = result
        self.ctx.bus.publish(Changes(requests=frozenset({result.id})))
        self.accept()


class RefuseDialog(_ResultDialog):
    """Refuse, or close as partly fulfilled, with the reason and what was kept and why."""

    ok_text = "&Decide"

    def __init__(self, ctx: AppContext, request_id: int, parent: QWidget | None = None) -> None:
        super().__init__(ctx, f"Refuse request {request_id}",
                         "The requester reads the reason in the letter. List what is kept, one per line, "
                         "as “what — why”.", parent)
        self.setObjectName("refuseDialog")
        self.request_id = request_id
        self.reason = QPlainTextEdit()
        self.reason.setFixedHeight(60)
        self.kept = QPlainTextEdit()
        self.kept.setFixedHeight(60)
        self.partly = QCheckBox("Partly fulfilled (the rest was done)")
        self.form.add_field("reason", "&Reason", self.reason)
        self._clears_error("reason", self.reason)
        self.form.add_field("kept", "&Kept", self.kept)
        self.form.add_field("partly", "", self.partly)

    def local_problems(self) -> dict[str, str]:
        if len(self.reason.toPlainText().strip()) < 5:
            return {"reason": "Give the reason the requester will read."}
        return {}

    def work(self) -> Callable[[], fulfil.Fulfilment]:
        db, actor, rid = self.ctx.db, self.ctx.actor, self.request_id
        kept = []
        for line in self.kept.toPlainText().splitlines():
            what, _, why = line.replace(" - ", " — ").partition("—")
            if what.strip():
                kept.append((what.strip(), why.strip()))
        reason, partly = self.reason.toPlainText(), self.partly.isChecked()
        return lambda: fulfil.refuse_request(db, actor=actor, request_id=rid, reason=reason, kept=kept,
                                             partly=partly)


class DisclosureDialog(_ResultDialog):
    """Log personal data given to a third party because the law required it."""

    ok_text = "&Record disclosure"

    def __init__(self, ctx: AppContext, customer_id: int | None, parent: QWidget | None = None) -> None:
        super().__init__(ctx, "Record a disclosure",
                         "Personal data goes to a third party only when the law requires it, such as a court "
                         "order. Record who asked, under what authority and what was given.", parent)
        self.setObjectName("disclosureDialog")
        self.customer_id = customer_id
        self.requested_by = QLineEdit()
        self.authority = QLineEdit()
        self.reference = QLineEdit()
        self.what_given = QPlainTextEdit()
        self.what_given.setFixedHeight(60)
        self.confidential = QCheckBox("Confidential: leave it out of the person's own export")
        self.form.add_field("who asked", "&Who asked", self.requested_by)
        self.form.add_field("the authority", "&Authority", self.authority)
        self.form.add_field("the reference", "Re&ference", self.reference)
        self.form.add_field("what was given", "What was &given", self.what_given)
        self._clears_error("what was given", self.what_given)
        self.form.add_field("confidential", "", self.confidential)

    def local_problems(self) -> dict[str, str]:
        problems = {}
        if not self.requested_by.text().strip():
            problems["who asked"] = "Who asked for the data?"
        if not self.authority.text().strip():
            problems["the authority"] = "Under what authority (a court order, a warrant)?"
        if not self.what_given.toPlainText().strip():
            problems["what was given"] = "What was given?"
        return problems

    def work(self) -> Callable[[], disclosures.DisclosureRow]:
        db, actor, cid = self.ctx.db, self.ctx.actor, self.customer_id
        values = dict(requested_by=self.requested_by.text(), authority=self.authority.text(),
                      reference=self.reference.text(), what_given=self.what_given.toPlainText(),
                      confidential=self.confidential.isChecked())
        return lambda: disclosures.record_disclosure(db, actor=actor, customer_id=cid, **values)
