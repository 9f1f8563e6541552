"""Card numbers as a determined tester types them, and scans that find one anywhere.

Shared by the tests of the detector and of every path a text takes into the shop: a
Luhn-valid number with a real issuer prefix and 13 to 19 digits, in any script's digits,
with anything a person could put between its groups, and the scans of the database, files
and request bodies by digits only.
"""

from __future__ import annotations

import json
import unicodedata

from hypothesis import strategies as st
from sqlalchemy import inspect, text

# Real issuer prefixes; the length is drawn from 13 to 19 whatever the issuer prints.
ISSUER_PREFIXES = ["4", "51", "55", "2221", "2720", "34", "37", "6011", "644", "65", "3528",
                   "3589", "300", "36", "38", "62", "81", "5018", "6759", "2200", "60", "9792"]
# What a person may put between groups, each drawn 1-4 times in a row.
JOINER_ALPHABET = [" ", "\t", "\n", "\r\n", "\u3000", "\u00a0", "\u202f", "\u2028", "\u200b",
                   "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "-", "\u2010", "\u2011",
                   "\u2013", "\u2014", "\u2212", "\uff0d", "/", ",", "_", ".", "\uff0f"]
# Zero of each script's digits: ASCII, full-width, Arabic-Indic, Devanagari, Bengali,
# Thai, mathematical bold.
DIGIT_ZEROS = [0x30, 0xFF10, 0x0660, 0x0966, 0x09E6, 0x0E50, 0x1D7CE]
# Letters that spell no label word (no tracking, phone or product word, no hexadecimal
# and no upper-case IBAN country code), in several scripts.
LETTERS = "xyzqjkwéßñøαβγдж山田カ"


def luhn_complete(body: str) -> str:
    """``body`` plus the one digit that makes it Luhn-valid (the tests' own arithmetic)."""
    for d in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(body + d)):
            n = int(ch)
            if i % 2:
                n = n * 2 - 9 if n > 4 else n * 2
            total += n
        if total % 10 == 0:
            return body + d
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw, *, ascii_only: bool = False):
    """A Luhn-valid number with a real issuer prefix, 13-19 digits: (ASCII digits, as typed)."""
    prefix = draw(st.sampled_from(ISSUER_PREFIXES))
    size = draw(st.integers(max(13, len(prefix) + 1), 19))
    body = prefix + draw(st.text("0123456789", min_size=size - 1 - len(prefix),
                                 max_size=size - 1 - len(prefix)))
    digits = luhn_complete(body)
    zero = 0x30 if ascii_only else draw(st.sampled_from(DIGIT_ZEROS))
    shown = "".join(chr(zero + int(d)) for d in digits)
    cuts = sorted(draw(st.sets(st.integers(1, size - 1), max_size=size - 1)))
    typed, pos = "", 0
    for cut in cuts:
        joiner = "".join(draw(st.lists(st.sampled_from(JOINER_ALPHABET), min_size=1, max_size=4)))
        typed += shown[pos:cut] + joiner
        pos = cut
    return digits, typed + shown[pos:]


@st.composite
def surroundings(draw):
    """Text of letters and short numbers in other scripts, each number ended by a letter
    (so that the text around a card holds no card of its own)."""
    out = ""
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            out += draw(st.sampled_from(list(LETTERS)))
        else:
            zero = draw(st.sampled_from(DIGIT_ZEROS))
            count = draw(st.integers(1, 6))
            out += "".join(chr(zero + draw(st.integers(0, 9))) for _ in range(count))
            out += draw(st.sampled_from(list(LETTERS))) + " "
    return out


@st.composite
def card_texts(draw, *, ascii_only: bool = False):
    """(ASCII digits of the card, a text holding it with letters or joiners around it)."""
    digits, typed = draw(card_numbers(ascii_only=ascii_only))
    before, after = draw(surroundings()), draw(surroundings())
    lead = draw(st.sampled_from(["", " ", "\n", "\u200b", ": "]))
    tail = draw(st.sampled_from(["", " ", ".", "\u3000", "!"]))
    return digits, (before + "x" if before else "") + lead + typed + tail + ("q" + after if after else "")


def digits_of(value: str) -> str:
    """Every decimal digit of any script in ``value`` (after NFKC), as ASCII."""
    value = unicodedata.normalize("NFKC", value)
    return "".join(str(unicodedata.decimal(c)) for c in value if c.isdecimal())


def leaks(value: str, digits: str) -> bool:
    """True when ``value`` keeps more of the card than its last 4 digits, forwards or
    backwards (phone keys are stored reversed), whatever stands between them."""
    kept = digits_of(value)
    head = digits[:-4]
    return head in kept or head[::-1] in kept


def database_texts(db) -> list[tuple[str, str, str]]:
    """(table, column, value as text) of every non-empty value of every table."""
    out = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            columns = [c["name"] for c in inspect(conn).get_columns(table)]
            quoted = ", ".join(f'"{c}"' for c in columns)
            for row in conn.execute(text(f'SELECT {quoted} FROM "{table}"')):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    out.append((table, column, str(value)))
    return out


def assert_no_card_in_database(db, digits_list) -> None:
    """Every value of every table, read by its digits only, holds none of the cards."""
    for table, column, value in database_texts(db):
        for digits in digits_list:
            assert not leaks(value, digits), f"card {digits[-4:]} in {table}.{column}: {value!r}"
