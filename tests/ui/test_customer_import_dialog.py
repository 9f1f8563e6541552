"""The customer import dialog: only roles that may add customers open it; pick a file, read the
preview, import with a progress bar (or cancel), and save the rejected rows."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from backoffice.domain import Customer
from backoffice.services import customer_import
from ui.common.context import AppContext
from ui.customers.customer_import_dialog import CustomerImportDialog
from ui.customers.customers_screen import CustomersScreen
from ui.common.tasks import TaskManager

WAIT_MS = 10_000
VISA = "4111 1111 1111 1111"


@pytest.fixture
def ctx_for(qtbot):
    made: list[AppContext] = []

    def make(db, actor) -> AppContext:
        ctx = AppContext(db=db, actor=actor, tasks=TaskManager())
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        assert ctx.tasks.wait_all(WAIT_MS), "a background task was left running"
    QApplication.processEvents()


def open_screen(qtbot, ctx) -> CustomersScreen:
    screen = CustomersScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1000, 600)
    screen.show()
    qtbot.waitExposed(screen)
    qtbot.waitUntil(lambda: not ctx.tasks.busy(), timeout=WAIT_MS)
    return screen


def write_csv(path, rows, delimiter=","):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def customer_count(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(Customer))


def cell_texts(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_only_roles_that_may_add_customers_can_open_the_import(qtbot, db, order_taker, staff, ctx_for):
    taker_screen = open_screen(qtbot, ctx_for(db, order_taker))
    assert not taker_screen.import_button.isEnabled()
    assert "may not" in taker_screen.import_button.toolTip()
    qtbot.mouseClick(taker_screen.import_button, Qt.MouseButton.LeftButton)
    assert taker_screen.findChild(CustomerImportDialog) is None

    staff_screen = open_screen(qtbot, ctx_for(db, staff))
    assert staff_screen.import_button.isEnabled()
    taker_screen.stop_watching()
    staff_screen.stop_watching()


def test_choose_preview_import_and_save_the_rejected_rows(qtbot, db, staff, ctx_for, tmp_path):
    source = write_csv(tmp_path / "old customers.csv", [
        ["First name", "Last name", "Email", "Phone", "Notes", "Shoe size"],
        ["Ann", "Lee", "ann@example.com", "713 555 0101", f"paid by {VISA}", "38"],
        ["Bo", "Lee", "bo at example.com", "", "", "44"],
        ["Cy", "Lee", "cy@example.com", "", "", "40"],
    ], delimiter=";")
    ctx = ctx_for(db, staff)
    screen = open_screen(qtbot, ctx)
    dialog = screen.open_import()
    qtbot.waitExposed(dialog)
    assert not dialog.import_button.isEnabled() and not dialog.save_button.isEnabled()
    dialog.ask_open_path = lambda: str(source)

    qtbot.mouseClick(dialog.choose_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT_MS)

    assert dialog.file_edit.text() == str(source)
    assert dialog.file_info.text().startswith("Read as UTF-8, semicolon-separated.")
    columns = cell_texts(dialog.columns_table)
    assert columns[2] == ["Email", "Email"]
    assert columns[5][0] == "Shoe size" and columns[5][1].startswith("Ignored:")
    assert dialog.counts.text() == ("3 rows read, 2 new customers, 0 duplicates skipped, 1 rejected, "
                                    "1 card number masked.")
    problems = cell_texts(dialog.problems_table)
    assert [row[:3] for row in problems] == [["2", "Notes", "Card number masked"], ["3", "Email", "Rejected"]]
    assert "ends 1111" in problems[0][3] and "@ sign" in problems[1][3]
    assert dialog.import_button.text() == "Import 2 customers" and dialog.import_button.isEnabled()
    assert customer_count(db) == 0  # the preview wrote nothing
    assert "no web store account" in dialog.findChild(type(dialog.counts), "storeNote").text()

    with qtbot.waitSignal(ctx.bus.changed, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert dialog.result is not None and dialog.result.imported == 2
    assert dialog.counts.text().startswith("Imported 2 customers; 0 duplicates skipped, 1 row rejected")
    assert "Save the rejected rows" in dialog.message.text()
    assert dialog.progress_label.text() == "Done."
    assert not dialog.import_button.isEnabled()
    assert customer_count(db) == 2
    qtbot.waitUntil(lambda: screen.count_label.text() == "2 customers", timeout=WAIT_MS)

    target = tmp_path / "to fix.csv"
    asked = []
    dialog.ask_save_path = lambda suggested: asked.append(suggested) or str(target)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Saved 1 row"), timeout=WAIT_MS)
    assert asked == [str(tmp_path / "old customers-rejected.csv")]
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][0] == customer_import.REASON_HEADER
    assert rows[1][1:] == ["Bo", "Lee", "bo at example.com", "", "", "44"]

    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    screen.stop_watching()


def test_cancelling_the_import_leaves_nothing_behind(qtbot, db, owner, ctx_for, tmp_path, monkeypatch):
    source = write_csv(tmp_path / "list.csv", [["Name", "Email"]] + [
        [f"Person {i}", f"p{i}@example.com"] for i in range(6)])
    monkeypatch.setattr(customer_import, "CHUNK", 2)
    started, release = threading.Event(), threading.Event()
    write = customer_import._write

    def slow_write(*args, **kwargs):
        started.set()
        release.wait(WAIT_MS / 1000)
        return write(*args, **kwargs)

    monkeypatch.setattr(customer_import, "_write", slow_write)
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    dialog = screen.open_import()
    dialog.load_file(source)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT_MS)

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert started.wait(WAIT_MS / 1000)
    assert dialog.cancel_button.isEnabled() and not dialog.close_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: dialog.progress_label.text() == "Cancelled; nothing was imported.", timeout=WAIT_MS)

    assert customer_count(db) == 0
    assert dialog.result is None and dialog.import_button.isEnabled()
    assert dialog.close_button.isEnabled() and not dialog.cancel_button.isEnabled()
    screen.stop_watching()


def test_a_workbook_instead_of_a_csv_file_gets_a_sentence(qtbot, db, owner, ctx_for, tmp_path):
    book = tmp_path / "customers.xlsx"
    book.write_bytes(b"PK\x03\x04 a zipped workbook")
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    dialog = screen.open_import()
    dialog.load_file(book)
    qtbot.waitUntil(lambda: "Excel workbook" in dialog.message.text(), timeout=WAIT_MS)
    assert "Save As" in dialog.message.text()
    assert not dialog.import_button.isEnabled() and dialog.choose_button.isEnabled()

    dialog.load_file(tmp_path / "gone.csv")
    qtbot.waitUntil(lambda: "could not be read" in dialog.message.text(), timeout=WAIT_MS)
    screen.stop_watching()


def test_the_rejected_rows_never_go_over_the_database_or_the_imported_file(qtbot, db, owner, ctx_for, tmp_path):
    source = write_csv(tmp_path / "list.csv", [["Name", "Email", "Notes"], ["Ann Lee", "ann@example.com", ""],
                                               ["Bo Lee", "bo at example.com", "=HYPERLINK(\"http://x\")"]])
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    dialog = screen.open_import()
    dialog.load_file(source)
    qtbot.waitUntil(lambda: dialog.preview is not None, timeout=WAIT_MS)
    shop = db.sqlite_path
    targets = [p for p in (shop, source) if p is not None]
    before = {p: p.read_bytes() for p in targets}
    for target in targets:
        dialog.ask_save_path = lambda suggested, target=target: str(target)
        dialog._say("")
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "choose another name" in dialog.message.text(), timeout=WAIT_MS)
        assert target.read_bytes() == before[target]

    mine = tmp_path / "to fix.csv"
    dialog.ask_save_path = lambda suggested: str(mine)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Saved 1 row"), timeout=WAIT_MS)
    assert mine.stat().st_mode & 0o777 == 0o600
    rows = list(csv.reader(io.StringIO(mine.read_text(encoding="utf-8-sig"))))
    assert rows[1][3] == "'=HYPERLINK(\"http://x\")"
    screen.stop_watching()
