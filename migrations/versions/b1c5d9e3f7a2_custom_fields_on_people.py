"""custom fields on people

Two of PCO's custom fields the example church syncs: "T-shirt size" (select) and
"Baptism date" (date).

Revision ID: b1c5d9e3f7a2
Revises: e8b4f1c2d6a7
Create Date: 2026-12-04 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1c5d9e3f7a2'
down_revision = 'e8b4f1c2d6a7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shirt_size', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('baptism_date', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('baptism_date')
        batch_op.drop_column('shirt_size')
