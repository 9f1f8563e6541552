"""Fonts for printed documents: TrueType faces that cover Latin, Greek, Cyrillic and CJK,
and text split into runs so each character is drawn with a face that has it.

reportlab embeds only TrueType outlines (not the CFF outlines of most .otf files), so the
faces are DejaVu Sans (Latin, Greek, Cyrillic) and a TrueType CJK face (Droid Sans
Fallback or WenQuanYi Zen Hei). They are looked for in the app's `resources/fonts/`
first, then where Debian and Ubuntu install them; without them the documents fall back
to Helvetica, which prints Latin only, and `missing_scripts()` says what will not print.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

_RESOURCES = Path(__file__).resolve().parent.parent.parent / "resources" / "fonts"
_SYSTEM = (Path("/usr/share/fonts/truetype"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")

# (registered name, file names to look for, subfont index for .ttc collections)
_REGULAR = ("BoDejaVuSans", ("DejaVuSans.ttf",), 0)
_BOLD = ("BoDejaVuSans-Bold", ("DejaVuSans-Bold.ttf",), 0)
_CJK = ("BoCJK", ("DroidSansFallbackFull.ttf", "DroidSansFallback.ttf", "wqy-zenhei.ttc", "wqy-microhei.ttc"), 0)


@dataclass(frozen=True)
class FontSet:
    """The faces a document draws with; `fallbacks` are tried in order for a character."""

    regular: str
    bold: str
    fallbacks: tuple[str, ...]
    # Code points each face has (None: a built-in face, taken for Latin-1 only).
    coverage: dict[str, frozenset[int] | None]


def _find(file_names: tuple[str, ...]) -> Path | None:
    for folder in (_RESOURCES, *_SYSTEM):
        if not folder.is_dir():
            continue
        for name in file_names:
            direct = folder / name
            if direct.is_file():
                return direct
            for found in folder.rglob(name):
                return found
    return None


def _register(spec) -> tuple[str, frozenset[int]] | None:
    name, files, index = spec
    path = _find(files)
    if path is None:
        return None
    if name not in pdfmetrics.getRegisteredFontNames():
        font = TTFont(name, str(path), subfontIndex=index) if path.suffix == ".ttc" else TTFont(name, str(path))
        pdfmetrics.registerFont(font)
    font = pdfmetrics.getFont(name)
    return name, frozenset(font.face.charToGlyph)


_lock = threading.Lock()
_fonts: FontSet | None = None


def document_fonts() -> FontSet:
    """The faces for documents, registered with reportlab once per process."""
    global _fonts
    with _lock:
        if _fonts is None:
            coverage: dict[str, frozenset[int] | None] = {}
            regular = _register(_REGULAR)
            bold = _register(_BOLD)
            cjk = _register(_CJK)
            if regular is None:
                regular_name, bold_name = "Helvetica", "Helvetica-Bold"
                coverage["Helvetica"] = None
                coverage["Helvetica-Bold"] = None
            else:
                regular_name = regular[0]
                coverage[regular_name] = regular[1]
                bold_name = bold[0] if bold else regular_name
                if bold:
                    coverage[bold_name] = bold[1]
            fallbacks = []
            if cjk is not None:
                coverage[cjk[0]] = cjk[1]
                fallbacks.append(cjk[0])
            _fonts = FontSet(regular_name, bold_name, tuple(fallbacks), coverage)
        return _fonts


def _has(fonts: FontSet, face: str, code: int) -> bool:
    cover = fonts.coverage.get(face)
    return code < 256 if cover is None else code in cover


def runs(text: str, face: str, fonts: FontSet | None = None) -> list[tuple[str, str]]:
    """`text` split into (face, text) runs: `face` where it has the character, else the first
    fallback that has it (a character no face has stays with `face`)."""
    fonts = fonts or document_fonts()
    if text.isascii():
        return [(face, text)]
    out: list[tuple[str, str]] = []
    current, start = face, 0
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch == " " or _has(fonts, face, code):
            want = face if ch != " " else current
        else:
            want = next((f for f in fonts.fallbacks if _has(fonts, f, code)), face)
        if want != current:
            if i > start:
                out.append((current, text[start:i]))
            current, start = want, i
    if start < len(text):
        out.append((current, text[start:]))
    return out


def text_width(text: str, face: str, size: float, fonts: FontSet | None = None) -> float:
    if text.isascii():
        return pdfmetrics.stringWidth(text, face, size)
    return sum(pdfmetrics.stringWidth(t, f, size) for f, t in runs(text, face, fonts))


def draw_text(canvas, x: float, y: float, text: str, face: str, size: float,
              fonts: FontSet | None = None) -> None:
    """Draw `text` from (x, y) with per-character fallback faces."""
    parts = runs(text, face, fonts)
    last = len(parts) - 1
    for i, (f, t) in enumerate(parts):
        # Each setFont writes an operator into the page; skip the ones that change nothing.
        if canvas._fontname != f or canvas._fontsize != size:
            canvas.setFont(f, size)
        canvas.drawString(x, y, t)
        if i < last:
            x += pdfmetrics.stringWidth(t, f, size)


def draw_text_right(canvas, x: float, y: float, text: str, face: str, size: float,
                    fonts: FontSet | None = None) -> None:
    draw_text(canvas, x - text_width(text, face, size, fonts), y, text, face, size, fonts)


def wrap(text: str, face: str, size: float, width: float, fonts: FontSet | None = None) -> list[str]:
    """`text` broken into lines no wider than `width`: at spaces, or anywhere in a word too long
    (CJK text has no spaces)."""
    text = text or ""
    if "\n" not in text and text_width(text, face, size, fonts) <= width:
        return [text]
    space = text_width(" ", face, size, fonts)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line, used = "", 0.0
        for word in paragraph.split(" "):
            w = text_width(word, face, size, fonts)
            if line and used + space + w <= width:
                line, used = f"{line} {word}", used + space + w
                continue
            if not line and w <= width:
                line, used = word, w
                continue
            if line:
                lines.append(line)
            line, used = "", 0.0
            if w <= width:
                line, used = word, w
                continue
            for ch in word:
                cw = text_width(ch, face, size, fonts)
                if used + cw > width and line:
                    lines.append(line)
                    line, used = "", 0.0
                line, used = line + ch, used + cw
        lines.append(line)
    return lines


def missing_scripts() -> list[str]:
    """Scripts the documents cannot print on this computer, named for a person."""
    fonts = document_fonts()
    missing = []
    if fonts.regular == "Helvetica":
        missing.append("Greek and Cyrillic (install fonts-dejavu-core)")
    if not fonts.fallbacks:
        missing.append("Chinese, Japanese and Korean (install fonts-droid-fallback)")
    return missing
