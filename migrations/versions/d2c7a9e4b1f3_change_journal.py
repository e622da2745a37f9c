"""change journal

One row per change a run or a webhook delivery made, on either side (pco_journal): the record's
local and PCO ids, the action, and an update's field with its old and new value.

Revision ID: d2c7a9e4b1f3
Revises: a8d4e6f2c1b9
Create Date: 2026-12-04 08:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2c7a9e4b1f3'
down_revision = 'a8d4e6f2c1b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pco_journal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('delivery_id', sa.Integer(), nullable=True),
        sa.Column('side', sa.String(length=8), nullable=False),
        sa.Column('record_type', sa.String(length=40), nullable=False),
        sa.Column('local_id', sa.Integer(), nullable=True),
        sa.Column('pco_id', sa.Text(), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('field', sa.String(length=80), nullable=True),
        sa.Column('old_value', sa.JSON(), nullable=True),
        sa.Column('new_value', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('pco_journal', schema=None) as batch_op:
        batch_op.create_index('ix_pco_journal_run', ['run_id'], unique=False)
        batch_op.create_index('ix_pco_journal_delivery', ['delivery_id'], unique=False)
        batch_op.create_index('ix_pco_journal_record', ['record_type', 'local_id'], unique=False)
        batch_op.create_index('ix_pco_journal_created', ['created_at'], unique=False)


def downgrade():
    op.drop_table('pco_journal')
