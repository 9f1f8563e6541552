"""Shop settings as the owner sets them: every value checked before anything is saved, each
problem named by its setting; the web store's keys kept in the keyring only; a connection check."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice import secrets
from backoffice.domain import AuditEvent
from backoffice.domain.settings import ShopSetting
from backoffice.errors import PermissionDenied, StoreError, ValidationError
from backoffice.services import settings as svc
from backoffice.services import sync
from backoffice.store.devstore import DevStore

KEY = "ck_" + "a1" * 20
SECRET = "cs_" + "b2" * 20


def stored(db) -> dict[str, str]:
    with db.read() as s:
        return dict(s.execute(select(ShopSetting.key, ShopSetting.value)).all())


def test_values_are_tidied_as_they_are_saved(db, owner):
    svc.set_settings(db, actor=owner, values={
        "shop.currency": " eur ", "shop.default_country": "de", "privacy.response_days": "21",
        "store.url": "https://shop.example.com/", "payments.terminal_url": "https://dashboard.stripe.com/terminal"})
    assert svc.get_setting(db, "shop.currency") == "EUR"
    assert svc.get_setting(db, "shop.default_country") == "DE"
    assert svc.get_setting(db, "privacy.response_days") == 21
    assert svc.get_setting(db, "store.url") == "https://shop.example.com"


def test_every_problem_is_named_and_nothing_is_saved(db, owner):
    before = stored(db)
    with pytest.raises(ValidationError) as caught:
        svc.set_settings(db, actor=owner, values={
            "shop.name": "Corner Shop", "shop.currency": "Euro", "shop.default_country": "XX",
            "privacy.response_days": 0, "store.sync_minutes": "often",
            "store.url": "http://shop.example.com", "payments.terminal_url": "dashboard.stripe.com"})
    error = caught.value
    assert set(error.fields) == {"shop.currency", "shop.default_country", "privacy.response_days",
                                 "store.sync_minutes", "store.url", "payments.terminal_url"}
    assert error.fields["privacy.response_days"] == "Days to answer a privacy request: enter a whole number from 1 to 90."
    assert "three-letter code" in error.fields["shop.currency"]
    assert "https://" in error.fields["store.url"] and "shop.example.com" in error.fields["store.url"]
    assert error.message.endswith("Nothing was saved.")
    assert stored(db) == before  # not even the good shop name


def test_a_store_on_this_computer_may_use_plain_http(db, owner):
    svc.set_settings(db, actor=owner, values={"store.url": "http://127.0.0.1:8080"})
    assert svc.get_setting(db, "store.url") == "http://127.0.0.1:8080"
    svc.set_settings(db, actor=owner, values={"store.url": ""})  # no store at all
    assert svc.get_setting(db, "store.url") == ""


def test_an_unusable_stored_address_is_named_with_where_to_mend_it(db):
    from backoffice.services.sync import connector_for

    # Saved before the rule: the settings page refuses it now.
    with db.begin() as s:
        svc.write_settings(s, {"store.url": "shop.example.com"})
    with pytest.raises(ValidationError) as caught:
        connector_for(db)
    assert caught.value.message == ("The web store address must be a full address such as https://shop.example.com. "
                                    "Check the address in Shop settings → Web store.")
    # An address typed on the command line is not one the settings hold.
    with pytest.raises(ValidationError) as caught:
        connector_for(db, store_url="shop.example.com")
    assert "Shop settings" not in caught.value.message


def test_only_the_owner_changes_settings_or_keys(db, staff):
    with pytest.raises(PermissionDenied):
        svc.set_settings(db, actor=staff, values={"shop.name": "Mine now"})
    with pytest.raises(PermissionDenied):
        svc.set_store_keys(db, actor=staff, consumer_key=KEY, consumer_secret=SECRET)
    with pytest.raises(PermissionDenied):
        svc.store_keys_state(db, actor=staff)


def test_keys_go_to_the_keyring_for_the_saved_address_never_to_the_database(db, owner, memory_keyring):
    with pytest.raises(ValidationError, match="address first"):
        svc.set_store_keys(db, actor=owner, consumer_key=KEY, consumer_secret=SECRET)
    svc.set_settings(db, actor=owner, values={"store.url": "https://shop.example.com"})
    state = svc.store_keys_state(db, actor=owner)
    assert not state.saved and "No API keys" in state.sentence

    state = svc.set_store_keys(db, actor=owner, consumer_key=f" {KEY} ", consumer_secret=SECRET)
    assert state.saved and state.sentence == "The API keys for https://shop.example.com are kept in this computer's keyring."
    assert secrets.store_credentials("https://shop.example.com") == (KEY, SECRET)
    assert KEY in str(memory_keyring.items) and SECRET in str(memory_keyring.items)
    assert not any(KEY in v or SECRET in v for v in stored(db).values())
    with db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "change_store_keys")).one()
        assert KEY not in repr(event.__dict__) and SECRET not in repr(event.__dict__)


def test_swapped_or_mistyped_keys_are_refused(db, owner):
    svc.set_settings(db, actor=owner, values={"store.url": "https://shop.example.com"})
    with pytest.raises(ValidationError) as caught:
        svc.set_store_keys(db, actor=owner, consumer_key=SECRET, consumer_secret=KEY)
    assert set(caught.value.fields) == {"consumer_key", "consumer_secret"}
    assert "starts with ck_" in caught.value.fields["consumer_key"]
    assert secrets.store_credentials("https://shop.example.com") is None


@pytest.fixture
def devstore():
    store = DevStore(seed=5)
    store.start()
    yield store
    store.close()


def test_the_connection_check_says_how_the_store_answered(db, owner, devstore):
    svc.set_settings(db, actor=owner, values={"store.url": devstore.base_url})
    svc.set_store_keys(db, actor=owner, consumer_key=devstore.consumer_key, consumer_secret=devstore.consumer_secret)
    sentence = sync.check_store_connection(db, actor=owner)
    assert sentence.startswith("The web store answered in ") and "accepted the keys" in sentence

    svc.set_store_keys(db, actor=owner, consumer_key="ck_" + "0" * 40, consumer_secret="cs_" + "0" * 40)
    with pytest.raises(StoreError) as caught:
        sync.check_store_connection(db, actor=owner)
    assert "key" in caught.value.message.lower()
