"""The customers screen and page: find a caller as you type, open them with Enter, edit in place."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QStyle, QStyleOptionComboBox, QTableView
from sqlalchemy import insert, select

from backoffice.domain import Customer, Order
from backoffice.domain.base import utcnow
from backoffice.domain.enums import (
    Channel,
    CustomerStatus,
    OrderStatus,
    RequestKind,
    RequestStatus,
    SubscriptionStatus,
)
from backoffice.domain.newsletters import NewsletterList, Subscription
from backoffice.domain.privacy import PrivacyRequest
from backoffice.services.changes import Changes
from backoffice.domain.search import reindex_customer
from backoffice.domain.text import fold
from backoffice.services import customers as svc
from backoffice.services.search_index import rebuild_search_index
from ui.customers.customer_page import CustomerPage
from ui.customers.customers_screen import CustomersScreen
from ui.customers import customers_table_model
from ui.customers.customers_table_model import CustomersTableModel
from tests.ui.conftest import open_page

WAIT_MS = 10_000


@pytest.fixture
def callers(db, owner):
    maria = svc.create_customer(db, actor=owner, first_name="María", last_name="García",
                                email="maria@example.com", phone="+1 (713) 555-0199",
                                address={"address_1": "1 Main St", "city": "Houston",
                                         "postcode": "77002"}).customer.id
    john = svc.create_customer(db, actor=owner, first_name="John", last_name="Smith",
                               email="john@example.com", phone="+1 (281) 555-0123").customer.id
    anna = svc.create_customer(db, actor=owner, first_name="Anna", last_name="Blacksmith",
                               email="anna@example.org", phone="+44 20 7946 0958").customer.id
    with db.begin() as s:
        s.add(Order(number="10042", customer_id=maria, status=OrderStatus.PROCESSING))
        s.flush()
        reindex_customer(s, maria)
    return {"maria": maria, "john": john, "anna": anna}


def open_screen(qtbot, ctx) -> CustomersScreen:
    screen = CustomersScreen(ctx)
    ctx.screens.append(screen)
    qtbot.addWidget(screen)
    screen.resize(1100, 700)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is screen, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not ctx.tasks.busy(), timeout=WAIT_MS)
    return screen


def wait_for_hits(qtbot, screen, text):
    qtbot.waitUntil(lambda: screen._answered_query == text and not screen._searching, timeout=WAIT_MS)
    return screen.hits()


def open_customer_page(qtbot, ctx, customer_id) -> CustomerPage:
    return open_page(qtbot, ctx, CustomerPage, customer_id, size=(1000, 700))


def test_type_part_of_a_phone_see_the_caller_press_enter_see_their_page(qtbot, db, owner, callers, ctx_for):
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    assert QApplication.focusWidget() is screen.search  # ready for the first caller
    pages: list[CustomerPage] = []
    screen.customer_opened.connect(lambda cid: pages.append(open_customer_page(qtbot, ctx, cid)))

    qtbot.keyClicks(screen.search, "555-0199")
    hits = wait_for_hits(qtbot, screen, "555-0199")
    assert [h.id for h in hits] == [callers["maria"]]
    assert screen.results.isVisible()
    assert screen.results.item(0, 0).text() == "María García"
    assert screen.results.item(0, 1).text() == "+1 (713) 555-0199"

    with qtbot.waitSignal(screen.customer_opened, timeout=WAIT_MS) as opened:
        qtbot.keyClick(screen.search, Qt.Key.Key_Return)
    assert opened.args == [callers["maria"]]
    page = pages[-1]
    assert page.heading.text() == "María García"
    assert page.fields["phone"].text() == "+1 (713) 555-0199"
    assert page.orders.item(0, 0).text() == "10042"  # as the orders screen writes it
    assert page.orders.item(0, 2).text() == "Processing"


def test_enter_right_after_typing_opens_the_best_hit_when_it_arrives(qtbot, db, owner, callers, ctx_for):
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    with qtbot.waitSignal(screen.customer_opened, timeout=WAIT_MS) as opened:
        qtbot.keyClicks(screen.search, "10042")
        qtbot.keyClick(screen.search, Qt.Key.Key_Return)  # before the search delay is over
    assert opened.args == [callers["maria"]]


def test_arrows_move_in_the_results_and_enter_opens_the_selected_one(qtbot, db, owner, callers, ctx_for):
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    qtbot.keyClicks(screen.search, "smith")
    hits = wait_for_hits(qtbot, screen, "smith")
    assert [h.id for h in hits] == [callers["john"], callers["anna"]]  # whole word, then inside a word
    assert screen.results.currentRow() == 0
    qtbot.keyClick(screen.search, Qt.Key.Key_Down)
    assert screen.results.currentRow() == 1
    qtbot.keyClick(screen.search, Qt.Key.Key_Down)
    assert screen.results.currentRow() == 1
    with qtbot.waitSignal(screen.customer_opened, timeout=WAIT_MS) as opened:
        qtbot.keyClick(screen.search, Qt.Key.Key_Enter)
    assert opened.args == [callers["anna"]]
    qtbot.keyClick(screen.search, Qt.Key.Key_Up)
    assert screen.results.currentRow() == 0


def test_a_stale_answer_is_dropped(qtbot, db, owner, callers, ctx_for):
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    answered: list[str] = []
    screen.search_finished.connect(lambda query, n: answered.append(query))
    screen.search.blockSignals(True)
    screen.search.setText("garcia")
    screen._start_search()
    screen.search.setText("0958")
    screen._start_search()
    screen.search.blockSignals(False)
    qtbot.waitUntil(lambda: not ctx.tasks.busy(), timeout=WAIT_MS)
    assert answered == ["0958"]
    assert [h.id for h in screen.hits()] == [callers["anna"]]


def test_no_match_says_so_and_clearing_hides_the_results(qtbot, db, owner, callers, ctx_for):
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    qtbot.keyClicks(screen.search, "zzzz")
    assert wait_for_hits(qtbot, screen, "zzzz") == []
    assert screen.search_state.text() == "No customer matches “zzzz”." and screen.search_state.isVisible()
    qtbot.keyClick(screen.search, Qt.Key.Key_Escape)
    assert screen.search.text() == "" and not screen.results.isVisible()
    qtbot.waitUntil(lambda: not screen.search_state.isVisible(), timeout=WAIT_MS)


def test_ctrl_f_puts_the_cursor_back_in_the_search_box(qtbot, db, owner, callers, ctx_for):
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    qtbot.keyClicks(screen.search, "maria")
    screen.table.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is screen.table, timeout=WAIT_MS)
    qtbot.keyClick(screen.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is screen.search
    assert screen.search.selectedText() == "maria"


def test_the_list_below_pages_sorts_and_filters(qtbot, db, owner, callers, ctx_for):
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    model = screen.model
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=WAIT_MS)
    assert [model.row_at(i).name for i in range(3)] == ["Anna Blacksmith", "María García", "John Smith"]
    qtbot.waitUntil(lambda: screen.count_label.text() == "3 customers", timeout=WAIT_MS)
    screen.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: model.rowCount() == 3 and model.row_at(0).name == "John Smith", timeout=WAIT_MS)
    with db.begin() as s:
        s.get(Customer, callers["john"]).status = CustomerStatus.DEACTIVATED
    screen.status_filter.setCurrentIndex(screen.status_filter.findData(CustomerStatus.DEACTIVATED))
    qtbot.waitUntil(lambda: not model.is_loading() and model.rowCount() == 1, timeout=WAIT_MS)
    assert model.row_at(0).name == "John Smith"
    qtbot.waitUntil(lambda: screen.count_label.text() == "1 customer", timeout=WAIT_MS)
    with qtbot.waitSignal(screen.customer_opened, timeout=WAIT_MS) as opened:
        screen.table.setCurrentIndex(model.index(0, 0))
        qtbot.keyClick(screen.table, Qt.Key.Key_Return)
    assert opened.args == [callers["john"]]


def _insert_customers(db, count: int) -> None:
    now = utcnow()
    rows = []
    for i in range(count):
        first, last = f"First{i % 7}", f"Last{i:04d}"
        rows.append({"first_name": first, "last_name": last, "company": "", "phone": "",
                     "sort_name": fold(f"{last} {first}"), "status": CustomerStatus.ACTIVE,
                     "restricted": False, "objected": False, "created_at": now, "updated_at": now,
                     "version": 1})
    with db.engine.begin() as conn:
        conn.execute(insert(Customer.__table__), rows)
    rebuild_search_index(db)


def _tea_letter(s) -> int:
    """A newsletter list for the filters to find; its id."""
    s.add(NewsletterList(name="Tea letter", channel=Channel.EMAIL, consent_wording="Yes please"))
    s.flush()
    return s.scalar(select(NewsletterList.id).where(NewsletterList.name == "Tea letter"))


def _subscribe_about_half(s, list_id: int) -> None:
    """Subscribe about half the customers to the list, unevenly along both their ids and names
    (so that a sample of the list places its rows near, not at, their places)."""
    for c in s.query(Customer):
        if (c.id * 2654435761) % 1000 < 500:
            s.add(Subscription(list_id=list_id, customer_id=c.id, status=SubscriptionStatus.SUBSCRIBED))


def _hold_layouts(monkeypatch):
    """From now on each list layout read waits (as a long list's takes a second or two at a
    million customers) until the function returned lets the ones waiting through."""
    gates: list[threading.Event] = []
    layout = svc.customer_list_layout

    def slow_layout(*args, **kwargs):
        gate = threading.Event()
        gates.append(gate)
        gate.wait(30)
        return layout(*args, **kwargs)

    def release() -> None:
        for gate in list(gates):
            gate.set()

    monkeypatch.setattr(svc, "customer_list_layout", slow_layout)
    return release


def _long_tea_list_held(qtbot, db, owner, ctx_for, monkeypatch, *, customers: int, probes: int):
    """The screen on `customers` customers, about half of them on the Tea letter, laid out as a
    long list is (placed by a sample of about `probes` / 2 of them), its layouts held back
    (`_hold_layouts`): (screen, the list's id, the function letting the layouts through)."""
    _insert_customers(db, customers)
    with db.begin() as s:
        tea = _tea_letter(s)
        _subscribe_about_half(s, tea)
    monkeypatch.setattr(svc, "SMALL_LIST", 0)
    monkeypatch.setattr(svc, "SAMPLE_PROBES", probes)
    monkeypatch.setattr(svc, "NEAR_END", 50)
    screen = open_screen(qtbot, ctx_for(db, owner))
    return screen, tea, _hold_layouts(monkeypatch)


def _settled(model) -> bool:
    return model.rowCount() > 0 and not model.is_loading()


def _names_at(model, rows) -> list[str]:
    return [model.data(model.index(r, 0)) for r in rows]


def test_customers_table_model_with_the_model_tester(qtbot, qtmodeltester, db, owner, ctx_for):
    _insert_customers(db, 450)
    ctx = ctx_for(db, owner)
    model = CustomersTableModel(ctx.tasks, db, owner)
    model.set_query(filters={})
    qtbot.waitUntil(lambda: _settled(model), timeout=WAIT_MS)
    assert model.rowCount() == 450  # every row is counted; blocks are read as they are shown
    assert model.data(model.index(0, 0)) == "First0 Last0000"
    qtmodeltester.check(model)
    _names_at(model, range(450))  # as a view would: asking for rows reads their blocks
    qtbot.waitUntil(lambda: not model.is_loading(), timeout=WAIT_MS)
    names = _names_at(model, range(450))
    assert names[0] == "First0 Last0000" and names[-1] == "First1 Last0449" and "Loading…" not in names
    assert model.headerData(5, Qt.Orientation.Horizontal) == "Customer since"
    _insert_customers(db, 3)  # a change: read again in place, three rows more at the end
    model.refresh()
    qtbot.waitUntil(lambda: model.rowCount() == 453 and not model.is_loading(), timeout=WAIT_MS)
    qtmodeltester.check(model)
    model.sort(0, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: _settled(model), timeout=WAIT_MS)
    assert model.data(model.index(0, 0)) == "First1 Last0449"
    rows = model.rowCount()
    model.sort(2, Qt.SortOrder.AscendingOrder)  # email: not sortable, nothing happens
    assert model.rowCount() == rows and not model.is_loading()
    qtmodeltester.check(model)


def _expected(db, owner, sort, **filters) -> list[str]:
    names, after = [], None
    while True:
        page = svc.list_customers_page(db, actor=owner, sort=sort, after=after, limit=1000, **filters)
        names.extend(r.name for r in page.rows)
        if page.next_key is None:
            return names
        after = page.next_key


@pytest.mark.parametrize("sort", list(svc.CustomerSort))
def test_the_list_shows_the_right_rows_after_jumping_to_the_end_and_the_middle(qtbot, db, owner, ctx_for, sort):
    _insert_customers(db, 1030)
    with db.begin() as s:  # different dates, some deactivated (the filter below)
        for c in s.query(Customer):
            c.created_at = c.created_at.replace(microsecond=0) - timedelta(minutes=(c.id * 37) % 1000)
            if c.id % 3 == 0:
                c.status = CustomerStatus.DEACTIVATED
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    model, table = screen.model, screen.table
    model.set_query(sort=sort)
    qtbot.waitUntil(lambda: _settled(model) and model.current_sort == sort, timeout=WAIT_MS)
    expected = _expected(db, owner, sort)
    assert model.rowCount() == len(expected) == 1030

    def shows(rows, names) -> bool:
        return not model.is_loading() and _names_at(model, rows) == [names[r] for r in rows]

    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)  # the last rows
    qtbot.waitUntil(lambda: shows(range(1000, 1030), expected), timeout=WAIT_MS)
    assert table.currentIndex().row() == 1029
    middle = 615  # a block of its own, neither the first nor the last
    table.scrollTo(model.index(middle, 0))
    qtbot.waitUntil(lambda: shows(range(600, 630), expected), timeout=WAIT_MS)
    qtbot.keyClick(table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: shows(range(0, 30), expected), timeout=WAIT_MS)

    screen.status_filter.setCurrentIndex(screen.status_filter.findData(CustomerStatus.DEACTIVATED))
    deactivated = _expected(db, owner, sort, status=CustomerStatus.DEACTIVATED)
    qtbot.waitUntil(lambda: _settled(model) and model.rowCount() == len(deactivated) == 343, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: screen.count_label.text() == "343 customers", timeout=WAIT_MS)
    table.scrollTo(model.index(250, 0))
    qtbot.waitUntil(lambda: shows(range(240, 260), deactivated), timeout=WAIT_MS)
    qtbot.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: shows(range(330, 343), deactivated), timeout=WAIT_MS)


