"""Cyclic garbage is collected on the GUI thread only.

Python's cycle collector runs in whichever thread happens to allocate past its
threshold. When that is a background worker and the garbage holds Qt objects (a
closed page caught in a reference cycle), Qt widgets are destroyed off the GUI
thread and the app crashes. `collect_on_gui_thread` switches the automatic collector
off and has a timer on the GUI thread check the same thresholds instead, collecting
what is due there. Objects without cycles are freed by reference counting as before.

A started desk holds a few hundred thousand objects that live as long as it does (the
libraries, the data model, the word tables), and a full collection walked them all:
about 70 ms on the GUI thread, every few seconds while work was going on, landing in
the middle of a jump along the customers list. Once the desk has started they are
set aside (`backoffice.collector.set_aside_for_good`, called by the main window), and
later collections walk only what was made since.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Collects cyclic garbage from a timer on the thread it was made in (the GUI thread)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check)
        self._timer.start(INTERVAL_MS)

    def check(self) -> None:
        """Collect the generations whose counts passed their thresholds, as Python would."""
        counts = gc.get_count()
        generation = -1
        for g in range(3):
            if counts[g] <= self._threshold[g]:
                break
            generation = g
        if generation >= 0:
            gc.collect(generation)

    def stop(self) -> None:
        """Stop the timer and give collection back to Python."""
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


def collect_on_gui_thread(app: QObject) -> GuiThreadCollector:
    """Install the collector on `app` once (call it on the GUI thread); return it."""
    collector = app.findChild(GuiThreadCollector)
    if collector is None:
        collector = GuiThreadCollector(app)
    return collector

