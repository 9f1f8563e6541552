"""The first-run setup's service: the owner, the shop and the store's keys in one go, or nothing."""

from __future__ import annotations

import pytest

from backoffice import secrets
from backoffice.errors import ValidationError
from backoffice.services import first_run, staff
from backoffice.services.settings import get_setting

SHOP = first_run.ShopDetails("Bayou Tea & Coffee Co.", "Bayou Tea", "2410 Westheimer Rd, Houston, TX 77098")
KEYS = first_run.StoreAccess("https://shop.example.com", "ck_0123456789abcdef", "cs_0123456789abcdef")


def test_the_owner_the_shop_and_the_keys_are_made_together(db):
    owner = first_run.complete_first_run(db, owner_login="Olivia", owner_name="Olivia Owner",
                                         password="a long password", desk="front", shop=SHOP, store=KEYS)
    assert owner.login == "olivia" and not staff.needs_first_owner(db)
    assert get_setting(db, "shop.name") == "Bayou Tea & Coffee Co."
    assert get_setting(db, "ship_from.address") == "2410 Westheimer Rd, Houston, TX 77098"
    url = get_setting(db, "store.url")
    assert secrets.store_credentials(url) == ("ck_0123456789abcdef", "cs_0123456789abcdef")
    with pytest.raises(staff.StaffExists):
        first_run.complete_first_run(db, owner_login="eve", owner_name="Eve", password="a long password",
                                     desk="front", shop=SHOP)


def test_a_key_pasted_wrong_leaves_nothing_made(db):
    wrong = first_run.StoreAccess(KEYS.url, "0123456789abcdef", KEYS.consumer_secret)
    with pytest.raises(ValidationError) as refused:
        first_run.complete_first_run(db, owner_login="olivia", owner_name="Olivia Owner",
                                     password="a long password", desk="front", shop=SHOP, store=wrong)
    assert "ck_" in refused.value.message
    assert staff.needs_first_owner(db)


def test_the_connection_check_refuses_keys_that_cannot_be_keys_before_asking_anyone():
    with pytest.raises(ValidationError) as refused:
        first_run.check_store(access=first_run.StoreAccess("https://shop.example.com", "", ""))
    assert "ck_" in refused.value.message and "cs_" in refused.value.message