def test_the_page_checks_a_field_when_it_is_left_and_saves_in_place(qtbot, db, staff, callers, ctx_for):
    ctx = ctx_for(db, staff)
    page = open_customer_page(qtbot, ctx, callers["maria"])
    assert page.fields["email"].isReadOnly()
    assert page._audit_index < 0  # staff do not see the audit trail
    qtbot.mouseClick(page.edit_button, Qt.MouseButton.LeftButton)
    email = page.fields["email"]
    email.selectAll()
    qtbot.keyClicks(email, "maria at example.com")
    qtbot.keyClick(email, Qt.Key.Key_Return)  # leaving the field checks it
    assert page.errors["email"].isVisible()
    assert "@" in page.errors["email"].text()
    page.fields["phone"].setText("555")
    page._check_field("phone")
    assert "not a valid phone number" in page.errors["phone"].text()
    page.save()
    qtbot.waitUntil(lambda: page.message.isVisible(), timeout=WAIT_MS)
    assert "nothing was saved" in page.message.text()
    email.setText("maria.g@example.com")
    page.fields["phone"].setText("(281) 555-0147")
    with qtbot.waitSignal(page.saved, timeout=WAIT_MS):
        page.save()
    assert page.message.text().startswith("Saved.")
    assert not page.errors["email"].isVisible()
    assert email.isReadOnly()
    assert svc.get_customer(db, actor=staff, customer_id=callers["maria"]).profile.email == "maria.g@example.com"


