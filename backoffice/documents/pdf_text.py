"""A plain printable PDF from headed blocks of text (reportlab), for summaries and letters."""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle


def text_pdf(title: str, blocks: Sequence[tuple[str, Sequence[str] | Sequence[Sequence[str]]]]) -> bytes:
    """A PDF with a title and, per block, a heading and either lines of text or a table (rows of cells)."""
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    story = [Paragraph(escape(title), styles["Title"])]
    for heading, content in blocks:
        if heading:
            story.append(Paragraph(escape(heading), styles["Heading2"]))
        if content and not isinstance(content[0], str):
            rows = [[Paragraph(escape(str(cell)), small) for cell in row] for row in content]
            table = Table(rows, repeatRows=1, hAlign="LEFT")
            table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.25, "#999999"),
                                       ("BACKGROUND", (0, 0), (-1, 0), "#eeeeee"),
                                       ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story.append(table)
        else:
            for line in content:
                story.append(Paragraph(escape(str(line)).replace("\n", "<br/>"), body))
        story.append(Spacer(1, 4 * mm))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=title, leftMargin=15 * mm, rightMargin=15 * mm,
                      topMargin=15 * mm, bottomMargin=15 * mm).build(story)
    return out.getvalue()
