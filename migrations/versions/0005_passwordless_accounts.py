"""Passwordless accounts: a person who signed up with a passkey has no password

Revision ID: 0005_passwordless_accounts
Revises: 0004_passkeys
Create Date: 2026-12-02 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_passwordless_accounts'
down_revision = '0004_passkeys'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('password_hash',
               existing_type=sa.String(length=255),
               nullable=True)


def downgrade():
    # Going back needs every account to have a password: those without one get a hash that
    # matches no password (they set one through "Forgot your password?").
    op.execute("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('password_hash',
               existing_type=sa.String(length=255),
               nullable=False)
