"""Which database objects Alembic's autogenerate compares with the model."""

from __future__ import annotations

# Objects made by hand in migrations (SQLite FTS5 tables, PostgreSQL trigram indexes),
# which the model does not declare; autogenerate must not offer to drop them.
HAND_MADE_PREFIXES = ("customer_search_fts", "ix_customer_search_text_body_trgm")


def include_name(name, type_, parent_names) -> bool:
    return not (name or "").startswith(HAND_MADE_PREFIXES)
