"""The card-number detector: what it catches, what it leaves alone, how it masks."""

from __future__ import annotations

import copy
import re
from datetime import datetime

import phonenumbers
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backoffice.domain.cards import (
    CardMatch,
    contains_card_number,
    find_card_numbers,
    format_path,
    guard_payload,
    guard_text,
    mask_card_numbers,
    may_contain_card_number,
    validate_last4,
)
from backoffice.domain import cards as cards_module
from backoffice.domain.cards import _issuer
from backoffice.errors import ValidationError
from tests.card_canary import card_numbers, surroundings
from tests.card_canary import digits_of as digits_any_script

# --------------------------------------------------------------------------- helpers
# The tests keep their own Luhn arithmetic, so a mistake in the module cannot hide here.


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_complete(body: str) -> str:
    """``body`` plus the one digit that makes it Luhn-valid."""
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


def gs1_ok(digits: str) -> bool:
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(ch) * (3 if i % 2 == 0 else 1) for i, ch in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def only_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def assert_masked(text: str, digits: str) -> str:
    """Mask ``text`` that holds exactly the card ``digits``; return the masked text."""
    result = mask_card_numbers(text)
    assert result.changed
    assert result.text.count("[card number removed, ends ") == 1
    assert f"ends {digits[-4:]}]" in result.text
    assert only_digits(result.text) == only_digits(text).replace(digits, "") + digits[-4:]
    return result.text


# Public test numbers from the payment gateways' test card lists.
GATEWAY_TEST_CARDS = [
    ("4111111111111111", "Visa"),
    ("4242424242424242", "Visa"),
    ("4000056655665556", "Visa"),
    ("4222222222222", "Visa"),
    ("5555555555554444", "Mastercard"),
    ("2223003122003222", "Mastercard"),
    ("378282246310005", "American Express"),
    ("371449635398431", "American Express"),
    ("6011111111111117", "Discover"),
    ("3056930009020004", "Diners Club"),
    ("36227206271667", "Diners Club"),
    ("3566002020360505", "JCB"),
    ("6200000000000005", "UnionPay"),
    ("6759649826438453", "Maestro"),
]


