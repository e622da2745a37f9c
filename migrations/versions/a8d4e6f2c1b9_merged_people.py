"""merged people

PCO merges two profiles into one; the local row of the removed profile is kept, inactive, and
remembers the row it was merged into (pco_merged_into on every linked table, as the mixin adds
it). A conflict can come from such a merge: pco_conflict.merged_from names the row whose value
was not kept.

Revision ID: a8d4e6f2c1b9
Revises: f5b2c8d4a1e6
Create Date: 2026-12-04 06:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8d4e6f2c1b9'
down_revision = 'f5b2c8d4a1e6'
branch_labels = None
depends_on = None

LINKED_TABLES = (
    'church_group', 'events', 'families', 'family_members', 'group_membership', 'locations',
    'people', 'person_emails', 'person_phones',
)


def upgrade():
    for table in LINKED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('pco_merged_into', sa.Integer(), nullable=True))
    with op.batch_alter_table('pco_conflict', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_from', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('pco_conflict', schema=None) as batch_op:
        batch_op.drop_column('merged_from')
    for table in reversed(LINKED_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('pco_merged_into')
