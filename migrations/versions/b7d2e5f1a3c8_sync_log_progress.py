"""sync log progress

Each run row records how many records it has gone through and how many it expects, so the
CLI can draw a progress bar and the admin page can say "1,200 of 5,000".

Revision ID: b7d2e5f1a3c8
Revises: 4c1e2a7b9d30
Create Date: 2026-11-23 04:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d2e5f1a3c8'
down_revision = '4c1e2a7b9d30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pco_sync_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_done', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('progress_total', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('pco_sync_log', schema=None) as batch_op:
        batch_op.drop_column('progress_total')
        batch_op.drop_column('progress_done')
