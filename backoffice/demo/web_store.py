"""The demo's web store: a dev store filled with a believable shop and served on
loopback, and a fresh database set up to sync with it (`backoffice demo`).

The window (ui/shell/demo_app.py) calls these two functions; the dev store, the keys and the
settings stay on this side of the line the window does not cross.
"""

from __future__ import annotations

import time
from pathlib import Path

from backoffice import secrets
from backoffice.db import Database, open_database
from backoffice.demo.load import create_demo_accounts
from backoffice.services import settings as shop_settings
from backoffice.services import staff
from backoffice.store.devstore import DevStore


def start_demo_store(folder: Path, *, seed: int, customers: int, orders: int, products: int,
                     port: int = 0) -> DevStore:
    """A dev store in `folder`, filled and listening on loopback; close() it when done.

    The shop's history ends an hour ago, so today's home screen has recent orders to show.
    """
    store = DevStore(db_path=str(Path(folder) / "devstore.db"), seed=seed)
    try:
        store.populate(customers=customers, orders=orders, products=products, until=time.time() - 3600)
        store.start(port=port)
    except BaseException:
        store.close()
        raise
    return store


def open_demo_database(url: str, store: DevStore):
    """Open a fresh database at `url` for the demo shop: its staff accounts, the store's
    address, and the store's keys in the keyring; returns (database, the owner signed in).

    Raises UserFacingError when the database cannot be made.
    """
    db: Database = open_database(url)
    accounts = create_demo_accounts(db)
    # The first sync is the owner's, as the audit trail shows.
    owner_login, _role, owner_pw = accounts[0]
    owner = staff.authenticate(db, login=owner_login, password=owner_pw, desk="demo")
    with db.begin() as s:
        shop_settings.write_settings(s, {"store.url": store.base_url})
    # The demo's keys are throwaway; a real shop's live in the keyring the same way.
    secrets.set_store_credentials(store.base_url, store.consumer_key, store.consumer_secret)
    return db, owner
