"""Packing slips and gift slips drawn with reportlab: what goes in the parcel and where it
goes, never prices, on Letter, A4 or 4×6 label paper, many orders into one PDF.

The slip is given plain values (`Slip`); choosing what may be printed (no email, a phone
only for carriers that need it, refunded items left off) is the service's job.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from backoffice.documents.fonts import FontSet, document_fonts, draw_text, draw_text_right, wrap

INCH = 72.0
PAGE_SIZES = {"letter": LETTER, "a4": A4, "4x6": (4 * INCH, 6 * INCH)}


@dataclass(frozen=True)
class SlipLine:
    """One thing to put in the parcel (a bundle lists what is inside it)."""

    sku: str
    name: str
    quantity: int
    options: tuple[str, ...] = ()  # "Size: M"
    bin_location: str = ""
    contents: tuple[SlipLine, ...] = ()


@dataclass(frozen=True)
class Slip:
    number: str
    order_date: date
    shipping_method: str
    ship_to: tuple[str, ...]
    lines: tuple[SlipLine, ...]
    phone: str = ""  # only where the carrier needs it
    customer_note: str = ""
    gift_message: str = ""


@dataclass(frozen=True)
class ShipFrom:
    name: str
    address: tuple[str, ...]
    logo: bytes | None = None


@dataclass(frozen=True)
class SlipOptions:
    size: str = "letter"
    gift: bool = False
    copies: int = 1
    # Copies in sets (every slip, then every slip again) or each slip's copies together.
    collate: bool = True


@dataclass
class _Layout:
    """Sizes for one paper size."""

    width: float
    height: float
    margin: float
    body: float  # font size of the item lines
    small: float
    title: float
    bar_height: float
    bar_width: float
    show_bin: bool = True
    fonts: FontSet = field(default_factory=document_fonts)


def _layout(size: str) -> _Layout:
    width, height = PAGE_SIZES[size]
    if size == "4x6":
        return _Layout(width, height, 14, 8.5, 7, 11, 26, 0.9, show_bin=False)
    return _Layout(width, height, 40, 10, 8, 16, 34, 1.1)


class _Row:
    __slots__ = ("qty", "sku", "text", "bin", "bold", "indent", "height")

    def __init__(self, qty: str, sku: str, text: str, bin_: str, bold: bool, indent: float, height: float):
        self.qty, self.sku, self.text, self.bin = qty, sku, text, bin_
        self.bold, self.indent, self.height = bold, indent, height


class SlipWriter:
    """Draws slips one after another into one PDF canvas."""

    def __init__(self, out: BinaryIO, ship_from: ShipFrom, options: SlipOptions) -> None:
        self.options = options
        self.lay = _layout(options.size)
        self.fonts = self.lay.fonts
        self.ship_from = ship_from
        self.canvas = Canvas(out, pagesize=(self.lay.width, self.lay.height), pageCompression=1,
                             invariant=1)
        self.canvas.setTitle("Gift slips" if options.gift else "Packing slips")
        self.canvas.setCreator("backoffice")
        self._logo = ImageReader(io.BytesIO(ship_from.logo)) if ship_from.logo else None
        lay = self.lay
        self._qty_w = 28 if options.size != "4x6" else 22
        self._sku_w = (lay.width - 2 * lay.margin) * (0.22 if options.size != "4x6" else 0.28)
        self._bin_w = 60 if lay.show_bin else 0
        self._text_w = lay.width - 2 * lay.margin - self._qty_w - self._sku_w - self._bin_w - 8

    # --- one slip -------------------------------------------------------------------------

    def _rows(self, slip: Slip) -> list[list[_Row]]:
        """The table's rows, grouped by item so that an item is not split across pages."""
        lay, f = self.lay, self.fonts
        lead = lay.body * 1.35
        small_lead = lay.small * 1.3
        rows: list[_Row] = []

        def add(line: SlipLine, indent: float) -> None:
            width = self._text_w - indent
            names = wrap(line.name if not indent else f"– {line.name}", f.bold if not indent else f.regular,
                         lay.body, width, f)
            skus = wrap(line.sku, f.regular, lay.small, self._sku_w - 4, f)
            first = True
            for i, text in enumerate(names):
                rows.append(_Row(str(line.quantity) if first else "", skus[i] if i < len(skus) else "", text,
                                 line.bin_location if first and lay.show_bin else "", True, indent, lead))
                first = False
            for sku in skus[len(names):]:
                rows.append(_Row("", sku, "", "", False, indent, small_lead))
            for option in line.options:
                for text in wrap(option, f.regular, lay.small, width - 6, f):
                    rows.append(_Row("", "", text, "", False, indent + 6, small_lead))
            for inner in line.contents:
                add(inner, indent + 12)

        groups: list[list[_Row]] = []
        for line in slip.lines:
            start = len(rows)
            add(line, 0)
            rows[-1].height += 3
            groups.append(rows[start:])
        return groups

    def _notes(self, slip: Slip) -> list[tuple[str, str, bool]]:
        lay, f = self.lay, self.fonts
        width = lay.width - 2 * lay.margin
        out: list[tuple[str, str, bool]] = []
        for label, text in (("Gift message", slip.gift_message if self.options.gift else ""),
                            ("Customer's note", slip.customer_note)):
            if text.strip():
                out.append((label, "", True))
                out.extend(("", line, False) for line in wrap(text.strip(), f.regular, lay.body, width, f))
        return out

    def draw(self, slip: Slip) -> None:
        """Draw one order's slip, on as many pages as its items need."""
        lay = self.lay
        rows = self._rows(slip)
        notes = self._notes(slip)
        pages: list[list[_Row]] = [[]]
        bar = Code128(slip.number, barHeight=lay.bar_height, barWidth=lay.bar_width, humanReadable=False,
                      quiet=False)
        top = self._header(slip, bar, measure=True)
        room = top - lay.margin - 18
        used = 0.0
        for group in rows:
            height = sum(r.height for r in group)
            for row in group:
                if used + (height if row is group[0] else row.height) > room and pages[-1]:
                    pages.append([])
                    room = self._continued_top() - lay.margin - 18
                    used = 0.0
                pages[-1].append(row)
                used += row.height
        note_height = sum(lay.body * 1.35 for _ in notes) + (8 if notes else 0)
        if notes and used + note_height > room:
            pages.append([])
        total = len(pages)
        for number, page in enumerate(pages, start=1):
            y = self._header(slip, bar) if number == 1 else self._continued(slip)
            y = self._table(page, y)
            if number == total and notes:
                self._draw_notes(notes, y - 8)
            self._footer(slip, number, total)
            self.canvas.showPage()

    def _header(self, slip: Slip, bar: Code128, measure: bool = False) -> float:
        lay, f, c = self.lay, self.fonts, self.canvas
        left, right, top = lay.margin, lay.width - lay.margin, lay.height - lay.margin
        narrow = self.options.size == "4x6"
        y = top
        if self._logo is not None:
            logo_h = 24 if narrow else 40
            if not measure:
                iw, ih = self._logo.getSize()
                w = min(logo_h * iw / max(ih, 1), 160)
                c.drawImage(self._logo, left, y - logo_h, width=w, height=logo_h, preserveAspectRatio=True,
                            anchor="sw", mask="auto")
            y -= logo_h + 4
        # Ship from (the shop), then the title and order facts on the right.
        # The shop's side keeps clear of the title and barcode on the right.
        room = (right - left) * 0.56
        for line in wrap(self.ship_from.name, f.bold, lay.body, room, f):
            if not measure:
                draw_text(c, left, y - lay.body, line, f.bold, lay.body, f)
            y -= lay.body * 1.3
        for address in self.ship_from.address:
            for line in wrap(address, f.regular, lay.small, room, f):
                if not measure:
                    draw_text(c, left, y - lay.small, line, f.regular, lay.small, f)
                y -= lay.small * 1.3
        title = "Gift slip" if self.options.gift else "Packing slip"
        facts = [f"Order {slip.number}", f"Date {slip.order_date.isoformat()}"]
        if slip.shipping_method:
            facts.append(slip.shipping_method)
        ry = top
        if not measure:
            draw_text_right(c, right, ry - lay.title, title, f.bold, lay.title, f)
        ry -= lay.title * 1.4
        for fact in facts:
            if not measure:
                draw_text_right(c, right, ry - lay.small, fact, f.regular, lay.small, f)
            ry -= lay.small * 1.35
        if not measure:
            bar.drawOn(c, right - bar.width, ry - lay.bar_height - 2)
        ry -= lay.bar_height + 6
        y = min(y, ry) - (8 if narrow else 14)
        # Ship to.
        if not measure:
            draw_text(c, left, y - lay.small, "Ship to", f.bold, lay.small, f)
        y -= lay.small * 1.4
        to_lines = list(slip.ship_to) + ([f"Phone {slip.phone}"] if slip.phone else [])
        for i, line in enumerate(to_lines):
            size = lay.body + (1.5 if i == 0 else 0)
            if not measure:
                draw_text(c, left + 6, y - size, line, f.bold if i == 0 else f.regular, size, f)
            y -= size * 1.3
        return y - (8 if narrow else 14)

    def _continued_top(self) -> float:
        return self.lay.height - self.lay.margin - self.lay.body * 1.6 - 8

    def _continued(self, slip: Slip) -> float:
        lay, f = self.lay, self.fonts
        draw_text(self.canvas, lay.margin, lay.height - lay.margin - lay.body,
                  f"Order {slip.number} (continued)", f.bold, lay.body, f)
        return self._continued_top()

    def _table(self, rows: Sequence[_Row], y: float) -> float:
        lay, f, c = self.lay, self.fonts, self.canvas
        left, right = lay.margin, lay.width - lay.margin
        x_sku = left + self._qty_w
        x_text = x_sku + self._sku_w
        x_bin = right - self._bin_w
        draw_text(c, left, y - lay.small, "Qty", f.bold, lay.small, f)
        draw_text(c, x_sku, y - lay.small, "SKU", f.bold, lay.small, f)
        draw_text(c, x_text, y - lay.small, "Item", f.bold, lay.small, f)
        if lay.show_bin:
            draw_text(c, x_bin, y - lay.small, "Bin", f.bold, lay.small, f)
        y -= lay.small + 4
        c.setLineWidth(0.5)
        c.line(left, y, right, y)
        y -= 2
        for row in rows:
            base = y - (lay.body if row.bold else lay.small) * 1.05
            if row.qty:
                draw_text(c, left, base, row.qty, f.bold, lay.body, f)
            if row.sku:
                draw_text(c, x_sku, base, row.sku, f.regular, lay.small, f)
            if row.text:
                draw_text(c, x_text + row.indent, base, row.text, f.bold if row.bold and not row.indent else
                          f.regular, lay.body if row.bold else lay.small, f)
            if row.bin:
                draw_text(c, x_bin, base, row.bin, f.regular, lay.small, f)
            y -= row.height
        c.line(left, y, right, y)
        return y

    def _draw_notes(self, notes, y: float) -> None:
        lay, f = self.lay, self.fonts
        for label, text, bold in notes:
            y -= lay.body * 1.35
            draw_text(self.canvas, lay.margin, y, label or text, f.bold if bold else f.regular, lay.body, f)

    def _footer(self, slip: Slip, number: int, total: int) -> None:
        lay, f = self.lay, self.fonts
        if total > 1:
            draw_text_right(self.canvas, lay.width - lay.margin, lay.margin / 2, f"Order {slip.number}, "
                            f"page {number} of {total}", f.regular, lay.small, f)

    def finish(self) -> None:
        self.canvas.save()


