"""Which status an order keeps when a change made here is still waiting and the store's copy is read."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace

from backoffice.domain.enums import OrderStatus, OutboxKind
from backoffice.services.sync_pull import decide_order_status

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


def change(message_id, start):
    return SimpleNamespace(id=message_id, kind=OutboxKind.UPDATE_ORDER_STATUS, payload=json.dumps({"from": start}))


def store(status, modified=T1):
    return SimpleNamespace(status=status, modified_at=modified)


def test_two_waiting_changes_keep_the_local_status_while_the_store_is_on_either_start():
    row = {"status": OrderStatus.COMPLETED, "store_modified_at": T0}
    waiting = [change(1, "processing"), change(2, "on-hold")]
    # Neither was sent yet: the store still shows the first start.
    assert decide_order_status(row, store(OrderStatus.PROCESSING), waiting) == (OrderStatus.COMPLETED, None)
    # The first was sent: the store shows where the second starts.
    assert decide_order_status(row, store(OrderStatus.ON_HOLD), waiting) == (OrderStatus.COMPLETED, None)


def test_a_status_set_on_the_store_meanwhile_is_a_clash_for_a_person():
    row = {"status": OrderStatus.COMPLETED, "store_modified_at": T0}
    waiting = [change(1, "processing"), change(2, "on-hold")]
    kept, clash = decide_order_status(row, store(OrderStatus.CANCELLED), waiting)
    assert kept is OrderStatus.COMPLETED
    assert clash == {"status": ("completed", "cancelled"), "_message": 2}


def test_nothing_waiting_takes_the_store_status():
    row = {"status": OrderStatus.PROCESSING, "store_modified_at": T0}
    assert decide_order_status(row, store(OrderStatus.COMPLETED), []) == (OrderStatus.COMPLETED, None)
