"""sync log runner

Each run row records who runs it (host name, process id, and the process's identity beyond
its pid), so a run whose process died on this host is released at once instead of after
PCO_RUN_STALE_AFTER.

Revision ID: c3f8a1d6e2b4
Revises: b7d2e5f1a3c8
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3f8a1d6e2b4'
down_revision = 'b7d2e5f1a3c8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pco_sync_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('runner_host', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('runner_pid', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('runner_process', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('pco_sync_log', schema=None) as batch_op:
        batch_op.drop_column('runner_process')
        batch_op.drop_column('runner_pid')
        batch_op.drop_column('runner_host')
