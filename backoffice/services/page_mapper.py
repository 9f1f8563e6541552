"""A pure function run over pages (of store records, of a file's rows) in a process of its
own, so that a long listing or file uses a second core; the caller does the pages the
process is not given, and any page again whose mapping failed there."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Callable
from typing import Any

from backoffice.collector import PULL_GC_THRESHOLD

log = logging.getLogger(__name__)


def _prepare_mapping_process(function: Callable[[Any], Any]) -> int:
    """The mapping process's first task. The modules of `function` (and of this one) are
    imported by now, to receive it; the objects they hold are left out of garbage
    collections from here on, and young objects are collected less often, as `calm_gc`
    does here while a pull runs (every collection walked them: a sixth of its time)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(PULL_GC_THRESHOLD, *gc.get_threshold()[1:])
    return os.getpid()


class PageMapper:
    """Runs a pure function over pages in a process of its own, so it uses another core.

    `ahead(page)` hands a page over (on the thread that reads pages) and returns a
    callable giving `function(page)`, or None when the page was not handed over: the
    process is not asked for until a listing is long enough (`start`), pages read while
    it starts are not handed over, and a process that cannot start or breaks is given up
    for the rest of the listing. None makes the caller do the work itself, as it would
    without a mapping process, so the results and errors are the same either way: an
    error in the process is not raised, the page is done again here.
    """

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self._function = function
        self._pool = None
        self._ready = None
        self._broken = False
        self.pages = 0  # pages mapped in the process

    def start(self) -> None:
        if self._pool is not None or self._broken:
            return
        try:
            import multiprocessing  # late: only long listings start a mapping process
            from concurrent.futures import ProcessPoolExecutor  # late: as above

            # "spawn" everywhere: a forked copy of a program running threads (and Qt) is unsafe.
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            self._ready = self._pool.submit(_prepare_mapping_process, self._function)
        except Exception as exc:  # noqa: BLE001 - no process to be had: map here
            log.info("pages are mapped in this process: %s", exc)
            self._broken = True
            self._pool = None

    def ready(self) -> bool:
        """Whether a page handed over now would go to the process (it has started and works)."""
        return (self._pool is not None and not self._broken and self._ready.done()
                and self._ready.exception() is None)

    def ahead(self, page: Any, function: Callable[[Any], Any] | None = None) -> Callable[[], Any] | None:
        """Hand `page` over to `function` (the mapper's own when None); see the class."""
        if self._pool is None or self._broken or not self._ready.done():
            return None
        try:
            self._ready.result(timeout=0)
            future = self._pool.submit(function or self._function, page)
        except Exception as exc:  # noqa: BLE001 - the process could not start or broke
            self._give_up(exc)
            return None

        def result():
            if self._broken:
                return None
            try:
                value = future.result()
            except Exception as exc:  # noqa: BLE001 - done again here, where an error means what it did
                self._give_up(exc)
                return None
            self.pages += 1
            return value

        return result

    def _give_up(self, exc: BaseException) -> None:
        if not self._broken:
            log.warning("the page mapping process stopped (%s: %s); pages are mapped here", type(exc).__name__, exc)
        self._broken = True

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
