"""Integration fixtures: a dev store on loopback per test, filled as the module asks, and a
clock for the store's time that moves only when a test says so.

A module says what its store holds in `STORE`:

    STORE = {"seed": 11, "customers": 30, "orders": 120, "products": 8}

`capture: True` keeps each request's method, path and body in `store.captured`;
`clock: True` runs the store on the `clock` fixture (time stands still until the test moves
it); `clock: "moving"` on the real time, which a test may move on with
`store.clock.advance(seconds)` instead of sleeping; `shared: True` fills one store for
all the module's tests (a large one; they reset its faults themselves).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from backoffice.store.devstore import DevStore


class FakeClock:
    """Store time that moves only when a test says so."""

    def __init__(self, start: float = 1_795_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def iso(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(self.now)))


class MovingClock:
    """The real time, moved on by however much a test advanced it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@contextmanager
def dev_store(*, seed: int = 1, customers: int | None = None, orders: int | None = None,
              products: int | None = None, capture: bool = False, clock=None) -> Iterator[DevStore]:
    """A serving dev store, filled when any count is given; stopped and closed afterwards."""
    with DevStore(seed=seed, clock=clock) as devstore:
        counts = {k: v for k, v in (("customers", customers), ("orders", orders), ("products", products))
                  if v is not None}
        if counts:
            devstore.populate(**counts)
        if capture:
            bodies: list[bytes] = []
            handle = devstore.api.handle

            def capturing(method, path, query, headers, body):
                bodies.append(f"{method} {path}?{query}\n".encode() + body)
                return handle(method, path, query, headers, body)

            devstore.api.handle = capturing
            devstore.captured = bodies
        yield devstore


def _spec(request) -> dict:
    return dict(getattr(request.module, "STORE", {}))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(request) -> Iterator[DevStore]:
    spec = _spec(request)
    if spec.pop("shared", False):
        yield request.getfixturevalue("_shared_store")
        return
    clock = spec.pop("clock", False)
    if clock == "moving":
        spec["clock"] = MovingClock()
    elif clock:
        spec["clock"] = request.getfixturevalue("clock")
    with dev_store(**spec) as devstore:
        yield devstore


@pytest.fixture(scope="module")
def _shared_store(request) -> Iterator[DevStore]:
    spec = _spec(request)
    spec.pop("shared")
    with dev_store(**spec) as devstore:
        yield devstore
