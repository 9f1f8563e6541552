"""The privacy requests screen as the owner uses it: the queue by days left with overdue and
due-soon rows flagged, logging for someone with no record and from a customer's page, and a
deletion request from intake to completion."""

from __future__ import annotations

import zipfile
from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from backoffice.domain.base import utcnow
from backoffice.domain.enums import CustomerStatus, RequestStatus, Role
from backoffice.services import customers
from backoffice.services.privacy import disclosures, flags, identity, register
from tests.conftest import make_staff
from tests.ui.conftest import WAIT_MS, open_page
from ui.customers.customer_page import CustomerPage
from ui.privacy.requests_screen import PrivacyScreen
from ui.privacy.requests_table_model import DUE_SOON_BACKGROUND, OVERDUE_BACKGROUND


def _customer(db, owner):
    return customers.create_customer(db, actor=owner, first_name="Ottilie", last_name="Brandauer",
                                     email="ottilie.brandauer@example.org", phone="+1 713 555 0177").customer.profile.id


def _screen(qtbot, ctx):
    screen = PrivacyScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1024, 700)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def _wait_rows(qtbot, screen, n):
    qtbot.waitUntil(lambda: screen.model.rowCount() == n and not screen._loading, timeout=WAIT_MS)


def _dialog(qtbot, name):
    found = []

    def there():
        found[:] = [w for w in QApplication.topLevelWidgets() if w.objectName() == name and w.isVisible()]
        return bool(found)

    qtbot.waitUntil(there, timeout=WAIT_MS)
    return found[0]


