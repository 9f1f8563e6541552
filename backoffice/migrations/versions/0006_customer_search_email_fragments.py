"""Customer search: fragments across the punctuation of an email address

Every email address gains lookup terms starting just before each punctuation of its
part before the "@" ("ria.garcia@example.com"), so that a fragment across a dot
("ria.gar") is an index range. Each customer's fragment line also holds their
addresses squashed ("mariagarcia@examplecom"), so that PostgreSQL's trigram index
can pick out such a fragment without reading every address with a word ending "ia"
and one starting "ga". The index changes, so it is emptied here and the app
rebuilds it (`search_index_needs_rebuild`) when the database is next opened.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 07:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# Kept here as written at this revision (not imported), so the migration never changes.
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


def _empty_index() -> None:
    if op.get_bind().dialect.name == "postgresql":
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
    _empty_index()


def downgrade() -> None:
    _empty_index()
