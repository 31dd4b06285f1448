"""add budget item position

Revision ID: 20250915_124515
Revises: c0eefe7ade9c
Create Date: 2025-09-15 12:45:15.208114

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "20250915_124515"
down_revision = "c0eefe7ade9c"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("budget_items", sa.Column("position", sa.Integer(), nullable=True))
    # Number the existing items of each budget in insertion order.
    op.execute(
        """
        UPDATE budget_items AS bi
           SET position = numbered.rn
          FROM (SELECT id, row_number() OVER (PARTITION BY budget_id ORDER BY id) AS rn
                  FROM budget_items) AS numbered
         WHERE numbered.id = bi.id
        """
    )
    op.alter_column("budget_items", "position", existing_type=sa.Integer(), nullable=False)
    op.create_check_constraint("budget_items_position_check", "budget_items", "position > 0")
    op.create_unique_constraint("budget_items_budget_id_position_key", "budget_items", ["budget_id", "position"])
    # The unique constraint's index leads with budget_id: the old index is redundant.
    op.drop_index("budget_items_budget_id_idx", table_name="budget_items")


def downgrade():
    op.create_index("budget_items_budget_id_idx", "budget_items", ["budget_id"], unique=False)
    op.drop_constraint("budget_items_budget_id_position_key", "budget_items", type_="unique")
    op.drop_constraint("budget_items_position_check", "budget_items", type_="check")
    op.drop_column("budget_items", "position")
