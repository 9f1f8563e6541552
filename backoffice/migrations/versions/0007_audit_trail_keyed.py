"""Audit trail: entries numbered without gaps and keyed with a MAC

Existing entries are numbered in the order of their ids and keep an empty MAC: the
keyed chain starts at the first entry written after this upgrade (the desk that writes
it makes the shop's audit key), and `backoffice audit verify` says so.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mac', sa.String(length=64), nullable=False, server_default=''))
    op.execute(
        "UPDATE audit_events SET seq = (SELECT count(*) FROM audit_events AS e "
        "WHERE e.id <= audit_events.id)"
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('mac', existing_type=sa.String(length=64), server_default=None)
        batch_op.create_index(batch_op.f('ix_audit_events_seq'), ['seq'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_seq'))
        batch_op.drop_column('mac')
        batch_op.drop_column('seq')
