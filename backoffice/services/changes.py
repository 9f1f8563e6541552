"""What a service changed, so open screens can decide whether to refresh."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    """Ids of the records a user action changed, by kind."""

    customers: frozenset[int] = field(default_factory=frozenset)
    orders: frozenset[int] = field(default_factory=frozenset)
    products: frozenset[int] = field(default_factory=frozenset)
    requests: frozenset[int] = field(default_factory=frozenset)
    lists: frozenset[int] = field(default_factory=frozenset)
    staff: frozenset[int] = field(default_factory=frozenset)
    outbox: bool = False
    settings: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.customers or self.orders or self.products or self.requests
            or self.lists or self.staff or self.outbox or self.settings
        )

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            customers=self.customers | other.customers,
            orders=self.orders | other.orders,
            products=self.products | other.products,
            requests=self.requests | other.requests,
            lists=self.lists | other.lists,
            staff=self.staff | other.staff,
            outbox=self.outbox or other.outbox,
            settings=self.settings or other.settings,
        )


NO_CHANGES = Changes()
