"""The monitoring part of the metadata store contract: monitors, results, alerts, notifications.

Results are a time series keyed by ``(monitor, window_start, window_end, key)``: storing a key
again for the same window replaces it (a window recomputed when late labels arrive). At most
one alert per dedup key is open at a time, enforced by the store (not only by the caller), so
two ``monitor watch`` processes cannot both open the same alert.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from modelward.entities.monitoring import (
    Alert,
    AlertStatus,
    Monitor,
    MonitorResult,
    Notification,
)

__all__ = ["MonitoringStore"]


class MonitoringStore(abc.ABC):
    """Monitor definitions, their results over time, alerts and notification records."""

    # -- monitors ------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_monitor(self, monitor: Monitor) -> Monitor:
        """Insert a monitor; :class:`~modelward.errors.AlreadyExists` if the name is taken.

        ``created_at`` and ``updated_at`` are set by the store.
        """

    @abc.abstractmethod
    def get_monitor(self, name: str) -> Monitor:
        """Return one monitor; :class:`~modelward.errors.NotFound` if absent."""

    @abc.abstractmethod
    def list_monitors(self) -> list[Monitor]:
        """Return every monitor, by name."""

    @abc.abstractmethod
    def update_monitor(self, monitor: Monitor) -> Monitor:
        """Replace a monitor's definition (same name); progress and ``created_at`` are kept.

        Raises:
            NotFound: No such monitor.
        """

    @abc.abstractmethod
    def set_monitor_state(
        self, name: str, state: Mapping[str, Any], *, last_run_at: int | None = None
    ) -> None:
        """Record a monitor's progress (and when it ran, if given)."""

    @abc.abstractmethod
    def delete_monitor(self, name: str) -> None:
        """Delete a monitor with its results, alerts and notification records.

        Raises:
            NotFound: No such monitor.
        """

    # -- results -------------------------------------------------------------------------------
    @abc.abstractmethod
    def put_monitor_results(self, results: Sequence[MonitorResult]) -> None:
        """Insert or replace results (unique per monitor, window and key)."""

    @abc.abstractmethod
    def list_monitor_results(
        self,
        monitor: str,
        *,
        keys: Sequence[str] | None = None,
        prefix: str | None = None,
        start: int | None = None,
        end: int | None = None,
        limit: int | None = None,
    ) -> list[MonitorResult]:
        """Return results whose window starts in ``[start, end)``, oldest window first.

        Args:
            monitor: Monitor name.
            keys: Only these keys.
            prefix: Only keys starting with this.
            start: Earliest window start.
            end: Window starts before this.
            limit: The *newest* ``limit`` results (still returned oldest first).
        """

    # -- alerts --------------------------------------------------------------------------------
    @abc.abstractmethod
    def create_alert(self, alert: Alert) -> Alert:
        """Insert an alert and return it with its id.

        Raises:
            Conflict: An open alert with the same dedup key exists already.
        """

    @abc.abstractmethod
    def get_alert(self, alert_id: int) -> Alert:
        """Return one alert; :class:`~modelward.errors.NotFound` if absent."""

    @abc.abstractmethod
    def get_open_alert(self, dedup_key: str) -> Alert | None:
        """Return the open (firing or acknowledged) alert with this dedup key, if any."""

    @abc.abstractmethod
    def get_latest_alert(self, dedup_key: str) -> Alert | None:
        """Return the newest alert with this dedup key, whatever its status."""

    @abc.abstractmethod
    def update_alert(self, alert: Alert) -> Alert:
        """Replace a stored alert's record (by id).

        Raises:
            NotFound: No such alert.
        """

    @abc.abstractmethod
    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        status: Sequence[AlertStatus] | None = None,
        limit: int = 100,
    ) -> list[Alert]:
        """Return alerts, newest first."""

    # -- notifications -------------------------------------------------------------------------
    @abc.abstractmethod
    def create_notification(self, notification: Notification) -> Notification:
        """Insert a notification record and return it with its id."""

    @abc.abstractmethod
    def update_notification(self, notification: Notification) -> Notification:
        """Replace a notification record (by id)."""

    @abc.abstractmethod
    def list_notifications(
        self, *, alert_id: int | None = None, monitor: str | None = None, limit: int = 100
    ) -> list[Notification]:
        """Return notification records, newest first."""
