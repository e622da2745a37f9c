"""index unlinked people

A pull asks on every page whether any local person is still unlinked before matching by
email or name; this partial index answers without reading the whole table.

Revision ID: 4c1e2a7b9d30
Revises: 98ee1d39c809
Create Date: 2026-11-23 01:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4c1e2a7b9d30'
down_revision = '98ee1d39c809'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.create_index('ix_people_unlinked', ['id'], unique=False, sqlite_where=sa.text('pco_id IS NULL'), postgresql_where=sa.text('pco_id IS NULL'))


def downgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index('ix_people_unlinked', sqlite_where=sa.text('pco_id IS NULL'), postgresql_where=sa.text('pco_id IS NULL'))
