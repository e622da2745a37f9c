"""index webhook delivery status

Every worker looks, on start-up and every PCO_WEBHOOK_REQUEUE_AFTER seconds, for deliveries
still ``received`` whose job Redis lost; this index answers without reading the whole table.

Revision ID: f5b2c8d4a1e6
Revises: e3a91c5d7f20
Create Date: 2026-12-04 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f5b2c8d4a1e6'
down_revision = 'e3a91c5d7f20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pco_webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_pco_webhook_delivery_status', ['status', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('pco_webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_pco_webhook_delivery_status')
