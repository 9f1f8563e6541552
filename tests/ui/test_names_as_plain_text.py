"""Names and notes that look like HTML (a store or a caller may send anything) show as typed:
"<b>x</b>" shows its brackets, never a bold x, on the pages and in tooltips."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from backoffice.services import customers as customers_service
from tests.ui.test_order_and_customer_pages import add_order, open_customer_page, open_order_page
from ui.customers.customers_table_model import CustomersTableModel
from ui.common.plain_text import plain_tooltip

NAME = "<b>x</b>"
LAST = "<img src='http://example.com/t.png'>"


def _labels_showing(widget, text: str) -> list[QLabel]:
    return [label for label in widget.findChildren(QLabel) if text in label.text()]


def _customer(db, owner) -> int:
    return customers_service.create_customer(db, actor=owner, first_name=NAME, last_name=LAST,
                                             email="x@example.com").customer.id


def test_a_name_with_html_shows_literally_on_the_customer_page(qtbot, db, owner, ctx_for):
    page = open_customer_page(qtbot, ctx_for(db, owner), _customer(db, owner))
    showing = _labels_showing(page, NAME)
    assert page.heading in showing
    for label in showing:
        assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName() or label.text()


def test_a_name_and_a_note_with_html_show_literally_on_the_order_page(qtbot, db, owner, ctx_for):
    customer_id = _customer(db, owner)
    order_id = add_order(db, customer_id, "4001")
    from backoffice.domain import Order

    with db.begin() as s:
        s.get(Order, order_id).customer_note = "<i>leave at the door</i>"
    page = open_order_page(qtbot, ctx_for(db, owner), order_id)
    for text in (NAME, "<i>leave at the door</i>"):
        showing = _labels_showing(page, text)
        assert showing, text
        for label in showing:
            assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName() or label.text()
    # Labels that are HTML on purpose (totals, addresses with a dialling link) hold the name escaped.
    for label in page.findChildren(QLabel):
        if label.textFormat() != Qt.TextFormat.PlainText:
            assert "<b>x</b>" not in label.text() and "<img" not in label.text()


def test_tooltips_show_names_as_typed():
    tip = plain_tooltip(NAME)
    assert "&lt;b&gt;x&lt;/b&gt;" in tip and "<b>x</b>" not in tip
    assert CustomersTableModel  # the customers list's tooltips go through plain_tooltip
