"""The first start of a shop: the owner's account, the shop's details and the web store, in one go.

Nobody is signed in yet, so these functions take no acting account; they refuse to run once
the database has staff (the owner then signs in and changes settings as usual).
"""

from __future__ import annotations

from dataclasses import dataclass

from backoffice import secrets
from backoffice.db import Database, open_database, safe_url
from backoffice.domain.staff import Actor
from backoffice.errors import ValidationError
from backoffice.services import settings as settings_service
from backoffice.services import staff
from backoffice.store.connector import StoreCredentials
from backoffice.store.http import check_store_url
from backoffice.store.woocommerce import WooCommerceConnector

# What a connection check may take: a person waits for the answer.
CHECK_TIMEOUT = (5, 15)


@dataclass(frozen=True)
class ShopDetails:
    shop_name: str
    ship_from_name: str
    ship_from_address: str


@dataclass(frozen=True)
class StoreAccess:
    url: str
    consumer_key: str
    consumer_secret: str

    def given(self) -> bool:
        return bool(self.url.strip())


def _store_url(url: str) -> str:
    return check_store_url(url.strip())


def _check_keys(access: StoreAccess) -> None:
    problems = {}
    for field, value, prefix, label in (("consumer_key", access.consumer_key, "ck_", "Consumer key"),
                                        ("consumer_secret", access.consumer_secret, "cs_", "Consumer secret")):
        if not value.strip().startswith(prefix):
            problems[field] = f"{label}: paste the key WooCommerce made for the back office; it starts with {prefix}."
    if problems:
        raise ValidationError(" ".join(problems.values()), fields=problems)


def check_store(*, access: StoreAccess) -> str:
    """Ask the web store one small question with the typed address and keys; say how it went.

    Raises ValidationError for an address that cannot be used, UserFacingError (the
    connector's own sentence) when the store does not answer or refuses the keys.
    """
    _check_keys(access)
    base = _store_url(access.url)
    connector = WooCommerceConnector(StoreCredentials(base, access.consumer_key.strip(),
                                                      access.consumer_secret.strip()),
                                     max_retries=0, timeout=CHECK_TIMEOUT)
    try:
        result = connector.ping()
    finally:
        connector.close()
    orders = "" if result.orders_total is None else f" It holds {result.orders_total:,} orders."
    return f"The web store answered and accepted the keys.{orders}"


def check_database(*, url: str, password: str = "") -> str:
    """Open a shared database server's database once (migrating it), to see that it can be used;
    the password goes to the keyring. Raises UserFacingError with the reason when it cannot.
    """
    if not url.strip().startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        raise ValidationError("Enter the server's address as postgresql://user@host/database.")
    full = url.strip()
    if password:
        secrets.set_database_password(safe_url(full), password)
    db = open_database(full)
    try:
        return f"The database at {safe_url(db.url)} is ready."
    finally:
        db.dispose()


def complete_first_run(db: Database, *, owner_login: str, owner_name: str, password: str, desk: str,
                       shop: ShopDetails, store: StoreAccess | None = None) -> Actor:
    """Create the owner's account, save the shop's details and the web store's address and keys.

    Returns the owner, signed in. Raises ValidationError (fields named) for bad input and
    StaffExists when another desk created the first account meanwhile; the keys go to the
    keyring only.
    """
    values = {"shop.name": shop.shop_name.strip(), "ship_from.name": shop.ship_from_name.strip(),
              "ship_from.address": shop.ship_from_address.strip()}
    with_keys = store is not None and store.given() and bool(store.consumer_key.strip() or store.consumer_secret.strip())
    if store is not None and store.given():
        values["store.url"] = _store_url(store.url)
    if with_keys:
        _check_keys(store)
    # Everything is checked before the account exists, so a typo leaves nothing half made.
    settings_service.check_settings(values)
    owner = staff.create_first_owner(db, login=owner_login, display_name=owner_name, password=password, desk=desk)
    settings_service.set_settings(db, actor=owner, values=values)
    if with_keys:
        settings_service.set_store_keys(db, actor=owner, consumer_key=store.consumer_key,
                                        consumer_secret=store.consumer_secret)
    return owner
