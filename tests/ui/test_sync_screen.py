"""The sync screen and the status bar widget, driven as a person would, against the dev store (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from sqlalchemy import select

from backoffice import secrets
from backoffice.domain import Customer
from backoffice.domain.enums import OutboxKind, OutboxStatus, Role
from backoffice.domain.staff import Permission
from backoffice.errors import UserFacingError
from backoffice.services import settings as settings_service
from backoffice.services import sync
from backoffice.store.devstore import DevStore
from tests.conftest import make_staff
from tests.integration.sync_helpers import SYNC_ACTOR, FAST, add_message, connector, new_customer
from ui.common.context import AppContext
from ui.sync.sync_screen import SyncScreen
from ui.sync.sync_status import SyncController, SyncStatusWidget
from ui.common.tasks import TaskManager

WAIT_MS = 30_000


@pytest.fixture
def store():
    with DevStore(seed=3) as devstore:
        devstore.populate(customers=15, orders=60, products=8)
        yield devstore


@pytest.fixture
def ctx(qtbot, sqlite_db, store):
    owner = make_staff(sqlite_db, Role.OWNER, "boss")
    settings_service.set_settings(sqlite_db, actor=owner, values={"store.url": store.base_url})
    secrets.set_store_credentials(store.base_url, store.consumer_key, store.consumer_secret)
    context = AppContext(db=sqlite_db, actor=owner, tasks=TaskManager())
    yield context
    assert context.tasks.wait_all(WAIT_MS), "a background task was left running"
    qtbot.wait(0)


@pytest.fixture
def controller(ctx):
    made = SyncController(ctx, connector_factory=lambda db: connector(store=_store_of(db)), options=FAST)
    yield made
    made.shutdown()


_STORES: dict[str, DevStore] = {}


def _store_of(db) -> DevStore:
    return _STORES[db.url]


@pytest.fixture(autouse=True)
def _remember_store(sqlite_db, store):
    _STORES[sqlite_db.url] = store
    yield
    _STORES.pop(sqlite_db.url, None)


def _select_row(table, row: int) -> None:
    index = table.model().index(row, 0)
    table.selectionModel().select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)


def test_the_screen_declares_its_title_and_permission():
    assert (SyncScreen.title, SyncScreen.permission) == ("Sync", Permission.RUN_SYNC)


def test_sync_now_shows_progress_counts_and_the_run(qtbot, qtmodeltester, ctx, controller, store):
    screen = SyncScreen(ctx, controller=controller)
    qtbot.addWidget(screen)
    widget = SyncStatusWidget(controller)
    qtbot.addWidget(widget)
    seen = []
    controller.progressed.connect(lambda done, total, text: seen.append((done, total, text)))

    assert screen.progress.text() == ""  # no count while nothing runs
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as finished:
        qtbot.mouseClick(screen.sync_button, Qt.MouseButton.LeftButton)
        assert not screen.sync_button.isEnabled() and screen.cancel_button.isEnabled()
        assert screen.progress.text().endswith(" of 1")
    summary = finished.args[0]
    assert summary.ok, summary.error
    assert any(text.startswith("Orders:") and total == 60 for _, total, text in seen)
    assert screen.progress.value() == screen.progress.maximum()
    qtbot.waitUntil(lambda: screen.runs_model.rowCount() == 1
                    and screen.runs_model.index(0, 2).data() == "OK", timeout=WAIT_MS)
    assert screen.sync_button.isEnabled() and not screen.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: widget.text().startswith("Synced"), timeout=WAIT_MS)
    for model in (screen.runs_model, screen.outbox_model, screen.conflicts_model):
        qtmodeltester.check(model)
    with qtbot.waitSignal(widget.clicked):
        qtbot.mouseClick(widget.button, Qt.MouseButton.LeftButton)


def test_a_refused_change_shows_its_sentence_and_is_sent_again(qtbot, ctx, controller, store):
    assert sync.run_sync(ctx.db, connector(store), options=FAST, actor=SYNC_ACTOR).ok
    new_customer(ctx.db, email="not-an-email")
    screen = SyncScreen(ctx, controller=controller)
    qtbot.addWidget(screen)
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        screen.sync_now()
    qtbot.waitUntil(lambda: screen.outbox_model.rowCount() == 1
                    and screen.outbox_model.row_at(0).status == OutboxStatus.FAILED, timeout=WAIT_MS)
    assert screen.outbox_model.index(0, 3).data() == "Refused"
    _select_row(screen.outbox_table, 0)
    assert "refused" in screen.message_detail.text()
    assert screen.retry_button.isEnabled()
    qtbot.mouseClick(screen.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.outbox_model.rowCount() == 1
                    and screen.outbox_model.row_at(0).status == OutboxStatus.PENDING, timeout=WAIT_MS)
    assert controller.status is not None


def test_a_conflict_is_settled_from_the_screen(qtbot, ctx, controller, store):
    assert sync.run_sync(ctx.db, connector(store), options=FAST, actor=SYNC_ACTOR).ok
    target = [c for c in store.list_customers() if c["role"] == "customer"][0]
    with ctx.db.begin() as s:
        c = s.execute(select(Customer).where(Customer.store_id == target["id"])).scalar_one()
        c.last_name = "Desk"
        add_message(s, OutboxKind.UPDATE_CUSTOMER, "customer", c.id, {"fields": ["last_name"]})
    store.update_customer(target["id"], {"last_name": "Website"})
    screen = SyncScreen(ctx, controller=controller)
    qtbot.addWidget(screen)
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS):
        screen.sync_now()
    qtbot.waitUntil(lambda: screen.conflicts_model.rowCount() == 1, timeout=WAIT_MS)
    assert screen.tabs.tabText(1) == "Conflicts (1)"
    assert [screen.conflicts_model.index(0, col).data() for col in (2, 3, 4)] == ["Last name", "Desk", "Website"]
    _select_row(screen.conflicts_table, 0)
    qtbot.mouseClick(screen.keep_store_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.conflicts_model.rowCount() == 0, timeout=WAIT_MS)
    with ctx.db.read() as s:
        assert s.execute(select(Customer.last_name).where(Customer.store_id == target["id"])).scalar_one() == \
            "Website"


def test_cancel_stops_the_run_and_the_status_says_so(qtbot, ctx, controller, store):
    store.faults.latency_ms = 150
    screen = SyncScreen(ctx, controller=controller)
    qtbot.addWidget(screen)
    with qtbot.waitSignal(controller.finished, timeout=WAIT_MS) as finished:
        screen.sync_now()
        qtbot.waitUntil(lambda: screen.progress_label.text().startswith(("Products", "Customers", "Orders")),
                        timeout=WAIT_MS)
        qtbot.mouseClick(screen.cancel_button, Qt.MouseButton.LeftButton)
    assert finished.args[0] is None
    assert screen.progress_label.text().startswith("Cancelled")
    qtbot.waitUntil(lambda: screen.runs_model.rowCount() == 1
                    and screen.runs_model.row_at(0).state != "Running", timeout=WAIT_MS)
    assert screen.runs_model.row_at(0).state == "Failed"
    assert "Cancelled" in screen.runs_model.row_at(0).error


def test_no_store_set_up_is_said_in_the_status_bar(qtbot, sqlite_db):
    owner = make_staff(sqlite_db, Role.OWNER, "alone")
    ctx = AppContext(db=sqlite_db, actor=owner, tasks=TaskManager())
    controller = SyncController(ctx)
    widget = SyncStatusWidget(controller)
    qtbot.addWidget(widget)
    try:
        controller.start()
        qtbot.waitUntil(lambda: widget.text() == "Web store not set up", timeout=WAIT_MS)
        with qtbot.waitSignal(controller.failed, timeout=WAIT_MS):
            controller.sync_now()
        qtbot.waitUntil(lambda: widget.text() == "Sync failed", timeout=WAIT_MS)
        assert "Shop settings → Web store" in widget.button.toolTip()
        assert controller.timer.isActive() and controller.timer.interval() == 5 * 60_000
    finally:
        controller.shutdown()
        assert ctx.tasks.wait_all(WAIT_MS)


def test_a_status_that_cannot_be_read_is_said_in_the_status_bar(qtbot, ctx, controller, monkeypatch, caplog):
    widget = SyncStatusWidget(controller)
    qtbot.addWidget(widget)
    controller.refresh_status()
    qtbot.waitUntil(lambda: widget.text() == "Not synced yet", timeout=WAIT_MS)

    real = sync.sync_status

    def unreachable(db, *, actor):
        raise UserFacingError("The database server at db.example.com did not answer. Nothing was changed.")

    monkeypatch.setattr(sync, "sync_status", unreachable)
    with caplog.at_level("INFO", logger="ui.sync.sync_status"):
        controller.refresh_status()
        qtbot.waitUntil(lambda: widget.text() == "Sync status not known", timeout=WAIT_MS)
    assert "did not answer" in widget.button.toolTip()
    [record] = [r for r in caplog.records if r.name == "ui.sync.sync_status"]
    assert record.exc_info is not None and "Traceback" in caplog.text and "unreachable" in caplog.text

    monkeypatch.setattr(sync, "sync_status", real)
    controller.refresh_status()
    qtbot.waitUntil(lambda: widget.text() == "Not synced yet", timeout=WAIT_MS)