def test_a_change_at_another_desk_keeps_both_edits_visible(qtbot, db, staff, owner, callers, ctx_for):
    ctx = ctx_for(db, staff)
    page = open_customer_page(qtbot, ctx, callers["maria"])
    page.start_editing()
    page.fields["phone"].setText("+1 281 555 0147")
    page.fields["email"].setText("mine@example.com")
    loaded = svc.get_customer(db, actor=owner, customer_id=callers["maria"])
    svc.update_customer(db, actor=owner, customer_id=callers["maria"], expected_version=loaded.version,
                        changes={"email": "theirs@example.com", "last_name": "García López"})
    page.save()
    qtbot.waitUntil(lambda: page.message.isVisible(), timeout=WAIT_MS)
    assert "changed the last name and email address" in page.message.text()
    assert page.fields["last_name"].text() == "García López"  # theirs, I had not touched it
    assert page.fields["email"].text() == "mine@example.com"  # mine stays in the box...
    assert "theirs@example.com" in page.theirs["email"].text()  # ...theirs beside it
    assert page.fields["phone"].text() == "+1 281 555 0147"
    with qtbot.waitSignal(page.saved, timeout=WAIT_MS):
        page.save()
    saved = svc.get_customer(db, actor=owner, customer_id=callers["maria"]).profile
    assert (saved.last_name, saved.email, saved.phone) == ("García López", "mine@example.com", "+1 281 555 0147")


