"""Phone numbers: the stored form of what people type, and searching by phone."""

from __future__ import annotations

import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.domain.cards import contains_card_number
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


# --- the faster road gives exactly what the plain one gives ---------------------------------

import phonenumbers  # noqa: E402
from phonenumbers import PhoneNumberFormat, PhoneNumberType  # noqa: E402

from backoffice.domain import phones as phones_module  # noqa: E402


def _plain_parse_valid(text, region):
    """The plain road: `is_valid_number`, then the number's region worked out again."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return number, phonenumbers.region_code_for_number(number)


def _plain_normalize(raw, region):
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(phones_module, "_parse_valid", _plain_parse_valid)
        return phones_module._normalize(raw, region)


REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
         PhoneNumberType.PREMIUM_RATE, PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.UAN]
FORMATS = [PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.NATIONAL,
           PhoneNumberFormat.RFC3966]


def _examples():
    out = []
    for region in REGIONS:
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                out.append((region, number))
    return out


EXAMPLES = _examples()


def test_every_example_number_of_every_country_normalises_as_on_the_plain_road():
    # Every region's example numbers, in every format, read with their own region, with
    # another one and with none: the same Phone, field for field.
    checked = 0
    for i, (region, number) in enumerate(EXAMPLES):
        for fmt in FORMATS:
            typed = phonenumbers.format_number(number, fmt)
            for default in (region, REGIONS[(i * 7) % len(REGIONS)], "US", None):
                fast = phones_module._normalize(typed, default)
                assert fast == _plain_normalize(typed, default), (typed, default)
                assert normalize_phone(typed, default_region=default) == fast
                checked += 1
    assert checked > 5000


def _mutated(draw, text):
    """`text` as people also type it: other punctuation, a digit lost or added, a prefix, an extension."""
    ops = draw(st.lists(st.sampled_from(["punct", "drop", "add", "00", "strip+", "ext", "space", "letters"]),
                        max_size=3))
    for op in ops:
        if op == "punct" and text:
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(list(" -./()\u00a0\u2013+#x"))) + text[at:]
        elif op == "drop" and text:
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + text[at + 1:]
        elif op == "add":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from("0123456789")) + text[at:]
        elif op == "00":
            text = "00" + text.lstrip("+")
        elif op == "strip+":
            text = text.lstrip("+")
        elif op == "ext":
            text += draw(st.sampled_from([" ext. 12", " x7", " #45", ";ext=9"]))
        elif op == "space":
            text = "  " + text + " "
        elif op == "letters":
            text += draw(st.sampled_from(["FLOWERS", " call after 5", "ab"]))
    return text


@st.composite
def typed_numbers(draw):
    region, number = draw(st.sampled_from(EXAMPLES))
    text = phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))
    return _mutated(draw, text), draw(st.sampled_from([region, "US", "GB", "DE", "FR", "BR", "IN", None]))


@settings(max_examples=1500, deadline=None)
@given(st.one_of(typed_numbers(), st.tuples(st.text(max_size=20), st.sampled_from(["US", "DE", None])),
                 st.tuples(st.text("0123456789 +-()", max_size=18), st.sampled_from(REGIONS))))
def test_typed_numbers_normalise_as_on_the_plain_road(case):
    typed, default = case
    assert phones_module._normalize(typed, default) == _plain_normalize(typed, default)
    plain = phones_module._normalize(typed, default)
    stored = normalize_phone(typed, default_region=default)
    # The same, except that digits making a card number are no phone number.
    assert stored == plain or (stored is None and contains_card_number(
        ("+" if plain.is_valid else "") + plain.digits, context="phone"))


@pytest.mark.parametrize("typed", [
    "4111 1111 1111 1111", "4111-1111-1111-1111", "4111 1111 x 1111 1111", "(411) 111-1111-1111-11",
    "+4111111111111111", "5555 5555 5555 4444 ext 12", "４１１１ １１１１ １１１１ １１１１",
])
def test_a_card_number_typed_as_a_phone_makes_no_phone_keys(typed):
    # Its digits would be kept whole in the phone keys, whatever stood between them.
    assert normalize_phone(typed, default_region="US") is None


@pytest.mark.parametrize("typed", ["+49 170 12345675", "4917012345675", "+1 713 555 0199", "(713) 555-0199"])
def test_a_phone_number_in_a_card_range_stays_a_phone_number(typed):
    assert normalize_phone(typed, default_region="US").is_valid


@pytest.mark.parametrize("region", ["US", "CA", "GB", "JE", "IM", "RU", "KZ", "IT", "VA", "NO", "SJ", "FI", "AX",
                                    "DE", "AU", "CC", None])
def test_a_numbers_region_is_the_one_the_library_works_out(region):
    # A number valid in its calling code's only or main region is taken as that region's
    # without asking the library which region it is; numbers shared by several regions
    # (North America, the Crown dependencies, Kazakhstan, the Vatican, Svalbard, Åland)
    # come out as the library says.
    rng = random.Random(region or "none")
    valid = 0
    for _ in range(1500):
        code = rng.choice(["", "+1 ", "+44 ", "+7 ", "+39 ", "+47 ", "+358 ", "+61 ", "+49 ", "+262 ", "+800 ", "00"])
        typed = code + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 12)))
        try:
            number = phonenumbers.parse(typed, region)
        except phonenumbers.NumberParseException:
            expected = None
        else:
            found = phonenumbers.region_code_for_number(number)
            expected = (number, found) if phonenumbers.is_valid_number_for_region(number, found) else None
        assert phones_module._parse_valid(typed, region) == expected, typed
        valid += expected is not None
    assert valid > 50
