"""The owner's Staff and Audit trail screens, driven like a person would, and their models."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from backoffice.domain.enums import Role
from backoffice.domain.staff import Permission
from backoffice.services import audit, staff
from ui.staff.audit_screen import AuditScreen
from ui.staff.audit_table_model import AuditTableModel
from ui.common.context import AppContext
from ui.staff.staff_screen import StaffScreen
from ui.common.tasks import TaskManager

OWNER_PW = "owner-password-1"


pytestmark = pytest.mark.usefixtures("fast_hashing")


@pytest.fixture
def ctx(qtbot, sqlite_db):
    owner = staff.create_first_owner(sqlite_db, login="boss", display_name="Shop Owner", password=OWNER_PW,
                                     desk="front")
    context = AppContext(db=sqlite_db, actor=owner, tasks=TaskManager())
    yield context
    assert context.tasks.wait_all(10_000), "a background task was left running"
    qtbot.wait(0)


def add_views(ctx, n, customer_id=None, start=0):
    with ctx.db.begin() as s:
        for i in range(start, start + n):
            audit.record(s, ctx.actor, "view_customer", entity_type="customer", entity_id=i,
                         customer_id=customer_id if customer_id is not None else i, fields=["email"])


def test_screens_declare_their_title_and_permission():
    assert (AuditScreen.title, AuditScreen.permission) == ("Audit trail", Permission.READ_AUDIT)
    assert (StaffScreen.title, StaffScreen.permission) == ("Staff", Permission.MANAGE_STAFF)


# --- audit trail --------------------------------------------------------------------------

def test_the_audit_model_loads_pages_as_asked(qtbot, qtmodeltester, ctx):
    add_views(ctx, 45)
    model = AuditTableModel(ctx.tasks, page_size=20)

    def fetch(before_id, limit):
        return audit.list_events(ctx.db, actor=ctx.actor, before_id=before_id, limit=limit)

    with qtbot.waitSignal(model.page_loaded):
        model.set_fetch(fetch)
    assert model.rowCount() == 20 and model.canFetchMore()
    with qtbot.waitSignal(model.page_loaded):
        model.fetchMore()
    with qtbot.waitSignal(model.page_loaded):
        model.fetchMore()
    assert model.rowCount() == 47 and not model.canFetchMore()  # 45 views, sign-up and sign-in
    ids = [model.row_at(i).id for i in range(model.rowCount())]
    assert ids == sorted(set(ids), reverse=True)
    qtmodeltester.check(model)
    assert model.index(0, 3).data() == audit.action_label("view_customer")


def test_a_new_filter_drops_a_page_still_loading_for_the_old_one(qtbot, ctx):
    add_views(ctx, 5, customer_id=1)
    add_views(ctx, 3, customer_id=2)
    model = AuditTableModel(ctx.tasks)
    model.set_fetch(lambda b, n: audit.list_events(ctx.db, actor=ctx.actor, customer_id=1, before_id=b, limit=n))
    with qtbot.waitSignal(model.page_loaded):
        model.set_fetch(lambda b, n: audit.list_events(ctx.db, actor=ctx.actor, customer_id=2,
                                                       before_id=b, limit=n))
    ctx.tasks.wait_all()
    qtbot.wait(20)
    assert model.rowCount() == 3
    assert {model.row_at(i).customer_id for i in range(3)} == {2}


def test_the_audit_screen_filters_and_verifies_the_chain(qtbot, ctx):
    add_views(ctx, 4, customer_id=17)
    add_views(ctx, 2, customer_id=18)
    screen = AuditScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 8 and screen.staff_combo.count() == 2, timeout=5000)

    qtbot.keyClicks(screen.customer_edit, "17")
    qtbot.waitUntil(lambda: screen.model.rowCount() == 4 and not screen.model.is_loading(), timeout=5000)
    screen.customer_edit.clear()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 8, timeout=5000)

    screen.action_combo.setCurrentIndex(screen.action_combo.findData("login"))
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1, timeout=5000)
    screen.action_combo.setCurrentIndex(0)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 8, timeout=5000)

    tomorrow = QDate.currentDate().addDays(1)
    screen.from_edit.setDate(tomorrow)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 0 and not screen.model.is_loading(), timeout=5000)
    screen.from_edit.setDate(QDate.currentDate().addDays(-1))
    screen.to_edit.setDate(QDate.currentDate())
    qtbot.waitUntil(lambda: screen.model.rowCount() == 8, timeout=5000)
    assert screen.filters()["until"] - screen.filters()["since"] == timedelta(days=2)

    qtbot.mouseClick(screen.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.verify_button.isEnabled(), timeout=5000)
    assert screen.chain_report.text() == "The audit trail is intact (8 entries checked)."

    con = sqlite3.connect(ctx.db.sqlite_path)
    with con:
        con.execute("UPDATE audit_events SET fields = '[\"phone\"]' WHERE id = 6")
    con.close()
    qtbot.mouseClick(screen.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.verify_button.isEnabled(), timeout=5000)
    assert screen.chain_report.text().startswith("The audit trail is broken at entry 6")


def test_the_audit_screen_says_so_when_the_role_may_not_read_it(qtbot, sqlite_db, ctx):
    staff.add_staff(sqlite_db, actor=ctx.actor, login="clerk", display_name="Clerk", role=Role.STAFF,
                    password="clerk-password")
    clerk = staff.authenticate(sqlite_db, login="clerk", password="clerk-password", desk="d")
    clerk_ctx = AppContext(db=sqlite_db, actor=clerk, tasks=ctx.tasks)
    screen = AuditScreen(clerk_ctx)
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: "may not read the audit trail" in screen.status.text(), timeout=5000)
    assert screen.model.rowCount() == 0


# --- staff --------------------------------------------------------------------------------

def open_screen(qtbot, ctx) -> StaffScreen:
    screen = StaffScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(lambda: screen.model.rowCount() >= 1, timeout=5000)
    return screen


def test_the_staff_model_passes_the_model_checks(qtbot, qtmodeltester, ctx):
    screen = open_screen(qtbot, ctx)
    qtmodeltester.check(screen.model)


def test_the_owner_adds_an_account_with_messages_under_the_fields(qtbot, ctx):
    screen = open_screen(qtbot, ctx)
    dialog = screen.add_account()
    qtbot.keyClicks(dialog.name_edit, "Desk Clerk")
    qtbot.keyClicks(dialog.login_edit, "boss")
    dialog.role_combo.setCurrentIndex(dialog.role_combo.findData(Role.ORDER_TAKER))
    qtbot.keyClicks(dialog.password_edit, "short")
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    assert dialog.form.error_label("password").text() == "Use at least 10 characters."
    dialog.password_edit.clear()
    qtbot.keyClicks(dialog.password_edit, "first-password")
    qtbot.keyClicks(dialog.repeat_edit, "first-password")
    qtbot.keyClick(dialog.repeat_edit, Qt.Key.Key_Return)
    # The login is taken: the database says so, and it shows under the login field.
    qtbot.waitUntil(lambda: dialog.form.error_label("login").isVisible(), timeout=5000)
    assert dialog.form.error_label("login").text() == "Another account uses this login."
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    dialog.login_edit.clear()
    qtbot.keyClicks(dialog.login_edit, "clerk")
    with qtbot.waitSignal(ctx.bus.changed, timeout=5000) as published:
        qtbot.keyClick(dialog.login_edit, Qt.Key.Key_Return)
    new_id = dialog.summary.id
    assert published.args[0].staff == frozenset({new_id})
    qtbot.waitUntil(lambda: screen.model.rowCount() == 2 and screen.selected_id() == new_id, timeout=5000)
    assert screen.model.index(screen.model.row_of(new_id), 3).data() == "Must choose a password"


def test_the_owner_disables_enables_resets_and_changes_roles(qtbot, ctx):
    clerk = staff.add_staff(ctx.db, actor=ctx.actor, login="clerk", display_name="Clerk",
                            role=Role.ORDER_TAKER, password="first-password")
    screen = open_screen(qtbot, ctx)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 2, timeout=5000)

    screen.select(ctx.actor.staff_id)
    assert not screen.disable_button.isEnabled()
    assert screen.disable_button.toolTip() == "You cannot disable your own account."

    screen.select(clerk.id)
    assert screen.disable_button.isEnabled() and not screen.enable_button.isEnabled()
    with qtbot.waitSignal(ctx.bus.changed, timeout=5000):
        qtbot.mouseClick(screen.disable_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.selected() is not None and not screen.selected().active, timeout=5000)
    assert screen.model.index(screen.model.row_of(clerk.id), 3).data() == "Disabled"
    with pytest.raises(staff.AccountDisabled):
        staff.authenticate(ctx.db, login="clerk", password="first-password", desk="d")
    with qtbot.waitSignal(ctx.bus.changed, timeout=5000):
        qtbot.mouseClick(screen.enable_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.selected() is not None and screen.selected().active, timeout=5000)

    dialog = screen.reset_selected()
    qtbot.keyClicks(dialog.password_edit, "temporary-password")
    qtbot.keyClicks(dialog.repeat_edit, "temporary-password")
    with qtbot.waitSignal(ctx.bus.changed, timeout=5000):
        qtbot.keyClick(dialog.repeat_edit, Qt.Key.Key_Return)
    assert staff.authenticate(ctx.db, login="clerk", password="temporary-password", desk="d")

    qtbot.waitUntil(lambda: screen.selected() is not None, timeout=5000)
    dialog = screen.change_selected_role()
    dialog.role_combo.setCurrentIndex(dialog.role_combo.findData(Role.STAFF))
    with qtbot.waitSignal(ctx.bus.changed, timeout=5000):
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.selected() is not None and screen.selected().role is Role.STAFF,
                    timeout=5000)

    # The last owner cannot step down: said under the role field, nothing sent.
    screen.select(ctx.actor.staff_id)
    dialog = screen.change_selected_role()
    dialog.role_combo.setCurrentIndex(dialog.role_combo.findData(Role.STAFF))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "last active owner" in dialog.form.error_label("role").text()
    dialog.reject()
