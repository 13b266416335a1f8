"""Monitor definitions: defaults, normal form, and one clear message per mistake."""

from __future__ import annotations

from typing import Any

import pytest

from modelward.errors import InvalidInput
from modelward.monitoring.spec import (
    AlertRule,
    MonitorSpec,
    NotifierSpec,
    WindowSpec,
    format_duration,
    parse_duration,
)


def _spec(**changes: Any) -> MonitorSpec:
    return MonitorSpec.from_dict({"name": "m", "deployment": "prod", **changes})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90.0), ("90s", 90.0), ("5m", 300.0), ("1h", 3600.0), ("2d", 172800.0), ("500ms", 0.5)],
)
def test_durations(text: Any, seconds: float) -> None:
    assert parse_duration(text, "x") == seconds
    assert parse_duration(format_duration(seconds), "x") == seconds


def test_bad_duration_says_what_to_write() -> None:
    with pytest.raises(InvalidInput, match=r"window.size must be a duration like 30s, 5m"):
        _spec(window={"size": "an hour"})


def test_defaults_and_round_trip_through_the_store_form() -> None:
    spec = _spec(
        window={"type": "time", "size": "15m"},
        alert_rules=[{"metric": "drift.share", "condition": ">= 0.3", "duration": "3 windows"}],
        notifiers=[{"name": "slack", "type": "webhook", "url_env": "SLACK_URL"}],
    )
    assert spec.window.size == 900.0
    assert spec.schedule == 900.0  # a time monitor runs once per window by default
    assert spec.checks.drift.enabled
    assert spec.checks.quality.enabled
    assert spec.rules[0].name == "drift.share"
    assert spec.rules[0].windows == 3
    again = MonitorSpec.from_monitor(spec.to_monitor())
    assert again == spec


def test_row_and_dataset_windows() -> None:
    assert WindowSpec.from_dict({"rows": 500}).to_dict()["size"] == 500
    spec = MonitorSpec.from_dict(
        {"name": "d", "reference": "wine@1", "window": {"dataset": "wine@2"}}
    )
    assert spec.window.type == "dataset"
    assert spec.window.describe() == "dataset wine@2"


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"name": "bad name!"}, "monitor name 'bad name!' is not valid"),
        ({"name": "m"}, "watches a deployment's prediction log; set deployment: NAME"),
        ({"name": "m", "window": {"dataset": "w@1"}}, "needs a reference"),
        ({"name": "m", "deployment": "d", "color": 1}, "unknown field\\(s\\) color"),
        ({"name": "m", "deployment": "d", "task": "ranking"}, "task must be classification or"),
        (
            {"name": "m", "deployment": "d", "window": {"type": "weekly"}},
            "window.type must be time, rows or dataset",
        ),
        (
            {"name": "m", "deployment": "d", "checks": {"drift": {"alpha": 2}}},
            "checks.drift: alpha must lie strictly between 0 and 1",
        ),
        (
            {"name": "m", "deployment": "d", "checks": {"drift": {"numeric_method": "t"}}},
            "checks.drift: numeric_method 't' is unknown",
        ),
        (
            {"name": "m", "deployment": "d", "checks": {"quality": {"max_unseen_share": 3}}},
            "checks.quality.max_unseen_share must lie in \\[0, 1\\]",
        ),
        (
            {"name": "m", "deployment": "d", "checks": {"performance": {"metrics": ["auc"]}}},
            "unknown metric 'auc'",
        ),
        (
            {"name": "m", "deployment": "d", "checks": {"anomaly": {"method": "prophet"}}},
            "checks.anomaly.method must be robust_zscore or ewma",
        ),
        (
            {"name": "m", "deployment": "d", "checks": {"anomaly": {"threshold": -1}}},
            "checks.anomaly: threshold must be positive, got -1",
        ),
        (
            {"name": "m", "deployment": "d", "alert_rules": [{"metric": "x", "condition": "big"}]},
            "alert_rules\\[0\\].condition must look like '> 0.3'",
        ),
        (
            {
                "name": "m",
                "deployment": "d",
                "alert_rules": [{"metric": "x", "condition": "> 1", "notify": ["pager"]}],
            },
            "notifies 'pager', which is not among the monitor's notifiers \\(log\\)",
        ),
        (
            {"name": "m", "deployment": "d", "notifiers": [{"type": "webhook"}]},
            "needs exactly one of url",
        ),
        (
            {"name": "m", "deployment": "d", "notifiers": [{"type": "webhook", "url": "ftp://x"}]},
            "url must start with http:// or https://",
        ),
        (
            {"name": "m", "deployment": "d", "notifiers": [{"type": "email", "host": "h"}]},
            "\\(email\\) needs sender",
        ),
        (
            {
                "name": "m",
                "deployment": "d",
                "notifiers": [{"type": "log"}, {"type": "log"}],
            },
            "notifiers names must be unique; 'log' appears twice",
        ),
    ],
)
def test_invalid_definitions(definition: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        MonitorSpec.from_dict(definition)


def test_rule_conditions_and_durations() -> None:
    rule = AlertRule.from_dict(
        {"metric": "performance.accuracy.delta", "condition": "< -0.05", "duration": "30m"}
    )
    assert (rule.op, rule.threshold, rule.seconds) == ("<", -0.05, 1800.0)
    assert rule.to_dict()["duration"] == "30m"
    assert AlertRule.from_dict({"metric": "ops.latency_p95", "condition": "anomalous"}).op == (
        "anomalous"
    )
    structured = AlertRule.from_dict({"metric": "m", "condition": {"op": ">=", "value": 2}})
    assert structured.condition == ">= 2"


def test_notifier_retry_settings() -> None:
    n = NotifierSpec.from_dict(
        {"type": "webhook", "url": "http://127.0.0.1:1/x", "attempts": 3, "backoff": "50ms"}
    )
    assert (n.name, n.attempts, n.backoff, n.max_backoff) == ("webhook", 3, 0.05, 30.0)
