"""Addresses: the customer_id index also holds what a search hit shows

The index of addresses by customer gains the columns a search result shows of the
default address (is_default, id, postcode, city), so the hit list is read from the
index alone. It keeps its name and still serves every lookup by customer.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 08:50:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer_addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_addresses_customer_id')
        batch_op.create_index('ix_customer_addresses_customer_id',
                              ['customer_id', 'is_default', 'id', 'postcode', 'city'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer_addresses', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_addresses_customer_id')
        batch_op.create_index('ix_customer_addresses_customer_id', ['customer_id'], unique=False)
