"""Mapping store records to rows and back: the recorded WooCommerce answers, the fast card guard
(which must mask exactly what `guard_payload` masks), customer digests and the three-way merge."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backoffice.domain.cards import guard_payload
from backoffice.domain.enums import OrderStatus
from backoffice.services import store_mapping as sm

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "woocommerce"


def load(name: str):
    return json.loads((REFERENCE / name).read_text())


def test_a_recorded_order_maps_to_its_columns_and_children():
    record = load("order_create.json")
    data = sm.order_data(sm.order_view(record))
    assert data.store_id == 12 and data.status == OrderStatus.PROCESSING
    assert data.values["number"] == "12" and data.values["total"] == Decimal("44.98")
    assert data.values["shipping_total"] == Decimal("5.00") and data.values["subtotal"] == Decimal("39.98")
    assert data.values["order_key"] == "wc_order_5mWimza304H1I"
    assert data.values["payment_url"].endswith("key=wc_order_5mWimza304H1I")
    assert data.paid_at is not None and data.paid_at.tzinfo is not None
    assert data.customer_store_id == 2
    (line,) = data.lines
    assert (line["name"], line["quantity"], line["unit_price"], line["total"], line["product_store_id"]) == (
        "Peer Widget", 2, Decimal("19.99"), Decimal("39.98"), 11)
    assert data.shipping_lines[0]["method_id"] == "flat_rate"
    assert data.billing["email"] == "jane.doe@example.com" and sm.is_blank_address(data.shipping)


def test_a_recorded_customer_maps_with_a_digest_that_tells_changes():
    record = load("customer_create.json")
    data = sm.customer_data(sm.customer_view(record))
    assert (data.email, data.first_name, data.phone, data.billing["city"]) == (
        "jane.doe@example.com", "Jane", "555-0100", "San Francisco")
    digest = data.store_digest()
    assert len(digest) == 56
    whole, parts = sm.split_digest(digest)
    assert whole == data.whole and set(parts) == set(sm.CUSTOMER_GROUPS)
    changed = dict(record, last_name="Roe")
    other = sm.customer_data(sm.customer_view(changed))
    assert other.whole != data.whole
    _, other_parts = sm.split_digest(other.store_digest())
    assert [g for g in sm.CUSTOMER_GROUPS if parts[g] != other_parts[g]] == ["last_name"]
    # Fields the back office does not keep do not count as a change.
    assert sm.customer_data(sm.customer_view(dict(record, avatar_url="x"))).whole == data.whole


def test_tracking_meta_is_read_and_written():
    record = {"meta_data": [{"key": sm.TRACKING_META_KEY, "value": [
        {"tracking_provider": "ups", "tracking_number": "1Z999AA10123456784", "date_shipped": "1763788800"}]}]}
    (parcel,) = sm.tracking_items(record)
    assert parcel["carrier"] == "ups" and parcel["tracking_number"] == "1Z999AA10123456784"
    written = sm.tracking_meta([parcel])
    assert written[0]["tracking_number"] == "1Z999AA10123456784" and written[0]["date_shipped"] == "1763788800"


def _local(**changes):
    base = {"first_name": "Jane", "last_name": "Doe", "email": "j@example.com", "phone": "555-0100",
            "company": ""}
    base.update(changes)
    return sm.local_groups(base, {"city": "Houston"}, None)


def test_merge_sends_what_changed_here_takes_what_changed_there_and_flags_clashes():
    base = sm.group_digests(_local())
    store = _local(last_name="Webname")
    merge = sm.merge_customer(_local(phone="555-0199"), store, base, local_pending=True)
    assert merge.send == {"phone"} and merge.apply == {"last_name"} and not merge.conflicts

    clash = sm.merge_customer(_local(phone="555-0199"), _local(phone="555-0111"), base, local_pending=True)
    assert clash.conflicts == {"phone": ("555-0199", "555-0111")} and not clash.send
    assert clash.parts["phone"] == base["phone"]

    same = sm.merge_customer(_local(phone="555-0199"), _local(phone="555-0199"), base, local_pending=True)
    assert not same.conflicts and not same.send

    address = sm.merge_customer(
        sm.local_groups({"first_name": "Jane"}, {"city": "Austin", "postcode": "1"}, None),
        sm.local_groups({"first_name": "Jane"}, {"city": "Dallas", "postcode": "1"}, None),
        sm.group_digests(sm.local_groups({"first_name": "Jane"}, {"city": "Houston", "postcode": "1"}, None)),
        local_pending=True)
    assert address.conflicts == {"billing.city": ("Austin", "Dallas")}

    no_change_here = sm.merge_customer(_local(), store, base, local_pending=False)
    assert no_change_here.apply == set(sm.CUSTOMER_GROUPS) and not no_change_here.send


def test_customer_payload_carries_only_the_groups_asked_for():
    local = {"first_name": "Jane", "last_name": "Doe", "email": "j@example.com", "phone": "555", "company": "Co"}
    body = sm.customer_payload(local, {"city": "Houston"}, None, {"phone", "last_name"})
    assert body == {"last_name": "Doe", "billing": {"phone": "555"}}
    full = sm.customer_payload(local, {"city": "Houston"}, None)
    assert full["billing"]["company"] == "Co" and full["billing"]["city"] == "Houston"
    assert full["email"] == "j@example.com" and "shipping" in full


CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "4111\t1111\t1111\t1111",
         "4111  1111  1111  1111", "6011 1111 1111 1117", "4111\u00a01111\u00a01111\u00a01111"]
NOT_CARDS = ["1Z999AA10123456784", "+49 170 12345678", "2026-11-22T04:44:55", "(713) 555-0130", "77099",
             "9400 1000 0000 0000 0000 00", "ck_1234567890123456"]
texts = st.one_of(st.sampled_from(CARDS + NOT_CARDS), st.text(max_size=30),
                  st.builds(lambda a, b, c: f"{a} {b} {c}", st.text(max_size=8), st.sampled_from(CARDS + NOT_CARDS),
                            st.text(max_size=8)))
keys = st.sampled_from(["customer_note", "phone", "tracking_number", "sku", "transaction_id", "value", "key",
                        "address_2", "number", "display_value"])
leaves = st.one_of(texts, st.integers(), st.integers(min_value=10**11, max_value=10**19), st.none(), st.booleans())
payloads = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(keys, inner, max_size=5)), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(payloads)
def test_the_fast_guard_masks_exactly_what_the_detector_masks(payload):
    record = {"id": 1, "data": payload}
    assert sm.guard_record(record) == guard_payload(record).value


def test_the_fast_guard_reports_what_it_removed():
    report = sm.GuardReport()
    clean = sm.guard_records([{"id": 1, "customer_note": "card 4111 1111 1111 1111 thanks"}, {"id": 2}], report)
    assert "ends 1111" in clean[0]["customer_note"] and "4111 1111" not in clean[0]["customer_note"]
    assert report.found == 1 and report.places == ["customer_note"]


def test_the_first_look_lets_through_every_separator_the_detector_knows():
    from backoffice.domain import cards

    joiners = [chr(c) for c in range(0x110000) if cards.is_card_joiner(chr(c))]
    for joiner in joiners:
        text = f"x 4111{joiner}1111{joiner * 3}1111{joiner}1111 y"
        assert sm._may_hold_card(sm._json_bytes({"note": text})), f"U+{ord(joiner):04X}"
    for card in CARDS:
        assert sm.guard_record({"note": f"x {card} y"})["note"] != f"x {card} y"
    assert sm.guard_record({"note": "cvv 123"})["note"] == "cvv [security code removed]"


def _luhn_complete(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


# Every way the detector joins digit groups: one space, dash or dot of any kind, or
# loosely (two or three spaces, a tab, a dash with spaces around it).
JOINERS = [*" \u00a0\u2007\u2009\u202f", *"-\u2010\u2011\u2012\u2013\u2014\u2212", ".", "\t", "  ", "   ",
           " - ", " \u2013 ", ". "]
# Digits of other scripts count as digits for the detector.
DIGIT_SCRIPTS = [0x30, 0xFF10, 0x0660, 0x0966]


@st.composite
def card_numbers_written_any_way(draw):
    size = draw(st.integers(13, 19))
    digits = _luhn_complete(draw(st.text("0123456789", min_size=size - 1, max_size=size - 1)))
    script = draw(st.sampled_from(DIGIT_SCRIPTS))
    shown = "".join(chr(script + int(d)) for d in digits)
    cuts = sorted(draw(st.sets(st.integers(1, size - 1), max_size=size - 1)))
    number, pos = "", 0
    for cut in cuts:
        number += shown[pos:cut] + draw(st.sampled_from(JOINERS))
        pos = cut
    return number + shown[pos:]


@settings(max_examples=800, deadline=None)
@given(card_numbers_written_any_way(), st.sampled_from(["", "Paid with ", "é: ", "x\n", "("]),
       st.sampled_from(["", " thanks", "\u00e9", ")", "\n"]), keys,
       st.sampled_from(["string", "whole number", "in a list"]))
def test_the_first_look_passes_every_luhn_valid_number_however_written(number, before, after, key, shape):
    # The page and each record pass the first look, so the detector decides, as in `guard_payload`.
    text = before + number + after
    if shape == "whole number":
        digits = "".join(str(int(ch)) for ch in number if ch.isdecimal())
        assume(not digits.startswith("0"))  # a whole number keeps no leading zero
        value = int(digits)
    else:
        value = text if shape == "string" else [text, "Ünïcode"]
    record = {"id": 7, "billing": {"city": "Zürich", key: value}}
    assert sm._may_hold_card(sm._json_bytes([{"id": 1}, record]))
    assert sm._may_hold_card(sm._json_bytes(record))
    assert sm.guard_record(record) == guard_payload(record).value


def test_a_float_written_with_an_exponent_goes_to_the_detector():
    # 4111111111111111111.0 is written 4.111111111111111e+18; the guard reads its digits.
    record = {"id": 1, "price": 4111111111111111111.0}
    assert sm._may_hold_card(sm._json_bytes(record))
    assert sm.guard_record(record) == guard_payload(record).value


def test_pages_without_long_digit_runs_are_returned_as_they_are():
    records = [{"id": 1, "billing": {"phone": "(713) 555-0130", "city": "Köln"}, "date": "2026-11-22T04:44:55"}]
    assert sm.guard_records(records)[0] is records[0]


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63, max_value=2**80),
              st.floats(allow_nan=True, allow_infinity=True), st.text(),
              st.sampled_from(["\x00\x1f\t\n\"\\", "é😀\u2028"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=5)),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=8))
def test_the_fast_record_digest_is_the_digest(record):
    # Stored digests are compared with new ones: the faster road must give the very same.
    assert sm.record_digest(record) == sm.digest(record)


def test_the_record_digest_of_a_recorded_customer_is_the_digest():
    for record in load("customers_list.json"):
        view = sm.customer_view(record)
        assert sm.record_digest(view) == sm.digest(view)
        assert sm.record_digest(record) == sm.digest(record)


def _plain_address_values(part):
    values = {}
    for name in sm.ADDRESS_FIELDS:
        value = (part or {}).get(name)
        width = sm._ADDRESS_WIDTHS[name]
        text = "" if value is None else str(value)
        values[name] = text[:width]
    values["country"] = values["country"].upper()
    return values


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*sm.ADDRESS_FIELDS, "extra"]),
                       st.one_of(st.text(max_size=25), st.none(), st.integers(), st.just("x" * 300)), max_size=12))
def test_address_fields_are_cut_to_their_columns_and_blank_when_missing(part):
    assert sm.address_values(part) == _plain_address_values(part)
    assert list(sm.address_values(part)) == list(sm.ADDRESS_FIELDS)


def test_line_options_are_the_visible_meta_of_a_line():
    import json

    from backoffice.services.store_mapping import line_options

    meta = [
        {"key": "_reduced_stock", "value": "3", "display_key": "_reduced_stock", "display_value": "3"},
        {"key": "pa_size", "value": "large", "display_key": "Size", "display_value": "<p>Large</p>"},
        {"key": "Engraving", "value": "For Ana", "display_key": "Engraving", "display_value": "For Ana"},
        {"key": "_bundled_by", "value": "abc"},
        {"key": "gift_data", "value": {"nested": 1}},
    ]
    assert json.loads(line_options(meta)) == [["Size", "Large"], ["Engraving", "For Ana"]]
    assert line_options([]) == "" and line_options(None) == ""


def test_a_gift_message_in_the_orders_meta_reaches_the_gift_slip_and_none_leaves_one_typed_here():
    record = load("order_create.json")
    assert "gift_message" not in sm.order_data(sm.order_view(record)).values
    record["meta_data"] = [*record.get("meta_data", []), {"key": "_gift_message", "value": " Happy birthday! "}]
    assert sm.order_data(sm.order_view(record)).values["gift_message"] == "Happy birthday!"
def test_a_store_text_cut_to_its_column_is_checked_after_the_cut():
    # Whole, the digits are no card (17 digits failing Luhn); cut to 19 characters they are.
    whole = "4111 1111 1111 11112"
    assert sm.guard_record({"note": whole})["note"] == whole
    assert "4111" not in sm._text(whole, 19)


@pytest.mark.parametrize("note", ["cvv 123", "CVC2: 987", "Security code 1234", "CÓDIGO DE SEGURIDAD 321",
                                  "KARTENPRÜFNUMMER 555", "code  de sécurité\n123", "csc ١٢٣", "ＣＶＶ：１２３"])
def test_the_first_look_lets_through_every_security_code(note):
    assert sm._may_hold_card(sm._json_bytes([{"id": 1, "customer_note": note}]))
    assert "[security code removed]" in sm.guard_record({"customer_note": note})["customer_note"]



def _may_hold_code_by_one_pattern(blob: bytes) -> bool:
    """`_may_hold_code` looking for the hints with one pattern of every word."""
    import re

    from backoffice.domain.cards import SECURITY_CODE_HINTS, may_contain_security_code

    if b"\xef\xbc" in blob or b"\xef\xbd" in blob:
        return may_contain_security_code(blob.decode("utf-8", "replace"))
    low = blob.lower()
    pattern = re.compile(b"|".join(re.escape(h.encode()) for h in SECURITY_CODE_HINTS))
    if any(m.start() == 0 or low[m.start() - 1] not in sm._ALNUM_BYTES for m in pattern.finditer(low)):
        return may_contain_security_code(blob.decode("utf-8", "replace"))
    return False


_HINT_PIECES = ["cvv", "CVC", "cv", "cid", "csc", "cav", "spc", "sec", "verif", "sicherh", "Karten", "prüf", "PRÜF",
                "pruf", "pr", "crypto", "code", "códig", "CÓDIG", "codig", "codice", "c", "s", "p", "ó", "Ó", "ü",
                "postcode", "x", "1", "123", " ", "_", "\"", ":", "é"]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_HINT_PIECES), max_size=12))
def test_the_hint_search_by_first_letter_finds_what_one_pattern_finds(pieces):
    blob = sm._json_bytes({"customer_note": "".join(pieces)})
    assert sm._may_hold_code(blob) == _may_hold_code_by_one_pattern(blob)
