"""cancel open budgets of inactive users

Revision ID: 004
Revises: 003
Create Date: 2024-09-02 13:31:18.447016

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '004'
down_revision = '003'
branch_labels = None
# users.is_active is created by user_service (1f4f4176aeb7): run after it.
depends_on = '1f4f4176aeb7'


def upgrade():
    op.execute(
        """
        UPDATE budgets
           SET status = 'cancelled', updated_at = now()
          FROM users
         WHERE users.id = budgets.user_id
           AND NOT users.is_active
           AND budgets.status IN ('draft', 'sent')
        """
    )


def downgrade():
    # Data only: the previous statuses were not kept.
    pass
