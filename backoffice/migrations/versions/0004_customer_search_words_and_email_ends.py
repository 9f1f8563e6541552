"""Customer search: a table of name and company word endings, email ends, one-pass fragments

Fragments inside names become prefix lookups on `customer_search_word`; the ends
of emails' local parts become a kind of term ("r"); on PostgreSQL, trigram
fragment searches go through `customer_search_like`, planned for each pattern.
The index changes shape, so it is emptied here and the app rebuilds it
(`search_index_needs_rebuild`) when the database is next opened.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 08:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# Kept here as written at this revision (not imported), so the migration never changes.
_TERM = sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql')
SQLITE_TRIGGERS = {
    "customer_search_text_ai": (
        "CREATE TRIGGER customer_search_text_ai AFTER INSERT ON customer_search_text BEGIN "
        "INSERT INTO customer_search_fts(rowid, body) VALUES (new.customer_id, new.body); END"
    ),
    "customer_search_text_ad": (
        "CREATE TRIGGER customer_search_text_ad AFTER DELETE ON customer_search_text BEGIN "
        "INSERT INTO customer_search_fts(customer_search_fts, rowid, body) "
        "VALUES ('delete', old.customer_id, old.body); END"
    ),
    "customer_search_text_au": (
        "CREATE TRIGGER customer_search_text_au AFTER UPDATE ON customer_search_text BEGIN "
        "INSERT INTO customer_search_fts(customer_search_fts, rowid, body) "
        "VALUES ('delete', old.customer_id, old.body); "
        "INSERT INTO customer_search_fts(rowid, body) VALUES (new.customer_id, new.body); END"
    ),
}
PG_LIKE_FUNCTION = """
CREATE FUNCTION customer_search_like(pattern text, whole text, lim integer)
RETURNS SETOF integer LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- Planned for this very pattern: a rare fragment reads the trigram index,
    -- a common one reads the table until it has enough.
    RETURN QUERY EXECUTE format(
        'SELECT customer_id FROM customer_search_text WHERE body LIKE %L%s LIMIT %s',
        pattern,
        CASE WHEN whole IS NULL THEN '' ELSE format(' AND strpos(body, %L) > 0', whole) END,
        lim);
END
$$
"""


def _empty_index(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute("TRUNCATE customer_search, customer_search_text")
        return
    # Without the triggers the fragment index is emptied at once, not row by row.
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DELETE FROM customer_search")
    op.execute("DELETE FROM customer_search_text")
    op.execute("INSERT INTO customer_search_fts(customer_search_fts) VALUES ('delete-all')")
    for ddl in SQLITE_TRIGGERS.values():
        op.execute(ddl)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('customer_search_word',
    sa.Column('suffix', _TERM, nullable=False),
    sa.Column('word', _TERM, nullable=False),
    sa.PrimaryKeyConstraint('suffix', 'word', name=op.f('pk_customer_search_word')),
    sqlite_with_rowid=False,
    )
    if dialect == "postgresql":
        op.execute(PG_LIKE_FUNCTION)
    _empty_index(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS customer_search_like(text, text, integer)")
    op.drop_table('customer_search_word')
    _empty_index(dialect)
