"""dry-run plans

What a dry run would change, change by change (pco_plan): the journal entries the dry run made
on its scratch database, kept so the CLI and the admin page can show and compare them.

Revision ID: e8b4f1c2d6a7
Revises: d2c7a9e4b1f3
Create Date: 2026-12-04 09:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8b4f1c2d6a7'
down_revision = 'd2c7a9e4b1f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pco_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('step_run_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.String(length=8), nullable=False),
        sa.Column('record_type', sa.String(length=40), nullable=False),
        sa.Column('local_id', sa.Integer(), nullable=True),
        sa.Column('pco_id', sa.Text(), nullable=True),
        sa.Column('action', sa.String(length=20), nullable=False),
        sa.Column('field', sa.String(length=80), nullable=True),
        sa.Column('old_value', sa.JSON(), nullable=True),
        sa.Column('new_value', sa.JSON(), nullable=True),
        sa.Column('label', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('pco_plan', schema=None) as batch_op:
        batch_op.create_index('ix_pco_plan_run', ['run_id'], unique=False)


def downgrade():
    op.drop_table('pco_plan')
