"""Python's cycle collector while the back office runs long work, and in a desk that has started.

A full collection walks every container object the program holds: its modules, the data
model's mappings, the phone library's tables, the open screens. A started desk holds a few
hundred thousand such objects for as long as it runs, and walking them took about 70 ms
each time. Two ways keep the collector to the objects that can be garbage:

* `set_aside_for_good()`: once a desk has started, what is alive then is left out of later
  collections (`gc.freeze`) for as long as the process runs;
* `calm_gc()`: while a pull or an import runs, what was alive when it began is left out
  of collections until it ends (unless the desk set it aside for good already), and young
  objects may be collected less often. Garbage is still collected, in larger batches.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
_USERS = 0
_SAVED: tuple[int, int, int] | None = None
_FOR_GOOD = False
#: The youngest generation's threshold while a pull runs (Python's default is 700).
PULL_GC_THRESHOLD = 20_000


def set_aside_for_good() -> None:
    """Leave every object alive now out of later collections, for as long as the process runs
    (once: the first call does it). The young generations are collected first; a full
    collection would walk everything once more, a pause on the GUI thread just when the desk
    has started (and longer in a process that holds more, such as a test run)."""
    global _FOR_GOOD
    with _LOCK:
        if _FOR_GOOD:
            return
        _FOR_GOOD = True
        gc.collect(1)
        gc.freeze()


def hand_back_set_aside() -> None:
    """Undo `set_aside_for_good` (a process that goes on after its desk, such as a test run)."""
    global _FOR_GOOD
    with _LOCK:
        _FOR_GOOD = False
        if _USERS == 0:
            gc.unfreeze()


@contextmanager
def calm_gc(*, fewer_young_collections: bool = True) -> Iterator[None]:
    """Leave the objects alive now out of collections while the block runs, and with
    `fewer_young_collections` collect the youngest generation less often (PULL_GC_THRESHOLD:
    a pull makes tens of thousands of short-lived dicts and lists a page; it costs memory in
    larger batches of garbage). Both are put back when the last block running ends; objects
    set aside for good stay so."""
    global _USERS, _SAVED
    with _LOCK:
        _USERS += 1
        if _USERS == 1:
            _SAVED = gc.get_threshold()
            if not _FOR_GOOD:
                gc.freeze()
        if fewer_young_collections and _SAVED is not None:
            gc.set_threshold(max(PULL_GC_THRESHOLD, _SAVED[0]), *_SAVED[1:])
    try:
        yield
    finally:
        with _LOCK:
            _USERS -= 1
            if _USERS == 0 and _SAVED is not None:
                gc.set_threshold(*_SAVED)
                if not _FOR_GOOD:
                    gc.unfreeze()
                _SAVED = None