def test_a_card_number_in_a_note_is_masked_and_the_page_says_why(qtbot, db, staff, callers, ctx_for):
    ctx = ctx_for(db, staff)
    page = open_customer_page(qtbot, ctx, callers["john"])
    page.note_text.setPlainText("Card 4111 1111 1111 1111 for next order")
    qtbot.mouseClick(page.note_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.notes.count() == 1, timeout=WAIT_MS)
    assert "card number was removed" in page.note_message.text()
    assert "4111 1111 1111 1111" not in page.notes.item(0).text()
    assert "for next order" in page.notes.item(0).text()


def test_order_taker_reads_only_and_the_owner_sees_the_audit_trail(qtbot, db, owner, order_taker, callers, ctx_for):
    page = open_customer_page(qtbot, ctx_for(db, order_taker), callers["maria"])
    assert not page.edit_button.isEnabled() and page.edit_button.toolTip()
    assert page.note_button.isEnabled()  # a delivery preference is part of taking an order
    assert page.tabs.count() == 6
    owner_page = open_customer_page(qtbot, ctx_for(db, owner), callers["maria"])
    assert owner_page.tabs.tabText(owner_page.tabs.count() - 1) == "Audit trail"
    actions = [owner_page.audit.item(r, 2).text() for r in range(owner_page.audit.rowCount())]
    assert "Viewed a customer" in actions and "Customer added" in actions
    with qtbot.waitSignal(owner_page.order_opened, timeout=WAIT_MS) as opened:
        owner_page.orders.setCurrentCell(0, 0)
        owner_page.orders.doubleClicked.emit(owner_page.orders.model().index(0, 0))
    assert opened.args == [owner_page.detail.orders[0].id]


