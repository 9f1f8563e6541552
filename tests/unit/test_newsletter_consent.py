"""Newsletter lists and consent: default lists, subscribing on the phone under a chosen
wording, opting out of one list or all, suppression, history and audit, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backoffice.domain import AuditEvent, ConsentEvent, Customer, Suppression, SuppressionKey
from backoffice.domain.enums import Channel, ConsentAction, CustomerStatus, SubscriptionStatus
from backoffice.errors import PermissionDenied, UserFacingError, ValidationError
from backoffice.services import customers as customers_service
from backoffice.services.newsletters import consent, lists, suppression


def new_customer(db, actor, email="maria@example.com", phone="+1 713 555 0199", **kw):
    return customers_service.create_customer(
        db, actor=actor, first_name="María", last_name="García", email=email, phone=phone,
        address={"address_1": "1 Main St", "city": "Houston", "postcode": "77002"}, **kw).customer.id


def by_name(db, actor, name):
    return lists.find_list(db, actor=actor, name=name)


def test_default_lists_out_of_the_box(db, owner):
    found = {(lst.name, lst.channel) for lst in lists.list_lists(db, actor=owner)}
    assert found == {("Email newsletter", Channel.EMAIL), ("SMS newsletter", Channel.SMS),
                     ("Postal catalogue", Channel.POSTAL), ("Special offers", Channel.POSTAL)}
    for lst in lists.list_lists(db, actor=owner):
        assert lst.purpose and lst.wording is not None and lst.wording.version == 1
    # Asking again makes no second set.
    assert len(lists.list_lists(db, actor=owner)) == 4


def test_an_old_consent_keeps_its_wording(db, owner):
    cid = new_customer(db, owner)
    email = by_name(db, owner, "email newsletter")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    new_wording, _ = lists.add_wording(db, actor=owner, list_id=email.id, text="Newer wording, version two.")
    assert new_wording.version == 2
    history = consent.customer_consent(db, actor=owner, customer_id=cid).history
    assert history[0].wording == email.wording.text and history[0].wording_version == 1
    assert history[0].method == consent.Method.PHONE and history[0].taken_by == "Owner"
    status = {row.name: row for row in consent.customer_consent(db, actor=owner, customer_id=cid).lists}
    assert status["Email newsletter"].wording_version == 2
    assert status["Email newsletter"].status is SubscriptionStatus.SUBSCRIBED


def test_history_survives_an_opt_out_and_a_new_opt_in(db, owner):
    cid = new_customer(db, owner)
    sms = by_name(db, owner, "SMS newsletter")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=sms.id, wording_id=sms.wording.id,
                      method=consent.Method.PAPER)
    consent.unsubscribe(db, actor=owner, customer_id=cid, list_id=sms.id, method=consent.Method.LETTER)
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=sms.id, wording_id=sms.wording.id)
    history = consent.customer_consent(db, actor=owner, customer_id=cid).history
    assert [(h.action, h.method) for h in history] == [
        (ConsentAction.OPT_IN, "phone"), (ConsentAction.OPT_OUT, "letter"), (ConsentAction.OPT_IN, "paper")]
    assert history[1].wording == "" and history[2].wording == sms.wording.text


def test_unsubscribe_from_all_lists_and_each_change_is_audited(db, owner):
    cid = new_customer(db, owner)
    for name in ("Email newsletter", "Postal catalogue"):
        lst = by_name(db, owner, name)
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=lst.id, wording_id=lst.wording.id)
    result = consent.unsubscribe(db, actor=owner, customer_id=cid, list_id=None, method=consent.Method.EMAIL)
    assert sorted(result.changed_lists) == ["Email newsletter", "Postal catalogue"]
    statuses = {row.name: row.status for row in consent.customer_consent(db, actor=owner, customer_id=cid).lists}
    assert statuses["Email newsletter"] is SubscriptionStatus.UNSUBSCRIBED
    assert statuses["Postal catalogue"] is SubscriptionStatus.UNSUBSCRIBED
    assert statuses["SMS newsletter"] is None
    with db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.customer_id == cid)))
    assert actions.count("subscribe") == 2 and actions.count("unsubscribe") == 2


def test_suppression_stops_a_manual_add_without_new_consent(db, owner):
    cid = new_customer(db, owner)
    email = by_name(db, owner, "Email newsletter")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    consent.unsubscribe(db, actor=owner, customer_id=cid, list_id=email.id, method=consent.Method.PHONE)
    with db.begin() as s:
        c = s.get(Customer, cid)
        lst = s.get(lists.NewsletterList, email.id)
        secret = suppression.suppression_secret(s)
        with pytest.raises(consent.Suppressed):
            consent.record_change(s, secret=secret, customer=c, lst=lst, action=ConsentAction.OPT_IN,
                                  method=consent.Method.IMPORT, taken_by=None)
    # Recording new consent, with the wording read out, lifts it.
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(Suppression)).scalar_one() == 0


def test_suppression_holds_no_address_and_survives_erasure(db, owner):
    cid = new_customer(db, owner)
    email = by_name(db, owner, "Email newsletter")
    consent.unsubscribe(db, actor=owner, customer_id=cid, list_id=email.id, method=consent.Method.LETTER)
    with db.begin() as s:
        rows = list(s.scalars(select(Suppression)))
        assert len(rows) == 1 and "maria" not in rows[0].key_hash
        # Erasure removes the person; the hash stays and still matches the address.
        s.get(Customer, cid).status = CustomerStatus.ERASED
        s.get(Customer, cid).email = None
        s.flush()
        secret = suppression.suppression_secret(s)
        assert suppression.is_suppressed(s, secret, Channel.EMAIL, email.id,
                                         suppression.normalised_address(Channel.EMAIL, "MARIA@example.com"))


def test_a_desk_with_another_suppression_key_refuses(db, owner, memory_keyring):
    cid = new_customer(db, owner)
    email = by_name(db, owner, "Email newsletter")
    consent.unsubscribe(db, actor=owner, customer_id=cid, list_id=email.id, method=consent.Method.LETTER)
    memory_keyring.items.clear()
    with pytest.raises(UserFacingError, match="key"):
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(SuppressionKey)).scalar_one() == 1


def test_subscribe_needs_the_wording_and_an_address(db, owner):
    cid = new_customer(db, owner, phone="")
    sms = by_name(db, owner, "SMS newsletter")
    email = by_name(db, owner, "Email newsletter")
    with pytest.raises(ValidationError, match="phone number"):
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=sms.id, wording_id=sms.wording.id)
    with pytest.raises(ValidationError, match="wording"):
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=sms.wording.id)
    with db.read() as s:
        assert s.execute(select(func.count()).select_from(ConsentEvent)).scalar_one() == 0


def test_order_takers_may_not_change_consent(db, owner, order_taker):
    cid = new_customer(db, owner)
    email = by_name(db, owner, "Email newsletter")
    with pytest.raises(PermissionDenied):
        consent.subscribe(db, actor=order_taker, customer_id=cid, list_id=email.id, wording_id=email.wording.id)


def test_growth_by_month_withholds_small_numbers(db, owner):
    email = by_name(db, owner, "Email newsletter")
    ids = [new_customer(db, owner, email=f"p{i}@example.com", phone="") for i in range(6)]
    for cid in ids:
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    consent.unsubscribe(db, actor=owner, customer_id=ids[0], list_id=email.id, method=consent.Method.EMAIL)
    growth = lists.growth_by_month(db, actor=owner, list_id=email.id)
    assert len(growth.months) == 1
    assert growth.months[0].joined == 6
    assert growth.months[0].left is None  # one person: too few to show


def test_member_counts_and_the_customers_list_filter(db, owner):
    email = by_name(db, owner, "Email newsletter")
    a = new_customer(db, owner, email="a@example.com")
    b = new_customer(db, owner, email="b@example.com")
    for cid in (a, b):
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    consent.unsubscribe(db, actor=owner, customer_id=b, list_id=email.id, method=consent.Method.EMAIL)
    counts = by_name(db, owner, "Email newsletter").counts
    assert counts == {SubscriptionStatus.SUBSCRIBED: 1, SubscriptionStatus.UNSUBSCRIBED: 1}
    options = customers_service.newsletter_list_options(db, actor=owner)
    assert "Email newsletter" in {o.name for o in options}
    page = customers_service.list_customers_page(db, actor=owner, list_id=email.id)
    assert [r.id for r in page.rows] == [a]
    members = lists.list_members(db, actor=owner, list_id=email.id, status="unsubscribed")
    assert [m.customer_id for m in members.rows] == [b]


def test_the_customers_list_offers_the_default_lists_in_a_new_shop(db, owner):
    names = [o.name for o in customers_service.newsletter_list_options(db, actor=owner)]
    assert sorted(names) == ["Email newsletter", "Postal catalogue", "SMS newsletter", "Special offers"]


def test_the_source_of_a_consent_is_an_ip_address_or_nothing(db, owner):
    cid = new_customer(db, owner)
    email = by_name(db, owner, "Email newsletter")
    with pytest.raises(ValidationError, match="IP address"):
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id,
                          method=consent.Method.WEB_FORM, source_address="4111 1111 1111 1111")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id,
                      method=consent.Method.WEB_FORM, source_address=" 203.0.113.7 ")
    assert consent.customer_consent(db, actor=owner, customer_id=cid).history[0].source_address == "203.0.113.7"


def test_a_card_number_in_a_consent_note_is_never_stored(db, owner):
    cid = new_customer(db, owner)
    email = by_name(db, owner, "Email newsletter")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id,
                      note="Agreed while paying with 4111 1111 1111 1111")
    consent.unsubscribe(db, actor=owner, customer_id=cid, list_id=email.id, method=consent.Method.LETTER,
                        note="Letter quoted card 5500-0000-0000-0004")
    with db.read() as s:
        notes = list(s.scalars(select(ConsentEvent.evidence).order_by(ConsentEvent.id)))
    assert notes == ["Agreed while paying with [card number removed, ends 1111]",
                     "Letter quoted card [card number removed, ends 0004]"]


def test_members_are_found_by_name_email_or_phone_as_typed(db, owner):
    sms = by_name(db, owner, "SMS newsletter")
    maria = new_customer(db, owner, email="maria@example.com", phone="+1 713 555 0199")
    ben = new_customer(db, owner, email="ben_100%@example.com", phone="+44 20 7946 0958")
    other = new_customer(db, owner, email="zoe@example.com", phone="+1 212 555 0111")
    for cid in (maria, ben, other):
        consent.subscribe(db, actor=owner, customer_id=cid, list_id=sms.id, wording_id=sms.wording.id)

    def found(text):
        return sorted(m.customer_id for m in lists.list_members(db, actor=owner, list_id=sms.id, text=text).rows)

    assert found("(713) 555-0199") == [maria]
    assert found("555 01") == sorted([maria, other])
    assert found("020 7946 0958") == [ben]  # as typed in the UK, its trunk 0 and all
    assert found("0044 20 7946 0958") == [ben]
    assert found("ben_100%") == [ben]  # % and _ are letters here, not patterns
    assert found("%") == [] and found("_") == []  # not everyone
    assert found("zoe") == [other]
    assert found("12") == []  # two digits are too few to stand for a phone
