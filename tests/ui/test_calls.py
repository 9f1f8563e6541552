"""Incoming calls in a running app: the command, the link and the call address each bring up the
caller; a locked desk shows nothing; requests not from this computer are refused; F2 starts the order."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from decimal import Decimal

from PySide6.QtCore import QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QFileOpenEvent
from PySide6.QtWidgets import QApplication, QMenu
from sqlalchemy import select

from backoffice.call_endpoint import RateLimit
from backoffice.domain import CustomerNote, Order, OrderAddress
from backoffice.domain.enums import AddressKind, OrderStatus
from backoffice.services import staff
from backoffice.services.customers import create_customer
from ui.settings import desk_settings
from ui.shell.app import build_window
from ui.calls import dial as dial_module
from ui.calls.call_settings_dialog import CallSettingsDialog
from ui.calls.router import CallRouter
from ui.shell.idle_lock import IdleLock

WAIT_MS = 10_000
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def desk(qtbot, sqlite_db, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKOFFICE_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("BACKOFFICE_DESK", "desk-1")
    ini = str(tmp_path / "desk.ini")
    monkeypatch.setattr(desk_settings, "settings", lambda: QSettings(ini, QSettings.Format.IniFormat))
    owner = staff.create_first_owner(sqlite_db, login="boss", display_name="Shop Owner", password=PASSWORD,
                                     desk="desk-1")
    ana = create_customer(sqlite_db, actor=owner, first_name="Ana", last_name="García", phone="+1 713 555 0199",
                          email="ana@example.com").customer.profile.id
    create_customer(sqlite_db, actor=owner, first_name="Bo", last_name="Lind", phone="+1 713 555 0100")
    window = build_window(sqlite_db, owner)
    qtbot.addWidget(window)
    window.resize(1024, 700)
    lock = IdleLock(window, db=sqlite_db, actor=owner, minutes=0)
    router = CallRouter()
    assert router.start()
    window.show()
    qtbot.waitExposed(window)
    panel = router.attach(window, lock)
    yield SimpleNamespace(window=window, router=router, panel=panel, lock=lock, ana=ana, db=sqlite_db)
    router.close()
    lock.stop()
    window.ctx.tasks.wait_all(WAIT_MS)
    window.close()


def shows(panel, name: str) -> bool:
    return bool(panel.cards) and panel.cards[0].call is not None and name in panel.cards[0].caller_text()


def run_program(qtbot, args: list[str]) -> subprocess.CompletedProcess:
    """Run the program as a phone system would, while the app (this test) keeps serving."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=WAIT_MS)
    out, err = proc.communicate()
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


@pytest.mark.parametrize("args", [
    ["-m", "backoffice", "call", "(713) 555-0199", "--no-start"],
    ["-m", "ui.shell.launcher", "call", "backoffice://call?number=%2B1%20713%20555%200199"],
    ["-m", "ui.shell.launcher", "/C:+17135550199", "/T:I"],
    ["-m", "ui.shell.launcher", "call", "sip:+17135550199@pbx.example;user=phone", "--no-start"],
], ids=["command", "link", "3cx", "sip"])
def test_the_command_and_the_link_bring_up_the_caller(qtbot, desk, args):
    done = run_program(qtbot, args)
    assert done.returncode == 0, done.stderr
    assert "on the back office screen" in done.stdout
    qtbot.waitUntil(lambda: shows(desk.panel, "Ana García"), timeout=WAIT_MS)
    card = desk.panel.cards[0]
    assert desk.panel.isVisible() and "+1 713-555-0199" in card.heading.text()
    assert "Bo Lind" not in card.caller_text()


def http_get(port: int, target: str, host: str | None = None) -> tuple[threading.Thread, list]:
    """A raw GET, answered while the test's event loop runs."""
    result: list = []

    def ask() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(4096):
                data += chunk
        result.append(data.decode())

    thread = threading.Thread(target=ask)
    thread.start()
    return thread, result


def wait_answer(qtbot, pending) -> tuple[int, str]:
    thread, result = pending
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=WAIT_MS)
    thread.join()
    head, _, body = result[0].partition("\r\n\r\n")
    return int(head.split(" ")[1]), body


@pytest.fixture
def endpoint(desk):
    port = free_port()
    desk_settings.set_call_endpoint(True, port)
    assert desk.router.apply_endpoint_settings() == ""
    return port


def test_the_call_address_is_off_by_default(desk):
    assert desk_settings.call_endpoint()[0] is False
    assert desk.router.apply_endpoint_settings() == "" and desk.router.endpoint is None


def test_the_call_address_brings_up_the_caller(qtbot, desk, endpoint):
    status, body = wait_answer(qtbot, http_get(endpoint, "/call?number=713.555.0199"))
    assert status == 200 and "on the back office screen" in body
    assert "Ana" not in body  # the answer never says who called
    qtbot.waitUntil(lambda: shows(desk.panel, "Ana García"), timeout=WAIT_MS)


