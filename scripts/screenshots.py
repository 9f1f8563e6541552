"""Screenshots of the main screens for the README: the demo shop, offscreen, at two window sizes.

    python scripts/screenshots.py [--out docs/screenshots] [--sizes 1024x700,1600x1000]

A small demo shop is generated in a dev store, pulled in by a real sync, and each screen of
the owner's window is shown and saved as a PNG. The first size is saved in `--out` as an
8-bit palette PNG (small enough to keep in the repository); other sizes go into a
subfolder named after the size, for looking at, not for committing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

# Offscreen unless a display (a real one, or xvfb-run's) is there.
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from backoffice.db import open_database  # noqa: E402
from backoffice.demo.activity import add_demo_activity  # noqa: E402
from backoffice.demo.load import create_demo_accounts  # noqa: E402
from backoffice.services import settings as shop_settings  # noqa: E402
from backoffice.services import staff  # noqa: E402
from backoffice.services import sync  # noqa: E402
from backoffice.store.devstore import DevStore  # noqa: E402
from ui.shell.app import application, build_window  # noqa: E402
from ui.setup.first_run_dialog import FirstRunDialog  # noqa: E402
from ui.common.tasks import TaskManager  # noqa: E402

# (file name, screen class name); pages are added after the screens.
SHOTS = (
    ("home", "HomeScreen"),
    ("customers", "CustomersScreen"),
    ("orders", "OrdersScreen"),
    ("phone-order", "PhoneOrderScreen"),
    ("privacy-requests", "PrivacyScreen"),
    ("newsletters", "NewslettersScreen"),
    ("shipping", "ShippingScreen"),
    ("sync", "SyncScreen"),
    ("audit", "AuditScreen"),
    ("staff", "StaffScreen"),
    ("shop-settings", "ShopSettingsScreen"),
)


def settle(window, ms: int = 600) -> None:
    """Let background loads finish and the window repaint."""
    window.ctx.tasks.wait_all(20_000)
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    window.ctx.tasks.wait_all(20_000)
    QApplication.processEvents()


def save(window, path: Path, small: bool) -> None:
    """Save what `window` shows as a PNG at `path`."""
    image = window.grab().toImage()
    if small:
        # A palette of 256 colours keeps a screenshot of flat widgets sharp and a few dozen KB.
        # Threshold, not dithered: dither noise would make the file larger, not smaller.
        image = image.convertToFormat(QImage.Format.Format_Indexed8,
                                      Qt.ImageConversionFlag.ThresholdDither | Qt.ImageConversionFlag.AvoidDither)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(path), "PNG")
    print(f"{path}  {path.stat().st_size // 1024} KB")


def demo_database(folder: Path):
    """A demo shop database filled by a first sync from a dev store; returns (db, store)."""
    store = DevStore(db_path=str(folder / "devstore.db"), seed=1)
    # The history ends an hour ago, so the home screen's chart has the last weeks' orders.
    store.populate(customers=400, orders=1200, until=time.time() - 3600)
    store.start()
    os.environ["BACKOFFICE_WC_KEY"] = store.consumer_key
    os.environ["BACKOFFICE_WC_SECRET"] = store.consumer_secret
    db = open_database(f"sqlite:///{folder / 'demo-shop.db'}")
    create_demo_accounts(db)
    with db.begin() as s:
        shop_settings.write_settings(s, {"store.url": store.base_url})
    connector = sync.connector_for(db, store_url=store.base_url)
    try:
        owner = staff.authenticate(db, login="owner", password="demo-owner-pass", desk="screenshots")
        sync.run_sync(db, connector, full_customer_scan=True, actor=owner)
        # As the demo does: people on the newsletter lists, privacy requests on their clocks.
        add_demo_activity(db, actor=owner, seed=1)
        sync.run_sync(db, connector, actor=owner)
    finally:
        connector.close()
    return db, store


def first_run(folder: Path, out: Path) -> None:
    """The first-run setup's pages, on a new empty database."""
    db = open_database(f"sqlite:///{folder / 'new-shop.db'}")
    tasks = TaskManager()
    dialog = FirstRunDialog(db, desk="screenshots", tasks=tasks)
    dialog.show()
    for n, name in enumerate(("database", "shop", "owner", "web-store")):
        if n:
            dialog.next()
        QApplication.processEvents()
        page = dialog.currentPage()
        if name == "shop":
            page.shop_name.setText("Bayou Tea & Coffee Co.")
            page.ship_from_address.setText("2410 Westheimer Rd, Houston, TX 77098, United States")
        if name == "owner":
            page.name.setText("Olivia Owner")
            page.login.setText("olivia")
            page.password.setText("a long password")
            page.repeat.setText("a long password")
        QApplication.processEvents()
        save(dialog, out / f"first-run-{name}.png", small=True)
    dialog.reject()
    tasks.wait_all(10_000)
    db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--sizes", default="1024x700,1600x1000")
    args = parser.parse_args(argv)
    sizes = [tuple(int(n) for n in s.split("x")) for s in args.sizes.split(",")]
    out = Path(args.out)
    application()
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        db, store = demo_database(Path(tmp))
        try:
            owner = staff.authenticate(db, login="owner", password="demo-owner-pass", desk="screenshots")
            window = build_window(db, owner, store=store)
            window.show()
            for n, (width, height) in enumerate(sizes):
                folder = out if n == 0 else out / f"{width}x{height}"
                window.resize(width, height)
                for name, screen in SHOTS:
                    if window.show_screen(screen) is None:
                        continue
                    settle(window)
                    save(window, folder / f"{name}.png", small=n == 0)
                customers = window.screens["CustomersScreen"]
                window.show_screen("CustomersScreen")
                customers.search.setText("garcía")
                settle(window, 1200)
                save(window, folder / "customer-search.png", small=n == 0)
                if customers.model.rowCount():
                    customer = window.open_customer(customers.model.row_at(0).id)
                    settle(window, 1000)
                    save(window, folder / "customer-page.png", small=n == 0)
                    window._close_tab(window.tabs.indexOf(customer))
                orders = window.screens["OrdersScreen"]
                window.show_screen("OrdersScreen")
                settle(window)
                if orders.model.rowCount():
                    page = window.open_order(orders.model.row_at(0).id)
                    settle(window, 1000)
                    save(window, folder / "order-page.png", small=n == 0)
                    window._close_tab(window.tabs.indexOf(page))
                customers.search.clear()
            window._leaving_confirmed = True  # nothing to ask about in a screenshot run
            window.close()
            window.ctx.tasks.wait_all(10_000)
            first_run(Path(tmp), out)
        finally:
            db.dispose()
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
