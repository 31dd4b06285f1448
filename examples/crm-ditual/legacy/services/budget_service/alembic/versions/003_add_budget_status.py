"""add budget status

Revision ID: 003
Revises: 002
Create Date: 2024-07-08 08:56:41.602935

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '003'
down_revision = '002'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('budgets', sa.Column('status', sa.Text(), server_default='draft', nullable=False))
    op.create_check_constraint(
        'budgets_status_check',
        'budgets',
        "status IN ('draft', 'sent', 'approved', 'rejected', 'cancelled')",
    )
    op.create_index('budgets_status_idx', 'budgets', ['status'], unique=False)


def downgrade():
    op.drop_index('budgets_status_idx', table_name='budgets')
    op.drop_constraint('budgets_status_check', 'budgets', type_='check')
    op.drop_column('budgets', 'status')
