"""Pick lists drawn with reportlab: each product once with the quantity summed over a batch
of orders, in the order a person walks the stock room (by bin, then SKU)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from reportlab.pdfgen.canvas import Canvas

from backoffice.documents.fonts import document_fonts, draw_text, draw_text_right, wrap
from backoffice.documents.packing_slip import PAGE_SIZES


@dataclass(frozen=True)
class PickLine:
    sku: str
    name: str
    options: tuple[str, ...]
    bin_location: str
    quantity: int
    orders: int  # how many of the batch's orders hold it


@dataclass(frozen=True)
class PickList:
    made_at: datetime
    order_numbers: tuple[str, ...]
    lines: tuple[PickLine, ...]


def write_pick_list(out: BinaryIO, pick: PickList, size: str = "letter") -> int:
    """Draw the pick list into a PDF on `out`; returns the number of pages."""
    fonts = document_fonts()
    width, height = PAGE_SIZES[size]
    narrow = size == "4x6"
    margin = 14 if narrow else 40
    body, small = (8.5, 7) if narrow else (10, 8)
    c = Canvas(out, pagesize=(width, height), pageCompression=1, invariant=1)
    c.setTitle("Pick list")
    c.setCreator("backoffice")
    x_qty, x_bin = margin, margin + 34
    x_sku = x_bin + (0 if narrow else 60)
    x_name = x_sku + (width - 2 * margin) * (0.28 if narrow else 0.2)
    x_tick = width - margin
    name_w = x_tick - 14 - x_name
    pages = 1

    def heading(first: bool) -> float:
        y = height - margin
        title = "Pick list" if first else "Pick list (continued)"
        draw_text(c, margin, y - 14, title, fonts.bold, 14, fonts)
        total = sum(line.quantity for line in pick.lines)
        draw_text_right(c, width - margin, y - 12, f"{len(pick.order_numbers)} orders, {total} items",
                        fonts.regular, small, fonts)
        y -= 24
        if first:
            draw_text(c, margin, y - small, pick.made_at.strftime("%Y-%m-%d %H:%M"), fonts.regular, small, fonts)
            y -= small * 1.4
            for text in wrap("Orders: " + ", ".join(pick.order_numbers), fonts.regular, small, width - 2 * margin,
                             fonts)[:6]:
                draw_text(c, margin, y - small, text, fonts.regular, small, fonts)
                y -= small * 1.3
            y -= 6
        draw_text(c, x_qty, y - small, "Qty", fonts.bold, small, fonts)
        if not narrow:
            draw_text(c, x_bin, y - small, "Bin", fonts.bold, small, fonts)
        draw_text(c, x_sku, y - small, "SKU", fonts.bold, small, fonts)
        draw_text(c, x_name, y - small, "Item", fonts.bold, small, fonts)
        y -= small + 4
        c.setLineWidth(0.5)
        c.line(margin, y, width - margin, y)
        return y - 2

    y = heading(True)
    for line in pick.lines:
        names = wrap(line.name, fonts.bold, body, name_w, fonts)
        options = [o for opt in line.options for o in wrap(opt, fonts.regular, small, name_w - 6, fonts)]
        where = line.bin_location if not narrow else ""
        need = len(names) * body * 1.3 + len(options) * small * 1.3 + 6 + (small * 1.3 if narrow and
                                                                            line.bin_location else 0)
        if y - need < margin + 10:
            c.showPage()
            pages += 1
            y = heading(False)
        draw_text(c, x_qty, y - body, str(line.quantity), fonts.bold, body, fonts)
        if where:
            draw_text(c, x_bin, y - small - 1, where, fonts.regular, small, fonts)
        draw_text(c, x_sku, y - small - 1, line.sku, fonts.regular, small, fonts)
        c.rect(x_tick - 9, y - body - 1, 9, 9)
        for text in names:
            draw_text(c, x_name, y - body, text, fonts.bold, body, fonts)
            y -= body * 1.3
        for text in options:
            draw_text(c, x_name + 6, y - small, text, fonts.regular, small, fonts)
            y -= small * 1.3
        if narrow and line.bin_location:
            draw_text(c, x_name + 6, y - small, f"Bin {line.bin_location}", fonts.regular, small, fonts)
            y -= small * 1.3
        y -= 6
    c.showPage()
    c.save()
    return pages


def sort_key(by: str):
    """The order of lines on a pick list: by bin (lines without a bin last), or by SKU."""
    if by == "bin":
        return lambda line: (line.bin_location == "", line.bin_location, line.sku, line.name)
    return lambda line: (line.sku == "", line.sku, line.name)


def sorted_lines(lines: Sequence[PickLine], by: str) -> tuple[PickLine, ...]:
    return tuple(sorted(lines, key=sort_key(by)))
