"""Customer records: viewing (audited), editing with validation and version checks, notes,
duplicates, merging and permissions, on both databases."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backoffice.domain import (
    AuditEvent,
    ConsentEvent,
    Customer,
    CustomerAddress,
    CustomerNote,
    NewsletterList,
    Order,
    OutboxMessage,
    PrivacyRequest,
    Shipment,
    Subscription,
)
from backoffice.domain.base import utcnow
from backoffice.domain.enums import (
    Channel,
    ConsentAction,
    CustomerStatus,
    OrderStatus,
    OutboxKind,
    RequestKind,
    RequestStatus,
    SubscriptionStatus,
)
from backoffice.errors import ConflictError, PermissionDenied, ValidationError
from backoffice.services import customers as svc
from backoffice.services import phone_orders as po


def new(db, actor, first, last, **kw):
    return svc.create_customer(db, actor=actor, first_name=first, last_name=last, **kw)


@pytest.fixture
def maria(db, owner):
    return new(db, owner, "María", "García", email="maria@example.com", phone="+1 713 555 0199",
               address={"address_1": "1 Main St", "city": "Houston", "postcode": "77002"}).customer


def events(db, action, customer_id=None):
    with db.read() as s:
        stmt = select(AuditEvent).where(AuditEvent.action == action)
        if customer_id is not None:
            stmt = stmt.where(AuditEvent.customer_id == customer_id)
        rows = s.scalars(stmt.order_by(AuditEvent.id)).all()
        s.expunge_all()
        return rows


def outbox(db, kind):
    with db.read() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                         .order_by(OutboxMessage.id)).all()
        s.expunge_all()
        return rows


def add_history(db, customer_id, *, list_name="Tea letter", order_number="5001"):
    """An order with tracking, a subscription with its consent, a privacy request."""
    with db.begin() as s:
        order = Order(number=order_number, customer_id=customer_id, status=OrderStatus.COMPLETED)
        s.add(order)
        s.flush()
        s.add(Shipment(order_id=order.id, carrier="UPS", tracking_number="1Z999AA10123456784"))
        lst = s.scalar(select(NewsletterList).where(NewsletterList.name == list_name))
        if lst is None:
            lst = NewsletterList(name=list_name, channel=Channel.EMAIL, consent_wording="Yes please")
            s.add(lst)
            s.flush()
        s.add(Subscription(list_id=lst.id, customer_id=customer_id, status=SubscriptionStatus.SUBSCRIBED))
        s.add(ConsentEvent(customer_id=customer_id, list_id=lst.id, action=ConsentAction.OPT_IN,
                           method="phone", wording="Yes please"))
        s.add(PrivacyRequest(customer_id=customer_id, kind=RequestKind.ACCESS,
                             due_at=utcnow() + timedelta(days=30)))
        return order.id, lst.id


# --- Viewing ---------------------------------------------------------------------------------


def test_view_shows_the_whole_record_and_is_audited(db, owner, staff, maria):
    order_id, _ = add_history(db, maria.id)
    svc.add_note(db, actor=staff, customer_id=maria.id, text="Prefers deliveries after 5 pm.")
    detail = svc.get_customer(db, actor=staff, customer_id=maria.id)
    assert detail.profile.display_name == "María García"
    assert detail.addresses[0].postcode == "77002"
    assert [(o.id, o.status, o.tracking[0].tracking_number) for o in detail.orders] == [
        (order_id, OrderStatus.COMPLETED, "1Z999AA10123456784")]
    assert [(s.list_name, s.status) for s in detail.subscriptions] == [
        ("Tea letter", SubscriptionStatus.SUBSCRIBED)]
    assert [(c.action, c.method) for c in detail.consents] == [(ConsentAction.OPT_IN, "phone")]
    assert [(r.kind, r.is_open) for r in detail.requests] == [(RequestKind.ACCESS, True)]
    assert [n.text for n in detail.notes] == ["Prefers deliveries after 5 pm."]
    assert detail.can_edit and not detail.audit_visible and detail.audit == ()
    viewed = events(db, "view_customer", maria.id)
    assert len(viewed) == 1
    assert (viewed[0].entity_type, viewed[0].entity_id, viewed[0].staff_id) == (
        "customer", maria.id, staff.staff_id)


def test_the_owner_also_sees_the_customers_audit_trail(db, owner, maria):
    svc.get_customer(db, actor=owner, customer_id=maria.id)
    detail = svc.get_customer(db, actor=owner, customer_id=maria.id)
    assert detail.audit_visible
    # Both views, this one included, then the creation.
    assert [e.action for e in detail.audit][:3] == ["view_customer", "view_customer", "create_customer"]
    assert detail.audit[0].staff_login == "owner"


def test_an_unknown_customer_is_a_sentence(db, owner):
    with pytest.raises(svc.NotFound, match="This customer is no longer here") as missing:
        svc.get_customer(db, actor=owner, customer_id=999)
    assert "999" not in missing.value.message


# --- Editing ---------------------------------------------------------------------------------


def test_update_saves_audits_names_only_and_queues_the_store(db, staff, maria):
    detail = svc.update_customer(db, actor=staff, customer_id=maria.id, expected_version=maria.version,
                                 changes={"email": "Maria.G@Example.COM", "phone": "(281) 555-0147"})
    assert detail.profile.email == "Maria.G@example.com"
    assert detail.profile.phone == "(281) 555-0147"
    assert detail.version == maria.version + 1
    with db.read() as s:
        c = s.get(Customer, maria.id)
        assert (c.email_key, c.phone_digits, c.phone_rev) == (  # noqa: PT018
            "maria.g@example.com", "12815550147", "74105551821")
    (event,) = events(db, "update_customer", maria.id)
    # The billing address held the same email and phone, so it was corrected with them.
    assert json.loads(event.fields) == ["billing.email", "billing.phone", "email", "phone"]
    (message,) = outbox(db, OutboxKind.UPDATE_CUSTOMER)
    assert (message.entity_type, message.entity_id) == ("customer", maria.id)
    assert "example" not in message.payload and "0147" not in message.payload
    assert len(message.reference) > 20


@pytest.mark.parametrize("changes, field, words", [
    ({"email": "maria at example.com"}, "email", "@"),
    ({"email": "maria@example"}, "email", "dot"),
    ({"phone": "555-01"}, "phone", "not a valid phone number in US"),
    ({"phone": "call me"}, "phone", "needs digits"),
    ({"first_name": "x" * 121}, "first_name", "at most 120"),
    ({"last_name": "4111 1111 1111 1111"}, "last_name", "card number"),
    ({"colour": "blue"}, "colour", "cannot be changed"),
])
def test_validation_names_the_field_in_a_sentence_and_saves_nothing(db, staff, maria, changes, field, words):
    with pytest.raises(ValidationError) as caught:
        svc.update_customer(db, actor=staff, customer_id=maria.id, expected_version=maria.version,
                            changes=changes)
    assert set(caught.value.fields) == {field}
    assert words in caught.value.fields[field]
    assert caught.value.fields[field].endswith(".")
    assert "nothing was saved" in caught.value.message
    assert svc.get_customer(db, actor=staff, customer_id=maria.id).version == maria.version


def test_every_bad_field_is_reported_at_once(db, staff, maria):
    with pytest.raises(ValidationError) as caught:
        svc.update_customer(db, actor=staff, customer_id=maria.id, expected_version=maria.version,
                            changes={"email": "nope", "phone": "12"})
    assert set(caught.value.fields) == {"email", "phone"}
    assert caught.value.message == "The email address and phone number need correcting; nothing was saved."


def test_validate_changes_checks_a_field_on_its_own_for_the_form():
    assert svc.validate_changes({"phone": "020 7946 0958"}, default_country="GB") == {"phone": "020 7946 0958"}
    with pytest.raises(ValidationError):
        svc.validate_changes({"phone": "020 7946 0958"}, default_country="US")


def test_a_stale_version_names_what_the_other_desk_changed_and_loses_nothing(db, staff, owner, maria):
    # Desk A saves a new email while desk B still edits the version it loaded.
    svc.update_customer(db, actor=owner, customer_id=maria.id, expected_version=maria.version,
                        changes={"email": "maria.new@example.com"})
    with pytest.raises(ConflictError) as caught:
        svc.update_customer(db, actor=staff, customer_id=maria.id, expected_version=maria.version,
                            changes={"phone": "+1 281 555 0147"})
    conflict = caught.value
    assert isinstance(conflict, svc.CustomerChangedElsewhere)
    assert "changed the email address while you were editing" in conflict.message
    assert "neither change is lost" in conflict.message
    assert conflict.their_fields == ("email",)
    assert conflict.current.email == "maria.new@example.com"
    assert conflict.yours == {"phone": "+1 281 555 0147"}
    # Desk B saves again on the current version: both edits are kept.
    detail = svc.update_customer(db, actor=staff, customer_id=maria.id,
                                 expected_version=conflict.current.version, changes=conflict.yours)
    assert (detail.profile.email, detail.profile.phone) == ("maria.new@example.com", "+1 281 555 0147")


def test_both_desks_changing_one_field_are_told_to_choose(db, staff, owner, maria):
    original = {"email": maria.profile.email, "phone": maria.profile.phone}
    svc.update_customer(db, actor=owner, customer_id=maria.id, expected_version=maria.version,
                        changes={"email": "a@example.com", "phone": "+1 281 555 0147"})
    with pytest.raises(svc.CustomerChangedElsewhere) as caught:
        svc.update_customer(db, actor=staff, customer_id=maria.id, expected_version=maria.version,
                            changes={"email": "b@example.com"}, original=original)
    assert caught.value.their_fields == ("email", "phone")
    assert "You both changed the email address" in caught.value.message
    assert svc.get_customer(db, actor=staff, customer_id=maria.id).profile.email == "a@example.com"


def test_a_name_company_or_email_must_remain(db, staff, owner):
    c = new(db, owner, "Solo", "", phone="+1 713 555 0100").customer
    with pytest.raises(ValidationError, match="needs a name"):
        svc.update_customer(db, actor=staff, customer_id=c.id, expected_version=c.version,
                            changes={"first_name": ""})


# --- Notes -----------------------------------------------------------------------------------


def test_a_card_number_in_a_note_is_masked_and_the_desk_told_why(db, staff, maria):
    result = svc.add_note(db, actor=staff, customer_id=maria.id,
                          text="Wants to pay with 4111 1111 1111 1111 exp 12/26, call back.")
    assert result.masked
    assert "card number was removed" in result.message
    assert "4111 1111 1111 1111" not in result.note.text
    assert "1111" in result.note.text and "call back" in result.note.text
    with db.read() as s:
        stored = s.scalar(select(CustomerNote.text).where(CustomerNote.id == result.note.id))
    assert stored == result.note.text
    assert "4111 1111 1111 1111" not in stored
    plain = svc.add_note(db, actor=staff, customer_id=maria.id, text="Order 10042 arrived damaged.")
    assert not plain.masked and plain.message == "" and plain.note.text == "Order 10042 arrived damaged."
    (event, _) = events(db, "add_customer_note", maria.id)
    assert json.loads(event.fields) == ["text"]


def test_an_empty_note_is_refused(db, staff, maria):
    with pytest.raises(ValidationError, match="Write something"):
        svc.add_note(db, actor=staff, customer_id=maria.id, text="   ")


# --- Duplicates and merging ------------------------------------------------------------------


def test_duplicates_by_phone_email_and_name_with_postcode(db, owner):
    a = new(db, owner, "Ann", "Lee", email="ann@example.com", phone="+1 713 555 0111").customer
    b = new(db, owner, "Annie", "Lee", email="ANN@example.com").customer
    c = new(db, owner, "A.", "Lee", phone="(713) 555-0111").customer
    d = new(db, owner, "Bob", "Stone", address={"address_1": "1 A St", "city": "X", "postcode": "SW1A 1AA"}).customer
    e = new(db, owner, "bob", "STONE", address={"address_1": "9 B St", "city": "X", "postcode": "sw1a1aa"}).customer
    new(db, owner, "Bob", "Stone", address={"address_1": "1 C St", "city": "X", "postcode": "77002"})
    groups = {(g.reason, tuple(r.id for r in g.customers)) for g in svc.find_duplicates(db, actor=owner)}
    assert groups == {("email", (a.id, b.id)), ("phone", (a.id, c.id)), ("name_postcode", (d.id, e.id))}


def test_creating_a_customer_warns_of_possible_duplicates(db, owner):
    first = new(db, owner, "Ann", "Lee", email="ann@example.com").customer
    created = new(db, owner, "Ann", "Lee", email="Ann@Example.com")
    assert [h.id for h in created.possible_duplicates] == [first.id]
    assert outbox(db, OutboxKind.CREATE_CUSTOMER)[-1].entity_id == created.customer.id


def test_similar_customers_say_every_way_they_match_for_the_desk_and_the_phone_order_alike(db, owner):
    ann = new(db, owner, "Ann", "Lee", email="ann@example.com", phone="+1 713 555 0111",
              address={"address_1": "1 A St", "city": "X", "postcode": "77002"}).customer
    other = new(db, owner, "Zed", "Other", phone="(713) 555-0111").customer
    hits = svc.similar_customers(db, actor=owner, email="ANN@example.com", phone="713 555 0111",
                                 first_name="Ann", last_name="Lee", postcode="77 002")
    assert [(h.id, h.match, h.reasons) for h in hits] == [
        (ann.id, "email", ("email", "phone", "name")), (other.id, "phone", ("phone",))]
    # The phone-order screen asks the same question and words the same answer.
    similar = po.similar_customers(db, actor=owner, name="Ann Lee", email="ANN@example.com",
                                   phone="713 555 0111", postcode="77 002")
    assert [(c.id, c.reasons) for c in similar] == [
        (ann.id, ("email", "phone number", "name and postcode")), (other.id, ("phone number",))]


def test_merge_moves_everything_to_the_kept_customer(db, owner, staff):
    keep = new(db, owner, "Ann", "Lee", phone="+1 713 555 0111",
               address={"address_1": "1 A St", "city": "X", "postcode": "77002"}).customer
    gone = new(db, owner, "Ann", "Lee", email="ann@example.com",
               address={"address_1": "2 B St", "city": "Y", "postcode": "77003"}).customer
    add_history(db, keep.id, order_number="7001")
    order_id, list_id = add_history(db, gone.id, order_number="7002")  # same list as keep
    add_history(db, gone.id, list_name="Coffee letter", order_number="7003")
    svc.add_note(db, actor=staff, customer_id=gone.id, text="Called about 7002.")
    result = svc.merge_customers(db, actor=staff, keep_id=keep.id, merge_id=gone.id)
    assert result.filled == ("email",)
    assert result.changes.customers == {keep.id, gone.id}
    with db.read() as s:
        for model in (Order, CustomerAddress, CustomerNote, ConsentEvent, Subscription, PrivacyRequest):
            left = s.scalar(select(func.count()).select_from(model).where(model.customer_id == gone.id))
            assert left == 0, model.__name__
        merged = s.get(Customer, gone.id)
        assert merged.merged_into_id == keep.id and merged.status is CustomerStatus.DEACTIVATED
        merged_version = merged.version
    detail = svc.get_customer(db, actor=owner, customer_id=keep.id)
    assert sorted(o.number for o in detail.orders) == ["7001", "7002", "7003"]
    assert sorted(a.postcode for a in detail.addresses) == ["77002", "77003"]
    assert [n.text for n in detail.notes] == ["Called about 7002."]
    assert sorted(s.list_name for s in detail.subscriptions) == ["Coffee letter", "Tea letter"]
    assert len(detail.consents) == 3 and len(detail.requests) == 3
    assert detail.profile.email == "ann@example.com"
    assert {e.customer_id for e in events(db, "merge_customers")} == {keep.id, gone.id}
    (message,) = outbox(db, OutboxKind.MERGE_CUSTOMERS)
    assert message.entity_id == keep.id and json.loads(message.payload) == {"merged_id": gone.id}
    with pytest.raises(ValidationError, match="already merged"):
        svc.merge_customers(db, actor=staff, keep_id=keep.id, merge_id=gone.id)
    # The merged record is read-only now.
    with pytest.raises(ValidationError, match="merged"):
        svc.update_customer(db, actor=staff, customer_id=gone.id, expected_version=merged_version,
                            changes={"first_name": "X"})


def test_a_customer_cannot_be_merged_into_themselves(db, owner, maria):
    with pytest.raises(ValidationError, match="themselves"):
        svc.merge_customers(db, actor=owner, keep_id=maria.id, merge_id=maria.id)


# --- Permissions -----------------------------------------------------------------------------


def test_an_order_taker_finds_and_views_but_cannot_edit(db, order_taker, maria):
    assert svc.search_customers(db, actor=order_taker, query="garcia")[0].id == maria.id
    detail = svc.get_customer(db, actor=order_taker, customer_id=maria.id)
    assert not detail.can_edit and not detail.can_merge
    with pytest.raises(PermissionDenied, match="Order taker accounts may not change a customer"):
        svc.update_customer(db, actor=order_taker, customer_id=maria.id, expected_version=maria.version,
                            changes={"first_name": "Mary"})
    # A delivery preference is part of taking an order: notes are hers to add.
    assert svc.add_note(db, actor=order_taker, customer_id=maria.id, text="Ring twice").note.text == "Ring twice"
    with pytest.raises(PermissionDenied):
        svc.merge_customers(db, actor=order_taker, keep_id=maria.id, merge_id=maria.id)
    with pytest.raises(PermissionDenied):
        svc.create_customer(db, actor=order_taker, first_name="New", last_name="Person")
    assert svc.get_customer(db, actor=order_taker, customer_id=maria.id).profile.first_name == "María"
    denied = events(db, "denied:edit_customer", maria.id)  # the edit
    assert [e.staff_id for e in denied] == [order_taker.staff_id]


# --- The customers list ------------------------------------------------------------------------


def test_keyset_pages_walk_the_whole_list_in_order(db, owner):
    names = ["Zoë Adams", "Émile Brun", "anna Adams", "Bo Chen", "Ana Ávila", "Carl Brun", "Dan Chen"]
    for full in names:
        first, last = full.split()
        new(db, owner, first, last)

    def walk(sort, **filters):
        seen, after = [], None
        while True:
            page = svc.list_customers_page(db, actor=owner, sort=sort, after=after, limit=3, **filters)
            seen.extend(r.name for r in page.rows)
            if page.next_key is None:
                return seen
            after = page.next_key

    by_name = walk(svc.CustomerSort.NAME)
    assert by_name == ["anna Adams", "Zoë Adams", "Ana Ávila", "Carl Brun", "Émile Brun", "Bo Chen", "Dan Chen"]
    assert walk(svc.CustomerSort.NAME_DESC) == by_name[::-1]
    assert walk(svc.CustomerSort.NEWEST) == names[::-1]
    assert walk(svc.CustomerSort.OLDEST) == names
    assert svc.count_customers(db, actor=owner) == len(names)


@pytest.mark.parametrize("small_list", [svc.SMALL_LIST, 0], ids=["short lists by id", "every list walked"])
def test_any_rows_of_the_list_are_read_from_its_layout_in_either_direction(db, owner, monkeypatch, small_list):
    """The list shown by blocks: its layout counts it and finds any rows, for every sort and filter."""
    monkeypatch.setattr(svc, "SMALL_LIST", small_list)
    for i in range(23):
        new(db, owner, f"F{i % 4}", f"L{(i * 7) % 23:02d}")
    with db.begin() as s:
        for c in s.scalars(select(Customer)):
            c.created_at = c.created_at - timedelta(minutes=(c.id * 11) % 23)
            if c.id % 4 == 0:
                c.status = CustomerStatus.DEACTIVATED
    for sort in svc.CustomerSort:
        for filters in ({}, {"status": CustomerStatus.ACTIVE}, {"status": CustomerStatus.ERASED}):
            whole = [r.id for r in svc.list_customers_page(db, actor=owner, sort=sort, limit=100, **filters).rows]
            count = svc.count_customers(db, actor=owner, **filters)
            assert len(whole) == count
            for stride in (1, 5, 7, 100):
                layout = svc.customer_list_layout(db, actor=owner, sort=sort, stride=stride, **filters)
                assert layout.count == count
                ascending = whole if svc.ascending_sort(sort) == sort else whole[::-1]
                if layout.ids is not None:
                    assert list(layout.ids) == ascending and (filters or small_list)
                else:
                    assert [key[1] for key in layout.keys] == ascending[::stride]
                for first in range(count + 2):
                    for limit in (1, 3, 5):
                        rows = svc.list_customers_rows(db, actor=owner, layout=layout, sort=sort, first=first,
                                                       limit=limit, **filters)
                        assert [r.id for r in rows] == whole[first:first + limit], (sort, filters, stride, first)
            # One layout serves both directions of its column.
            other = {svc.CustomerSort.NAME: svc.CustomerSort.NAME_DESC, svc.CustomerSort.NAME_DESC: svc.CustomerSort.NAME,
                     svc.CustomerSort.NEWEST: svc.CustomerSort.OLDEST, svc.CustomerSort.OLDEST: svc.CustomerSort.NEWEST}[sort]
            layout = svc.customer_list_layout(db, actor=owner, sort=other, stride=5, **filters)
            rows = svc.list_customers_rows(db, actor=owner, layout=layout, sort=sort, first=6, limit=5, **filters)
            assert [r.id for r in rows] == whole[6:11]


def test_a_sample_places_rows_about_where_they_are_and_the_layout_finds_their_exact_place(db, owner, monkeypatch):
    """Before a long list's layout is in, a sample of it places rows away from its ends:
    consecutive rows of the list, near where they belong; near the ends they are exact; the
    layout then tells exactly where any of them is."""
    for i in range(120):
        new(db, owner, f"F{i % 5}", f"L{(i * 7919) % 1009:04d}")
    with db.begin() as s:
        for c in s.scalars(select(Customer)):
            c.created_at = c.created_at - timedelta(minutes=(c.id * 7907) % 1013)
            if (c.id * 2654435761) % 10 < 3:
                c.status = CustomerStatus.DEACTIVATED
    monkeypatch.setattr(svc, "SAMPLE_PROBES", 40)
    monkeypatch.setattr(svc, "SAMPLE_LEAST", 10)
    monkeypatch.setattr(svc, "SMALL_LIST", 20)
    monkeypatch.setattr(svc, "NEAR_END", 10)
    for sort in svc.CustomerSort:
        for filters in ({}, {"status": CustomerStatus.ACTIVE}):
            whole = [r.id for r in svc.list_customers_page(db, actor=owner, sort=sort, limit=200, **filters).rows]
            count = len(whole)
            sample = svc.sample_customer_list(db, actor=owner, sort=sort, **filters)
            ascending = whole if svc.ascending_sort(sort) == sort else whole[::-1]
            assert 10 <= len(sample) < count
            assert [i for _k, i in sample] == [i for i in ascending if i in {i for _k, i in sample}]  # in order
            layout = svc.customer_list_layout(db, actor=owner, sort=sort, stride=7, **filters)
            off = set()
            for first in range(0, count, 3):
                rows = svc.list_customers_rows(db, actor=owner, layout=None, count=count, sample=sample, sort=sort,
                                               first=first, limit=5, **filters)
                ids = [r.id for r in rows]
                at = whole.index(ids[0])
                assert ids == whole[at:at + 5]  # consecutive rows of the list
                assert abs(at - first) <= count // 4, (sort, filters, first)
                if not svc.placed_by_sample(count, first, 5, len(sample)):
                    assert at == first  # near the ends: exact
                off.add(at - first)
                position = svc.customer_list_position(db, actor=owner, layout=layout, sort=sort,
                                                      key=(rows[0].sort_key, rows[0].id), **filters)
                assert position == at
            assert off != {0}, (sort, filters, len(sample), count, off)  # (placed by the sample, not counted)
    # A customer not on the list has no place on it.
    gone = svc.list_customers_page(db, actor=owner, status=CustomerStatus.DEACTIVATED, limit=1).rows[0]
    layout = svc.customer_list_layout(db, actor=owner, status=CustomerStatus.ACTIVE)
    assert svc.customer_list_position(db, actor=owner, layout=layout, key=(gone.sort_key, gone.id),
                                      status=CustomerStatus.ACTIVE) is None
    # Too few of the list among the ids looked at: no sample, nothing placed by it.
    monkeypatch.setattr(svc, "SAMPLE_LEAST", 1000)
    assert svc.sample_customer_list(db, actor=owner) == ()


def test_list_filters_status_list_membership_and_open_requests(db, owner, monkeypatch):
    a = new(db, owner, "Ann", "Able").customer
    b = new(db, owner, "Ben", "Baker").customer
    new(db, owner, "Cy", "Cole")
    _, list_id = add_history(db, a.id)
    with db.begin() as s:
        s.get(Customer, b.id).status = CustomerStatus.DEACTIVATED
        for r in s.scalars(select(PrivacyRequest)):
            r.status = RequestStatus.FULFILLED
        s.add(PrivacyRequest(customer_id=b.id, kind=RequestKind.DELETION, due_at=utcnow()))

    def names(**filters):
        page = svc.list_customers_page(db, actor=owner, sort="name", **filters)
        assert svc.count_customers(db, actor=owner, **filters) == len(page.rows)
        for sort, small_list in itertools.product(svc.CustomerSort, (50_000, 0)):
            # The layout counts the same rows and finds them, short lists by id or walked.
            monkeypatch.setattr(svc, "SMALL_LIST", small_list)
            layout = svc.customer_list_layout(db, actor=owner, sort=sort, stride=1, **filters)
            assert layout.count == len(page.rows)
            rows = svc.list_customers_rows(db, actor=owner, layout=layout, sort=sort, first=0, limit=10, **filters)
            assert rows == svc.list_customers_page(db, actor=owner, sort=sort, **filters).rows
        return [r.name for r in page.rows]

    assert names(status=CustomerStatus.DEACTIVATED) == ["Ben Baker"]
    assert names(status="active") == ["Ann Able", "Cy Cole"]
    assert names(list_id=list_id) == ["Ann Able"]
    assert names(has_open_request=True) == ["Ben Baker"]
    assert names(has_open_request=False) == ["Ann Able", "Cy Cole"]
    assert [o.name for o in svc.newsletter_list_options(db, actor=owner)] == ["Tea letter"]
