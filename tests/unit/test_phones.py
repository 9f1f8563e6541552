"""Phone numbers: the stored form of what people type, and searching by phone."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.domain.phones import Phone, normalize_phone, phone_query, phone_suffix_key


@pytest.mark.parametrize(
    ("typed", "region", "e164", "national", "number_region"),
    [
        ("+1 (713) 555-0199", "US", "+17135550199", "7135550199", "US"),
        ("713.555.0199", "US", "+17135550199", "7135550199", "US"),
        ("(713) 555-0199", "US", "+17135550199", "7135550199", "US"),
        ("1-713-555-0199", "US", "+17135550199", "7135550199", "US"),
        ("0049 30 1234567", "DE", "+49301234567", "301234567", "DE"),
        ("0049 30 1234567", "US", "+49301234567", "301234567", "DE"),
        ("030 1234567", "DE", "+49301234567", "301234567", "DE"),
        ("+49 (0)30 1234567", "DE", "+49301234567", "301234567", "DE"),
        ("+44 20 7946 0958", "US", "+442079460958", "2079460958", "GB"),
        ("020 7946 0958", "GB", "+442079460958", "2079460958", "GB"),
        ("07911 123456", "GB", "+447911123456", "7911123456", "GG"),
        ("+81 3-1234-5678", "US", "+81312345678", "312345678", "JP"),
        ("０３－１２３４－５６７８", "JP", "+81312345678", "312345678", "JP"),
        ("+7 495 123-45-67", "US", "+74951234567", "4951234567", "RU"),
        ("8 (495) 123-45-67", "RU", "+74951234567", "4951234567", "RU"),
        ("+55 11 91234-5678", "US", "+5511912345678", "11912345678", "BR"),
        ("011 49 30 1234567", "US", "+49301234567", "301234567", "DE"),
        ("4915112345678", "US", "+4915112345678", "15112345678", "DE"),
    ],
)
def test_valid_numbers_get_their_e164_form(typed, region, e164, national, number_region):
    phone = normalize_phone(typed, default_region=region)
    assert phone == Phone(
        e164=e164, digits=e164[1:], national_digits=national, region=number_region
    )
    assert phone.is_valid


def test_a_number_too_short_to_be_valid_keeps_its_digits():
    phone = normalize_phone("555-0199")
    assert phone == Phone(e164=None, digits="5550199", national_digits="5550199", region=None)
    assert not phone.is_valid


def test_an_invalid_number_with_a_country_code_keeps_it_apart():
    assert normalize_phone("+49 123") == Phone(None, "49123", "123", None)
    assert normalize_phone("0049 123", default_region="US") == Phone(None, "49123", "123", None)


def test_an_extension_is_kept_apart_from_the_number():
    assert normalize_phone("713-555-0199 ext. 12").extension == "12"
    assert normalize_phone("713-555-0199 ext. 12").e164 == "+17135550199"
    short = normalize_phone("555-0199 x12")
    assert (short.digits, short.extension) == ("5550199", "12")


def test_ten_digit_national_numbers_are_never_read_as_foreign():
    # "5555550199" would be a Brazilian number read with a "+"; typed in a US
    # shop it is a mistyped US number and must stay as typed.
    phone = normalize_phone("5555550199")
    assert phone.e164 is None
    assert phone.digits == "5555550199"


@pytest.mark.parametrize("typed", ["", "   ", "n/a", "call me", "+"])
def test_text_without_digits_is_not_a_phone(typed):
    assert normalize_phone(typed) is None


def test_suffix_key_is_the_reversed_digits():
    assert phone_suffix_key("17135550199") == "99105553171"
    assert phone_suffix_key("+1 713-555-0199") == "99105553171"


@pytest.mark.parametrize(
    "typed", ["+1 (713) 555-0199", "7135550199", "713-555-0199", "555 0199", "0199", "17135550199"]
)
def test_every_way_of_typing_finds_the_stored_number(typed):
    query = phone_query(typed, default_region="US")
    assert query is not None
    assert query.matches("17135550199")


def test_a_full_number_is_matched_exactly_with_and_without_country_code():
    query = phone_query("713-555-0199", default_region="US")
    assert query.exact == ("17135550199", "7135550199")
    assert query.suffix == "7135550199"


def test_a_trunk_prefix_typed_abroad_does_not_hide_the_number():
    assert phone_query("07911 123456", default_region="US").matches("447911123456")
    assert phone_query("030 1234567", default_region="DE").matches("49301234567")


def test_short_queries_keep_their_leading_zero():
    query = phone_query("0199")
    assert query.suffix == "0199"
    assert not query.matches("17135551199")


def test_other_numbers_do_not_match():
    query = phone_query("713-555-0199")
    assert not query.matches("17135550198")
    assert not query.matches("17135550299")


@pytest.mark.parametrize("text", ["Smith", "123", "12 ab", "anna@example.com", "#1001", ""])
def test_text_that_is_not_a_phone_is_not_a_phone_search(text):
    assert phone_query(text) is None


def test_key_range_has_no_upper_bound_for_nines_only():
    assert phone_query("9999").key_range() == ("9999", None)
    assert phone_query("0199").key_range() == ("9910", "9911")
    assert phone_query("5590").key_range() == ("0955", "0956")


@settings(max_examples=300)
@given(stored=st.text("0123456789", min_size=4, max_size=15), typed_length=st.integers(4, 15))
def test_the_last_digits_of_a_stored_number_always_find_it(stored, typed_length):
    typed = stored[-typed_length:]
    assert phone_query(typed).matches(stored)


def test_the_suffix_search_is_a_range_on_an_index_in_sqlite():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE customer (id INTEGER PRIMARY KEY, digits TEXT, suffix_key TEXT)")
    db.execute("CREATE INDEX customer_suffix ON customer (suffix_key)")
    stored = ["17135550199", "17135550198", "442079460958", "5550199", "4915112345678"]
    for digits in stored:
        db.execute(
            "INSERT INTO customer (digits, suffix_key) VALUES (?, ?)",
            (digits, phone_suffix_key(digits)),
        )

    def search(text: str) -> set[str]:
        low, high = phone_query(text).key_range()
        rows = db.execute(
            "SELECT digits FROM customer WHERE suffix_key >= ? AND suffix_key < ?",
            (low, high),
        )
        return {digits for (digits,) in rows}

    for typed in ["+1 (713) 555-0199", "7135550199", "713-555-0199"]:
        assert search(typed) == {"17135550199"}
    assert search("555 0199") == {"17135550199", "5550199"}
    assert search("0199") == {"17135550199", "5550199"}
    assert search("+44 20 7946 0958") == {"442079460958"}
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT digits FROM customer WHERE suffix_key >= ? AND suffix_key < ?",
        ("9910", "9911"),
    ).fetchall()
    assert "customer_suffix" in str(plan)
