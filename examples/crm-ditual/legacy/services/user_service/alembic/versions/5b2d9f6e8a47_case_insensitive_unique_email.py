"""case-insensitive unique email

Revision ID: 5b2d9f6e8a47
Revises: 1f4f4176aeb7
Create Date: 2024-11-05 16:28:03.904127

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5b2d9f6e8a47'
down_revision: Union[str, None] = '1f4f4176aeb7'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # "Ana@ditual.com.br" and "ana@ditual.com.br" were two accounts. No citext: the managed
    # Postgres we use does not allow extensions, so a unique index on lower(email) instead.
    op.drop_constraint('users_email_key', 'users', type_='unique')
    op.create_index('users_email_lower_key', 'users', [sa.text('lower(email)')], unique=True)


def downgrade() -> None:
    op.drop_index('users_email_lower_key', table_name='users')
    op.create_unique_constraint('users_email_key', 'users', ['email'])
