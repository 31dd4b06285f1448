"""merge multiple heads

Revision ID: c0eefe7ade9c
Revises: 005, 9d2a61c3b7e4
Create Date: 2025-05-14 17:22:48.390157

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'c0eefe7ade9c'
down_revision: Union[str, Sequence[str], None] = ('005', '9d2a61c3b7e4')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
