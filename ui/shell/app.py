"""Starting the app: open the database, sign in, show the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from backoffice import calls_channel
from backoffice.domain.enums import Role
from backoffice.domain.roles import Actor
from backoffice.errors import UserFacingError
from backoffice.logsetup import configure_logging as configure_file_logging
from backoffice.places import default_database_url
from ui.settings import desk_settings
from ui.calls.router import CallRouter
from ui.common.context import AppContext
from ui.common.errors import install_excepthook
from ui.common.gui_gc import collect_on_gui_thread
from ui.common.opening import DatabaseOpening
from ui.shell.idle_lock import IdleLock
from ui.shell.main_window import MainWindow
from ui.shell import window_state
from ui.shell.sign_in import sign_in
from ui.common.tasks import TaskManager

# The database layer (SQLAlchemy and the data model) is imported when the database is opened,
# never before the first window paints.
if TYPE_CHECKING:
    from backoffice.db import Database

log = logging.getLogger(__name__)


def desk_name() -> str:
    return calls_channel.desk_name()


def application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("backoffice")
    app.setOrganizationName(desk_settings.ORGANISATION)
    app.setApplicationDisplayName("Back office")
    # The SVG stays sharp at any scale; the PNG is there for platforms without the svg plugin.
    icon = next((p for p in (resource_path("backoffice.svg"), resource_path("backoffice.png")) if p.is_file()),
                resource_path("backoffice.png"))
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    collect_on_gui_thread(app)
    return app


def resource_path(name: str) -> Path:
    """A file in `resources/`: beside `ui/` in a checkout, unpacked beside the program when installed."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent.parent))
    return base / "resources" / name


def configure_logging() -> None:
    """Log to this desk's log folder, with secrets and card numbers redacted."""
    configure_file_logging()


def _open(url: str, *, ask_nobody: bool = False) -> Database | None:
    """The database, opened and migrated; None (after saying why) when it cannot be.

    With `ask_nobody` (the self-test of an installed build) the reason is printed instead of
    shown in a box that nobody would close.
    """
    from backoffice.db import open_database  # late: see the imports above

    try:
        db = open_database(url)
    except UserFacingError as exc:
        if ask_nobody:
            print(f"self-test failed: {exc.message}", file=sys.stderr)
        else:
            QMessageBox.critical(None, "The database could not be opened", exc.message)
        return None
    _fill_search_index(db)
    return db


def _fill_search_index(db: Database) -> None:
    """After the upgrade that added customer search, index the customers already there."""
    from backoffice.services.search_index import (  # late: see the imports above
        rebuild_search_index,
        search_index_needs_rebuild,
    )

    if not search_index_needs_rebuild(db):
        return
    dialog = QProgressDialog("Preparing customer search…", None, 0, 0)
    dialog.setWindowTitle("Back office")
    dialog.setMinimumDuration(0)
    dialog.show()
    QApplication.processEvents()

    def progress(done: int, total: int, text: str = "") -> None:
        dialog.setMaximum(max(total, 1))
        dialog.setValue(min(done, max(total, 1)))
        QApplication.processEvents()

    # Runs before any window is open, so blocking here freezes nothing a person is using.
    rebuild_search_index(db, progress)
    dialog.close()


def build_window(db: Database | None, actor: Actor, *, store=None, opening: DatabaseOpening | None = None):
    """The main window for `actor` on `db`, or on the database `opening` opens behind it."""
    ctx = AppContext(db=db, opening=opening, actor=actor, tasks=TaskManager(), store=store)
    return MainWindow(ctx)


