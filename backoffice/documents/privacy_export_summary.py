"""The printable PDF summary inside a person's data export: every table of theirs, field by field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from backoffice.documents.pdf_text import text_pdf

# Wide tables print as one "field: value" line per field instead of a grid.
_GRID_COLUMNS = 6


def _person(tables: Mapping[str, Sequence[Mapping[str, object]]]) -> str:
    """The person the bundle is about, by name (or email), never by an internal id."""
    for row in tables.get("customers") or ():
        name = " ".join(str(row.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
        if name or row.get("company") or row.get("email"):
            return name or str(row.get("company") or row.get("email"))
    return "this customer"


def export_summary_pdf(*, shop: str, customer_id: int, made_at: datetime,
                       tables: Mapping[str, Sequence[Mapping[str, object]]]) -> bytes:
    blocks: list = [("", [f"The personal data {shop} holds about {_person(tables)}, "
                          f"as of {made_at:%Y-%m-%d %H:%M} UTC.",
                          "The same data is in the JSON file and in one CSV file per table in this bundle."])]
    for name, rows in tables.items():
        heading = f"{name.replace('_', ' ').capitalize()} ({len(rows)})"
        if not rows:
            blocks.append((heading, ["None."]))
            continue
        columns = list(rows[0].keys())
        if len(columns) <= _GRID_COLUMNS:
            blocks.append((heading, [columns] + [["" if r[c] is None else str(r[c]) for c in columns] for r in rows]))
        else:
            lines = []
            for i, r in enumerate(rows, 1):
                lines.append(f"#{i}\n" + "\n".join(f"{c}: {'' if r[c] is None else r[c]}" for c in columns))
            blocks.append((heading, lines))
    return text_pdf(f"Your personal data at {shop}", blocks)