def test_the_queue_puts_overdue_first_and_flags_it(qtbot, sqlite_db, ctx_for):
    owner = make_staff(sqlite_db, Role.OWNER, "owner")
    cid = _customer(sqlite_db, owner)
    now = utcnow()
    register.log_request(sqlite_db, actor=owner, kind="access", customer_id=cid)
    register.log_request(sqlite_db, actor=owner, kind="restriction", customer_id=cid,
                         received_at=now - timedelta(days=26))
    register.log_request(sqlite_db, actor=owner, kind="deletion", customer_id=cid,
                         received_at=now - timedelta(days=33))
    ctx = ctx_for(sqlite_db, owner)
    screen = _screen(qtbot, ctx)
    _wait_rows(qtbot, screen, 3)
    model = screen.model
    assert [model.index(r, 1).data() for r in range(3)] == ["Overdue by 3 days", "4 days left", "30 days left"]
    assert model.index(0, 0).data(Qt.ItemDataRole.BackgroundRole).color() == OVERDUE_BACKGROUND
    assert model.index(1, 0).data(Qt.ItemDataRole.BackgroundRole).color() == DUE_SOON_BACKGROUND
    assert model.index(2, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert screen.alarm.text() == "1 privacy request is overdue; 1 due within the week."
    # Nothing can be fulfilled before the identity is checked.
    screen.table.selectRow(0)
    qtbot.waitUntil(lambda: screen.detail is not None, timeout=WAIT_MS)
    assert screen.verify_button.isEnabled() and not screen.fulfil_button.isEnabled()


def test_staff_log_a_request_for_someone_with_no_record(qtbot, sqlite_db, ctx_for):
    clerk = make_staff(sqlite_db, Role.STAFF, "clerk")
    ctx = ctx_for(sqlite_db, clerk)
    screen = _screen(qtbot, ctx)
    _wait_rows(qtbot, screen, 0)
    qtbot.mouseClick(screen.log_button, Qt.MouseButton.LeftButton)
    dialog = _dialog(qtbot, "logRequestDialog")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.form.error_label("requester_name").isVisible()
    dialog.kind.setCurrentIndex(dialog.kind.findData("access"))
    dialog.channel.setCurrentIndex(dialog.channel.findData("letter"))
    qtbot.keyClicks(dialog.name, "Hubert Quell")
    qtbot.keyClicks(dialog.contact, "hubert.quell@example.net")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    _wait_rows(qtbot, screen, 1)
    assert screen.model.index(0, 3).data() == "Hubert Quell"
    assert screen.model.index(0, 6).data() == "Letter"
    # Staff log and check identity; only the owner decides.
    screen.table.selectRow(0)
    qtbot.waitUntil(lambda: screen.detail is not None, timeout=WAIT_MS)
    assert not screen.refuse_button.isEnabled() and screen.verify_button.isEnabled()


def test_a_deletion_request_from_intake_to_completion(qtbot, sqlite_db, ctx_for, tmp_path):
    owner = make_staff(sqlite_db, Role.OWNER, "owner")
    cid = _customer(sqlite_db, owner)
    ctx = ctx_for(sqlite_db, owner)
    # The customer calls: the owner logs it from their page.
    page = open_page(qtbot, ctx, CustomerPage, cid)
    page.tabs.setCurrentIndex(page.tabs.indexOf(page.privacy_panel.parentWidget()))
    qtbot.mouseClick(page.privacy_panel.log_button, Qt.MouseButton.LeftButton)
    dialog = _dialog(qtbot, "logRequestDialog")
    dialog.kind.setCurrentIndex(dialog.kind.findData("deletion"))
    dialog.channel.setCurrentIndex(dialog.channel.findData("phone"))
    qtbot.keyClicks(dialog.details, "Please delete everything you have about me.")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.requests.rowCount() == 1, timeout=WAIT_MS)
    assert page.requests.item(0, 0).text() == "Deletion"

    # In the queue: check identity (called back), preview, erase.
    screen = _screen(qtbot, ctx)
    _wait_rows(qtbot, screen, 1)
    screen.table.selectRow(0)
    qtbot.waitUntil(lambda: screen.detail is not None, timeout=WAIT_MS)
    assert not screen.fulfil_button.isEnabled()
    qtbot.mouseClick(screen.verify_button, Qt.MouseButton.LeftButton)
    verify = _dialog(qtbot, "verifyIdentityDialog")
    verify.method.setCurrentIndex(verify.method.findData("call_back"))
    qtbot.mouseClick(verify.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.fulfil_button.isEnabled(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "Called back on the number on file" in screen.history.toPlainText(), timeout=WAIT_MS)

    qtbot.mouseClick(screen.fulfil_button, Qt.MouseButton.LeftButton)
    fulfil = _dialog(qtbot, "fulfilDialog")
    qtbot.waitUntil(lambda: fulfil.ok_button.isEnabled(), timeout=WAIT_MS)
    preview = fulfil.preview.toPlainText()
    assert "Erased here:" in preview and "Kept, and why:" in preview and "audit trail" in preview
    qtbot.mouseClick(fulfil.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not fulfil.isVisible(), timeout=WAIT_MS)
    _wait_rows(qtbot, screen, 0)
    screen.show_closed.setChecked(True)
    _wait_rows(qtbot, screen, 1)
    assert screen.model.index(0, 4).data() == "Done"
    assert screen.model.index(0, 3).data() == "Erased customer"
    rows = register.list_requests(sqlite_db, actor=owner, open_only=False)
    assert rows[0].status is RequestStatus.FULFILLED
    qtbot.waitUntil(lambda: page.detail is not None and page.detail.profile.status is CustomerStatus.ERASED,
                    timeout=WAIT_MS)
    assert "Ottilie" not in page.heading.text()

    # The answer to send: the letter's text and its PDF.
    screen.table.selectRow(0)
    qtbot.waitUntil(lambda: screen.letter_button.isEnabled(), timeout=WAIT_MS)
    qtbot.mouseClick(screen.letter_button, Qt.MouseButton.LeftButton)
    letter = _dialog(qtbot, "letterDialog")
    qtbot.waitUntil(lambda: letter.copy_button.isEnabled(), timeout=WAIT_MS)
    assert "We have erased your personal data" in letter.text.toPlainText()
    assert "Ottilie" not in letter.text.toPlainText()
    letter.save_to(str(tmp_path / "letter.pdf"))
    qtbot.waitUntil(lambda: (tmp_path / "letter.pdf").exists(), timeout=WAIT_MS)
    letter.close()


def test_the_owner_sets_and_clears_the_flags_on_the_customer_page(qtbot, sqlite_db, ctx_for):
    owner = make_staff(sqlite_db, Role.OWNER, "owner")
    cid = _customer(sqlite_db, owner)
    ctx = ctx_for(sqlite_db, owner)
    page = open_page(qtbot, ctx, CustomerPage, cid, size=(1024, 700))
    panel = page.privacy_panel
    page.tabs.setCurrentIndex(page.tabs.indexOf(panel.parentWidget()))
    assert not panel.restricted.isChecked() and not panel.reactivate.isVisible()
    qtbot.mouseClick(panel.restricted, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.profile.restricted, timeout=WAIT_MS)
    assert "processing restricted" in page.profile_facts.text()
    flags.deactivate_customer(sqlite_db, actor=owner, customer_id=cid)
    page.reload()
    qtbot.waitUntil(lambda: panel.reactivate.isVisible(), timeout=WAIT_MS)
    qtbot.mouseClick(panel.reactivate, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.profile.status is CustomerStatus.ACTIVE, timeout=WAIT_MS)
    assert not panel.reactivate.isVisible()


def test_staff_see_the_flags_but_cannot_change_them(qtbot, sqlite_db, ctx_for):
    owner = make_staff(sqlite_db, Role.OWNER, "owner")
    clerk = make_staff(sqlite_db, Role.STAFF, "clerk")
    cid = _customer(sqlite_db, owner)
    flags.set_privacy_flags(sqlite_db, actor=owner, customer_id=cid, objected=True)
    page = open_page(qtbot, ctx_for(sqlite_db, clerk), CustomerPage, cid)
    assert page.privacy_panel.objected.isChecked() and not page.privacy_panel.objected.isEnabled()
    assert not page.privacy_panel.log_button.isHidden()


def test_the_owner_records_a_disclosure_from_the_customer_page(qtbot, sqlite_db, ctx_for):
    owner = make_staff(sqlite_db, Role.OWNER, "owner")
    cid = _customer(sqlite_db, owner)
    page = open_page(qtbot, ctx_for(sqlite_db, owner), CustomerPage, cid)
    dialog = page.privacy_panel.record_disclosure()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.form.error_label("the authority").isVisible()
    qtbot.keyClicks(dialog.requested_by, "Harris County court")
    qtbot.keyClicks(dialog.authority, "Court order")
    qtbot.keyClicks(dialog.what_given, "Shipping address of order 1001")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Harris County court" in page.privacy_panel.note.text(), timeout=WAIT_MS)
    logged = disclosures.list_disclosures(sqlite_db, actor=owner, customer_id=cid)
    assert [(d.requested_by, d.authority, d.recorded_by) for d in logged] == [("Harris County court", "Court order",
                                                                                "Owner")]


def test_an_access_request_is_answered_with_a_zip_where_the_owner_says(qtbot, sqlite_db, ctx_for, tmp_path):
    owner = make_staff(sqlite_db, Role.OWNER, "owner")
    cid = _customer(sqlite_db, owner)
    logged = register.log_request(sqlite_db, actor=owner, kind="access", customer_id=cid)
    identity.verify_identity(sqlite_db, actor=owner, request_id=logged.request.id, method="document_seen")
    ctx = ctx_for(sqlite_db, owner)
    screen = _screen(qtbot, ctx)
    _wait_rows(qtbot, screen, 1)
    screen.table.selectRow(0)
    qtbot.waitUntil(lambda: screen.fulfil_button.isEnabled(), timeout=WAIT_MS)
    dialog = screen.fulfil_selected()
    assert dialog.path_box.isVisibleTo(dialog) and not dialog.preview.isVisibleTo(dialog)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "Choose the file" in dialog.message.text()
    out = tmp_path / "copy.zip"
    out.write_bytes(b"someone else's file")
    qtbot.keyClicks(dialog.path, str(out))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "already exists" in dialog.message.text(), timeout=WAIT_MS)
    assert out.read_bytes() == b"someone else's file"
    dialog.path.clear()
    qtbot.keyClicks(dialog.path, str(tmp_path / "fresh.zip"))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    with zipfile.ZipFile(tmp_path / "fresh.zip") as zf:
        assert {"data.json", "summary.pdf", "tables/customers.csv"} <= set(zf.namelist())
    _wait_rows(qtbot, screen, 0)