def run_app(*, db_url: str | None = None, self_test: bool = False, demo_hint: str | None = None,
            store=None) -> int:
    """Open the app on `db_url` (default: this desk's database) and run until it closes."""
    configure_logging()
    app = application()
    install_excepthook()
    router = None if self_test else _open_call_channel(app, demo=demo_hint is not None)
    if router is False:
        print("backoffice: the back office is already open on this desk; brought it to the front")
        return 0
    url = db_url or desk_settings.database_url() or default_database_url()
    if self_test:
        return _self_test(app, url)
    # The database opens on a thread of its own while the sign-in window paints and takes typing.
    opening = DatabaseOpening(url).start()
    code = 0
    # Signing out at the idle lock closes the window and asks who is at the desk again.
    while True:
        actor = sign_in(opening, None, desk=desk_name(), hint=demo_hint)
        if actor is None:
            if opening.error is not None:
                _cannot_open(opening.error)
                return 1
            # The first-run setup chose a shared server for this desk: open it and ask again.
            chosen = desk_settings.database_url()
            if chosen and chosen != url and db_url is None:
                opening.result().dispose()
                url = chosen
                opening = DatabaseOpening(url).start()
                continue
            break
        db = opening.result()
        _fill_search_index(db)
        window = build_window(db, actor, store=store)
        window_state.restore(window, desk_name())
        signed_out = []
        lock = _install_idle_lock(app, window, db)
        if lock is not None:
            lock.signed_out.connect(lambda: (signed_out.append(True), window.close()))
            window.sign_out_requested.connect(lock.sign_out)
        if router is not None:
            # Calls from the desk's channel are held until the panel is there (see CallRouter).
            window.settled.connect(lambda window=window, lock=lock: router.attach(window, lock))
        window.show()
        code = app.exec()
        if router is not None:
            router.detach()
        window_state.remember(window, desk_name())
        window.ctx.tasks.wait_all(10_000)
        if lock is not None:
            app.removeEventFilter(lock)
            lock.stop()
        window.deleteLater()
        if not signed_out:
            break
    if router is not None:
        router.close()
    if opening.ready:
        opening.result().dispose()
    return code


def _cannot_open(exc: BaseException) -> None:
    """Say why the database could not be opened (an unexpected error goes to the excepthook)."""
    if not isinstance(exc, UserFacingError):
        raise exc
    QMessageBox.critical(None, "The database could not be opened", exc.message)


def _self_test(app: QApplication, url: str) -> int:
    """Open `url`, build the main window and every screen, and close (a built program's check)."""
    db = _open(url, ask_nobody=True)
    if db is None:
        return 1
    actor = Actor(staff_id=None, login="self-test", role=Role.OWNER, desk=desk_name())
    window = build_window(db, actor)
    window.show()
    # Every screen is built once, so a module or resource missing from a build shows here.
    for name in window.screens:
        window.show_screen(name)
    QTimer.singleShot(300, window.close)
    app.exec()
    window.ctx.tasks.wait_all(5000)
    db.dispose()
    print(f"self-test ok: database {url.split('@')[-1]} migrated, main window and every screen shown")
    return 0


def _open_call_channel(app: QApplication, *, demo: bool):
    """Serve this desk's call channel before anyone signs in (see `ui.calls.router`).

    Returns the router; None when the app runs without one; False when the app is already
    open on this desk (it was brought to the front, and this start should end).
    """
    router = CallRouter(parent=app)
    if router.start():
        problem = router.apply_endpoint_settings()
        if problem:
            log.warning("%s", problem)
        return router
    taken = router.channel.taken
    router.deleteLater()
    # A demo beside the real app runs without calls rather than not at all.
    return None if demo or not taken else False


def _install_idle_lock(app: QApplication, window, db: Database | None):
    """The desk's idle lock; its minutes are read from the shop's settings once the database is open."""
    ctx = window.ctx
    lock = IdleLock(window, db=db, actor=ctx.actor, minutes=0)
    window.lock_action.triggered.connect(lock.lock_now)
    window.idle_lock = lock

    def read_minutes() -> None:
        from backoffice.services import settings as shop_settings  # late: see the imports above

        ctx.tasks.run_db(lambda token, progress: shop_settings.get_setting(ctx.db, "desk.idle_lock_minutes"),
                         on_success=lock.set_minutes, owner=lock)

    def settings_changed(changes) -> None:
        if changes.settings:
            read_minutes()

    ctx.when_ready(read_minutes)
    ctx.bus.changed.connect(settings_changed)
    return lock
