"""Smart charging: limit changes on running transactions, and eMSPs' OCPI charging profile requests

Revision ID: 76a09e2d1f2c
Revises: 9ffc03d6112f
Create Date: 2026-11-23 15:53:39.860443
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ocpi_sandbox.db.models.base


revision = '76a09e2d1f2c'
down_revision = '9ffc03d6112f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('csms_limit_changes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('transaction_pk', sa.String(length=36), nullable=False),
    sa.Column('at', ocpi_sandbox.db.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('schedule', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['transaction_pk'], ['csms_transactions.id'], name=op.f('fk_csms_limit_changes_transaction_pk_csms_transactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csms_limit_changes'))
    )
    with op.batch_alter_table('csms_limit_changes', schema=None) as batch_op:
        batch_op.create_index('ix_csms_limit_changes_tx_at', ['transaction_pk', 'at'], unique=False)

    op.create_table('ocpi_charging_profiles',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('partner_id', sa.String(length=36), nullable=False),
    sa.Column('session_id', sa.String(length=36), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('version', sa.String(length=8), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('response_url', sa.String(length=255), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', ocpi_sandbox.db.models.base.UtcDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', ocpi_sandbox.db.models.base.UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['partner_id'], ['ocpi_partners.id'], name=op.f('fk_ocpi_charging_profiles_partner_id_ocpi_partners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['cpo_sessions.id'], name=op.f('fk_ocpi_charging_profiles_session_id_cpo_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_ocpi_charging_profiles_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_charging_profiles'))
    )
    with op.batch_alter_table('ocpi_charging_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ocpi_charging_profiles_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('ix_ocpi_charging_profiles_session', ['session_id', 'method'], unique=False)
        batch_op.create_index(batch_op.f('ix_ocpi_charging_profiles_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ocpi_charging_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ocpi_charging_profiles_tenant_id'))
        batch_op.drop_index('ix_ocpi_charging_profiles_session')
        batch_op.drop_index(batch_op.f('ix_ocpi_charging_profiles_partner_id'))

    op.drop_table('ocpi_charging_profiles')
    with op.batch_alter_table('csms_limit_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_csms_limit_changes_tx_at')

    op.drop_table('csms_limit_changes')
