"""organisation columns

Every table of the extension says which church a row belongs to, so one site can serve many
churches (issue 21): held records, conflicts, webhook deliveries and subscriptions, removals
and the change journal get ``organization`` ('' for the rows of a single-church site, which
keep working unchanged). Runs and cursors had it already. A subscription's PCO id is unique
per church: two churches' organisations (two sandboxes) may hand out the same ids.

Revision ID: b1d3f5a7c9e2
Revises: 4eb1aa0c8fe6
Create Date: 2026-12-04 16:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1d3f5a7c9e2'
down_revision = '4eb1aa0c8fe6'
branch_labels = None
depends_on = None

#: Names the initial schema's unnamed unique constraint as SQLite's batch copy reflects it.
NAMING = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}
UNIQUE = 'uq_pco_webhook_subscription_organization_pco_id'

TABLES = (
    'pco_sync_issue',
    'pco_conflict',
    'pco_webhook_delivery',
    'pco_webhook_subscription',
    'pco_removal',
    'pco_journal',
)


def _old_unique():
    if op.get_bind().dialect.name == 'postgresql':
        return 'pco_webhook_subscription_pco_id_key'
    return 'uq_pco_webhook_subscription_pco_id'


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('organization', sa.String(length=120), server_default='', nullable=False)
            )
    with op.batch_alter_table('pco_webhook_subscription', naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(_old_unique(), type_='unique')
        batch_op.create_unique_constraint(UNIQUE, ['organization', 'pco_id'])


def downgrade():
    with op.batch_alter_table('pco_webhook_subscription', naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(UNIQUE, type_='unique')
        batch_op.create_unique_constraint(_old_unique(), ['pco_id'])
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('organization')
