"""Notifiers and their delivery queue: webhook, e-mail, log; retries with backoff, no blocking."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import pytest

from modelward.entities.monitoring import (
    Alert,
    AlertStatus,
    Monitor,
    Notification,
    NotificationStatus,
    Severity,
)
from modelward.errors import InvalidInput, Unavailable
from modelward.monitoring.notifiers import LogNotifier, build_notifier
from modelward.monitoring.notifiers.dispatch import Dispatcher
from modelward.monitoring.spec import NotifierSpec
from modelward.store.metadata.base import MetadataStore
from tests.monitoring.servers import closed_port, smtp_server, webhook_server

PAYLOAD: dict[str, Any] = {
    "event": "firing",
    "text": "[critical] churn: drift — drift.share = 0.6",
    "details": "2 of 3 feature columns drifted (67%): f0, plan.",
    "alert": {"id": 1, "severity": "critical", "metric": "drift.share"},
    "monitor": "churn",
    "deployment": "prod",
}


def _spec(**d: Any) -> NotifierSpec:
    return NotifierSpec.from_dict(d)


def test_webhook_posts_a_slack_compatible_body() -> None:
    with webhook_server() as (url, got):
        notifier = build_notifier(
            _spec(type="webhook", url=url, headers={"Authorization": "Bearer t"}), {}
        )
        notifier.send(PAYLOAD)
    body = got.bodies[0]
    assert body["text"] == PAYLOAD["text"]
    assert body["blocks"][0] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": body["text"]},
    }
    assert body["blocks"][1]["elements"][0]["text"] == PAYLOAD["details"]
    assert body["alert"]["metric"] == "drift.share"
    assert body["event"] == "firing"
    assert got.headers[0]["Authorization"] == "Bearer t"


def test_webhook_slack_body_and_url_from_the_environment() -> None:
    with webhook_server() as (url, got):
        spec = _spec(type="webhook", url_env="HOOK", body="slack")
        build_notifier(spec, {"HOOK": url}).send(PAYLOAD)
    assert set(got.bodies[0]) == {"text", "blocks"}
    with pytest.raises(InvalidInput, match="reads environment variable HOOK, which is not set"):
        build_notifier(spec, {})


def test_webhook_failures_raise_unavailable() -> None:
    with (
        webhook_server(status=500) as (url, _),
        pytest.raises(Unavailable, match="answered HTTP 500"),
    ):
        build_notifier(_spec(type="webhook", url=url), {}).send(PAYLOAD)
    down = f"http://127.0.0.1:{closed_port()}/hook"
    with pytest.raises(Unavailable, match="ConnectError"):
        build_notifier(_spec(type="webhook", url=down, timeout=2), {}).send(PAYLOAD)


def test_email_through_smtp_with_login() -> None:
    with smtp_server() as (port, mails):
        spec = _spec(
            type="email",
            host="127.0.0.1",
            port=port,
            sender="mw@example.com",
            to=["ops@example.com", "ml@example.com"],
            username="mw",
            password_env="SMTP_PASSWORD",
        )
        build_notifier(spec, {"SMTP_PASSWORD": "s3cret"}).send(PAYLOAD)
    (mail,) = mails
    assert mail.sender == "mw@example.com"
    assert mail.recipients == ["ops@example.com", "ml@example.com"]
    assert mail.login == "mw"
    assert "Subject: [modelward] [critical] churn: drift" in mail.data
    assert PAYLOAD["details"] in mail.data


def test_email_failure_is_unavailable() -> None:
    spec = _spec(type="email", host="127.0.0.1", port=closed_port(), sender="a@b", to="c@d")
    with pytest.raises(Unavailable, match=r"e-mail email via 127\.0\.0\.1"):
        build_notifier(spec, {}).send(PAYLOAD)


def test_log_notifier(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="modelward.alerts"):
        LogNotifier().send(PAYLOAD)
        LogNotifier().send(
            {**PAYLOAD, "event": "resolved", "text": "[resolved] x", "details": None}
        )
    levels = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert levels[0][0] == logging.ERROR  # critical alerts log at error at least
    assert levels[0][1].startswith(PAYLOAD["text"])
    assert levels[1] == (logging.INFO, "[resolved] x")


# -- the delivery queue --------------------------------------------------------------------------
def _record(store: MetadataStore, notifier: str = "hook") -> Notification:
    if not store.list_monitors():
        store.create_monitor(Monitor(name="m"))
    alert = store.create_alert(
        Alert(
            0,
            "m",
            notifier,
            f"m/{notifier}",
            AlertStatus.FIRING,
            Severity.INFO,
            "x",
            1.0,
            "msg",
            1,
            1,
        )
    )
    return store.create_notification(
        Notification(0, alert.id, notifier, "firing", NotificationStatus.PENDING, created_at=1)
    )


class Flaky:
    """Fails ``failures`` times, then succeeds; records when each attempt happened."""

    name = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.times: list[float] = []

    def send(self, payload: Mapping[str, Any]) -> None:
        self.times.append(time.monotonic())
        if len(self.times) <= self.failures:
            raise ConnectionError(f"attempt {len(self.times)} refused")


def test_retries_back_off_exponentially_and_record_each_attempt(
    sqlite_store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = Flaky(failures=2)
    monkeypatch.setattr(
        "modelward.monitoring.notifiers.base.build_notifier", lambda spec, secrets: flaky
    )
    dispatcher = Dispatcher(sqlite_store)
    record = _record(sqlite_store)
    spec = _spec(type="webhook", name="hook", url="http://x", attempts=4, backoff=0.1)
    dispatcher.submit(record, spec, PAYLOAD)
    assert dispatcher.flush(20)
    (stored,) = sqlite_store.list_notifications(alert_id=record.alert_id)
    assert stored.status is NotificationStatus.SENT
    assert stored.attempts == 3
    assert stored.last_error is None
    gaps = [b - a for a, b in zip(flaky.times, flaky.times[1:], strict=False)]
    assert gaps[0] >= 0.09  # backoff, then doubled
    assert gaps[1] >= 0.19
    dispatcher.close()


def test_a_down_endpoint_never_blocks_and_ends_failed(sqlite_store: MetadataStore) -> None:
    dispatcher = Dispatcher(sqlite_store)
    record = _record(sqlite_store)
    url = f"http://127.0.0.1:{closed_port()}/hook"
    spec = _spec(type="webhook", name="hook", url=url, attempts=3, backoff=0.5, timeout=2)
    began = time.monotonic()
    dispatcher.submit(record, spec, PAYLOAD)
    queued_in = time.monotonic() - began
    assert queued_in < 0.5  # delivery (>= 1.5 s of backoff) happens on the background thread
    assert dispatcher.pending() == 1
    assert dispatcher.flush(30)
    assert time.monotonic() - began >= 1.4
    (stored,) = sqlite_store.list_notifications(alert_id=record.alert_id)
    assert stored.status is NotificationStatus.FAILED
    assert stored.attempts == 3
    assert "ConnectError" in str(stored.last_error)
    assert stored.sent_at is None
    dispatcher.close()


def test_a_missing_secret_fails_the_notification_at_once(sqlite_store: MetadataStore) -> None:
    dispatcher = Dispatcher(sqlite_store, secrets={})
    record = _record(sqlite_store)
    dispatcher.submit(record, _spec(type="webhook", name="hook", url_env="NOPE"), PAYLOAD)
    (stored,) = sqlite_store.list_notifications(alert_id=record.alert_id)
    assert stored.status is NotificationStatus.FAILED
    assert "NOPE, which is not set" in str(stored.last_error)


def test_a_full_queue_drops_and_records_instead_of_waiting(
    sqlite_store: MetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Slow:
        name = "slow"

        def send(self, payload: Mapping[str, Any]) -> None:
            time.sleep(0.3)

    monkeypatch.setattr(
        "modelward.monitoring.notifiers.base.build_notifier", lambda spec, secrets: Slow()
    )
    dispatcher = Dispatcher(sqlite_store, max_queue=1)
    records = [_record(sqlite_store, f"n{i}") for i in range(3)]
    began = time.monotonic()
    for r in records:
        dispatcher.submit(r, None, PAYLOAD)
    assert time.monotonic() - began < 0.3
    assert dispatcher.flush(10)
    statuses = [sqlite_store.list_notifications(alert_id=r.alert_id)[0] for r in records]
    dropped = [s for s in statuses if s.last_error == "notification queue full; dropped"]
    assert dropped
    assert all(s.status is NotificationStatus.FAILED for s in dropped)
    dispatcher.close()


def test_close_stops_pending_retries(sqlite_store: MetadataStore) -> None:
    dispatcher = Dispatcher(sqlite_store)
    record = _record(sqlite_store)
    url = f"http://127.0.0.1:{closed_port()}/hook"
    spec = _spec(type="webhook", name="hook", url=url, attempts=5, backoff=30)
    dispatcher.submit(record, spec, PAYLOAD)
    began = time.monotonic()
    dispatcher.close(timeout=0.5)
    assert time.monotonic() - began < 5
    (stored,) = sqlite_store.list_notifications(alert_id=record.alert_id)
    assert stored.status is NotificationStatus.FAILED
    assert "stopped before the next attempt" in str(stored.last_error)
