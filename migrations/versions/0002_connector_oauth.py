"""OAuth for ChatGPT apps and Claude connectors: client kinds, metadata documents,
resource indicators (audience) and the refresh retry answer

Revision ID: 0002_connector_oauth
Revises: 0001
Create Date: 2026-12-10 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002_connector_oauth'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.alter_column('client_id', existing_type=sa.String(length=64), type_=sa.String(length=255), existing_nullable=False)
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='registered'))
        batch_op.add_column(sa.Column('registration_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('metadata_document', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('metadata_fetched_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('metadata_fresh_until', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_oauth_clients_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_clients_registration_digest'), ['registration_digest'], unique=False)
    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        # The default only filled existing rows; the model supplies the value from now on.
        batch_op.alter_column('kind', existing_type=sa.String(length=20), server_default=None, existing_nullable=False)

    with op.batch_alter_table('oauth_authorization_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resource', sa.String(length=255), nullable=True))

    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resource', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('retry_answer', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.drop_column('retry_answer')
        batch_op.drop_column('resource')

    with op.batch_alter_table('oauth_authorization_codes', schema=None) as batch_op:
        batch_op.drop_column('resource')

    with op.batch_alter_table('oauth_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_clients_registration_digest'))
        batch_op.drop_index(batch_op.f('ix_oauth_clients_kind'))
        batch_op.drop_column('metadata_fresh_until')
        batch_op.drop_column('metadata_fetched_at')
        batch_op.drop_column('metadata_document')
        batch_op.drop_column('registration_digest')
        batch_op.drop_column('kind')
        batch_op.alter_column('client_id', existing_type=sa.String(length=255), type_=sa.String(length=64), existing_nullable=False)