def test_a_request_for_another_host_is_refused(qtbot, desk, endpoint):
    status, _ = wait_answer(qtbot, http_get(endpoint, "/call?number=7135550199", host=f"evil.example:{endpoint}"))
    assert status == 403
    qtbot.wait(200)
    assert desk.panel.cards == []


def test_the_call_address_answers_on_loopback_only(desk, endpoint):
    others = [a for a in socket.gethostbyname_ex(socket.gethostname())[2] if not a.startswith("127.")]
    for address in others:
        with pytest.raises(OSError), socket.create_connection((address, endpoint), timeout=1):
            pass


def test_the_call_address_is_rate_limited(qtbot, desk, endpoint):
    desk.router.endpoint.limit = RateLimit(limit=3, window_s=60)
    statuses = [wait_answer(qtbot, http_get(endpoint, "/call?number=7135550100"))[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    qtbot.waitUntil(lambda: len(desk.panel.cards) == 3, timeout=WAIT_MS)


def test_a_locked_desk_shows_nothing_and_counts_the_calls(qtbot, desk, endpoint):
    desk.lock.lock_now()
    status, body = wait_answer(qtbot, http_get(endpoint, "/call?number=7135550199"))
    assert status == 200 and "nothing was shown" in body
    done = run_program(qtbot, ["-m", "backoffice", "call", "7135550199", "--no-start"])
    assert done.returncode == 0 and "locked" in done.stdout
    qtbot.wait(200)
    assert desk.panel.cards == [] and not desk.panel.isVisible()
    overlay = desk.lock.overlay
    qtbot.keyClicks(overlay.password, PASSWORD)
    qtbot.keyClick(overlay.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not desk.lock.is_locked(), timeout=WAIT_MS)
    assert desk.panel.isVisible() and "2 calls came in while the desk was locked" in desk.panel.missed.text()
    assert desk.panel.cards == []  # counted, never shown


def test_a_call_before_sign_in_is_held_and_shown_after(qtbot, desk):
    desk.router.detach()
    assert desk.router.deliver("7135550199", "local") == "HELD"
    assert desk.router.deliver("7135550199", "http") == "MISSED"
    panel = desk.router.attach(desk.window, desk.lock)
    qtbot.waitUntil(lambda: shows(panel, "Ana García"), timeout=WAIT_MS)
    assert "1 call came in" in panel.missed.text()


def test_a_second_call_stacks_and_leaves_the_typing_alone(qtbot, desk):
    screen = desk.window.show_screen("PhoneOrderScreen")
    screen.note_edit.setFocus()
    qtbot.keyClicks(screen.note_edit, "Leave at the back door")
    desk.router.deliver("7135550199", "local")
    desk.router.deliver("+1 713 555 0100", "local")
    qtbot.waitUntil(lambda: shows(desk.panel, "Bo Lind"), timeout=WAIT_MS)
    assert len(desk.panel.cards) == 2 and "Ana García" in desk.panel.cards[1].caller_text()
    qtbot.wait(100)
    assert QApplication.focusWidget() is screen.note_edit
    qtbot.keyClicks(screen.note_edit, ", please")
    assert screen.note_edit.toPlainText() == "Leave at the back door, please"


def test_one_key_starts_a_phone_order_for_the_caller(qtbot, desk):
    desk.router.deliver("7135550199", "local")
    qtbot.waitUntil(lambda: shows(desk.panel, "Ana García"), timeout=WAIT_MS)
    # Nobody was typing: the card's button has the keyboard, so Enter would do as well.
    qtbot.waitUntil(lambda: QApplication.focusWidget() is desk.panel.cards[0].take_button, timeout=WAIT_MS)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_F2)
    screen = desk.window.screens["PhoneOrderScreen"]
    assert desk.window.current_screen_name() == "PhoneOrderScreen" and screen.customer_id == desk.ana
    qtbot.waitUntil(lambda: screen.caller is not None, timeout=WAIT_MS)


def test_an_unknown_number_offers_a_new_customer_with_it(qtbot, desk):
    desk.router.deliver("212-555-0123", "local")
    qtbot.waitUntil(lambda: bool(desk.panel.cards) and desk.panel.cards[0].call is not None, timeout=WAIT_MS)
    card = desk.panel.cards[0]
    assert "Nobody here has this number" in card.caller_text()
    qtbot.keyClick(desk.window, Qt.Key.Key_F2)
    screen = desk.window.screens["PhoneOrderScreen"]
    assert screen.new_customer_button.isChecked()
    assert screen.new_fields["phone"].text() == "+12125550123"


# --- click to call -------------------------------------------------------------------------------

@pytest.fixture
def dialled(monkeypatch):
    uris: list[str] = []
    monkeypatch.setattr(dial_module, "open_tel", lambda uri: uris.append(uri) or True)
    return uris


def notes_of(db, customer_id) -> list[str]:
    with db.read() as s:
        return list(s.scalars(select(CustomerNote.text).where(CustomerNote.customer_id == customer_id)))


def test_the_customer_pages_phone_dials_and_the_call_is_noted(qtbot, desk, dialled):
    page = desk.window.open_customer(desk.ana)
    qtbot.waitUntil(lambda: page.detail is not None, timeout=WAIT_MS)
    call = page.fields["phone"].findChild(QAction, "callNumber")
    assert call is not None and call.isVisible()
    call.trigger()
    qtbot.waitUntil(lambda: dialled == ["tel:+17135550199"], timeout=WAIT_MS)
    assert notes_of(desk.db, desk.ana) == ["Phoned +1 713-555-0199 from the back office (boss at desk-1)."]
    # The page hears of the change and shows the note.
    qtbot.waitUntil(lambda: _notes_table_has(page, "Phoned +1 713-555-0199"), timeout=WAIT_MS)


def _notes_table_has(page, text: str) -> bool:
    return any(text in page.notes.item(i).text() for i in range(page.notes.count()))


def test_a_phone_on_the_order_page_dials(qtbot, desk, dialled):
    with desk.db.begin() as s:
        order = Order(number="2001", customer_id=desk.ana, status=OrderStatus.PROCESSING, total=Decimal("9.00"))
        s.add(order)
        s.flush()
        s.add(OrderAddress(order_id=order.id, kind=AddressKind.BILLING, first_name="Ana", last_name="García",
                           address_1="1 Main St", city="Houston", postcode="77002", country="US",
                           phone="713-555-0199", email="ana@example.com"))
        order_id = order.id
    page = desk.window.open_order(order_id)
    qtbot.waitUntil(lambda: page.detail is not None, timeout=WAIT_MS)
    assert 'href="dial:713-555-0199"' in page.billing.text()
    page.billing.linkActivated.emit("dial:713-555-0199")
    qtbot.waitUntil(lambda: dialled == ["tel:+17135550199"], timeout=WAIT_MS)
    assert len(notes_of(desk.db, desk.ana)) == 1


def test_a_phone_in_the_search_results_dials(qtbot, desk, dialled):
    screen = desk.window.show_screen("CustomersScreen")
    qtbot.keyClicks(screen.search, "Lind")
    qtbot.waitUntil(lambda: screen.results.rowCount() == 1 and screen.results.item(0, 1) is not None, timeout=WAIT_MS)
    rect = screen.results.visualItemRect(screen.results.item(0, 1))
    screen.results.customContextMenuRequested.emit(rect.center())
    menu = screen.results.findChildren(QMenu)[-1]
    [action] = [a for a in menu.actions() if a.text().startswith("Call ")]
    action.trigger()
    menu.close()
    qtbot.waitUntil(lambda: dialled == ["tel:+17135550100"], timeout=WAIT_MS)


def test_a_second_app_on_the_desk_brings_the_first_forward_and_leaves_its_channel(qtbot, desk):
    forward = []
    desk.router.channel._on_show = lambda: forward.append(True)
    second = CallRouter()
    result: list = []
    thread = threading.Thread(target=lambda: result.append(second.start()))
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=WAIT_MS)
    assert result == [False] and second.channel.taken and forward == [True]
    second.close()
    done = run_program(qtbot, ["-m", "backoffice", "call", "7135550199", "--no-start"])
    assert "on the back office screen" in done.stdout


