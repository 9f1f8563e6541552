"""`backoffice demo` in a window: a fresh demo shop that syncs for real with a dev store.

A dev store is filled with a believable shop and served on loopback; a fresh SQLite
database gets the demo staff accounts and settings, and its first sync pulls the
shop from the dev store (with a progress bar), exactly as a real shop's first start
would. The dev store keeps running while the app is open, so phone orders, pay
links and payments go through the same REST API a real store speaks.
"""

from __future__ import annotations

import argparse
import logging
import shutil

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import QMessageBox, QProgressDialog

from backoffice.places import data_dir
from backoffice.demo.activity import add_demo_activity
from backoffice.demo.load import accounts_hint
from backoffice.demo.web_store import open_demo_database, start_demo_store
from backoffice.errors import UserFacingError
from backoffice.services import sync
from ui.shell.app import application, configure_logging, run_app
from ui.common.errors import show_error
from ui.common.tasks import TaskManager

log = logging.getLogger(__name__)

DEFAULT_CUSTOMERS = 1500
DEFAULT_ORDERS = 4000


def _first_sync(db, store_url: str, actor, seed: int = 1) -> bool:
    """Pull the whole demo shop into the database and add the desk's own work (newsletter
    lists, privacy requests), showing progress; False if cancelled or failed."""
    tasks = TaskManager()
    dialog = QProgressDialog("Fetching the demo shop from its web store…", "Cancel", 0, 0)
    dialog.setWindowTitle("Demo shop")
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setMinimumWidth(420)
    loop = QEventLoop()
    outcome: dict[str, object] = {}

    def work(token, progress):
        connector = sync.connector_for(db, store_url=store_url)
        try:
            summary = sync.run_sync(db, connector, actor=actor, full_customer_scan=True, cancel=token,
                                    progress=progress)
            if summary.ok:
                progress(0, 1, "Putting people on the newsletter lists and logging privacy requests…")
                add_demo_activity(db, actor=actor, seed=seed)
                # Their consent goes to the web store as any change made here does.
                summary = sync.run_sync(db, connector, actor=actor, cancel=token, progress=progress)
        finally:
            connector.close()
        return summary

    def on_progress(done: int, total: int, text: str) -> None:
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, max(total, 1)))
        dialog.setLabelText(text or "Fetching the demo shop…")

    def finish(key, value) -> None:
        outcome[key] = value
        loop.quit()

    token = tasks.run_io(work, on_success=lambda r: finish("ok", r), on_failure=lambda e: finish("error", e),
                         on_progress=on_progress)
    dialog.canceled.connect(token.cancel)
    dialog.show()
    loop.exec()
    dialog.close()
    tasks.wait_all(10_000)
    if "error" in outcome:
        show_error(None, outcome["error"])
        return False
    return "ok" in outcome


def run_demo(args: argparse.Namespace) -> int:
    """Open the app on a fresh demo shop; returns the app's exit code."""
    configure_logging()
    application()
    customers = args.customers if args.customers is not None else DEFAULT_CUSTOMERS
    orders = args.orders if args.orders is not None else DEFAULT_ORDERS
    folder = data_dir() / "demo"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    store = start_demo_store(folder, seed=args.seed, customers=customers, orders=orders,
                             products=args.products, port=args.port)
    try:
        print(f"Demo web store: {store.base_url} (key {store.consumer_key})", flush=True)
        url = args.db or f"sqlite:///{folder / 'demo-shop.db'}"
        try:
            db, owner = open_demo_database(url, store)
        except UserFacingError as exc:
            QMessageBox.critical(None, "The demo shop could not be made", exc.message)
            return 1
        ok = _first_sync(db, store.base_url, owner, seed=args.seed)
        db.dispose()
        if not ok:
            return 1
        return run_app(db_url=url, demo_hint=accounts_hint(), store=store)
    finally:
        store.close()
