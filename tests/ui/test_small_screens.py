"""The desk on a small screen: long names wrap instead of pushing the window wider than 1024
pixels, and Escape leaves a customer edit."""

from __future__ import annotations

from PySide6.QtCore import Qt

from backoffice.domain.enums import Role
from backoffice.services import customers as svc
from tests.conftest import make_staff
from tests.ui.conftest import open_page
from ui.shell.app import build_window
from ui.customers.customer_page import CustomerPage

WAIT_MS = 10_000
LONG = ("Wolfeschlegelsteinhausenbergerdorff", "Internationale Handelsgesellschaft für Kaffee, Tee "
        "und feine Backwaren mbH & Co. KG")


def test_a_long_customer_name_does_not_widen_the_window_past_a_small_screen(qtbot, sqlite_db):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    cid = svc.create_customer(sqlite_db, actor=owner, first_name=LONG[1], last_name=LONG[0]).customer.id
    window = build_window(sqlite_db, owner)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    page = window.open_customer(cid)
    qtbot.waitUntil(lambda: page.detail is not None, timeout=WAIT_MS)
    qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1024
    assert window.width() <= 1024
    assert page.heading.toolTip().endswith(LONG[0])
    window.ctx.tasks.wait_all(WAIT_MS)


def test_escape_cancels_a_customer_edit(qtbot, sqlite_db, ctx_for):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    cid = svc.create_customer(sqlite_db, actor=owner, first_name="Ann", last_name="Lee").customer.id
    page = open_page(qtbot, ctx_for(sqlite_db, owner), CustomerPage, cid, settled=True)
    page.start_editing()
    qtbot.keyClicks(page.fields["first_name"], "xx")
    qtbot.keyClick(page.fields["first_name"], Qt.Key.Key_Escape)
    assert not page.save_button.isVisible()
    assert page.fields["first_name"].text() == "Ann"
    assert page.fields["first_name"].isReadOnly()


def test_a_wrong_password_message_makes_room_instead_of_squeezing_the_fields(qtbot, sqlite_db):
    from backoffice.errors import UserFacingError
    from ui.shell.login_dialog import LoginDialog
    from ui.common.tasks import TaskManager

    tasks = TaskManager()
    dialog = LoginDialog(sqlite_db, desk="desk", tasks=tasks,
                         hint="Demo accounts: owner / owner-demo-1, staff / staff-demo-1, taker / taker-demo-1")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(50)
    before = dialog.password_edit.height()
    dialog._sign_in_failed(UserFacingError(
        "That login or password is not right. 4 tries left before the account is locked for 15 minutes."))
    qtbot.wait(50)
    assert dialog.password_edit.height() >= before
    hint = dialog.findChild(type(dialog.message), "hint")
    message_bottom = dialog.message.mapTo(dialog, dialog.message.rect().bottomLeft()).y()
    assert message_bottom < hint.mapTo(dialog, hint.rect().topLeft()).y()
    assert tasks.wait_all(WAIT_MS)
