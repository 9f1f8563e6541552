"""Newsletter consent through the web store: each list's status goes to the customer meta
key chosen in the settings, and a store-side decision comes back when it is the newer one."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.domain import ConsentEvent, Customer, OutboxMessage, Subscription
from backoffice.domain.base import utcnow
from backoffice.domain.enums import SubscriptionStatus
from backoffice.services import customers as customers_service
from backoffice.services import settings as settings_service
from backoffice.services import sync
from backoffice.services.newsletters import consent, lists, suppression
from tests.integration.sync_helpers import FAST, SYNC_ACTOR, connector

KEY = "_shop_consent"


STORE = {"seed": 5, "customers": 6, "orders": 0, "products": 2}


@pytest.fixture
def conn(store):
    with connector(store) as c:
        yield c


def synced_customer(db, owner, store, conn):
    settings_service.set_settings(db, actor=owner, values={"store.consent_meta_key": KEY})
    assert sync.run_sync(db, conn, actor=SYNC_ACTOR, full_customer_scan=True, options=FAST).ok
    target = store.list_customers(role="customer")[0]
    with db.read() as s:
        cid = s.execute(select(Customer.id).where(Customer.store_id == target["id"])).scalar_one()
    return target["id"], cid


def store_consent(store, store_id):
    meta = {m["key"]: m["value"] for m in store.get_customer(store_id)["meta_data"]}
    return json.loads(meta[KEY])


def set_on_store(store, store_id, status, at):
    value = json.dumps({"lists": {"email_newsletter": {"status": status,
                                                       "at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}}})
    store.update_customer(store_id, {"meta_data": [{"key": KEY, "value": value}]})


def local_status(db, cid, list_id):
    with db.read() as s:
        return s.execute(select(Subscription.status).where(Subscription.customer_id == cid,
                                                           Subscription.list_id == list_id)).scalar_one()


def test_a_subscription_here_reaches_the_store_meta_key(db, owner, store, conn):
    store_id, cid = synced_customer(db, owner, store, conn)
    email = lists.find_list(db, actor=owner, name="Email newsletter")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    assert sync.run_sync(db, conn, actor=SYNC_ACTOR, options=FAST).ok
    value = store_consent(store, store_id)  # the dev store keeps a customer's meta_data
    assert value["lists"]["email_newsletter"]["status"] == "subscribed" and value["may_market"] is True
    # Pulled back, the store's copy of the decision made here changes nothing.
    assert sync.run_sync(db, conn, actor=SYNC_ACTOR, full_customer_scan=True, options=FAST).ok
    with db.read() as s:
        assert len(s.execute(select(ConsentEvent.id)).all()) == 1


def test_a_store_side_opt_out_arrives_through_the_sync(db, owner, store, conn):
    store_id, cid = synced_customer(db, owner, store, conn)
    email = lists.find_list(db, actor=owner, name="Email newsletter")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    assert sync.run_sync(db, conn, actor=SYNC_ACTOR, options=FAST).ok
    set_on_store(store, store_id, "unsubscribed", utcnow() + timedelta(seconds=5))
    assert sync.run_sync(db, conn, actor=SYNC_ACTOR, full_customer_scan=True, options=FAST).ok
    assert local_status(db, cid, email.id) is SubscriptionStatus.UNSUBSCRIBED
    history = consent.customer_consent(db, actor=owner, customer_id=cid).history
    assert history[0].method == "store" and history[1].method == "phone"
    # It is an opt-out like any other: the address is suppressed for imports.
    with db.begin() as s:
        assert suppression.is_suppressed(s, suppression.suppression_secret(s), email.channel, email.id,
                                         suppression.normalised_address(email.channel,
                                                                        store.get_customer(store_id)["email"]))


def test_an_older_store_side_opt_out_does_not_beat_a_newer_opt_in_here(db, owner, store, conn):
    store_id, cid = synced_customer(db, owner, store, conn)
    email = lists.find_list(db, actor=owner, name="Email newsletter")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    assert sync.run_sync(db, conn, actor=SYNC_ACTOR, options=FAST).ok
    # The store holds an opt-out made before the opt-in here (a stale copy, another tool).
    set_on_store(store, store_id, "unsubscribed", utcnow() - timedelta(days=2))
    assert sync.run_sync(db, conn, actor=SYNC_ACTOR, full_customer_scan=True, options=FAST).ok
    assert local_status(db, cid, email.id) is SubscriptionStatus.SUBSCRIBED
    assert len(consent.customer_consent(db, actor=owner, customer_id=cid).history) == 1


def test_restricted_people_are_marked_on_the_store_without_losing_their_choice(db, owner, store, conn):
    store_id, cid = synced_customer(db, owner, store, conn)
    email = lists.find_list(db, actor=owner, name="Email newsletter")
    with db.begin() as s:
        s.get(Customer, cid).restricted = True
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    assert sync.run_sync(db, conn, actor=SYNC_ACTOR, options=FAST).ok
    value = store_consent(store, store_id)
    assert value["may_market"] is False and value["lists"]["email_newsletter"]["status"] == "subscribed"


def test_every_list_travels_and_no_account_is_opened_for_a_consent(db, owner, store, conn):
    store_id, cid = synced_customer(db, owner, store, conn)
    here_only = customers_service.create_customer(db, actor=owner, first_name="Only", last_name="Here", email="only.here@example.net",
                                                  phone="+1 713 555 0123").customer.id
    with db.begin() as s:  # the account create waiting for a new customer is not what is tested here
        s.execute(OutboxMessage.__table__.delete().where(OutboxMessage.entity_id == here_only))
    sms = lists.find_list(db, actor=owner, name="SMS newsletter")
    with db.begin() as s:
        s.get(Customer, cid).phone = "+1 713 555 0100"
    for person in (cid, here_only):
        consent.subscribe(db, actor=owner, customer_id=person, list_id=sms.id, wording_id=sms.wording.id)
    accounts = store.count("customers")
    assert sync.run_sync(db, conn, actor=SYNC_ACTOR, options=FAST).ok
    assert store_consent(store, store_id)["lists"]["sms_newsletter"]["status"] == "subscribed"
    assert store.count("customers") == accounts


def _version(db, cid):
    with db.read() as s:
        return s.execute(select(Customer.version, Customer.first_name).where(Customer.id == cid)).one()


def test_consent_sent_to_the_store_is_not_read_back_as_a_change_made_there(db, owner, store, conn):
    store_id, cid = synced_customer(db, owner, store, conn)
    email = lists.find_list(db, actor=owner, name="Email newsletter")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    before = _version(db, cid)
    summary = sync.run_sync(db, conn, actor=SYNC_ACTOR, options=FAST)
    assert summary.ok and summary.pushed == 1, summary.text
    # The desk's own change went out; nothing came back from the store as a change of its own.
    assert "0 customers" in summary.text, summary.text
    assert _version(db, cid) == before
    again = sync.run_sync(db, conn, actor=SYNC_ACTOR, options=FAST)
    assert again.ok and "0 customers" in again.text, again.text


def test_a_name_changed_on_the_store_while_consent_waits_still_arrives(db, owner, store, conn):
    store_id, cid = synced_customer(db, owner, store, conn)
    email = lists.find_list(db, actor=owner, name="Email newsletter")
    consent.subscribe(db, actor=owner, customer_id=cid, list_id=email.id, wording_id=email.wording.id)
    store.update_customer(store_id, {"first_name": "Renamed"})
    summary = sync.run_sync(db, conn, actor=SYNC_ACTOR, options=FAST)
    assert summary.ok and "1 customer and" in summary.text, summary.text
    assert _version(db, cid)[1] == "Renamed"
    assert store_consent(store, store_id)["lists"]["email_newsletter"]["status"] == "subscribed"

