"""Connection traces: each authorization attempt and its steps, for the operator

Revision ID: 0003_connection_traces
Revises: 0002_accounts_mail
Create Date: 2026-12-14 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003_connection_traces'
down_revision = '0002_accounts_mail'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('connection_traces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=True),
    sa.Column('client_name', sa.String(length=100), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('user_email', sa.String(length=254), nullable=True),
    sa.Column('audience', sa.String(length=255), nullable=True),
    sa.Column('state_digest', sa.String(length=64), nullable=True),
    sa.Column('code_digest', sa.String(length=64), nullable=True),
    sa.Column('family_id', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_traces'))
    )
    with op.batch_alter_table('connection_traces', schema=None) as batch_op:
        for column in ('updated_at', 'outcome', 'client_id', 'user_id', 'state_digest', 'code_digest', 'family_id'):
            batch_op.create_index(batch_op.f(f'ix_connection_traces_{column}'), [column], unique=False)

    op.create_table('connection_trace_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trace_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('fix', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['trace_id'], ['connection_traces.id'], name=op.f('fk_connection_trace_steps_trace_id_connection_traces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connection_trace_steps'))
    )
    with op.batch_alter_table('connection_trace_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connection_trace_steps_trace_id'), ['trace_id'], unique=False)


def downgrade():
    with op.batch_alter_table('connection_trace_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connection_trace_steps_trace_id'))
    op.drop_table('connection_trace_steps')
    with op.batch_alter_table('connection_traces', schema=None) as batch_op:
        for column in ('family_id', 'code_digest', 'state_digest', 'user_id', 'client_id', 'outcome', 'updated_at'):
            batch_op.drop_index(batch_op.f(f'ix_connection_traces_{column}'))
    op.drop_table('connection_traces')