def copies_in_order(slips: Sequence[Slip], copies: int, collate: bool) -> Iterable[Slip]:
    """The slips in print order: whole sets one after another, or each slip's copies together."""
    if collate:
        for _ in range(copies):
            yield from slips
    else:
        for slip in slips:
            for _ in range(copies):
                yield slip


def write_slips(out: BinaryIO, slips: Sequence[Slip], ship_from: ShipFrom, options: SlipOptions,
                progress: Callable[[int, int], None] | None = None) -> int:
    """Draw every slip (with its copies) into one PDF on `out`; returns the slips drawn.

    `progress(done, total)` is called after each slip and may raise to stop the batch.
    """
    writer = SlipWriter(out, ship_from, options)
    total = len(slips) * max(1, options.copies)
    done = 0
    for slip in copies_in_order(slips, max(1, options.copies), options.collate):
        writer.draw(slip)
        done += 1
        if progress is not None:
            progress(done, total)
    writer.finish()
    return done


def render_pdf(slips: Sequence[Slip], ship_from: ShipFrom, options: SlipOptions,
               progress: Callable[[int, int], None] | None = None) -> bytes:
    """The slips as one PDF in memory (see `write_slips`)."""
    out = io.BytesIO()
    write_slips(out, slips, ship_from, options, progress)
    return out.getvalue()
