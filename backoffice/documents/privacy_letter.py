"""The response letter to a privacy request, for each outcome: as text to paste into an email, and as a PDF."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from backoffice.documents.pdf_text import text_pdf


@dataclass(frozen=True)
class LetterFacts:
    shop: str
    contact: str
    request_id: int
    kind_label: str
    status: str  # fulfilled, partly_fulfilled, refused, withdrawn
    kind: str
    received_at: datetime
    answered_at: datetime
    reason: str
    done: Sequence[str]
    kept: Sequence[tuple[str, str]]


_OPENINGS = {
    "access": "Enclosed is a copy of the personal data we hold about you: a JSON file and one spreadsheet (CSV) per "
              "kind of record, with a printable summary.",
    "deletion": "We have erased your personal data from our records and from our web store: your name, email "
                "address, phone number and addresses, the notes we kept about you, your newsletter subscriptions "
                "and consent records.",
    "deactivation": "We have deactivated your account: no new orders can be placed in your name and you will "
                    "receive no marketing.",
    "restriction": "We have restricted the processing of your personal data: it is left out of all marketing and "
                   "of any processing that is not needed to serve you.",
    "objection": "We have recorded your objection: your personal data is left out of all marketing and of any "
                 "processing that is not needed to serve you.",
    "correction": "We have corrected your personal data as you asked.",
    "marketing_opt_out": "We have taken you off all our marketing lists.",
}


def letter_text(f: LetterFacts) -> str:
    lines = ["Dear customer,", "",
             f"Thank you for your request (our reference {f.request_id}: {f.kind_label.lower()}), which we "
             f"received on {f.received_at:%d %B %Y}."]
    if f.status == "fulfilled":
        lines += ["", _OPENINGS.get(f.kind, "We have done what you asked.")]
    elif f.status == "partly_fulfilled":
        lines += ["", "We have done part of what you asked. " + _OPENINGS.get(f.kind, ""),
                  "", f"We could not do all of it, because {f.reason.rstrip('.')}."]
    elif f.status == "refused":
        lines += ["", f"We are unable to do what you asked, because {f.reason.rstrip('.')}."]
    else:
        lines += ["", "As you asked, we have closed your request without acting on it."]
    if f.done:
        lines += ["", "What we did:"] + [f"  - {d}" for d in f.done]
    if f.kept:
        lines += ["", "What we keep, and why:"] + [f"  - {what}: {why}" if why else f"  - {what}" for what, why in f.kept]
    lines += ["", "If you have a question about this answer, or disagree with it, write to us"
              + (f" at {f.contact}" if f.contact else "") + ". You may also complain to your data protection "
              "authority.", "", "Kind regards,", f.shop, f"{f.answered_at:%d %B %Y}"]
    return "\n".join(lines)


def letter_pdf(f: LetterFacts) -> bytes:
    return text_pdf(f"{f.shop}: your privacy request {f.request_id}", [("", letter_text(f).split("\n\n"))])
