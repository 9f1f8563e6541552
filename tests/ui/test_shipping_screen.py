"""The shipping screen: select orders, draw their slips in the background while the window
keeps answering, save them, and see the orders marked printed; scan to pack and ship."""

from __future__ import annotations

import io
import os

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFileDialog
from pypdf import PdfReader

from backoffice.services.fulfilment import slips
from backoffice.services.fulfilment.to_ship import count_to_ship
from tests.unit.fulfilment_helpers import add_products, make_order
from ui.shipping.shipping_screen import ShippingScreen

WAIT_MS = 20_000
ORDERS = 120


@pytest.fixture
def shop(db):
    with db.begin() as s:
        products = add_products(s)
        for i in range(ORDERS):
            make_order(s, products, number=f"{6000 + i}", minutes=i,
                       lines=[("TEA-GREEN", 2, 0, [["Size", "Large tin"]]), ("MUG-BLUE", 1, 0, [])] * 4)
    return db


def _screen(qtbot, ctx):
    screen = ShippingScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1024, 700)
    screen.show()
    qtbot.waitUntil(lambda: screen.model.rowCount() == ORDERS and bool(screen.count_label.text()), timeout=WAIT_MS)
    return screen


def test_batch_is_drawn_in_the_background_saved_and_marked_printed(qtbot, ctx_for, shop, staff, tmp_path,
                                                                   monkeypatch):
    ctx = ctx_for(shop, staff)
    screen = _screen(qtbot, ctx)
    assert screen.count_label.text() == f"{ORDERS} paid orders to ship"
    screen.table.selectAll()
    assert screen.selection_label.text() == f"{ORDERS} orders selected."
    ticks = []
    timer = QTimer()
    texts = set()
    timer.timeout.connect(lambda: (ticks.append(screen.progress.value()), texts.add(screen.progress.text())))
    timer.start(5)
    qtbot.mouseClick(screen.slips_button, Qt.MouseButton.LeftButton)
    assert screen.progress.isVisible() and screen.cancel_button.isVisible()
    assert not screen.slips_button.isEnabled()
    qtbot.waitUntil(lambda: screen.preview is not None, timeout=WAIT_MS)
    timer.stop()
    # The event loop ran while the slips were drawn (the window answered), and the bar
    # reached the whole batch. (How many counts in between it showed depends on the machine:
    # drawing a slip is quick, assembling the PDF afterwards is most of the time.)
    assert len(ticks) >= 5
    assert ORDERS in ticks, ticks
    # With every slip drawn, the full bar says the PDF is being put together.
    assert f"All {ORDERS} slips drawn; putting the PDF together…" in texts, texts
    preview = screen.preview
    qtbot.waitUntil(lambda: preview.page_label.text() == f"Page 1 of {ORDERS}", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: preview.picture.pixmap() is not None and not preview.picture.pixmap().isNull(),
                    timeout=WAIT_MS)
    assert slips.choose_orders(shop, actor=staff, status="processing", not_printed=True)
    out = tmp_path / "batch.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF files (*.pdf)"))
    qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "marked printed" in preview.status.text(), timeout=WAIT_MS)
    assert os.stat(out).st_mode & 0o777 == 0o600
    pages = PdfReader(io.BytesIO(out.read_bytes())).pages
    assert len(pages) == ORDERS and "Order 6000" in pages[0].extract_text()
    assert slips.choose_orders(shop, actor=staff, status="processing", not_printed=True) == ()
    # The list shows them printed once it reloads.
    qtbot.waitUntil(lambda: screen.model.rowCount() == ORDERS
                    and screen.model.index(0, 5).data() not in (None, ""), timeout=WAIT_MS)
    preview.close()


def test_cancel_stops_the_batch_and_marks_nothing(qtbot, ctx_for, shop, staff):
    ctx = ctx_for(shop, staff)
    screen = _screen(qtbot, ctx)
    screen.table.selectAll()
    screen.copies.setValue(5)
    qtbot.mouseClick(screen.slips_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.progress.value() > 0, timeout=WAIT_MS)
    qtbot.mouseClick(screen.cancel_button, Qt.MouseButton.LeftButton)
    assert "Stopped" in screen.selection_label.text() and screen.slips_button.isEnabled()
    assert ctx.tasks.wait_all(WAIT_MS)
    qtbot.wait(50)
    assert screen.preview is None
    assert len(slips.choose_orders(shop, actor=staff, status="processing", not_printed=True)) == ORDERS


def test_scan_to_pack_then_ship_with_a_scanned_tracking_number(qtbot, ctx_for, shop, staff):
    ctx = ctx_for(shop, staff)
    screen = _screen(qtbot, ctx)
    pack = screen.pack

    def scan(code, field=None):
        field = field or pack.scan
        qtbot.keyClicks(field, code)
        qtbot.keyClick(field, Qt.Key.Key_Return)

    scan("6003")
    qtbot.waitUntil(lambda: pack.check is not None and pack.check.order.number == "6003", timeout=WAIT_MS)
    assert pack.items.count() == 8 and not pack.packed_button.isEnabled()
    scan("SOCK-RED")
    qtbot.waitUntil(lambda: "not in order 6003" in pack.message.text(), timeout=WAIT_MS)
    for _ in range(4):
        scan("MUG-BLUE")
        scan("TEA-GREEN")
        scan("TEA-GREEN")
    assert "All items are in" in pack.message.text() and pack.packed_button.isEnabled()
    qtbot.mouseClick(pack.packed_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "is packed" in pack.message.text(), timeout=WAIT_MS)
    # A scanner types the label's barcode and presses Enter.
    scan("1Z 999 AA1 0123456784", pack.tracking)
    qtbot.waitUntil(lambda: "is shipped" in pack.heading.text(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: screen.model.rowCount() == ORDERS - 1, timeout=WAIT_MS)
    assert count_to_ship(shop, actor=staff) == ORDERS - 1


def test_the_owner_types_bin_locations_beside_each_sku(qtbot, ctx_for, shop, owner):
    from backoffice.services.fulfilment import bins
    from ui.shipping.bin_locations_dialog import BinLocationsDialog

    ctx = ctx_for(shop, owner)
    dialog = BinLocationsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 4, timeout=WAIT_MS)
    row = [r.sku for r in dialog.rows].index("MUG-BLUE")
    dialog.table.item(row, 2).setText("Z-01")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
    assert {r.sku: r.bin_location for r in bins.list_bin_locations(shop, actor=owner)}["MUG-BLUE"] == "Z-01"


def test_printing_through_qt_draws_every_page_and_marks_the_orders_printed(qtbot, ctx_for, shop, staff, tmp_path):
    from PySide6.QtPrintSupport import QPrinter

    from ui.shipping.slip_preview_dialog import SlipPreviewDialog

    ctx = ctx_for(shop, staff)
    ids = slips.choose_orders(shop, actor=staff, status="processing")[:3]
    batch = slips.render_slips(shop, actor=staff, order_ids=ids)
    dialog = SlipPreviewDialog(ctx, batch.pdf, title="Packing slips", order_ids=batch.order_ids)
    qtbot.addWidget(dialog)
    dialog.show()
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    dialog.print_to(printer)
    qtbot.waitUntil(lambda: "marked printed" in dialog.status.text(), timeout=WAIT_MS)
    assert "Sent 3 pages" in dialog.status.text()
    assert len(PdfReader(io.BytesIO(out.read_bytes())).pages) == 3
    left = slips.choose_orders(shop, actor=staff, status="processing", not_printed=True)
    assert not set(ids) & set(left)
    dialog.close()
