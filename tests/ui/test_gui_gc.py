"""Cyclic garbage holding Qt objects is destroyed on the GUI thread, whichever thread allocates."""

from __future__ import annotations

import gc
import threading

from PySide6.QtWidgets import QLabel

from ui.common.gui_gc import GuiThreadCollector, collect_on_gui_thread


class _Page(QLabel):
    """A widget caught in a reference cycle, noting the thread its Python side is freed on."""

    freed_on: list[str] = []

    def __init__(self) -> None:
        super().__init__("closed page")
        self.me = self

    def __del__(self) -> None:
        _Page.freed_on.append(threading.current_thread().name)


def test_a_widget_in_a_cycle_is_freed_on_the_gui_thread_while_a_worker_allocates(qtbot, qapp):
    assert collect_on_gui_thread(qapp) is collect_on_gui_thread(qapp)
    assert not gc.isenabled()
    _Page.freed_on.clear()
    _Page()  # unreachable at once, but only a cycle collection frees it
    stop = threading.Event()

    def allocate() -> None:
        # Enough container objects to set the automatic collector off many times over.
        while not stop.is_set():
            [[] for _ in range(10_000)]

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(_Page.freed_on), timeout=5000)
    finally:
        stop.set()
        worker.join()
    assert _Page.freed_on == [threading.main_thread().name]


def test_stopping_gives_collection_back_to_python(qapp):
    gc.enable()
    try:
        collector = GuiThreadCollector()
        assert not gc.isenabled()
        collector.stop()
        assert gc.isenabled()
    finally:
        gc.disable()  # the Qt tests run with the collector installed
