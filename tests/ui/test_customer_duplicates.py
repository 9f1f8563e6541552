"""A customer's page says when someone else on file may be the same person, and staff merge the
two from there: both side by side, the one to keep picked, everything moved, the store told."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from backoffice.domain import Customer, Order, OutboxMessage
from backoffice.domain.enums import CustomerStatus, OrderStatus, OutboxKind
from backoffice.services import customers as svc
from backoffice.domain.search import reindex_customer
from ui.common.context import AppContext
from ui.customers.customer_page import CustomerPage
from ui.customers.merge_dialog import MergeCustomersDialog
from ui.common.tasks import TaskManager
from tests.ui.conftest import open_page

WAIT_MS = 10_000


@pytest.fixture
def twins(db, owner):
    """The same caller entered twice: once with an order, once by phone with another email."""
    first = svc.create_customer(db, actor=owner, first_name="María", last_name="García",
                                email="maria@example.com", phone="+1 (713) 555-0199").customer.id
    second = svc.create_customer(db, actor=owner, first_name="Maria", last_name="Garcia",
                                 email="", phone="713-555-0199").customer.id
    other = svc.create_customer(db, actor=owner, first_name="John", last_name="Smith",
                                email="john@example.com", phone="+1 (281) 555-0123").customer.id
    with db.begin() as s:
        s.add(Order(number="10042", customer_id=second, status=OrderStatus.PROCESSING))
        s.flush()
        reindex_customer(s, second)
    return {"first": first, "second": second, "other": other}


@pytest.fixture
def page_for(qtbot):
    made = []

    def make(db, actor, customer_id) -> CustomerPage:
        ctx = AppContext(db=db, actor=actor, tasks=TaskManager())
        page = open_page(qtbot, ctx, CustomerPage, customer_id, size=(1000, 700), settled=True)
        made.append(page)
        return page

    yield make
    for page in made:
        assert page.ctx.tasks.wait_all(WAIT_MS)
    QApplication.processEvents()


def test_the_page_names_the_possible_twin_and_a_stranger_is_not_flagged(qtbot, db, owner, twins, page_for):
    page = page_for(db, owner, twins["first"])
    assert page.duplicates.isVisible()
    assert [h.id for h in page.duplicate_hits] == [twins["second"]]
    banner = " ".join(label.text() for label in page.duplicates.findChildren(type(page.heading)))
    assert "Possibly the same person (same phone)" in banner and "Maria Garcia" in banner
    opened = []
    page.customer_opened.connect(opened.append)
    open_button = next(b for b in page.duplicates.findChildren(type(page.note_button)) if b.text() == "Open")
    open_button.click()
    assert opened == [twins["second"]]

    stranger = page_for(db, owner, twins["other"])
    assert not stranger.duplicates.isVisible() and stranger.duplicate_hits == []


def test_staff_merge_keeping_the_record_with_the_orders(qtbot, db, staff, twins, page_for, monkeypatch):
    page = page_for(db, staff, twins["first"])
    shown = []

    def run(dialog):
        shown.append(dialog)
        qtbot.waitUntil(lambda: dialog.merge_button.isEnabled(), timeout=WAIT_MS)
        # The other record has the order: it is offered as the one to keep.
        assert dialog.keep_other.isChecked()
        assert dialog.keep_and_merge_ids() == (twins["second"], twins["first"])
        dialog.merge_button.click()
        qtbot.waitUntil(lambda: dialog.result_of_merge is not None, timeout=WAIT_MS)
        return 1

    monkeypatch.setattr(MergeCustomersDialog, "exec", run)
    opened = []
    page.customer_opened.connect(opened.append)
    merge_button = page.duplicates.findChild(type(page.note_button), f"mergeWith{twins['second']}")
    merge_button.click()
    assert len(shown) == 1 and opened == [twins["second"]]  # the kept record opens
    with db.read() as s:
        kept, merged = s.get(Customer, twins["second"]), s.get(Customer, twins["first"])
        assert merged.merged_into_id == kept.id and merged.status is CustomerStatus.DEACTIVATED
        assert kept.email == "maria@example.com"  # filled from the merged record
        assert s.scalars(select(OutboxMessage.kind)).all().count(OutboxKind.MERGE_CUSTOMERS) == 1
        assert s.execute(select(func.count()).select_from(Order).where(Order.customer_id == kept.id)).scalar_one() == 1
    # This page now shows the merged record as merged, and no more twin.
    # Named as staff know the kept customer, never by an internal id.
    qtbot.waitUntil(lambda: page.state.text() == "Merged into Maria Garcia", timeout=WAIT_MS)
    assert not page.duplicates.isVisible()


def test_an_order_taker_sees_the_twin_but_may_not_merge(qtbot, db, order_taker, twins, page_for):
    page = page_for(db, order_taker, twins["first"])
    assert page.duplicates.isVisible()
    assert page.duplicates.findChild(type(page.note_button), f"mergeWith{twins['second']}") is None


def test_the_customers_screen_lists_every_group_and_opens_a_customer(qtbot, db, staff, order_taker, twins):
    from ui.customers.customers_screen import CustomersScreen

    ctx = AppContext(db=db, actor=staff, tasks=TaskManager())
    screen = CustomersScreen(ctx)
    qtbot.addWidget(screen)
    screen.show()
    assert screen.duplicates_button.isVisible()
    dialog = screen.open_duplicates()
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 1, timeout=WAIT_MS)
    group = dialog.tree.topLevelItem(0)
    assert group.text(0) == "Same phone number: 2 customers"
    assert sorted(group.child(i).text(0) for i in range(group.childCount())) == ["Maria Garcia", "María García"]
    opened = []
    screen.customer_opened.connect(opened.append)
    dialog.tree.itemActivated.emit(group.child(0), 0)
    assert opened == [twins["first"]]
    dialog.close()
    assert ctx.tasks.wait_all(WAIT_MS)

    taker = CustomersScreen(AppContext(db=db, actor=order_taker, tasks=TaskManager()))
    qtbot.addWidget(taker)
    taker.show()
    assert not taker.duplicates_button.isVisible()
    assert taker.ctx.tasks.wait_all(WAIT_MS)
    QApplication.processEvents()


def _open_merge(qtbot, page, other_id, monkeypatch):
    """Open the merge dialog from `page` against `other_id`; return it once it shows both."""
    seen = {}

    def fake_exec(dialog):
        seen["dialog"] = dialog
        qtbot.waitUntil(lambda: dialog.merge_button.isEnabled(), timeout=WAIT_MS)
        return 0

    monkeypatch.setattr(MergeCustomersDialog, "exec", fake_exec)
    page.merge_with(other_id, "phone")
    return seen["dialog"]


def test_enter_cancels_a_merge_and_the_same_record_is_offered_from_either_page(
        qtbot, db, staff, twins, page_for, monkeypatch):
    from PySide6.QtWidgets import QDialogButtonBox

    from_first = _open_merge(qtbot, page_for(db, staff, twins["first"]), twins["second"], monkeypatch)
    from_second = _open_merge(qtbot, page_for(db, staff, twins["second"]), twins["first"], monkeypatch)
    for dialog in (from_first, from_second):
        # Merging cannot be undone: it is never what Enter does.
        assert not dialog.merge_button.isDefault() and not dialog.merge_button.autoDefault()
        cancel = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Cancel)
        assert cancel.isDefault()
        # Whichever page it was opened from, the record with the order is offered to keep.
        assert dialog.keep_and_merge_ids() == (twins["second"], twins["first"])
        assert "who has more orders" in dialog.suggestion.text()


def test_after_a_merge_the_desk_is_told_and_the_kept_customer_has_one_default_of_each(
        qtbot, db, staff, owner, page_for, monkeypatch):
    home = {"address_1": "1 Main St", "city": "Houston", "postcode": "77002", "country": "US"}
    other = {"address_1": "9 Elm Rd", "city": "Austin", "postcode": "73301", "country": "US"}
    keep = svc.create_customer(db, actor=owner, first_name="Ann", last_name="Lee", phone="713-555-0100",
                               address=home).customer.id
    gone = svc.create_customer(db, actor=owner, first_name="Ann", last_name="Lee", phone="713-555-0100",
                               address=other).customer.id
    copy = svc.create_customer(db, actor=owner, first_name="Ann", last_name="Lee", phone="713-555-0100",
                               address=home).customer.id
    page = page_for(db, staff, keep)

    def fake_exec(dialog):
        qtbot.waitUntil(lambda: dialog.merge_button.isEnabled(), timeout=WAIT_MS)
        dialog.keep_this.setChecked(True)
        dialog.merge_button.click()
        qtbot.waitUntil(lambda: dialog.result_of_merge is not None, timeout=WAIT_MS)
        return 1

    monkeypatch.setattr(MergeCustomersDialog, "exec", fake_exec)
    page.merge_with(gone, "phone")
    assert "Merged the two records of Ann Lee into one" in page.message.text()
    assert f"customer {gone}" not in page.message.text()
    svc.merge_customers(db, actor=staff, keep_id=keep, merge_id=copy)
    detail = svc.get_customer(db, actor=staff, customer_id=keep)
    defaults = [a for a in detail.addresses if a.is_default]
    assert len(defaults) == len({a.kind for a in defaults})
    assert sorted(a.postcode for a in detail.addresses) == ["73301", "77002"]
