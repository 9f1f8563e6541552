"""Privacy requests: their history, a keyed hash to recognise a repeat, what fulfilment did;
confidential disclosures; policy-change notices logged per person.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 23:10:24.213046
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policy_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('effective_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff_users.id'], name=op.f('fk_policy_notices_created_by_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_notices'))
    )
    op.create_table('policy_notice_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('sent_to', sa.String(length=254), nullable=False),
    sa.Column('logged_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_policy_notice_deliveries_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['policy_notices.id'], name=op.f('fk_policy_notice_deliveries_notice_id_policy_notices'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_notice_deliveries'))
    )
    with op.batch_alter_table('policy_notice_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_notice_deliveries_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_policy_notice_deliveries_notice_customer', ['notice_id', 'customer_id'], unique=True)

    op.create_table('privacy_request_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['privacy_requests.id'], name=op.f('fk_privacy_request_events_request_id_privacy_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_privacy_request_events_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_request_events'))
    )
    with op.batch_alter_table('privacy_request_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_privacy_request_events_request_id'), ['request_id'], unique=False)

    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confidential', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requester_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_privacy_requests_requester_hash'), ['requester_hash'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('privacy_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_requests_requester_hash'))
        batch_op.drop_column('outcome')
        batch_op.drop_column('requester_hash')

    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_column('confidential')

    with op.batch_alter_table('privacy_request_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_privacy_request_events_request_id'))

    op.drop_table('privacy_request_events')
    with op.batch_alter_table('policy_notice_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_policy_notice_deliveries_notice_customer')
        batch_op.drop_index(batch_op.f('ix_policy_notice_deliveries_customer_id'))

    op.drop_table('policy_notice_deliveries')
    op.drop_table('policy_notices')
