"""Outbox index by entity and status: the sync's lookups of a record's waiting messages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 08:01:28.295769
"""

from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_entity_status', ['entity_type', 'entity_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_entity_status')

