"""One typed settings object for the whole of modelward.

Settings are read from the environment (prefix ``MODELWARD_``) only at the edges: the CLI,
the server, the serving process and the first implicit use of the top-level SDK functions.
Everything below the edges receives a :class:`Settings` (or the values it needs) explicitly.

Every field is documented in ``docs/configuration.md``; a test fails when one is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """modelward configuration.

    Each field can be set by the environment variable ``MODELWARD_<FIELD>`` (upper case),
    e.g. ``MODELWARD_HOME=/data/mw`` or ``MODELWARD_SYSTEM_METRICS=false``.
    """

    model_config = SettingsConfigDict(env_prefix="MODELWARD_", extra="ignore", frozen=True)

    home: Path = Field(
        default=Path(".modelward"),
        description="Folder holding the embedded store (SQLite database and artifacts).",
    )
    uri: str | None = Field(
        default=None,
        description=(
            "Metadata store URI: sqlite:///PATH, postgresql+psycopg://USER@HOST/DB. "
            "Default: sqlite under `home`."
        ),
    )
    artifacts: str | None = Field(
        default=None,
        description="Artifact store: a local folder, file:///PATH or s3://BUCKET/PREFIX. "
        "Default: `home`/artifacts.",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="Endpoint of an S3-compatible store (e.g. http://127.0.0.1:9000); "
        "credentials come from the usual AWS variables or files.",
    )
    user: str | None = Field(
        default=None, description="User recorded on runs and audit entries. Default: login name."
    )
    metric_flush_interval: float = Field(
        default=1.0,
        gt=0,
        description="Seconds between background flushes of buffered metrics; a crash loses at "
        "most this much logging.",
    )
    metric_buffer_max: int = Field(
        default=1_000_000,
        ge=1000,
        description="Most metric points held in memory; logging waits for a flush past this.",
    )
    system_metrics: bool = Field(
        default=True, description="Sample CPU, memory, disk and GPU as `system/` metrics."
    )
    system_metrics_interval: float = Field(
        default=5.0, gt=0, description="Seconds between system metric samples."
    )
    capture_environment: bool = Field(
        default=True,
        description="Record Python, OS, packages, git commit, CPU, memory and GPUs per run.",
    )
    heartbeat_interval: float = Field(
        default=15.0, gt=0, description="Seconds between heartbeats of a running run."
    )
    heartbeat_timeout: float = Field(
        default=120.0,
        gt=0,
        description="A RUNNING run on another host with no heartbeat for this long is KILLED.",
    )
    sqlite_busy_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a SQLite writer waits for the lock before failing.",
    )
    log_level: str = Field(default="WARNING", description="Log level for the CLI and servers.")

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(
                f"log level must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {value!r}"
            )
        return level

    def metadata_uri(self) -> str:
        """Return the metadata store URI, defaulting to the SQLite file under ``home``."""
        if self.uri:
            return self.uri
        return f"sqlite:///{(self.home / 'modelward.db').resolve()}"

    def artifact_uri(self) -> str:
        """Return the artifact store location, defaulting to ``home``/artifacts."""
        if self.artifacts:
            return self.artifacts
        return str((self.home / "artifacts").resolve())

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with some fields replaced (validated)."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        return _DefaultsOnly(**data)

    @classmethod
    def defaults(cls, **overrides: Any) -> Settings:
        """Build settings from defaults and ``overrides`` only, ignoring the environment."""
        return _DefaultsOnly(**{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Read settings from the environment, then apply explicit overrides."""
        return cls(**{k: v for k, v in overrides.items() if v is not None})


class _DefaultsOnly(Settings):
    """Settings whose only source is the constructor's arguments (no environment)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)
