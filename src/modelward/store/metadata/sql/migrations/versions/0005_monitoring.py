"""Monitoring: monitors, monitor results (time series), alerts, notifications.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("deployment", sa.String(128)),
        sa.Column("reference", sa.String(256)),
        sa.Column("task", sa.String(32)),
        sa.Column("window", sa.JSON, nullable=False),
        sa.Column("checks", sa.JSON, nullable=False),
        sa.Column("schedule", sa.Float, nullable=False),
        sa.Column("alert_rules", sa.JSON, nullable=False),
        sa.Column("notifiers", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("last_run_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("name", name="pk_monitors"),
    )
    op.create_table(
        "monitor_results",
        sa.Column("monitor", sa.String(128), nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("window_end", sa.BigInteger, nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("computed_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "monitor", "window_start", "window_end", "key", name="pk_monitor_results"
        ),
    )
    op.create_index(
        "ix_monitor_results_monitor_key_start",
        "monitor_results",
        ["monitor", "key", "window_start"],
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("monitor", sa.String(128), nullable=False),
        sa.Column("rule", sa.String(128), nullable=False),
        sa.Column("dedup_key", sa.String(300), nullable=False),
        sa.Column("open_key", sa.String(300)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("metric", sa.String(256), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("first_seen", sa.BigInteger, nullable=False),
        sa.Column("last_seen", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("window_start", sa.BigInteger),
        sa.Column("window_end", sa.BigInteger),
        sa.Column("acknowledged_by", sa.String(256)),
        sa.Column("acknowledged_at", sa.BigInteger),
        sa.Column("resolved_at", sa.BigInteger),
        sa.Column("resolved_by", sa.String(256)),
        sa.Column("last_notified_at", sa.BigInteger),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ux_alerts_open_key", "alerts", ["open_key"], unique=True)
    op.create_index("ix_alerts_dedup_key_id", "alerts", ["dedup_key", "id"])
    op.create_index("ix_alerts_monitor_id", "alerts", ["monitor", "id"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("monitor", sa.String(128), nullable=False),
        sa.Column("notifier", sa.String(128), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("sent_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index("ix_notifications_alert_id", "notifications", ["alert_id"])
    op.create_index("ix_notifications_monitor_id", "notifications", ["monitor", "id"])


def downgrade() -> None:
    for table in ("notifications", "alerts", "monitor_results", "monitors"):
        op.drop_table(table)