def test_the_list_filtered_by_newsletter_list_or_open_request_shows_the_right_rows_and_counts(
        qtbot, db, owner, ctx_for, monkeypatch):
    _insert_customers(db, 1030)
    with db.begin() as s:
        tea = _tea_letter(s)
        for c in s.query(Customer):
            c.created_at = c.created_at.replace(microsecond=0) - timedelta(minutes=(c.id * 37) % 1000)
            if c.id % 3 == 0:  # subscribed; every 7th of them unsubscribed again
                status = SubscriptionStatus.UNSUBSCRIBED if c.id % 7 == 0 else SubscriptionStatus.SUBSCRIBED
                s.add(Subscription(list_id=tea, customer_id=c.id, status=status))
            if c.id % 50 == 0:  # an open privacy request; every other one already closed
                s.add(PrivacyRequest(customer_id=c.id, kind=RequestKind.ACCESS, due_at=utcnow(),
                                     status=RequestStatus.FULFILLED if c.id % 100 == 0 else RequestStatus.RECEIVED))
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    model, table = screen.model, screen.table
    qtbot.waitUntil(lambda: screen.list_filter.findData(tea) >= 0, timeout=WAIT_MS)

    def shows(rows, names) -> bool:
        return not model.is_loading() and _names_at(model, rows) == [names[r] for r in rows]

    def check(sort, expected) -> None:
        qtbot.waitUntil(lambda: _settled(model) and model.current_sort == sort
                        and model.rowCount() == len(expected), timeout=WAIT_MS)
        count = len(expected)
        words = f"{count:,} customer" + ("" if count == 1 else "s")
        qtbot.waitUntil(lambda: screen.count_label.text() == words, timeout=WAIT_MS)
        table.setFocus()
        table.setCurrentIndex(model.index(0, 0))
        qtbot.keyClick(table, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: shows(range(count - 10, count), expected), timeout=WAIT_MS)
        for row in (count // 2, count // 3, 199, 200):  # the middle, either side of a block's edge
            table.scrollTo(model.index(row, 0))
            qtbot.waitUntil(lambda: shows(range(max(0, row - 5), min(count, row + 5)), expected), timeout=WAIT_MS)
        qtbot.keyClick(table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: shows(range(0, 10), expected), timeout=WAIT_MS)

    # Short lists are read by id; with every list walked on its index instead, the same rows.
    for small_list in (svc.SMALL_LIST, 0):
        monkeypatch.setattr(svc, "SMALL_LIST", small_list)
        model.refresh()
        screen.list_filter.setCurrentIndex(screen.list_filter.findData(tea))
        on_tea = _expected(db, owner, svc.CustomerSort.NAME, list_id=tea)
        assert len(on_tea) == 294
        check(svc.CustomerSort.NAME, on_tea)
        screen.table.horizontalHeader().setSortIndicator(5, Qt.SortOrder.DescendingOrder)  # newest first
        check(svc.CustomerSort.NEWEST, _expected(db, owner, svc.CustomerSort.NEWEST, list_id=tea))
        screen.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # back to names
        check(svc.CustomerSort.NAME, on_tea)
        screen.request_filter.setCurrentIndex(screen.request_filter.findData(False))
        check(svc.CustomerSort.NAME, _expected(db, owner, svc.CustomerSort.NAME, list_id=tea, has_open_request=False))
        screen.list_filter.setCurrentIndex(0)
        screen.request_filter.setCurrentIndex(screen.request_filter.findData(True))
        check(svc.CustomerSort.NAME, _expected(db, owner, svc.CustomerSort.NAME, has_open_request=True))
        screen.request_filter.setCurrentIndex(0)

    # A change at another desk: the list and its count follow it.
    screen.list_filter.setCurrentIndex(screen.list_filter.findData(tea))
    check(svc.CustomerSort.NAME, on_tea)
    gone = model.row_at(len(on_tea) // 2).id
    with db.begin() as s:
        s.query(Subscription).filter(Subscription.customer_id == gone).one().status = SubscriptionStatus.UNSUBSCRIBED
    ctx.bus.publish(Changes(customers=frozenset({gone})))
    after = _expected(db, owner, svc.CustomerSort.NAME, list_id=tea)
    assert len(after) == 293
    check(svc.CustomerSort.NAME, after)


def test_the_whole_list_can_be_jumped_about_as_soon_as_it_is_counted(qtbot, db, owner, ctx_for, monkeypatch):
    """Its layout takes a second or two at a million customers; the count comes sooner, and the
    rows anywhere in the list show from it. A newsletter list's rows wait for the layout."""
    _insert_customers(db, 1030)
    with db.begin() as s:
        tea = _tea_letter(s)
        for c in s.query(Customer):
            c.created_at = c.created_at.replace(microsecond=0) - timedelta(minutes=(c.id * 37) % 1000)
            if c.id % 3 == 0:
                c.status = CustomerStatus.DEACTIVATED
            if c.id % 2 == 0:
                s.add(Subscription(list_id=tea, customer_id=c.id, status=SubscriptionStatus.SUBSCRIBED))
            if c.id % 40 == 0:
                s.add(PrivacyRequest(customer_id=c.id, kind=RequestKind.ACCESS, due_at=utcnow(),
                                     status=RequestStatus.RECEIVED))
    monkeypatch.setattr(svc, "SMALL_LIST", 0)  # every list walked on its index, as a long one is
    release = _hold_layouts(monkeypatch)
    ctx = ctx_for(db, owner)
    model = CustomersTableModel(ctx.tasks, db, owner)
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    table.resize(800, 500)
    table.show()
    try:
        for sort, filters in ((svc.CustomerSort.NAME, {}), (svc.CustomerSort.NEWEST, {}),
                              (svc.CustomerSort.OLDEST, {"status": CustomerStatus.DEACTIVATED}),
                              (svc.CustomerSort.NAME_DESC, {"status": None, "has_open_request": False})):
            release()  # the layouts of the lists before (reading threads are few)
            model.set_query(sort=sort, filters=filters)
            expected = _expected(db, owner, sort, **filters)
            qtbot.waitUntil(lambda: model.rowCount() == len(expected) == model.total(), timeout=WAIT_MS)
            assert not model.is_laid_out()
            n = len(expected)
            for rows in (range(n - 10, n), range(n // 2, n // 2 + 10), range(0, 10)):
                table.scrollTo(model.index(rows[-1], 0))
                qtbot.waitUntil(lambda: _names_at(model, rows) == [expected[r] for r in rows], timeout=WAIT_MS)
            assert not model.is_laid_out()

        release()
        model.set_query(sort=svc.CustomerSort.NAME, filters={"list_id": tea, "has_open_request": None})
        on_tea = _expected(db, owner, svc.CustomerSort.NAME, list_id=tea)
        qtbot.waitUntil(lambda: model.rowCount() == len(on_tea) == 515, timeout=WAIT_MS)
        # Near its end (NEAR_END) a newsletter list's rows are counted from the end before the
        # layout is in; elsewhere they wait for the layout or the list's sample (the next test).
        table.scrollTo(model.index(400, 0))
        qtbot.waitUntil(lambda: _names_at(model, range(395, 405)) == on_tea[395:405], timeout=WAIT_MS)
        assert not model.is_laid_out()
        monkeypatch.setattr(svc, "NEAR_END", 0)
        monkeypatch.setattr(svc, "SAMPLE_LEAST", 10_000)  # no sample: the rows wait for the layout
        model.set_query(sort=svc.CustomerSort.NAME_DESC)
        qtbot.waitUntil(lambda: model.rowCount() == 515, timeout=WAIT_MS)
        table.scrollTo(model.index(300, 0))
        qtbot.wait(200)
        assert model.data(model.index(300, 0)) == "Loading…"
        release()  # the layout comes in: the rows in view are read without being asked for again
        qtbot.waitUntil(lambda: model.is_laid_out() and model.row_at(300) is not None, timeout=WAIT_MS)
        assert _names_at(model, range(295, 305)) == on_tea[::-1][295:305]
    finally:
        release()


def test_rows_placed_apart_and_read_on_between_them_all_land_in_their_places(qtbot, db, owner, ctx_for,
                                                                              monkeypatch):
    """Two jumps before the layout is in place two runs of rows by the sample, each about where
    it belongs; rows read on from the first up to the second may not meet it exactly. Once the
    layout is in, every row shown is the list's own row at that place: each run was moved by
    its own distance, not the second by the first's."""
    screen, tea, release = _long_tea_list_held(qtbot, db, owner, ctx_for, monkeypatch, customers=2030, probes=160)
    model, table = screen.model, screen.table
    shifts = []
    model.shifted.connect(lambda first, last, by: shifts.append((first, by)))
    try:
        screen.list_filter.setCurrentIndex(screen.list_filter.findData(tea))
        on_tea = _expected(db, owner, svc.CustomerSort.NAME, list_id=tea)
        qtbot.waitUntil(lambda: model.rowCount() == len(on_tea) == model.total() > 900, timeout=WAIT_MS)
        for row in (220, 620, 450):  # blocks 1 and 3 placed, then block 2 read on from block 1
            table.scrollTo(model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
            qtbot.waitUntil(lambda: "Loading…" not in _names_at(model, range(row, row + 20)), timeout=WAIT_MS)
        assert not model.is_laid_out()
        release()
        qtbot.waitUntil(lambda: model.is_laid_out() and not model.is_loading(), timeout=WAIT_MS)
        assert len(shifts) == 2 and shifts[0][1] != shifts[1][1]  # two runs, moved apart
        qtbot.waitUntil(lambda: _names_at(model, range(200, 800)) == on_tea[200:800], timeout=WAIT_MS)
    finally:
        release()


def test_a_newsletter_list_chosen_in_the_filter_shows_its_whole_name(qtbot, db, owner, ctx_for):
    """The lists' names arrive once the screen is shown; the filter widens to show them."""
    with db.begin() as s:
        s.add(NewsletterList(name="Wholesale buyers' email newsletter", channel=Channel.EMAIL,
                             consent_wording="Yes please"))
    screen = open_screen(qtbot, ctx_for(db, owner))
    combo = screen.list_filter
    qtbot.waitUntil(lambda: combo.count() > 1, timeout=WAIT_MS)
    combo.setCurrentIndex(combo.findText("On “Wholesale buyers' email newsletter”"))
    QApplication.processEvents()
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    assert field.width() >= combo.fontMetrics().horizontalAdvance(combo.currentText())


def test_a_long_newsletter_list_shows_rows_anywhere_before_its_layout_and_keeps_them_in_view_after(
        qtbot, db, owner, ctx_for, monkeypatch):
    """A newsletter list's rows are not on the list's index: before its layout is in, rows
    away from its ends are placed by a sample of the list (about where they are), the rows
    next to them read on from them; once the layout is in they are moved to their exact
    places and the view follows, showing the same customers."""
    # A sample of about 70 of the 515 on the list: rows about where they are.
    screen, tea, release = _long_tea_list_held(qtbot, db, owner, ctx_for, monkeypatch, customers=1030, probes=140)
    model, table = screen.model, screen.table
    shifts = []
    model.shifted.connect(lambda first, last, by: shifts.append(by))
    try:
        screen.list_filter.setCurrentIndex(screen.list_filter.findData(tea))
        on_tea = _expected(db, owner, svc.CustomerSort.NAME, list_id=tea)
        qtbot.waitUntil(lambda: model.rowCount() == len(on_tea) == model.total() > 450, timeout=WAIT_MS)

        def run_shown(rows) -> list[str] | None:
            names = _names_at(model, rows)
            return None if "Loading…" in names else names

        table.scrollTo(model.index(220, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        qtbot.waitUntil(lambda: run_shown(range(220, 240)) is not None, timeout=WAIT_MS)
        assert not model.is_laid_out()
        shown = run_shown(range(220, 240))
        found = on_tea.index(shown[0])
        assert shown == on_tea[found:found + 20]  # consecutive customers of the list...
        assert found != 220 and abs(found - 220) < 50  # ...about where they are, not exactly
        # Scrolling on across the end of the block shows the customers that come next, none
        # left out or shown twice.
        table.scrollTo(model.index(410, 0), QAbstractItemView.ScrollHint.PositionAtBottom)
        qtbot.waitUntil(lambda: run_shown(range(390, 410)) is not None, timeout=WAIT_MS)
        assert run_shown(range(220, 410)) == on_tea[found:found + 190]
        top = table.rowAt(0)
        in_view, selected = model.data(model.index(top, 0)), top + 3
        table.selectRow(selected)
        chosen = model.data(model.index(selected, 0))

        release()  # the layout comes in
        qtbot.waitUntil(lambda: model.is_laid_out() and not model.is_loading(), timeout=WAIT_MS)
        assert shifts == [found - 220]
        assert model.data(model.index(table.rowAt(0), 0)) == in_view  # the same customers in view
        assert model.data(table.currentIndex().siblingAtColumn(0)) == chosen  # and the same one chosen
        rows = range(table.rowAt(0), table.rowAt(0) + 20)
        qtbot.waitUntil(lambda: run_shown(rows) == on_tea[rows.start:rows.stop], timeout=WAIT_MS)
    finally:
        release()


def test_a_change_elsewhere_keeps_the_list_where_it_was(qtbot, db, owner, ctx_for):
    """Someone saves a customer, or the sync brings some: the list stays at the rows on screen,
    shows them until they are read again, then shows the change in place."""
    _insert_customers(db, 1030)
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    model, table = screen.model, screen.table
    qtbot.waitUntil(lambda: model.is_laid_out() and model.rowCount() == 1030, timeout=WAIT_MS)
    table.setFocus()
    table.scrollTo(model.index(615, 0), QTableView.ScrollHint.PositionAtTop)
    table.setCurrentIndex(model.index(620, 0))
    qtbot.waitUntil(lambda: model.row_at(620) is not None, timeout=WAIT_MS)
    top = table.rowAt(0)
    assert 600 <= top <= 615
    renamed = model.row_at(620).id
    resets = []
    model.modelReset.connect(lambda: resets.append(True))
    with db.begin() as s:
        s.get(Customer, renamed).first_name = "Renamed"
    _insert_customers(db, 1)  # "First0 Last0000": sorts first, so every row moves down one
    on_screen = _names_at(model, range(top, top + 10))
    ctx.bus.publish(Changes(customers=frozenset({renamed})))
    assert _names_at(model, range(top, top + 10)) == on_screen  # the rows stay on screen
    qtbot.waitUntil(lambda: model.rowCount() == 1031 and model.is_laid_out() and model.row_at(621) is not None,
                    timeout=WAIT_MS)
    assert resets == [] and table.rowAt(0) == top and table.currentIndex().row() == 620
    expected = _expected(db, owner, svc.CustomerSort.NAME)
    assert _names_at(model, range(top, top + 10)) == expected[top:top + 10]
    assert model.data(model.index(621, 0)) == "Renamed Last0620"


def test_paging_through_a_long_list_keeps_only_the_rows_seen_last(qtbot, db, owner, ctx_for, monkeypatch):
    monkeypatch.setattr(customers_table_model, "MAX_BLOCKS", 2)
    _insert_customers(db, 1030)
    ctx = ctx_for(db, owner)
    screen = open_screen(qtbot, ctx)
    model, table = screen.model, screen.table
    qtbot.waitUntil(lambda: model.is_laid_out() and model.rowCount() == 1030, timeout=WAIT_MS)
    expected = _expected(db, owner, svc.CustomerSort.NAME)
    for row in (250, 450, 650, 850, 1020, 250):  # down the list, then back up to a block let go
        table.scrollTo(model.index(row, 0), QTableView.ScrollHint.PositionAtTop)
        qtbot.waitUntil(lambda: model.row_at(row) is not None, timeout=WAIT_MS)
        assert _names_at(model, range(row, row + 5)) == expected[row:row + 5]
    kept = sum(model.row_at(r) is not None for r in range(1030))
    assert kept <= 3 * model.BLOCK_SIZE  # the first block and the two read last
    table.scrollToTop()
    assert _names_at(model, range(0, 5)) == expected[:5]  # the first block is always kept
