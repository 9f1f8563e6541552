"""Records a broken or hostile web store may send: huge texts, records cut short, numbers as
text and text as numbers, lists for records, nulls, HTML and control characters.

Each record the pull cannot read is left out with one line naming it and what was wrong;
every other record of the page is written, and nothing already kept here changes.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backoffice.domain import Customer, CustomerAddress, Order, OrderLine, Product
from backoffice.services import store_mapping as sm
from backoffice.services.sync_common import DEFAULT_OPTIONS, RunStats
from backoffice.services.sync_pull import PullContext, screened, upsert_customers, upsert_orders, _upsert_products

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "woocommerce"


def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))[0]


BASE = {"customer": _fixture("customers_list"), "order": _fixture("orders_list_page2"),
        "product": _fixture("products_list")}

HUGE = "x" * (sm.LONGEST_TEXT + 1)
# Values of every JSON type, and texts a careless or hostile store may hold.
hostile_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "12", "-3", "12.50", "1e400", "NaN", "Infinity", "0000-00-00T00:00:00", "abc",
                     "<b>x</b>", "<script>alert(1)</script>", "a\x00b", "\x1b[31mred", "x\u202ey", HUGE,
                     "4111 1111 1111 1111"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@st.composite
def hostile_record(draw, kind: str, store_id: int):
    """A whole store record of `kind`, then a few fields (top level or in its lines and
    addresses) replaced by anything, or deleted; now and then not a record at all."""
    if draw(st.integers(0, 15)) == 0:
        return draw(st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2)))
    record = copy.deepcopy(BASE[kind])
    record["id"] = store_id
    if kind == "customer":
        record["email"] = f"c{store_id}@example.com"
    for _ in range(draw(st.integers(1, 4))):
        target = record
        nested = [k for k in ("billing", "shipping", "line_items", "shipping_lines", "fee_lines", "refunds")
                  if isinstance(record.get(k), dict | list) and record.get(k)]
        if nested and draw(st.booleans()):
            part = record[draw(st.sampled_from(nested))]
            target = part if isinstance(part, dict) else part[0]
            if not isinstance(target, dict):
                continue
        keys = sorted(target)
        if not keys:
            continue
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 4)) == 0:
            del target[key]
        else:
            target[key] = draw(hostile_values)
    return record


def _good(kind: str, store_id: int) -> dict:
    record = copy.deepcopy(BASE[kind])
    record["id"] = store_id
    if kind == "customer":
        record["email"] = f"good{store_id}@example.com"
        record["first_name"] = "Good"
    if kind == "product":
        record["sku"] = f"SKU-{store_id}"
    return record


def _views(kind: str, records: list) -> list[dict]:
    view = {"customer": sm.customer_view, "order": sm.order_view, "product": sm.product_view}[kind]
    return sm.guard_records([view(r) for r in records])


@pytest.mark.parametrize("kind", ["customer", "order", "product"])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_record_is_either_left_out_with_a_reason_or_maps_without_error(kind, data):
    record = data.draw(hostile_record(kind, 7))
    kept, problems = sm.screen_records([record], kind, page=3)
    assert len(kept) + len(problems) == 1
    if problems:
        line = problems[0]
        assert "\n" not in line and len(line) < 400
        assert re.match(rf"({kind} \d+|the 1st {kind} on page 3): its? ", line), line
        return
    (view,) = _views(kind, kept)
    if kind == "customer":
        item = sm.customer_data(view)
        texts = [item.first_name, item.last_name, item.email or "", *item.billing.values(), *item.shipping.values()]
    elif kind == "order":
        item = sm.order_data(view)
        texts = [v for v in item.values.values() if isinstance(v, str)] + [ln["name"] for ln in item.lines]
    else:
        values = sm.product_values(view)
        texts = [v for v in values.values() if isinstance(v, str)]
    for text in texts:
        assert not any(ord(c) < 32 and c not in "\t\n\r" for c in text), text


@pytest.mark.parametrize("kind", ["customer", "order", "product"])
@settings(max_examples=1000, deadline=None)
@given(data=st.data())
def test_the_quick_look_at_a_record_passes_only_records_the_full_look_passes(kind, data):
    record = data.draw(hostile_record(kind, data.draw(st.sampled_from([7, 0, -1, 2**31, 2**31 - 1]))))
    if data.draw(st.booleans()) and isinstance(record, dict):
        # The full look's own corner: values a store sends as text, and zeros.
        lines = record.get("line_items") if isinstance(record.get("line_items"), list) else []
        for part in [record, *(x for x in lines if isinstance(x, dict))]:
            for key in data.draw(st.lists(st.sampled_from(sorted(part)), max_size=3)) if part else ():
                part[key] = data.draw(st.sampled_from([
                    "", "0", "7", 0, 7, -7, 1e12, -1e12, 1e12 + 1, 10**12 + 1, 19.99, float("nan"), None, True,
                    "2026-02-30T00:00:00", "2026-11-22T04:44:55", "2026-11-22 04:44:55+01", sm.LARGEST_NUMBER + 1]))
    if sm._FINE[kind](record):
        assert sm.record_problem(record, kind) is None


def test_the_quick_look_passes_the_recorded_records():
    for kind in ("customer", "order", "product"):
        assert sm._FINE[kind](_good(kind, 7))


@pytest.mark.parametrize(("kind", "change", "reason"), [
    ("customer", {"billing": ["Main St"]}, "customer 5: its billing address is a list, not an address"),
    ("customer", {"id": "five"}, "the 2nd customer on page 1: its id is text 'five', not a whole number"),
    ("customer", {"email": {"a": 1}}, "customer 5: its email is a set of fields, not text"),
    ("customer", {"first_name": HUGE}, f"customer 5: its first name is {len(HUGE):,} characters long"),
    ("order", {"line_items": {"id": 1}}, "order 5: its line items are a set of fields, not a list"),
    ("order", {"total": "NaN"}, "order 5: its total 'NaN' is not an amount a shop can have"),
    ("order", {"id": 2**40}, f"the 2nd order on page 1: its id {2**40} is out of range"),
    ("product", {"price": [1]}, "product 5: its price is a list, not an amount"),
    ("product", {"stock_quantity": "lots"}, "product 5: its stock quantity is text 'lots', not a whole number"),
])
def test_the_reason_names_the_record_and_what_was_wrong(kind, change, reason):
    bad = {**_good(kind, 5), **change}
    kept, problems = sm.screen_records([_good(kind, 4), bad, _good(kind, 6)], kind, page=1)
    assert [r["id"] for r in kept] == [4, 6]
    assert problems == [reason]


def test_a_record_cut_short_is_left_out_rather_than_blanking_what_is_kept():
    cut = {"id": 9, "first_name": "Ann"}
    kept, problems = sm.screen_records([cut], "customer")
    assert kept == [] and problems == ["customer 9: its email is missing (the record was cut short)"]


def test_digits_sent_as_text_are_read_as_the_number_and_control_characters_are_dropped():
    record = {**_good("customer", 1), "id": "12", "first_name": "An\x00n\x1b", "last_name": "<b>x</b>"}
    (kept,), problems = sm.screen_records([record], "customer")
    assert problems == []
    assert kept["id"] == 12 and kept["first_name"] == "Ann" and kept["last_name"] == "<b>x</b>"


@pytest.mark.parametrize("written", ["\\u0007", "\\u001B", "\\u007f", "\\u007F", "\\b", "\\f", "\x7f"])
def test_control_characters_however_the_store_wrote_them_are_dropped_when_its_answer_is_looked_through(written):
    good = _good("customer", 1)
    body = json.dumps([good]).replace('"first_name": "', '"first_name": "A' + written, 1).encode()
    records = json.loads(body)
    assert records[0]["first_name"] != good["first_name"]
    (kept,), problems = sm.screen_records(records, "customer", body=body)
    assert problems == [] and kept["first_name"] == "A" + good["first_name"]


def test_a_clean_page_is_passed_through_without_a_copy():
    page = [_good("order", 1), _good("order", 2)]
    kept, problems = sm.screen_records(page, "order")
    assert kept is page and problems == []


def _ctx(db) -> PullContext:
    return PullContext(db=db, options=DEFAULT_OPTIONS, stats=RunStats(), region="US")


def _snapshot(db) -> dict:
    with db.read() as s:
        return {
            "customers": sorted(tuple(r) for r in s.execute(select(
                Customer.store_id, Customer.first_name, Customer.last_name, Customer.email, Customer.phone))),
            "addresses": s.execute(select(func.count()).select_from(CustomerAddress)).scalar_one(),
            "orders": sorted(tuple(r) for r in s.execute(select(Order.store_id, Order.total, Order.status))),
            "lines": s.execute(select(func.count()).select_from(OrderLine)).scalar_one(),
            "products": sorted(tuple(r) for r in s.execute(select(Product.store_id, Product.name, Product.price))),
        }


def _write(db, kind: str, records: list, ctx: PullContext) -> None:
    kept = list(screened(ctx, records, kind, page=1))
    with db.begin() as s:
        if kind == "customer":
            upsert_customers(s, ctx, _views(kind, kept))
        elif kind == "order":
            upsert_orders(s, ctx, _views(kind, kept))
        else:
            _upsert_products(s, ctx, _views(kind, kept))


_IDS = itertools.count(1000, 10)


@pytest.mark.parametrize("kind", ["customer", "order", "product"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_page_with_hostile_records_keeps_the_rest_and_changes_nothing_else(db, kind, data):
    """Written to the database (SQLite and PostgreSQL: NUL characters, numbers too big for a
    column): the good records of the page are there, the bad ones named, the rest unchanged."""
    old, good, bad = (base := next(_IDS)) + 1, [base + 2, base + 3], [base + 4, base + 5]
    _write(db, kind, [_good(kind, old)], _ctx(db))  # kept here before
    before = _snapshot(db)
    hostile = {store_id: data.draw(hostile_record(kind, store_id), label=f"record {store_id}")
               for store_id in (old, *bad)}
    ctx = _ctx(db)
    _write(db, kind, [hostile[old], _good(kind, good[0]), hostile[bad[0]], _good(kind, good[1]), hostile[bad[1]]],
           ctx)
    after = _snapshot(db)
    table = {"customer": "customers", "order": "orders", "product": "products"}[kind]
    held = {row[0] for row in after[table]}
    assert {old, *good} <= held
    named = {int(m.group(1)) for line in ctx.stats.bad_records if (m := re.match(rf"{kind} (\d+): ", line))}
    assert not named & (held - {r[0] for r in before[table]}), "a record named as left out was written"
    if old in named:
        assert [r for r in after[table] if r[0] == old] == [r for r in before[table] if r[0] == old]
    assert len(ctx.stats.bad_records) <= 3
    assert all("\n" not in line for line in ctx.stats.bad_records)


def test_skus_moved_between_products_or_sent_twice_do_not_stop_the_page(db):
    ctx = _ctx(db)
    _write(db, "product", [{**_good("product", 1), "sku": "A"}, {**_good("product", 2), "sku": "B"}], ctx)
    # The store swapped two products' SKUs, and sent a third product with one of them too.
    _write(db, "product", [{**_good("product", 1), "sku": "B"}, {**_good("product", 2), "sku": "A"},
                           {**_good("product", 3), "sku": "A"}], _ctx(db))
    with db.read() as s:
        skus = dict(s.execute(select(Product.store_id, Product.sku)).all())
    assert skus == {1: "B", 2: None, 3: "A"}
