"""promote budget approvers to manager

Revision ID: 9d2a61c3b7e4
Revises: 004
Create Date: 2025-03-03 09:12:26.775340

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9d2a61c3b7e4'
down_revision: Union[str, None] = '004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # The approval screen only lists managers: promote the sales users who already
    # had a budget approved (budget_service needed it for the 2025-03 release).
    op.execute(
        """
        UPDATE users
           SET role = 'manager', updated_at = now()
         WHERE role = 'sales'
           AND id IN (SELECT user_id FROM budgets WHERE status = 'approved')
        """
    )


def downgrade() -> None:
    # Data only: who was promoted is not recorded.
    pass
