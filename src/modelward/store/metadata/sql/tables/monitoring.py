"""Tables for monitors, their results over time, alerts and notification records.

Times are integer milliseconds since the epoch. A monitor's configuration is kept as JSON
(validated by :mod:`modelward.monitoring.spec` before it is stored). ``alerts.open_key`` holds
the dedup key while an alert is open and NULL once it is resolved: its unique index lets the
database itself refuse a second open alert for one key (NULLs never collide, in SQLite and
PostgreSQL alike).
"""

import sqlalchemy as sa

from modelward.store.metadata.sql.tables._meta import metadata

monitors = sa.Table(
    "monitors",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
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
)

monitor_results = sa.Table(
    "monitor_results",
    metadata,
    sa.Column("monitor", sa.String(128), primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True),
    sa.Column("window_end", sa.BigInteger, primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("value", sa.Float),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("computed_at", sa.BigInteger, nullable=False),
    # One metric's series over time: what charts and alert rules read.
    sa.Index("ix_monitor_results_monitor_key_start", "monitor", "key", "window_start"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
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
    sa.Index("ux_alerts_open_key", "open_key", unique=True),
    sa.Index("ix_alerts_dedup_key_id", "dedup_key", "id"),
    sa.Index("ix_alerts_monitor_id", "monitor", "id"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
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
    sa.Index("ix_notifications_alert_id", "alert_id"),
    sa.Index("ix_notifications_monitor_id", "monitor", "id"),
)
