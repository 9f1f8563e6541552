"""Newsletter consent: list purposes, versioned consent wordings, where a consent came from,
suppressions per list, and the fingerprint of the suppression key

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('newsletter_lists') as batch:
        batch.add_column(sa.Column('purpose', sa.Text(), nullable=False, server_default=''))
        batch.add_column(sa.Column('store_key', sa.String(length=40), nullable=False, server_default=''))
    op.create_table(
        'consent_wordings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['staff_users.id'],
                                name=op.f('fk_consent_wordings_created_by_staff_users')),
        sa.ForeignKeyConstraint(['list_id'], ['newsletter_lists.id'], ondelete='CASCADE',
                                name=op.f('fk_consent_wordings_list_id_newsletter_lists')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_wordings')),
        sa.UniqueConstraint('list_id', 'version', name=op.f('uq_consent_wordings_list_id')),
    )
    op.create_index(op.f('ix_consent_wordings_list_id'), 'consent_wordings', ['list_id'])
    with op.batch_alter_table('consent_events') as batch:
        batch.add_column(sa.Column('wording_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('source_address', sa.String(length=64), nullable=False, server_default=''))
        batch.create_foreign_key(op.f('fk_consent_events_wording_id_consent_wordings'), 'consent_wordings',
                                 ['wording_id'], ['id'])
    with op.batch_alter_table('suppressions') as batch:
        batch.add_column(sa.Column('list_id', sa.Integer(), nullable=False, server_default='0'))
        batch.drop_constraint('uq_suppressions_channel', type_='unique')
        batch.create_unique_constraint('uq_suppressions_channel', ['channel', 'key_hash', 'list_id'])
    op.create_table(
        'suppression_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suppression_keys')),
    )
    # The defaults only serve rows written before this revision; the app always sets them.
    for table, column in (('newsletter_lists', 'purpose'), ('newsletter_lists', 'store_key'),
                          ('consent_events', 'source_address'), ('suppressions', 'list_id')):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, server_default=None)


def downgrade() -> None:
    op.drop_table('suppression_keys')
    with op.batch_alter_table('suppressions') as batch:
        batch.drop_constraint('uq_suppressions_channel', type_='unique')
        batch.create_unique_constraint('uq_suppressions_channel', ['channel', 'key_hash'])
        batch.drop_column('list_id')
    with op.batch_alter_table('consent_events') as batch:
        batch.drop_constraint('fk_consent_events_wording_id_consent_wordings', type_='foreignkey')
        batch.drop_column('source_address')
        batch.drop_column('wording_id')
    op.drop_index(op.f('ix_consent_wordings_list_id'), 'consent_wordings')
    op.drop_table('consent_wordings')
    with op.batch_alter_table('newsletter_lists') as batch:
        batch.drop_column('store_key')
        batch.drop_column('purpose')
