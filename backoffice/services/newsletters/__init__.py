"""Newsletter lists and consent: lists and wordings, subscribe and opt-out, suppression,
CSV import and export for the mail tools, and consent carried through the web store."""