def test_the_call_settings_switch_the_address_on_with_its_port(qtbot, desk):
    port = free_port()
    dialog = CallSettingsDialog(desk.window)
    qtbot.addWidget(dialog)
    assert not dialog.enabled.isChecked() and not dialog.port.isEnabled()
    dialog.enabled.setChecked(True)
    dialog.port.setValue(port)
    assert dialog.address.text() == f"http://127.0.0.1:{port}/call?number="
    dialog.accept()
    assert desk_settings.call_endpoint() == (True, port)
    assert desk.router.apply_endpoint_settings() == ""
    assert desk.router.endpoint.is_listening() and desk.router.endpoint.port == port
    desk_settings.set_call_endpoint(False, port)
    desk.router.apply_endpoint_settings()
    assert desk.router.endpoint is None
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_a_link_handed_over_as_an_event_brings_up_the_caller(qtbot, desk):
    # How macOS hands a backoffice:// link to the app bundle.
    event = QFileOpenEvent(QUrl("backoffice://call?number=%2B17135550199"))
    QApplication.sendEvent(QApplication.instance(), event)
    qtbot.waitUntil(lambda: shows(desk.panel, "Ana García"), timeout=WAIT_MS)


def test_a_second_app_waits_for_a_first_one_busy_for_a_moment(qtbot, desk):
    """The first app is busy for a second and a half (a long query, say): the second one still
    finds it, brings it forward and does not take its channel."""
    forward = []
    desk.router.channel._on_show = lambda: forward.append(True)
    second = CallRouter()
    result: list = []
    QTimer.singleShot(0, lambda: time.sleep(1.5))
    thread = threading.Thread(target=lambda: result.append(second.start()))
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=WAIT_MS)
    assert result == [False] and second.channel.taken and forward == [True]
    assert desk.router.channel.is_listening()
    second.close()
