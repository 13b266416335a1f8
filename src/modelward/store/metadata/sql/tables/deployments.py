"""Tables for deployments, their change history and ground-truth feedback.

Times are integer milliseconds since the epoch. Model references, batching and limits are
plain columns (servers poll ``revision`` and read one row); history keeps whole records as JSON.
History and feedback have no foreign key to ``deployments`` so they outlive a deletion.
"""

import sqlalchemy as sa

from modelward.store.metadata.sql.tables._meta import metadata

deployments = sa.Table(
    "deployments",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("model_name", sa.String(256), nullable=False),
    sa.Column("model_alias", sa.String(128)),
    sa.Column("model_version", sa.Integer),
    sa.Column("current_version", sa.Integer),
    sa.Column("previous_versions", sa.JSON, nullable=False),
    sa.Column("canary_name", sa.String(256)),
    sa.Column("canary_alias", sa.String(128)),
    sa.Column("canary_version", sa.Integer),
    sa.Column("canary_percent", sa.Float, nullable=False, server_default="0"),
    sa.Column("sticky_header", sa.String(128)),
    sa.Column("shadow_name", sa.String(256)),
    sa.Column("shadow_alias", sa.String(128)),
    sa.Column("shadow_version", sa.Integer),
    sa.Column("max_batch_size", sa.Integer, nullable=False),
    sa.Column("max_wait_ms", sa.Float, nullable=False),
    sa.Column("max_body_bytes", sa.BigInteger, nullable=False),
    sa.Column("max_rows", sa.Integer, nullable=False),
    sa.Column("allow_nan", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

deployment_history = sa.Table(
    "deployment_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("deployment", sa.String(128), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("time", sa.BigInteger, nullable=False),
    sa.Column("before", sa.JSON),
    sa.Column("after", sa.JSON),
    sa.Index("ix_deployment_history_deployment_id", "deployment", "id"),
)

prediction_feedback = sa.Table(
    "prediction_feedback",
    metadata,
    sa.Column("deployment", sa.String(128), primary_key=True),
    sa.Column("request_id", sa.String(128), primary_key=True),
    sa.Column("label", sa.JSON),
    sa.Column("time", sa.BigInteger, nullable=False),
    sa.Index("ix_prediction_feedback_deployment_time", "deployment", "time"),
)
