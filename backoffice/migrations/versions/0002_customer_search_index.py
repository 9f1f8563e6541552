"""Customer search index: lookup terms, a fragment line per customer, keyset indexes.

SQLite indexes the fragment lines with an FTS5 trigram table kept in step by
triggers; PostgreSQL with a pg_trgm GIN index. The index starts empty: the app
fills it with `rebuild_search_index` when `search_index_needs_rebuild` says so.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 05:12:20.929796
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# Kept here as written at this revision (not imported), so the migration never changes.
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE customer_search_fts USING fts5(body, content='customer_search_text', "
    "content_rowid='customer_id', tokenize='trigram', detail='none')"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER customer_search_text_ai AFTER INSERT ON customer_search_text BEGIN "
    "INSERT INTO customer_search_fts(rowid, body) VALUES (new.customer_id, new.body); END",
    "CREATE TRIGGER customer_search_text_ad AFTER DELETE ON customer_search_text BEGIN "
    "INSERT INTO customer_search_fts(customer_search_fts, rowid, body) "
    "VALUES ('delete', old.customer_id, old.body); END",
    "CREATE TRIGGER customer_search_text_au AFTER UPDATE ON customer_search_text BEGIN "
    "INSERT INTO customer_search_fts(customer_search_fts, rowid, body) "
    "VALUES ('delete', old.customer_id, old.body); "
    "INSERT INTO customer_search_fts(rowid, body) VALUES (new.customer_id, new.body); END",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('customer_search',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=1), nullable=False),
    sa.Column('term', sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_search_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_search'))
    )
    with op.batch_alter_table('customer_search', schema=None) as batch_op:
        batch_op.create_index('ix_customer_search_customer_id', ['customer_id'], unique=False)
        batch_op.create_index('ix_customer_search_lookup', ['kind', 'term', 'customer_id'], unique=False)

    op.create_table('customer_search_text',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_search_text_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_search_text'))
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index('ix_customers_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_customers_sort_name_id', ['sort_name', 'id'], unique=False)

    if dialect == "sqlite":
        op.execute(SQLITE_FTS)
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_customer_search_text_body_trgm ON customer_search_text "
            "USING gin (body gin_trgm_ops)"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("customer_search_text_au", "customer_search_text_ad", "customer_search_text_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS customer_search_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_customer_search_text_body_trgm")
        # pg_trgm stays: other objects may have come to use it.

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_sort_name_id')
        batch_op.drop_index('ix_customers_created_at_id')

    op.drop_table('customer_search_text')
    with op.batch_alter_table('customer_search', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_search_lookup')
        batch_op.drop_index('ix_customer_search_customer_id')

    op.drop_table('customer_search')
