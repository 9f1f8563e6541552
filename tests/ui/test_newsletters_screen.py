"""The Newsletters screen and the customer page's consent buttons, driven as a person would:
lists with counts, members filtered, exports and imports in the background with a progress
bar and Cancel, and consent recorded on the phone under the wording read out."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from sqlalchemy import func, select

from backoffice.domain import Customer, Subscription
from backoffice.domain.enums import SubscriptionStatus
from backoffice.services import customers as customers_service
from backoffice.services.newsletters import consent, export_csv, lists
from tests.ui.conftest import WAIT_MS, open_page
from ui.customers.customer_page import CustomerPage
from ui.customers.customers_screen import CustomersScreen
from ui.newsletters.list_dialogs import NewListDialog
from ui.newsletters.newsletters_screen import NewslettersScreen


def add_members(db, owner, n, *, restricted=()):
    email = lists.find_list(db, actor=owner, name="Email newsletter")
    ids = []
    for i in range(n):
        cid = customers_service.create_customer(db, actor=owner, first_name=f"Person{i}", last_name="Member",
                                                email=f"p{i}@example.com").customer.id
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
        ids.append(cid)
    with db.begin() as s:
        for i in restricted:
            s.get(Customer, ids[i]).restricted = True
    return email, ids


def open_screen(qtbot, ctx) -> NewslettersScreen:
    screen = NewslettersScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1024, 700)
    screen.show()
    qtbot.waitExposed(screen)
    qtbot.waitUntil(lambda: not ctx.tasks.busy() and screen.lists_table.rowCount() == 4, timeout=WAIT_MS)
    return screen


def cells(table, column):
    return [table.item(r, column).text() for r in range(table.rowCount())]


def test_lists_counts_growth_and_member_filters(qtbot, db, owner, ctx_for):
    email, ids = add_members(db, owner, 6)
    consent.unsubscribe(db, actor=owner, customer_id=ids[0], list_id=email.id, method=consent.Method.EMAIL)
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    assert cells(screen.lists_table, 0) == ["Email newsletter", "SMS newsletter", "Postal catalogue", "Special offers"]
    assert [screen.lists_table.item(0, c).text() for c in (2, 4)] == ["5", "1"]
    qtbot.waitUntil(lambda: screen.growth_table.rowCount() == 1 and screen.members_table.rowCount() == 6,
                    timeout=WAIT_MS)
    # Six joined; the one who left is too few to show.
    assert [screen.growth_table.item(0, c).text() for c in (1, 2)] == ["6", "—"]
    screen.status_filter.setCurrentIndex(screen.status_filter.findData("unsubscribed"))
    qtbot.waitUntil(lambda: screen.members_table.rowCount() == 1, timeout=WAIT_MS)
    assert screen.members_table.item(0, 1).text() == "p0@example.com"
    screen.status_filter.setCurrentIndex(0)
    qtbot.keyClicks(screen.member_search, "p3@")
    qtbot.keyClick(screen.member_search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: cells(screen.members_table, 1) == ["p3@example.com"], timeout=WAIT_MS)
    # Beside the names, the way the list reaches them: email addresses, or an SMS list's phones.
    members = screen.members_table
    assert (members.isColumnHidden(1), members.isColumnHidden(2)) == (False, True)
    screen.select_list("SMS newsletter")
    assert (members.isColumnHidden(1), members.isColumnHidden(2)) == (True, False)
    # Mailchimp and listmonk send email: a postal list offers no transfer.
    screen.select_list("Postal catalogue")
    assert (members.isColumnHidden(1), members.isColumnHidden(2)) == (False, True)
    assert not screen.export_mailchimp.isEnabled()
    screen.grab().save("/tmp/newsletters_screen.png")


def test_export_in_the_background_names_who_was_left_out(qtbot, db, owner, ctx_for, tmp_path):
    add_members(db, owner, 3, restricted=(1,))
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    out = tmp_path / "for-mailchimp.csv"
    screen.ask_save_path = lambda suggested: str(out)
    with qtbot.waitSignal(screen.transfer_finished, timeout=WAIT_MS):
        qtbot.mouseClick(screen.export_mailchimp, Qt.MouseButton.LeftButton)
    assert "2 member(s) written" in screen.transfer_message.text()
    assert "1 processing restricted" in screen.transfer_message.text()
    assert out.read_text(encoding="utf-8-sig").splitlines()[0] == "Email Address,First Name,Last Name"


def test_cancelling_an_export_leaves_no_file(qtbot, db, owner, ctx_for, tmp_path, monkeypatch):
    add_members(db, owner, 4)
    monkeypatch.setattr(export_csv, "PAGE", 1)
    gate, calls = threading.Event(), []
    real = export_csv.suppression.key_hash

    def held(*args):
        calls.append(1)
        if len(calls) == 2:
            gate.wait(WAIT_MS / 1000)
        return real(*args)

    monkeypatch.setattr(export_csv.suppression, "key_hash", held)
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "never.csv"
    screen.ask_save_path = lambda suggested: str(out)
    qtbot.mouseClick(screen.export_listmonk, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(calls) >= 2, timeout=WAIT_MS)
    assert screen.cancel_button.isVisible() and screen.progress.isVisible()
    qtbot.mouseClick(screen.cancel_button, Qt.MouseButton.LeftButton)
    gate.set()
    qtbot.waitUntil(lambda: "Cancelled" in screen.transfer_message.text(), timeout=WAIT_MS)
    assert not list((tmp_path / "out").iterdir())  # no half-written file either
    assert not screen.cancel_button.isVisible() and screen.export_listmonk.isEnabled()


def test_an_import_with_bad_rows_shows_each_line_and_imports_nothing(qtbot, db, owner, ctx_for, tmp_path):
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    file = tmp_path / "members.csv"
    file.write_text("Email Address,First Name,Last Name\nada@example.com,Ada,L\nnope,Bo,L\n", encoding="utf-8")
    screen.ask_open_path = lambda: str(file)
    with qtbot.waitSignal(screen.transfer_finished, timeout=WAIT_MS):
        qtbot.mouseClick(screen.import_button, Qt.MouseButton.LeftButton)
    assert "nothing was imported" in screen.transfer_message.text()
    assert screen.report.isVisible() and screen.report.toPlainText().startswith("Line 3:")
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(Customer)).scalar_one() == 0
    file.write_text("Email Address,First Name,Last Name\nada@example.com,Ada,L\n", encoding="utf-8")
    screen.confirm_import = lambda lst, head: True
    with qtbot.waitSignal(screen.transfer_finished, timeout=WAIT_MS):
        qtbot.mouseClick(screen.import_button, Qt.MouseButton.LeftButton)
    assert "1 subscribed" in screen.transfer_message.text()
    qtbot.waitUntil(lambda: screen.lists_table.item(0, 2).text() == "1", timeout=WAIT_MS)


def test_subscribe_on_the_phone_and_unsubscribe_from_the_customer_page(qtbot, db, owner, ctx_for):
    cid = customers_service.create_customer(db, actor=owner, first_name="Ann", last_name="Lee",
                                            email="ann@example.com", phone="+1 713 555 0100").customer.id
    ctx = ctx_for(db, owner)
    page = open_page(qtbot, ctx, CustomerPage, cid)
    button = page.findChild(type(page.edit_button), "subscribeButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.consent_dialog is not None, timeout=WAIT_MS)
    dialog = page.consent_dialog
    dialog.list_combo.setCurrentIndex(dialog.list_combo.findData(
        lists.find_list(db, actor=owner, name="SMS newsletter").id))
    assert "text message" in dialog.wording.toPlainText()
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: page.consents.rowCount() == 1, timeout=WAIT_MS)
    assert "text message" in page.consents.item(0, 4).text()

    qtbot.mouseClick(page.findChild(type(page.edit_button), "unsubscribeButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.consent_dialog is not dialog and page.consent_dialog is not None, timeout=WAIT_MS)
    page.consent_dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()  # from all lists
    qtbot.waitUntil(lambda: page.consents.rowCount() == 2, timeout=WAIT_MS)
    with db.read() as s:
        assert s.execute(select(Subscription.status)).scalar_one() is SubscriptionStatus.UNSUBSCRIBED


@pytest.mark.parametrize("role", ["order_taker"])
def test_order_takers_see_no_consent_buttons(qtbot, db, owner, order_taker, ctx_for, role):
    cid = customers_service.create_customer(db, actor=owner, first_name="Ann", last_name="Lee",
                                            email="ann@example.com").customer.id
    page = open_page(qtbot, ctx_for(db, order_taker), CustomerPage, cid)
    assert page.findChild(type(page.edit_button), "subscribeButton").isHidden()


def test_the_customers_list_filters_by_newsletter_list(qtbot, db, owner, ctx_for):
    email, ids = add_members(db, owner, 2)
    customers_service.create_customer(db, actor=owner, first_name="Not", last_name="Subscribed",
                                      email="not@example.com")
    ctx = ctx_for(db, owner)
    screen = CustomersScreen(ctx)
    ctx.screens.append(screen)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(lambda: screen.list_filter.count() == 5 and screen.model.rowCount() == 3, timeout=WAIT_MS)
    assert screen.list_filter.itemText(1) == "On “Email newsletter”"
    screen.list_filter.setCurrentIndex(screen.list_filter.findData(email.id))
    qtbot.waitUntil(lambda: screen.model.rowCount() == 2 and screen.count_label.text() == "2 customers",
                    timeout=WAIT_MS)
    # A new list made elsewhere is offered without reopening the screen; the choice stays.
    _, changes = lists.create_list(db, actor=owner, name="Trade news", channel="email", purpose="For the trade.",
                                   wording="Yes, send me trade news.")
    ctx.bus.publish(changes)
    qtbot.waitUntil(lambda: screen.list_filter.count() == 6, timeout=WAIT_MS)
    assert screen.list_filter.currentData() == email.id


def test_the_owner_adds_a_list_and_a_new_wording_version(qtbot, db, owner, ctx_for):
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    dialog = screen.open_new_list()
    qtbot.keyClicks(dialog.name, "Trade news")
    dialog.channel.setCurrentIndex(dialog.channel.findData("email"))
    qtbot.keyClicks(dialog.purpose, "News for shops that resell our products.")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=WAIT_MS)  # no wording yet
    assert "wording" in dialog.error.text()
    dialog.wording.setPlainText("Yes, send me trade news.")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: screen.lists_table.rowCount() == 5, timeout=WAIT_MS)
    screen.select_list("Trade news")
    qtbot.waitUntil(lambda: "version 1" in screen.list_info.text(), timeout=WAIT_MS)
    wording = screen.open_new_wording()
    wording.wording.setPlainText("Yes, send me trade news and price lists.")
    wording.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    qtbot.waitUntil(lambda: "version 2" in screen.list_info.text(), timeout=WAIT_MS)
    assert "price lists" in screen.list_info.text()


def test_a_list_dialog_says_why_it_was_refused_and_saves_once_corrected(qtbot, db, owner, ctx_for):
    ctx = ctx_for(db, owner)
    dialog = NewListDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "Email newsletter")
    dialog.purpose.setText("Monthly news")
    dialog.wording.setPlainText("Yes, send me the monthly newsletter.")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=WAIT_MS)
    assert "already a list called" in dialog.error.text() and dialog.buttons.isEnabled()
    dialog.name.setText("Tea club")
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT_MS):
        dialog.save()
    assert lists.find_list(db, actor=owner, name="Tea club") is not None
