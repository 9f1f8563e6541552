"""Accent- and case-insensitive text folding and word splitting for search."""

from __future__ import annotations

import unicodedata
from functools import cache

__all__ = ["fold", "search_tokens"]

# Letters that carry their "accent" in the letter itself, so that NFKD does not
# split them; map them to what a person would type on a plain keyboard.
# Keys are lower case because folding casefolds before translating.
_SPECIAL_LETTERS = {
    "ø": "o",
    "ł": "l",
    "æ": "ae",
    "œ": "oe",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "ı": "i",
    "ħ": "h",
    "ŧ": "t",
    "ŀ": "l",
    "ɨ": "i",
    "ƶ": "z",
    "ȥ": "z",
    "ɍ": "r",
    "ŋ": "ng",
    "ĸ": "k",
}

# Combining marks that are accents on their base letter: the general diacritics
# blocks (Latin, Greek, Cyrillic accents after NFKD), Cyrillic titlo, Hebrew
# points and Arabic vowel signs. Marks that belong to a letter in other scripts
# (Japanese voicing marks, Indic vowel signs) are kept: dropping them would
# change the word, not its accent.
_ACCENT_RANGES = (
    (0x0300, 0x036F),
    (0x0483, 0x0489),
    (0x0591, 0x05C7),
    (0x0610, 0x061A),
    (0x064B, 0x065F),
    (0x0670, 0x0670),
    (0x06D6, 0x06ED),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)


def _build_fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for start, end in _ACCENT_RANGES:
        for code in range(start, end + 1):
            if unicodedata.category(chr(code)).startswith("M"):
                table[code] = None
    for letter, replacement in _SPECIAL_LETTERS.items():
        table[ord(letter)] = replacement
    return table


_FOLD_TABLE = _build_fold_table()

# Apostrophes inside a word join it ("O'Brien" is one word, "obrien").
_APOSTROPHES = "'\u2019\u02bc\u2018`\u00b4"


def fold(text: str) -> str:
    """Return `text` for accent- and case-insensitive comparison.

    NFKD, accents dropped, casefolded, special letters mapped (ß→ss, Ø→o, Ł→l,
    Æ→ae, Œ→oe, Đ→d, Þ→th, ı→i), runs of whitespace collapsed to one space.
    Other scripts pass through apart from their accent marks ("Ёлкина" → "елкина",
    "Ελένη" → "ελενη"). Folding twice gives the same result as folding once.
    """
    if text.isascii():
        return " ".join(text.lower().split())
    folded = unicodedata.normalize("NFKD", text).casefold().translate(_FOLD_TABLE)
    if not folded.isascii():
        folded = unicodedata.normalize("NFC", folded)
    return " ".join(folded.split())


_ASCII_SEPARATORS: dict[int, str | None] = {
    code: " " for code in range(0x80) if not chr(code).isalnum()
}
for _char in _APOSTROPHES:
    _ASCII_SEPARATORS[ord(_char)] = None


@cache
def _separator_table() -> dict[int, str | None]:
    """Map punctuation, symbols and spaces of the Basic Multilingual Plane to a space."""
    table: dict[int, str | None] = {}
    for code in range(0x80, 0x10000):
        category = unicodedata.category(chr(code))
        if category[0] in "PSZ" or category in ("Cc", "Cs", "Co"):
            table[code] = " "
        elif category == "Cf":
            table[code] = None
    table.update(_ASCII_SEPARATORS)
    for char in _APOSTROPHES:
        table[ord(char)] = None
    return table


def prepare_tables() -> None:
    """Build the word-splitting tables for every script (a fifth of a second), so that a
    caller's first keystroke does not wait for it; the app does it in the background."""
    _separator_table()


def search_tokens(text: str) -> list[str]:
    """Split `text` (raw or already folded) into folded words, first occurrence order.

    Words are runs of letters, digits and marks; punctuation and symbols separate
    them, apostrophes join them ("O'Brien" → ["obrien"], "Jean-Luc" → ["jean",
    "luc"]). Scripts written without spaces stay one word per run ("李伟").
    """
    folded = fold(text)
    table = _ASCII_SEPARATORS if folded.isascii() else _separator_table()
    words = folded.translate(table).split()
    return list(dict.fromkeys(words))


def like_escape(text: str) -> str:
    """`text` with the LIKE pattern's own characters (%, _ and the escape \\) taken literally,
    for `column.like(pattern, escape="\\")`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def join_words(words, conjunction: str = "and") -> str:
    """Words as a sentence lists them: "a", "a and b", "a, b and c" (or "or")."""
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {conjunction} " + words[-1]
