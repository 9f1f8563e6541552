"""Background tasks: a screen closed while its work runs is neither called back nor kept busy."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QLabel

from ui.common.tasks import TaskManager


class _Screen(QLabel):
    def __init__(self) -> None:
        super().__init__("waiting")
        self.results: list = []
        self.failures: list = []

    def show_result(self, result) -> None:
        self.results.append(result)
        self.setText(str(result))

    def show_failure(self, exc) -> None:
        self.failures.append(exc)
        self.setText("failed")


def _blocked_work(release: threading.Event, seen_cancel: list, outcome: str):
    def work(token, progress):
        release.wait(5)
        seen_cancel.append(token.is_cancelled())
        if outcome == "fail":
            raise RuntimeError("the store did not answer")
        return "loaded"

    return work


def test_finished_work_reaches_a_screen_that_is_still_open(qtbot):
    tasks = TaskManager()
    screen = _Screen()
    release = threading.Event()
    release.set()
    tasks.run_db(_blocked_work(release, [], "ok"), on_success=screen.show_result, on_failure=screen.show_failure)
    qtbot.waitUntil(lambda: screen.text() == "loaded")
    assert tasks.wait_all()
    assert not tasks.busy()


def test_work_finishing_after_its_screen_closed_calls_nothing_and_is_cancelled(qtbot):
    tasks = TaskManager()
    for outcome in ("ok", "fail"):
        screen = _Screen()
        release, seen_cancel = threading.Event(), []
        tasks.run_db(_blocked_work(release, seen_cancel, outcome),
                     on_success=screen.show_result, on_failure=screen.show_failure)
        screen.deleteLater()
        qtbot.waitUntil(lambda: _deleted(screen))
        release.set()
        assert tasks.wait_all()
        # The relay delivers on the GUI thread: let it run. A call into the deleted label would raise
        # "Internal C++ object already deleted", which pytest-qt reports as a failure of this test.
        qtbot.waitUntil(lambda: not tasks.busy())
        assert seen_cancel == [True], "the work should have been told its screen is gone"


def test_an_explicit_owner_covers_callbacks_that_are_not_its_methods(qtbot):
    tasks = TaskManager()
    screen = _Screen()
    called = []
    release = threading.Event()
    tasks.run_db(_blocked_work(release, [], "ok"), on_success=lambda r: called.append(screen.text()),
                 owner=screen)
    screen.deleteLater()
    qtbot.waitUntil(lambda: _deleted(screen))
    release.set()
    assert tasks.wait_all()
    qtbot.waitUntil(lambda: not tasks.busy())
    assert called == []


def _deleted(widget) -> bool:
    from shiboken6 import isValid

    return not isValid(widget)


def test_work_holding_a_screen_lets_go_of_it_on_the_gui_thread_only(qtbot):
    # Dropping the last reference to a widget deletes it; on a worker thread that crashes Qt.
    tasks = TaskManager()
    where: list[bool] = []

    class Held(QLabel):
        def __del__(self) -> None:
            where.append(threading.current_thread() is threading.main_thread())

    release = threading.Event()

    def start() -> None:
        screen = Held("held by the work only")

        def work(token, progress):
            release.wait(5)
            return screen.__class__.__name__  # the closure keeps the widget

        tasks.run_io(work)

    start()
    release.set()
    assert tasks.wait_all()
    qtbot.waitUntil(lambda: not tasks.busy())
    qtbot.waitUntil(lambda: where != [])
    assert where == [True]


def test_a_failure_after_its_screen_closed_is_logged_whole(qtbot, caplog):
    tasks = TaskManager()
    screen = _Screen()
    release = threading.Event()
    tasks.run_db(_blocked_work(release, [], "fail"), on_success=screen.show_result,
                 on_failure=screen.show_failure)
    screen.deleteLater()
    qtbot.waitUntil(lambda: _deleted(screen))
    with caplog.at_level("INFO", logger="ui.common.tasks"):
        release.set()
        assert tasks.wait_all()
        qtbot.waitUntil(lambda: not tasks.busy())
    [record] = [r for r in caplog.records if r.name == "ui.common.tasks"]
    assert record.levelname == "ERROR"
    assert "the store did not answer" in record.getMessage()
    # The traceback points at the line that failed, for whoever reads the log.
    assert record.exc_info and "Traceback" in caplog.text and "test_tasks.py" in caplog.text


def test_work_that_collided_with_another_desks_reaches_the_screen_in_words(qtbot):
    import psycopg
    from sqlalchemy.exc import OperationalError

    from backoffice.db import LOCK_CONFLICT_MESSAGE
    from backoffice.errors import ConflictError

    def work(token, progress):
        raise OperationalError("UPDATE customers", {}, psycopg.errors.DeadlockDetected("deadlock detected"))

    tasks = TaskManager()
    screen = _Screen()
    tasks.run_db(work, on_success=screen.show_result, on_failure=screen.show_failure)
    qtbot.waitUntil(lambda: len(screen.failures) == 1)
    assert tasks.wait_all()
    (failure,) = screen.failures
    assert isinstance(failure, ConflictError) and failure.message == LOCK_CONFLICT_MESSAGE
