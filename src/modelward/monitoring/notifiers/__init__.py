"""Notifiers: where alert notifications go (webhook, log, e-mail), and their delivery queue.

- :mod:`~modelward.monitoring.notifiers.base` — the :class:`Notifier` protocol, the log
  notifier and :func:`build_notifier` (from a monitor's ``notifiers`` entry);
- :mod:`~modelward.monitoring.notifiers.webhook` — JSON POST with a Slack-compatible body;
- :mod:`~modelward.monitoring.notifiers.email` — SMTP (STARTTLS or SSL);
- :mod:`~modelward.monitoring.notifiers.dispatch` — the background queue that retries with
  exponential backoff and records each attempt, so a down endpoint never blocks a monitor.
"""

from modelward.monitoring.notifiers.base import LogNotifier, Notifier, build_notifier

__all__ = ["LogNotifier", "Notifier", "build_notifier"]
