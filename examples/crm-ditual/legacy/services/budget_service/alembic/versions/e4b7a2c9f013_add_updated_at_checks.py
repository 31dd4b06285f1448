"""add updated_at checks

Revision ID: e4b7a2c9f013
Revises: c0eefe7ade9c
Create Date: 2025-09-16 08:20:51.644973

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'e4b7a2c9f013'
down_revision: Union[str, None] = 'c0eefe7ade9c'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_check_constraint('budgets_updated_after_created_check', 'budgets', 'updated_at >= created_at')
    op.create_check_constraint('budget_items_updated_after_created_check', 'budget_items', 'updated_at >= created_at')
    op.create_table_comment(
        'budgets',
        'Customer budgets (quotes), one owner user each (owned by the budget service).',
    )


def downgrade() -> None:
    op.drop_table_comment('budgets')
    op.drop_constraint('budget_items_updated_after_created_check', 'budget_items', type_='check')
    op.drop_constraint('budgets_updated_after_created_check', 'budgets', type_='check')
