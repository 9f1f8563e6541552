"""The order page keeps a gift message for the gift slip; a card number typed there is refused."""

from __future__ import annotations

import io

from PySide6.QtCore import Qt
from pypdf import PdfReader

from backoffice.services.fulfilment import slips
from tests.ui.conftest import open_page
from tests.unit.fulfilment_helpers import add_products, make_order
from ui.orders.order_page import OrderPage

WAIT_MS = 10_000


def test_gift_message_typed_on_the_order_page_prints_on_the_gift_slip(qtbot, ctx_for, db, staff):
    with db.begin() as s:
        order_id = make_order(s, add_products(s), number="4242").id
    ctx = ctx_for(db, staff)
    page = open_page(qtbot, ctx, OrderPage, order_id, settled=True)
    assert page.gift_message.isVisible()
    qtbot.keyClicks(page.gift_message, "Love from Oma")
    qtbot.mouseClick(page.save_gift_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detail.gift_message == "Love from Oma", timeout=WAIT_MS)
    pdf = slips.render_slips(db, actor=staff, order_ids=[order_id], gift=True).pdf
    assert "Love from Oma" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    ctx.tasks.wait_all()
