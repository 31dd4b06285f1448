"""add users check constraints

Revision ID: d7e1c4a9b320
Revises: 5b2d9f6e8a47
Create Date: 2025-04-02 11:07:55.261870

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'd7e1c4a9b320'
down_revision: Union[str, None] = '5b2d9f6e8a47'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_check_constraint('users_email_check', 'users', "email LIKE '_%@_%'")
    op.create_check_constraint('users_name_check', 'users', "btrim(name) <> ''")
    op.create_check_constraint('users_updated_after_created_check', 'users', 'updated_at >= created_at')
    op.create_table_comment('users', 'CRM user accounts (owned by the user service).')


def downgrade() -> None:
    op.drop_table_comment('users', existing_comment='CRM user accounts (owned by the user service).')
    op.drop_constraint('users_updated_after_created_check', 'users', type_='check')
    op.drop_constraint('users_name_check', 'users', type_='check')
    op.drop_constraint('users_email_check', 'users', type_='check')