def card_layout(digits: str) -> list[int]:
    """How the card itself prints the number."""
    if len(digits) == 15:
        return [4, 6, 5]
    if len(digits) == 14:
        return [4, 6, 4]
    if len(digits) == 13:
        return [4, 4, 5]
    return [4] * (len(digits) // 4) + ([len(digits) % 4] if len(digits) % 4 else [])


def written(digits: str, sizes: list[int], separators: str | list[str]) -> str:
    groups, pos = [], 0
    for size in sizes:
        groups.append(digits[pos : pos + size])
        pos += size
    assert pos == len(digits)
    if isinstance(separators, str):
        separators = [separators] * (len(groups) - 1)
    out = groups[0]
    for sep, group in zip(separators, groups[1:], strict=True):
        out += sep + group
    return out


STYLES = {
    "no separators": lambda d: d,
    "spaces": lambda d: written(d, card_layout(d), " "),
    "dashes": lambda d: written(d, card_layout(d), "-"),
    "dots": lambda d: written(d, card_layout(d), "."),
    "no-break spaces": lambda d: written(d, card_layout(d), "\u00a0"),
    "en dashes": lambda d: written(d, card_layout(d), "\u2013"),
    "mixed": lambda d: written(
        d, card_layout(d), [" ", "-", "."][: len(card_layout(d)) - 1]
    ),
    "odd grouping": lambda d: written(
        d, [5, 3] + [2] * ((len(d) - 8) // 2) + [(len(d) - 8) % 2] * ((len(d) - 8) % 2), " "
    ),
    "pairs with dashes and dots": lambda d: written(
        d,
        [2] * (len(d) // 2) + [1] * (len(d) % 2),
        ["-" if i % 2 else "." for i in range(len(d) // 2 + len(d) % 2 - 1)],
    ),
}


# --------------------------------------------------------------------------- caught


def test_gateway_test_cards_are_luhn_valid():
    # If one of these were mistyped, the tests below would prove nothing.
    assert all(luhn_ok(digits) for digits, _ in GATEWAY_TEST_CARDS)


@pytest.mark.parametrize("style", list(STYLES))
@pytest.mark.parametrize(("digits", "brand"), GATEWAY_TEST_CARDS)
def test_every_gateway_test_card_in_every_style_is_found_and_masked(digits, brand, style):
    number = STYLES[style](digits)
    text = f"Customer paid by phone with {number}, please ship today"

    [match] = find_card_numbers(text)

    assert match.digits == digits
    assert match.last4 == digits[-4:]
    assert match.brand == brand
    assert text[match.start : match.end] == number
    masked = assert_masked(text, digits)
    assert masked.startswith("Customer paid by phone with [card number removed, ends ")
    assert masked.endswith("], please ship today")


@pytest.mark.parametrize(("digits", "brand"), GATEWAY_TEST_CARDS)
def test_a_card_number_alone_at_start_or_end_of_the_text_is_found(digits, brand):
    for text in (digits, f"{digits} was used", f"card:{digits}", f"({digits})", f"x\n{digits}\n"):
        assert [m.digits for m in find_card_numbers(text)] == [digits], text


def test_a_note_with_a_visa_is_stored_masked_and_the_message_names_its_last_4():
    result = guard_text("Ring first. Card 4111 1111 1111 1111 exp 12/26", field="Order note")

    assert result.changed
    assert result.value == "Ring first. Card [card number removed, ends 1111]"
    assert result.message == (
        "A card number was removed from Order note; only its last 4 digits (1111) were "
        "kept. This shop never stores card numbers: take card payments on the payment "
        "page or the card terminal."
    )
    assert [m.brand for m in result.matches] == ["Visa"]


def test_two_cards_in_one_text_are_both_masked_and_named():
    result = mask_card_numbers(
        "first 4242-4242-4242-4242, then 5555 5555 5555 4444", field="Customer note"
    )
    assert result.text == (
        "first [card number removed, ends 4242], then [card number removed, ends 4444]"
    )
    assert result.message.startswith(
        "2 card numbers were removed from Customer note; only their last 4 digits "
        "(4242 and 4444) were kept."
    )


def test_a_card_followed_by_expiry_and_security_code_is_masked_with_them():
    text = "Visa 4111 1111 1111 1111 12 26 737 thanks"
    result = mask_card_numbers(text)
    assert result.text == "Visa [card number removed, ends 1111] thanks"
    assert [m.digits for m in result.matches] == ["4111111111111111"]


def test_a_card_behind_a_small_quantity_is_found():
    result = mask_card_numbers("Qty 2 4242 4242 4242 4242")
    assert result.text == "Qty 2 [card number removed, ends 4242]"


def test_two_cards_joined_by_single_spaces_are_both_found():
    cards = find_card_numbers("4111111111111111 5555555555554444")
    assert [(m.digits, m.brand) for m in cards] == [
        ("4111111111111111", "Visa"),
        ("5555555555554444", "Mastercard"),
    ]


@pytest.mark.parametrize(
    "number",
    [
        "4111  1111  1111  1111",
        "4111   1111   1111   1111",
        "4111\t1111\t1111\t1111",
        "4111 - 1111 - 1111 - 1111",
        "3782 - 822463 - 10005",
        "4111 .1111. 1111 1111",
    ],
)
def test_loosely_spaced_card_numbers_are_found(number):
    text = f"note:\t{number}\tend"
    assert [m.digits for m in find_card_numbers(text)] == [only_digits(number)]
    assert only_digits(mask_card_numbers(text).text) == only_digits(number)[-4:]


def test_the_cheap_first_look_lets_every_kind_of_card_text_through():
    texts = [
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111  1111  1111  1111",
        "4111 - 1111 - 1111 - 1111",
        "４１１１ １１１１ １１１１ １１１１",
        "Qty 2 4242 4242 4242 4242",
    ]
    for text in texts:
        assert find_card_numbers(text), text
        assert may_contain_card_number(text), text
    assert not may_contain_card_number("Order #10234, call 020 7946 0958")
    assert not may_contain_card_number("")


def test_the_cheap_first_look_lets_a_loose_run_through_wherever_it_starts():
    # Single-spaced groups first, then a tab: the run starts before the loose joint.
    text = "3 0 0 0\t0000000004"
    assert find_card_numbers(text)
    assert may_contain_card_number(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="0123456789 \t-.\u00a0x", min_size=12, max_size=60))
@example("3 0 0 0\t0000000004")
@example("4111 1111\t1111 1111")
def test_the_cheap_first_look_never_hides_what_the_detector_finds(text):
    if find_card_numbers(text):
        assert may_contain_card_number(text), text


def test_any_spacing_joins_groups_even_outside_every_issuer_range():
    # Columns of a table may be masked too: a false alarm costs a retyped note, a miss
    # breaks the promise.
    columns = luhn_complete("880012345678901")
    for joint in ("  ", "\n", "\n\n   ", " / ", ", ", "_"):
        assert len(find_card_numbers(written(columns, [4, 4, 4, 4], joint))) == 1, repr(joint)


def test_a_card_word_right_before_a_number_keeps_it_a_card():
    unknown = luhn_complete("880012345678901")
    assert find_card_numbers(f"Order note: {unknown}") == []
    assert len(find_card_numbers(f"Order note: card {unknown}")) == 1
    assert len(find_card_numbers(f"card #{luhn_complete('700000012345')}")) == 1
    assert len(find_card_numbers("Visa 1763786695124")) == 1
    assert len(find_card_numbers(f"Kreditkarte {unknown}", context="reference")) == 1


def test_full_width_digits_are_digits_too():
    [match] = find_card_numbers("カード ４１１１ １１１１ １１１１ １１１１")
    assert match.digits == "4111111111111111"
    assert "１１１１ １１１１ １１１１" not in mask_card_numbers("４１１１ １１１１ １１１１ １１１１").text


def test_a_luhn_valid_number_outside_every_issuer_range_is_still_a_card():
    digits = luhn_complete("880012345678901")  # 16 digits, no issuer starts with 88
    [match] = find_card_numbers(f"number {digits} here")
    assert match.brand == "Unknown"


def test_a_12_digit_number_is_a_card_only_inside_a_12_digit_issuer_range():
    maestro = luhn_complete("67596498264")
    other = luhn_complete("79780667714")  # FedEx Express length, no issuer
    assert [m.brand for m in find_card_numbers(f"Maestro {maestro}")] == ["Maestro"]
    assert find_card_numbers(f"parcel {other}") == []


def test_a_number_that_fails_the_luhn_check_is_not_a_card():
    assert find_card_numbers("4111 1111 1111 1112") == []


def test_contains_card_number():
    assert contains_card_number("call me back, card is 6011-1111-1111-1117")
    assert not contains_card_number("call me back on 020 7946 0958")


# --------------------------------------------------------------------------- the property


SEPARATORS = [" ", "-", ".", "\u00a0", "\u2013"]
NEUTRAL_BEFORE = ["", "Paid with ", "Customer wrote: ", "see below\n", "(", "note - ", "x, "]
NEUTRAL_AFTER = ["", " thanks", ".", ")", ", ok", "\n", "; done"]


def written_as_international_phone(number: str) -> bool:
    """Grouped exactly as libphonenumber writes a valid number, country code first."""
    groups = re.findall(r"\d+", number)
    digits = "".join(groups)
    if len(groups) < 2 or len(groups[0]) > 3 or len(digits) > 15:
        return False
    try:
        parsed = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_valid_number(parsed):
        return False
    fmt = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return [len(g) for g in re.findall(r"\d+", fmt)] == [len(g) for g in groups]


def issuer_shaped_part(number: str) -> bool:
    """Some run of whole groups, Luhn-valid with 12-19 digits, starts inside an issuer range."""
    groups = re.findall(r"\d+", number)
    for i in range(len(groups)):
        for j in range(i + 1, len(groups) + 1):
            part = "".join(groups[i:j])
            if 12 <= len(part) <= 19 and luhn_ok(part) and (
                _issuer(part) or (len(part) >= 13 and cards_module._prefix_only(part))
            ):
                return True
    return False


def documented_exclusion(digits: str, number: str) -> str | None:
    """The only Luhn-valid 13-19 digit numbers that are not cards in neutral text.

    Each is written down in the module docstring of backoffice.domain.cards:
    - one dot as the only separator and no part starting inside an issuer range: a
      decimal number ("0.1234567890123456");
    - starting with 00 and at most 17 digits: 00 and an E.164 phone number;
    - no separators, 13/16/19 digits starting with 1: an epoch timestamp in milli-,
      micro- or nanoseconds (2001-2033);
    - no separators, 14 or 17 digits YYYYMMDDhhmmss[fff] with a real 20xx date;
    - grouped exactly like libphonenumber's international format of a valid number.
    No card issuer range starts with 00, 1 or 20, so the three rules by value can never
    hide a real card.
    """
    separators = [ch for ch in number if not ch.isdigit()]
    if issuer_shaped_part(number):
        # Evidence by value never clears a part that starts inside an issuer range.
        return "phone number in international grouping" if written_as_international_phone(number) else None
    if separators == ["."]:
        return "decimal number"
    if digits.startswith("00") and len(digits) <= 17:
        return "phone number with 00 prefix"
    if not separators:
        if len(digits) in (13, 16, 19) and digits[0] == "1":
            return "epoch timestamp"
        if len(digits) in (14, 17) and digits.startswith("20"):
            try:
                datetime.strptime(digits[:14], "%Y%m%d%H%M%S")
            except ValueError:
                pass
            else:
                return "compact date-time"
    if written_as_international_phone(number):
        return "phone number in international grouping"
    return None


@st.composite
def luhn_numbers_written_any_way(draw):
    size = draw(st.integers(13, 19))
    body = draw(st.text("0123456789", min_size=size - 1, max_size=size - 1))
    digits = luhn_complete(body)
    cuts = sorted(draw(st.sets(st.integers(1, size - 1), max_size=size - 1)))
    number, pos = "", 0
    for cut in cuts:
        number += digits[pos:cut] + draw(st.sampled_from(SEPARATORS))
        pos = cut
    number += digits[pos:]
    return digits, number


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    luhn_numbers_written_any_way(),
    st.sampled_from(NEUTRAL_BEFORE),
    st.sampled_from(NEUTRAL_AFTER),
)
@example(("1763786695124", "1763786695124"), "", "")  # epoch milliseconds
@example(("1763786695124", "1763 7866 9512 4"), "", "")  # same digits, grouped: a card
@example(("20261122044450", "20261122044450"), "", "")  # compact date-time
@example(("0049170123456", "0049 170 123456"), "", "")  # 00 phone prefix
@example(("4917012345675", "49 170 12345675"), "", "")  # German mobile, Visa-13 range
@example(("4917012345675", "4917 0123 4567 5"), "", "")  # same digits as a card
@example(("012345678901234569", "0.12345678901234569"), "", "")  # decimal number
@example(("30000000000004", "3.0000000000004"), "", "")  # a Diners Club number, not a decimal
def test_every_luhn_valid_13_to_19_digit_number_is_caught_unless_documented(
    case, before, after
):
    digits, number = case
    assert luhn_ok(digits)
    text = before + number + after
    matches = find_card_numbers(text)
    reason = documented_exclusion(digits, number)
    if reason is not None:
        assert matches == [], f"{number!r} is a {reason}, not a card"
        return
    # The whole number, or an issuer-shaped part of it, is the card; either way the
    # whole number goes and only the last 4 digits of the card named stay.
    [match] = matches
    assert match.digits in digits
    assert may_contain_card_number(text)
    masked = mask_card_numbers(text).text
    # Digits before the card may stay ("0.", "Qty 2"); of the card, only its last 4.
    left = only_digits(masked)
    assert left.endswith(match.last4) and digits.startswith(left[:-4])
    assert digits.index(match.digits) == len(left) - 4


# Real issuer prefixes with the way each brand prints its groups.
BRAND_LAYOUTS = [("4", 16, (4, 4, 4, 4)), ("53", 16, (4, 4, 4, 4)), ("2223", 16, (4, 4, 4, 4)),
                 ("37", 15, (4, 6, 5)), ("6011", 16, (4, 4, 4, 4)), ("3530", 16, (4, 4, 4, 4))]
JOINTS = [" ", "  ", "   ", "\t", "-", " - ", ". ", "."]


@st.composite
def cards_typed_with_uneven_spacing(draw):
    prefix, size, layout = draw(st.sampled_from(BRAND_LAYOUTS))
    body = prefix + draw(st.text("0123456789", min_size=size - 1 - len(prefix), max_size=size - 1 - len(prefix)))
    digits = luhn_complete(body)
    groups, pos = [], 0
    for width in layout:
        groups.append(digits[pos:pos + width])
        pos += width
    number = groups[0]
    for group in groups[1:]:
        number += draw(st.sampled_from(JOINTS)) + group
    return digits, number


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(cards_typed_with_uneven_spacing(), st.sampled_from(NEUTRAL_BEFORE), st.sampled_from(NEUTRAL_AFTER))
@example(("4111111111111111", "4111 1111 1111  1111"), "", "")
@example(("4111111111111111", "4111 1111 1111\t1111"), "Paid with ", " thanks")
@example(("4111111111111111", "4111\t1111 1111 1111"), "", "")
def test_a_card_typed_with_uneven_spacing_or_tabs_is_caught_and_masked_whole(case, before, after):
    digits, number = case
    text = before + number + after
    assert [m.digits for m in find_card_numbers(text)] == [digits], repr(text)
    assert may_contain_card_number(text)
    masked = mask_card_numbers(text).text
    assert only_digits(masked) == only_digits(before + after) + digits[-4:]



# --------------------------------------------------------------------------- not cards


def usps_complete(body: str) -> str:
    """``body`` plus its USPS (GS1 mod 10) check digit."""
    for d in "0123456789":
        if gs1_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


def test_a_named_usps_number_with_its_check_digit_is_not_searched_for_cards_inside():
    # The middle 16 digits are a Luhn-valid Visa number; the tracking number's own check
    # digit and the carrier's name show it is a tracking number.
    inner = "4111111111111111"
    usps = usps_complete(f"9400{inner}0")
    zip_routed = usps_complete(f"42077005{'9205'}{inner}0")
    for text in (
        "USPS 9400 1000 0000 0000 0000 00",
        f"USPS {written(usps, [4, 4, 4, 4, 4, 2], ' ')}",
        f"Tracking: {usps}",
        f"shipped with USPS, {written(zip_routed, [3, 5, 4, 4, 4, 4, 4, 2], ' ')}",
    ):
        assert find_card_numbers(text) == [], text
    assert find_card_numbers(usps, context="tracking") == []


def test_a_tracking_number_that_fails_its_check_digit_or_names_no_carrier_is_masked():
    inner = "4111111111111111"
    usps = usps_complete(f"9400{inner}0")
    wrong = usps[:-1] + str((int(usps[-1]) + 1) % 10)
    for text in (f"USPS {written(wrong, [4, 4, 4, 4, 4, 2], ' ')}",
                 f"{written(usps, [4, 4, 4, 4, 4, 2], ' ')}",
                 f"9400 {written(inner, [4, 4, 4, 4], ' ')} 00"):
        assert [m.digits for m in find_card_numbers(text)] == [inner], text
    # Digits run together are one number, read whole: 22 digits are no card.
    assert find_card_numbers(f"9400{inner}00") == []


@pytest.mark.parametrize(
    "text",
    [
        "1Z999AA10123456784",
        "UPS 1Z 999 AA1 01 2345 6784",
        "Royal Mail AB123456789GB",
        "DHL 1234567890",
        "Order #10234",
        "DE89 3704 0044 0532 0130 00",
    ],
)
def test_identifiers_and_short_numbers_are_not_cards(text):
    assert find_card_numbers(text) == []


@pytest.mark.parametrize("text", ["cc4111111111111111", "4111111111111111cd", "x1Z4111111111111111",
                                  "card:4111111111111111/exp"])
def test_a_card_number_touching_letters_is_a_card(text):
    assert [m.digits for m in find_card_numbers(text)] == ["4111111111111111"]


PHONE_13 = luhn_complete("331234567890")  # 13 digits, no issuer range starts with 33


@pytest.mark.parametrize(
    ("not_a_card", "card_for_contrast"),
    [
        # + prefix: E.164 number, possible for its country (here a Visa-13 range).
        ("+49 170 12345675", "4917 0123 4567 5"),
        ("tel:+4917012345675", "4917012345675 "),
        # 00 international prefix.
        ("0049 170 123456", None),
        # Written exactly as a German mobile number is written, country code first.
        ("49 170 12345675", "4917 0123 4567 5"),
        ("86 138 0013 8002", "8613 8001 3800 2"),
        # Bracketed area or country code right before.
        (f"(+49) {written(PHONE_13, [4, 4, 5], ' ')}", written(PHONE_13, [4, 4, 5], " ")),
        # A phone word right before, for a number outside every issuer range.
        (f"Tel: {PHONE_13}", PHONE_13),
        (f"Mobile {written(PHONE_13, [3, 4, 6], '-')}", written(PHONE_13, [4, 4, 5], " ")),
    ],
)
def test_phone_numbers_are_not_cards(not_a_card, card_for_contrast):
    assert find_card_numbers(not_a_card) == []
    if card_for_contrast is None:
        assert luhn_ok(only_digits(not_a_card))
    else:
        # The same digits without the evidence are a card.
        assert only_digits(not_a_card).endswith(only_digits(card_for_contrast))
        assert len(find_card_numbers(card_for_contrast)) == 1


def test_a_phone_context_clears_numbers_outside_issuer_ranges_up_to_15_digits():
    assert find_card_numbers(PHONE_13, context="phone") == []
    assert len(find_card_numbers(PHONE_13)) == 1
    sixteen = luhn_complete("331234567890123")
    assert len(find_card_numbers(sixteen, context="phone")) == 1


def test_phone_evidence_does_not_hide_a_card_number():
    # 16 digits are more than any phone number has; a + does not make them one.
    assert len(find_card_numbers("+4111111111111111")) == 1
    # 378... is San Marino's country code, and no San Marino number is that long.
    assert len(find_card_numbers("+378282246310005")) == 1
    # A phone label does not clear a number inside an issuer range.
    assert len(find_card_numbers("Phone: 378282246310005")) == 1
    assert len(find_card_numbers("call 4222222222222", context="phone")) == 1


@pytest.mark.parametrize(
    ("timestamp", "what"),
    [
        ("1763786695124", "epoch milliseconds"),
        ("1763786695123454", "epoch microseconds"),
        ("1763786695123456781", "epoch nanoseconds"),
        ("20261122044450", "compact ISO date-time"),
        (luhn_complete("2026112204445512"), "compact ISO date-time with milliseconds"),
    ],
)
def test_machine_timestamps_are_not_cards(timestamp, what):
    assert luhn_ok(timestamp)
    assert find_card_numbers(f"synced at {timestamp} ok") == [], what
    # People group card numbers; the same digits grouped are treated as a card.
    grouped = written(timestamp, [4] * (len(timestamp) // 4) + [len(timestamp) % 4], " ")
    assert len(find_card_numbers(grouped)) == 1


def test_an_impossible_date_is_not_a_date_time():
    not_a_date = luhn_complete("2026133204445")  # month 13
    assert len(find_card_numbers(not_a_date)) == 1


@pytest.mark.parametrize(
    "text",
    [
        f"#{luhn_complete('700000012345')}",
        f"Order # {luhn_complete('700000012345')}",
        f"Order no. {luhn_complete('880012345678901')}",
        f"Invoice {luhn_complete('900012345678901')}",
        f"Transaction id: {luhn_complete('885131751004933')}",
    ],
)
def test_order_invoice_and_transaction_numbers_are_not_cards(text):
    assert luhn_ok(only_digits(text))
    assert find_card_numbers(text) == []
    assert len(find_card_numbers(only_digits(text))) == 1


def test_a_reference_label_does_not_hide_a_card_number():
    assert len(find_card_numbers("Order #4111111111111111")) == 1
    assert len(find_card_numbers("4242424242424242", context="reference")) == 1


FEDEX_GROUND = "403934084723025"  # FedEx's published 15-digit test tracking number
CANADA_POST = luhn_complete("702321003941460")


def test_the_fedex_test_number_is_luhn_valid_so_it_needs_evidence():
    assert luhn_ok(FEDEX_GROUND)
    assert len(find_card_numbers(FEDEX_GROUND)) == 1


@pytest.mark.parametrize(
    "text",
    [
        f"FedEx {FEDEX_GROUND}",
        f"Tracking number: {FEDEX_GROUND}",
        f"Sendungsnummer {written(FEDEX_GROUND, [4, 4, 4, 3], ' ')}",
        f"shipped with Canada Post, {written(CANADA_POST, [4, 4, 4, 4], ' ')}",
        f"DPD {luhn_complete('0123456789012')}",
    ],
)
def test_labelled_tracking_numbers_are_not_cards(text):
    assert luhn_ok(only_digits(text))
    assert find_card_numbers(text) == []


def test_a_tracking_field_takes_canada_post_and_fedex_numbers():
    assert find_card_numbers(CANADA_POST, context="tracking") == []
    assert find_card_numbers(FEDEX_GROUND, context="tracking") == []
    assert len(find_card_numbers(CANADA_POST)) == 1


def test_a_tracking_field_still_refuses_a_card_number():
    result = guard_text("4111 1111 1111 1111", field="Tracking number", context="tracking")
    assert result.value == "[card number removed, ends 1111]"


def test_a_product_code_with_its_check_digit_is_not_a_card():
    # A 13-digit EAN in the Visa range that also passes Luhn.
    ean = next(
        code
        for code in (luhn_complete(f"4006381{i:05d}") for i in range(100_000))
        if gs1_ok(code)
    )
    assert len(find_card_numbers(ean)) == 1
    assert find_card_numbers(f"EAN {ean}") == []
    assert find_card_numbers(ean, context="product") == []
    # A card number in a product field is still a card number.
    assert len(find_card_numbers("4242424242424242", context="product")) == 1


def iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def test_an_iban_is_not_a_card():
    account = luhn_complete("1234569876543")
    code = iban("GB", "WEST" + account)
    text = f"Refund to {code[:4]} {code[4:8]} {written(code[8:], [4, 4, 4, 2], ' ')}"
    assert find_card_numbers(text) == []
    # With a wrong check number it is no IBAN, and the digits count as a card.
    broken = text.replace(code[2:4], f"{(int(code[2:4]) + 1) % 100:02d}", 1)
    assert len(find_card_numbers(broken)) == 1


def test_a_uuid_is_not_a_card():
    tail = luhn_complete("871644665544000")
    uuid = f"550e8400-e29b-41da-{tail[:4]}-{tail[4:]}"
    assert find_card_numbers(f"request {uuid} failed") == []
    assert len(find_card_numbers(f"{tail[:4]}-{tail[4:]}")) == 1


def test_a_decimal_number_is_not_a_card():
    number = "0." + luhn_complete("01234567890123456")[1:]
    assert luhn_ok(only_digits(number))
    assert find_card_numbers(f"took {number} s") == []


def test_an_unknown_context_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown context"):
        find_card_numbers("4111111111111111", context="notes")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- guard_text


def test_guard_text_leaves_clean_and_empty_values_alone():
    assert guard_text(None, field="Note") == guard_text(None, field="Note")
    assert guard_text(None, field="Note").value is None
    clean = guard_text("Leave at the door", field="Note")
    assert (clean.value, clean.changed, clean.message) == ("Leave at the door", False, "")


def test_mask_result_without_a_card_keeps_the_text():
    result = mask_card_numbers("Order #10234 shipped")
    assert (result.text, result.matches, result.changed, result.message) == (
        "Order #10234 shipped",
        (),
        False,
        "",
    )


def test_masked_text_has_no_card_left_to_find():
    once = mask_card_numbers("4111 1111 1111 1111 and 378282246310005").text
    assert find_card_numbers(once) == []
    assert mask_card_numbers(once).text == once


# --------------------------------------------------------------------------- guard_payload


def woo_order(card: str) -> dict:
    return {
        "id": 10234,
        "number": "10234",
        "transaction_id": luhn_complete("885131751004933"),
        "customer_note": f"pay with {card} please",
        "billing": {"first_name": "Ann", "phone": PHONE_13, "email": "ann@example.com"},
        "meta_data": [
            {"id": 1, "key": "_tracking_number", "value": CANADA_POST},
            {"id": 2, "key": "_card", "value": int(card.replace(" ", ""))},
        ],
        "line_items": [
            {
                "name": "Mug",
                "sku": "TS-1",
                "quantity": 2,
                "meta_data": [
                    {
                        "key": "Gift message",
                        "value": "Happy birthday",
                        "display_value": f"card {card}",
                    }
                ],
            }
        ],
        "paid": True,
        "total": "19.99",
    }


def test_guard_payload_masks_card_numbers_anywhere_in_web_store_json():
    order = woo_order("4242 4242 4242 4242")
    original = copy.deepcopy(order)

    cleaned, found = guard_payload(order)

    assert order == original, "the payload given is not changed"
    assert cleaned["customer_note"] == "pay with [card number removed, ends 4242] please"
    assert cleaned["meta_data"][1]["value"] == "[card number removed, ends 4242]"
    assert cleaned["line_items"][0]["meta_data"][0]["display_value"] == (
        "card [card number removed, ends 4242]"
    )
    assert [format_path(path) for path, _ in found] == [
        "customer_note",
        "meta_data[1].value",
        "line_items[0].meta_data[0].display_value",
    ]
    assert all(isinstance(m, CardMatch) and m.last4 == "4242" for _, m in found)
    # Phone, tracking and transaction fields keep their numbers.
    assert cleaned["billing"]["phone"] == PHONE_13
    assert cleaned["meta_data"][0]["value"] == CANADA_POST
    assert cleaned["transaction_id"] == order["transaction_id"]
    assert (cleaned["id"], cleaned["paid"], cleaned["total"]) == (10234, True, "19.99")
    assert "4242424242424242" not in only_digits(repr(cleaned))


def test_guard_payload_result_tells_the_person_where():
    result = guard_payload({"billing": {"address_2": "5555-5555-5555-4444"}})
    assert result.changed
    assert result.message.startswith(
        "A card number was removed from billing.address_2; only its last 4 digits (4444)"
    )


def test_guard_payload_checks_csv_rows_and_keys():
    rows = [["name", "note"], ["Ann", "4111111111111111"]]
    cleaned, found = guard_payload(rows)
    assert cleaned == [["name", "note"], ["Ann", "[card number removed, ends 1111]"]]
    assert [p for p, _ in found] == [(1, 1)]

    cleaned, found = guard_payload({"4111111111111111": "x"})
    assert list(cleaned) == ["[card number removed, ends 1111]"]


def test_guard_payload_without_cards_is_unchanged():
    result = guard_payload({"a": [1, "two", None, 3.5]})
    assert result.value == {"a": [1, "two", None, 3.5]}
    assert (result.found, result.changed, result.message) == ((), False, "")


# --------------------------------------------------------------------------- last 4


@pytest.mark.parametrize(
    ("typed", "kept"), [("1111", "1111"), (" 42 42 ", "4242"), ("0005", "0005")]
)
def test_validate_last4_accepts_four_digits(typed, kept):
    assert validate_last4(typed) == kept


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the last 4 digits"),
        ("111", "exactly 4 digits"),
        ("11111", "exactly 4 digits"),
        ("12a4", "exactly 4 digits"),
        ("４２４２", "exactly 4 digits"),
        ("4111 1111 1111 1111", "whole card number"),
    ],
)
def test_validate_last4_refuses_anything_else_with_a_sentence(typed, says):
    with pytest.raises(ValidationError) as caught:
        validate_last4(typed)
    assert says in caught.value.fields["last4"]
    assert "4111" not in str(caught.value)


# --------------------------------------------------------------------------- any joiner


def test_the_joiner_table_holds_every_format_character_and_dash_of_this_python():
    import unicodedata

    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) in ("Cf", "Pd") or char.isspace():
            assert cards_module.is_card_joiner(char), f"U+{code:04X}"
    for char in "\u2212/,_.\uff0f\uff0c\uff3f\uff0e\u00ad\uff0d\u3000\u200b":
        assert cards_module.is_card_joiner(char), f"U+{ord(char):04X}"
    for char in "a1+()[]#\"":
        assert not cards_module.is_card_joiner(char), char


MARKER = re.compile(r"\[card number removed, ends (\d{4})\]")


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(card_numbers(), surroundings(), surroundings(), st.sampled_from(["", "x", "y ", "\n", "é\u3000"]),
       st.sampled_from(["", "q", " z", ".", "\u200b"]))
@example(("4111111111111111", "4111\n1111\n1111\n1111"), "", "", "", "")
@example(("4111111111111111", "4111.111111111111"), "", "", "", "")
@example(("4111111111111111", "4111111111111111"), "cc", "", "", "")
@example(("4111111111111111", "４１１１\u3000１１１１\u3000１１１１\u3000１１１１"), "", "", "", "")
def test_a_card_number_with_any_joiners_and_surroundings_is_always_masked(card, before, after, lead, tail):
    digits, typed = card
    # A letter, then perhaps joiners, stands between the card and any digits around it.
    edge_before = (before + "x" if before else "") + lead
    edge_after = tail + ("q" + after if after else "")
    text = edge_before + typed + edge_after
    assert find_card_numbers(text), repr(text)
    assert may_contain_card_number(text)
    masked = mask_card_numbers(text).text
    # Only "ends 1234" of each marker is left of the number; the rest keeps its digits.
    endings = MARKER.findall(masked)
    assert endings and all(e in digits for e in endings), repr(text)
    left = digits_any_script(MARKER.sub("", masked))
    assert left == digits_any_script(edge_before + edge_after), repr(text)
    assert digits[:-4] not in digits_any_script(masked)
    # Masking again changes nothing: nothing of the card is left to find.
    assert mask_card_numbers(masked).text == masked


# --------------------------------------------------------------------------- security codes


def test_the_expiry_and_security_code_next_to_a_card_go_with_it():
    result = mask_card_numbers("card 4111 1111 1111 1111 exp 12/28 cvv 123")
    assert result.text == "card [card number removed, ends 1111] cvv [security code removed]"
    assert "security code was removed too" in result.message


@pytest.mark.parametrize(("typed", "kept"), [
    ("CVV: 123", "CVV: [security code removed]"),
    ("her cvv2 is 987, call back", "her cvv2 is [security code removed], call back"),
    ("Security code 1234", "Security code [security code removed]"),
    ("CID\n4321", "CID\n[security code removed]"),
    ("csc=555 thanks", "csc=[security code removed] thanks"),
    ("CVC ١٢٣", "CVC [security code removed]"),
    ("Kartenprüfnummer 321", "Kartenprüfnummer [security code removed]"),
    ("ＣＶＶ：１２３", "ＣＶＶ：[security code removed]"),
])
def test_a_security_code_after_its_word_is_removed_even_with_no_card(typed, kept):
    result = guard_text(typed, field="the note")
    assert result.value == kept
    assert result.changed and result.matches == ()
    assert result.message.startswith("A card security code was removed from the note.")
    assert contains_card_number(typed) and may_contain_card_number(typed)


@pytest.mark.parametrize("text", ["cvv 12345", "CVV", "price 123", "decide 123", "section 12"])
def test_a_number_that_is_no_security_code_stays(text):
    assert mask_card_numbers(text).text == text


def test_a_security_code_in_web_store_json_is_reported_by_path():
    result = guard_payload({"customer_note": "cvv 123", "billing": {"address_2": "ok"}})
    assert result.value["customer_note"] == "cvv [security code removed]"
    assert result.changed and result.codes == (("customer_note",),)
    assert "customer_note" in result.message
