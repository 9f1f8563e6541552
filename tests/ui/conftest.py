"""Qt test fixtures: fast password hashing, a check that no test leaves a thread running, and
`ctx_for`, the app context a screen or page is built with."""

from __future__ import annotations

import gc
import threading

import pytest
import shiboken6
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from ui.common.context import AppContext
from backoffice import collector
from ui.common.gui_gc import collect_on_gui_thread
from ui.common.tasks import TaskManager

WAIT_MS = 10_000


@pytest.fixture(scope="package", autouse=True)
def _garbage_collected_on_the_gui_thread(qapp):
    """As in the app: cyclic garbage is collected on the GUI thread only (`ui.common.gui_gc`)."""
    collector = collect_on_gui_thread(qapp)
    yield
    # A test that made the app's own collector (ui.shell.app.application) may have replaced this one.
    collector = qapp.findChild(type(collector)) or collector
    if shiboken6.isValid(collector):
        collector.stop()
        collector.deleteLater()
    gc.enable()
    gc.collect()


@pytest.fixture(autouse=True)
def _nothing_set_aside_across_tests():
    """A started desk sets what it holds aside from the collector for good (`gui_gc`); one
    test's desk is not the next one's, so what it set aside is handed back after the test."""
    yield
    collector.hand_back_set_aside()


@pytest.fixture(autouse=True)
def _fast_hashing(fast_hashing):
    """Every Qt test may sign someone in: the shared `fast_hashing`, for all of them."""


@pytest.fixture(autouse=True)
def no_dangling_threads(request):
    """Fail a test that leaves Qt pool work or Python threads running behind it, daemon threads
    (the sync's page prefetch, the dev store's server) included."""
    before = {t.ident for t in threading.enumerate()}
    yield
    if "qapp" in request.fixturenames or "qtbot" in request.fixturenames:
        QThreadPool.globalInstance().waitForDone(5000)
    # Qt's pool threads show up as dummy threads once they ran Python code; waitForDone covers them.
    left = [
        t for t in threading.enumerate()
        if t.ident not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
    ]
    for t in left:
        t.join(timeout=5)
    still = [t.name for t in left if t.is_alive()]
    assert not still, f"threads left running: {still}"


def open_page(qtbot, ctx, page_class, entity_id, *, size=(1100, 760), settled=False):
    """Show `page_class(ctx, entity_id)` and wait until it has loaded what it shows (and, when
    `settled`, until its other background work is over too). A context from `ctx_for`
    keeps the page until the test's work is over."""
    page = page_class(ctx, entity_id)
    if hasattr(ctx, "pages"):
        ctx.pages.append(page)
    qtbot.addWidget(page)
    page.resize(*size)
    page.show()
    qtbot.waitExposed(page)
    qtbot.waitUntil(lambda: page.detail is not None and not (settled and ctx.tasks.busy()), timeout=WAIT_MS)
    return page


@pytest.fixture
def ctx_for(qtbot):
    """`ctx_for(db, actor)`: an app context whose background work must be over when the test ends.

    A test puts screens that watch something in `ctx.screens` (stopped at the end) and pages
    it opens in `ctx.pages` (kept open until their work is over).
    """
    made: list[AppContext] = []

    def make(db, actor) -> AppContext:
        ctx = AppContext(db=db, actor=actor, tasks=TaskManager())
        ctx.screens = []
        ctx.pages = []
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        for screen in ctx.screens:
            screen.stop_watching()
        assert ctx.tasks.wait_all(WAIT_MS), "a background task was left running"
    QApplication.processEvents()
    for ctx in made:
        ctx.pages.clear()
