"""What a store set up as shops run them sends: variations, backorders, refunds and fees

Products gain their kind (simple, variable, variation), the store id of a variation's
parent, the store's backorder setting and its stock status ("onbackorder"). Refunds and
fees of an order get tables of their own.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 23:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='simple'))
        batch_op.add_column(sa.Column('parent_store_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('backorders', sa.String(length=10), nullable=False, server_default='no'))
        batch_op.add_column(sa.Column('stock_status', sa.String(length=20), nullable=False,
                                      server_default='instock'))
        batch_op.create_index('ix_products_parent_store_id', ['parent_store_id'], unique=False)
    op.create_table(
        'order_refunds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('lines', sa.Text(), nullable=False),
        sa.Column('refunded_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_refunds_order_id_orders'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_refunds')),
        sa.UniqueConstraint('store_id', name=op.f('uq_order_refunds_store_id')),
    )
    op.create_index(op.f('ix_order_refunds_order_id'), 'order_refunds', ['order_id'], unique=False)
    op.create_table(
        'order_fees',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('store_line_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('total', sa.BigInteger(), nullable=False),
        sa.Column('total_tax', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_fees_order_id_orders'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_order_fees')),
    )
    op.create_index(op.f('ix_order_fees_order_id'), 'order_fees', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_order_fees_order_id'), table_name='order_fees')
    op.drop_table('order_fees')
    op.drop_index(op.f('ix_order_refunds_order_id'), table_name='order_refunds')
    op.drop_table('order_refunds')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index('ix_products_parent_store_id')
        batch_op.drop_column('stock_status')
        batch_op.drop_column('backorders')
        batch_op.drop_column('parent_store_id')
        batch_op.drop_column('kind')
