"""The first-run setup, driven by keyboard: the shop, the owner, the web store checked in words,
and a shared database server chosen for this desk."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QWizard

from backoffice import secrets
from backoffice.services import settings as settings_service
from backoffice.services import staff
from backoffice.store.devstore import DevStore
from ui.settings import desk_settings
from ui.setup.first_run_dialog import FirstRunDialog
from ui.common.tasks import TaskManager

WAIT_MS = 20_000
OWNER_PW = "owner-password-1"


@pytest.fixture
def tasks(qtbot):
    manager = TaskManager()
    yield manager
    assert manager.wait_all(WAIT_MS), "a background task was left running"
    qtbot.wait(0)


@pytest.fixture
def desk(tmp_path, monkeypatch):
    store = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    monkeypatch.setattr(desk_settings, "settings", lambda: store)
    return store


@pytest.fixture
def dialog(qtbot, sqlite_db, tasks, desk):
    made = FirstRunDialog(sqlite_db, desk="front", tasks=tasks)
    qtbot.addWidget(made)
    made.show()
    qtbot.waitExposed(made)
    return made


def _to_store_page(qtbot, dialog) -> None:
    qtbot.keyClick(dialog.database_page.keep, Qt.Key.Key_Return)
    shop = dialog.shop_page
    qtbot.keyClicks(shop.shop_name, "Bayou Tea & Coffee Co.")
    qtbot.keyClick(shop.shop_name, Qt.Key.Key_Tab)
    qtbot.keyClick(shop.ship_from_name, Qt.Key.Key_Tab)
    assert dialog.focusWidget() is shop.ship_from_address
    qtbot.keyClicks(shop.ship_from_address, "2410 Westheimer Rd, Houston, TX 77098")
    qtbot.keyClick(shop.ship_from_address, Qt.Key.Key_Return)
    owner = dialog.owner_page
    for field, text in ((owner.name, "Olivia Owner"), (owner.login, "olivia"), (owner.password, OWNER_PW),
                        (owner.repeat, OWNER_PW)):
        qtbot.keyClicks(field, text)
    qtbot.keyClick(owner.repeat, Qt.Key.Key_Return)
    assert dialog.currentPage() is dialog.store_page


def test_the_connection_check_says_what_is_wrong_and_the_keys_go_to_the_keyring(qtbot, sqlite_db, dialog, tasks):
    _to_store_page(qtbot, dialog)
    page = dialog.store_page
    with DevStore(seed=7) as store:
        qtbot.keyClicks(page.url, store.base_url)
        qtbot.keyClicks(page.key, store.consumer_key)
        qtbot.keyClicks(page.secret, "cs_not_the_right_secret_at_all")
        qtbot.keyClick(page.test_button, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=WAIT_MS)
        refused = page.result.text()
        assert "key" in refused.lower() and "Traceback" not in refused, refused
        page.secret.clear()
        qtbot.keyClicks(page.secret, store.consumer_secret)
        qtbot.keyClick(page.test_button, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=WAIT_MS)
        assert page.result.text().startswith("The web store answered"), page.result.text()
        qtbot.keyClick(page.secret, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: dialog.result() == QWizard.DialogCode.Accepted, timeout=WAIT_MS)
        base = store.base_url
    assert dialog.actor is not None and dialog.actor.login == "olivia"
    assert not staff.needs_first_owner(sqlite_db)
    assert settings_service.get_setting(sqlite_db, "shop.name") == "Bayou Tea & Coffee Co."
    # The ship-from name left empty is the shop's name.
    assert settings_service.get_setting(sqlite_db, "ship_from.name") == "Bayou Tea & Coffee Co."
    saved_url = settings_service.get_setting(sqlite_db, "store.url")
    assert saved_url.rstrip("/") == base.rstrip("/")
    assert secrets.store_credentials(saved_url) is not None


def test_a_store_that_is_not_there_is_named_in_words(qtbot, dialog):
    _to_store_page(qtbot, dialog)
    page = dialog.store_page
    qtbot.keyClicks(page.url, "http://127.0.0.1:9")
    qtbot.keyClicks(page.key, "ck_0123456789abcdef")
    qtbot.keyClicks(page.secret, "cs_0123456789abcdef")
    qtbot.keyClick(page.test_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=WAIT_MS)
    assert page.result.text() and "Traceback" not in page.result.text()
    assert "answer" in page.result.text().lower() or "reach" in page.result.text().lower(), page.result.text()


def test_a_shared_server_is_tested_before_it_is_chosen_and_kept_for_this_desk(qtbot, dialog, pg_database_url):
    page = dialog.database_page
    qtbot.keyClick(page.keep, Qt.Key.Key_Down)  # arrow keys move between the two choices
    assert page.shared.isChecked()
    finish = dialog.button(QWizard.WizardButton.FinishButton)
    assert not page.isComplete()
    qtbot.keyClicks(page.url, "postgresql://nobody@127.0.0.1:1/none")
    qtbot.keyClick(page.test_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: page.test_button.isEnabled(), timeout=WAIT_MS)
    assert page.result.text() and not page.isComplete()
    page.url.clear()
    qtbot.keyClicks(page.url, pg_database_url)
    qtbot.keyClick(page.test_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: page.isComplete(), timeout=WAIT_MS)
    assert finish.isVisible() and finish.text().replace("&", "") == "Use this server"
    qtbot.keyClick(page.url, Qt.Key.Key_Return)
    assert dialog.result() == FirstRunDialog.SWITCH_DATABASE
    assert desk_settings.database_url() == pg_database_url
