"""Deployments: deployment records, their change history, prediction feedback.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_alias", sa.String(128)),
        sa.Column("model_version", sa.Integer),
        sa.Column("current_version", sa.Integer),
        sa.Column("previous_versions", sa.JSON, nullable=False),
        sa.Column("canary_name", sa.String(256)),
        sa.Column("canary_alias", sa.String(128)),
        sa.Column("canary_version", sa.Integer),
        sa.Column("canary_percent", sa.Float, server_default="0", nullable=False),
        sa.Column("sticky_header", sa.String(128)),
        sa.Column("shadow_name", sa.String(256)),
        sa.Column("shadow_alias", sa.String(128)),
        sa.Column("shadow_version", sa.Integer),
        sa.Column("max_batch_size", sa.Integer, nullable=False),
        sa.Column("max_wait_ms", sa.Float, nullable=False),
        sa.Column("max_body_bytes", sa.BigInteger, nullable=False),
        sa.Column("max_rows", sa.Integer, nullable=False),
        sa.Column("allow_nan", sa.Boolean, server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_deployments"),
    )
    op.create_table(
        "deployment_history",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("deployment", sa.String(128), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.PrimaryKeyConstraint("id", name="pk_deployment_history"),
    )
    op.create_index(
        "ix_deployment_history_deployment_id", "deployment_history", ["deployment", "id"]
    )
    op.create_table(
        "prediction_feedback",
        sa.Column("deployment", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("label", sa.JSON),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("deployment", "request_id", name="pk_prediction_feedback"),
    )
    op.create_index(
        "ix_prediction_feedback_deployment_time", "prediction_feedback", ["deployment", "time"]
    )


def downgrade() -> None:
    for table in ("prediction_feedback", "deployment_history", "deployments"):
        op.drop_table(table)
