"""Qt test fixtures: fast password hashing, and a check that no test leaves a thread running."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThreadPool

from backoffice.services import staff


@pytest.fixture(autouse=True)
def _fast_hashing():
    staff.use_fast_hashing_for_tests()


@pytest.fixture(autouse=True)
def no_dangling_threads(request):
    """Fail a test that leaves Qt pool work or Python threads running behind it."""
    before = {t.ident for t in threading.enumerate()}
    yield
    if "qapp" in request.fixturenames or "qtbot" in request.fixturenames:
        QThreadPool.globalInstance().waitForDone(5000)
    left = [
        t for t in threading.enumerate()
        if t.ident not in before and t.is_alive() and not t.daemon
    ]
    for t in left:
        t.join(timeout=5)
    still = [t.name for t in left if t.is_alive()]
    assert not still, f"threads left running: {still}"
