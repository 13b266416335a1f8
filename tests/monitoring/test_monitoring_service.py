"""Monitoring end to end: a registered model, a deployment, its prediction log, a monitor.

Drift on shifted traffic and none on traffic like the training data, a webhook when drift
crosses the threshold, data quality, performance with late labels updating an earlier window,
anomalies on a latency spike, the HTML report, and ``watch``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelward.entities.monitoring import AlertStatus, NotificationStatus
from modelward.errors import AlreadyExists, InvalidInput, NotFound
from tests.monitoring.lifecycle import BASE, HOUR, Deployed, frame, log_frame, serve, truth
from tests.monitoring.servers import closed_port, webhook_server

MIN = 60_000


def _value(service: Any, name: str, key: str, start: int | None = None) -> float | None:
    points = service.series(name, key)
    if start is not None:
        points = [p for p in points if p.window_start == start]
    return points[-1].value if points else None


def test_drift_on_shifted_traffic_only_and_a_webhook(deployed: Deployed, monitoring: Any) -> None:
    client = deployed.client
    with webhook_server() as (url, got):
        monitoring.create(
            {
                "name": "churn",
                "deployment": "prod",
                "window": {"rows": 600, "lag": 0},
                "alert_rules": [{"name": "drift", "metric": "drift.share", "condition": ">= 0.3"}],
                "notifiers": [{"name": "slack", "type": "webhook", "url": url}],
            }
        )
        serve(client, frame(600, seed=11))
        calm = monitoring.run("churn")
        (window,) = calm.windows
        assert window["rows"] == 600
        assert window["drift"]["verdict"] == "no_drift"
        assert window["quality"]["passed"] is True
        assert calm.reference["ref"] == "churn@1"
        assert calm.reference["source"] == f"training run {deployed.run_id}"
        assert calm.alerts == []

        serve(client, frame(600, seed=12, shift=0.8, plans=("a", "b", "b", "b", "c")))
        shifted = monitoring.run("churn")
        (window,) = shifted.windows
        assert window["drift"]["verdict"] == "dataset_drift"
        assert {"f0", "plan"} <= set(window["drift"]["drifted_columns"])
        assert "f1" not in window["drift"]["drifted_columns"]
        assert [e.action for e in shifted.alerts] == ["fired"]
        assert monitoring.flush(20)
        assert got.event.wait(10)
    body = got.bodies[0]
    assert body["text"].startswith("[warning] churn: drift — drift.share = ")
    assert "f0" in body["blocks"][1]["elements"][0]["text"]
    assert body["alert"]["status"] == "firing"
    (note,) = monitoring.notifications(monitor="churn")
    assert (note.status, note.attempts) == (NotificationStatus.SENT, 1)
    share = monitoring.series("churn", "drift.share")
    assert share[0].value == 0.0
    assert share[1].value is not None
    assert share[1].value >= 2 / 3
    column = monitoring.series("churn", "drift.column.f0")[-1]
    assert column.details["drifted"] is True
    assert column.details["method"] == "ks"


def test_time_windows_performance_and_late_labels(deployed: Deployed, monitoring: Any) -> None:
    client, model = deployed.client, deployed.model
    monitoring.create(
        {
            "name": "perf",
            "deployment": "prod",
            "window": {"size": "1h", "lag": "1m", "backfill": 2},
            "alert_rules": [
                {
                    "name": "accuracy",
                    "metric": "performance.accuracy.delta",
                    "condition": "< -0.2",
                }
            ],
        }
    )
    first = frame(200, seed=21)
    second = frame(200, seed=22)
    ids0 = log_frame(client, model, first, at=BASE + 10 * MIN)
    ids1 = log_frame(client, model, second, at=BASE + HOUR + 10 * MIN)
    labels1 = truth(second)
    client.deployments.add_feedback(
        "prod", [(rid, labels1[i * 10 : i * 10 + 10].tolist()) for i, rid in enumerate(ids1)]
    )

    run = monitoring.run("perf", now=BASE + 2 * HOUR + 2 * MIN)
    assert [w["window"]["start"] for w in run.windows] == [BASE, BASE + HOUR]
    assert run.windows[0]["performance"]["labelled"] == 0
    assert run.windows[1]["performance"]["labelled"] == 200
    acc1 = _value(monitoring, "perf", "performance.accuracy", BASE + HOUR)
    expected1 = float(np.mean(model.predict(second) == labels1))
    assert acc1 == pytest.approx(expected1)
    delta = monitoring.series("perf", "performance.accuracy.delta")[-1]
    assert delta.value == pytest.approx(expected1 - 0.93)
    assert delta.details["baseline"] == 0.93
    assert _value(monitoring, "perf", "performance.accuracy", BASE) is None

    # Labels for the first hour arrive late, and they are bad: window 1 is recomputed.
    wrong = 1 - truth(first)
    client.deployments.add_feedback(
        "prod", [(rid, wrong[i * 10 : i * 10 + 10].tolist()) for i, rid in enumerate(ids0)]
    )
    late = monitoring.run("perf", now=BASE + 2 * HOUR + 3 * MIN)
    assert late.windows == []  # no new window is due
    assert [w["window"]["start"] for w in late.late_windows] == [BASE]
    acc0 = _value(monitoring, "perf", "performance.accuracy", BASE)
    assert acc0 == pytest.approx(float(np.mean(model.predict(first) == wrong)))
    assert len(monitoring.series("perf", "performance.accuracy")) == 2  # replaced, not added
    assert [e.action for e in late.alerts] == ["fired"]
    assert late.alerts[0].alert.metric == "performance.accuracy.delta"

    # Nothing new: nothing recomputed.
    assert monitoring.run("perf", now=BASE + 2 * HOUR + 4 * MIN).late_windows == []


def test_anomaly_on_a_latency_spike(deployed: Deployed, monitoring: Any) -> None:
    client, model = deployed.client, deployed.model
    monitoring.create(
        {
            "name": "ops",
            "deployment": "prod",
            "window": {"size": "1m", "lag": 0, "backfill": 13},
            "checks": {"drift": False, "quality": False, "performance": False},
            "alert_rules": [
                {"name": "latency", "metric": "ops.latency_p95", "condition": "anomalous"}
            ],
        }
    )
    rng = np.random.default_rng(5)
    for i in range(13):
        latency = 100.0 if i == 12 else float(rng.normal(5.0, 0.3))
        log_frame(client, model, frame(20, seed=100 + i), at=BASE + i * MIN + 1000, latency=latency)
    run = monitoring.run("ops", now=BASE + 13 * MIN)
    assert len(run.windows) == 13
    flagged = [a for a in run.anomalies if a["key"] == "ops.latency_p95"]
    assert [a["window"]["start"] for a in flagged] == [BASE + 12 * MIN]
    (event,) = run.alerts
    assert event.action == "fired"
    assert event.alert.value == pytest.approx(100.0)
    assert "ops.latency_p95 = 100 (anomalous, score " in event.alert.message
    point = monitoring.series("ops", "anomaly.ops.latency_p95")[-1]
    assert point.details["anomalous"] is True
    assert point.details["value"] == pytest.approx(100.0)
    assert _value(monitoring, "ops", "ops.requests", BASE) == 2.0
    result = monitoring.anomalies("ops", "ops.latency_p95")
    assert result.indices == (12,)


def test_empty_and_single_row_windows(deployed: Deployed, monitoring: Any) -> None:
    client, model = deployed.client, deployed.model
    monitoring.create(
        {"name": "sparse", "deployment": "prod", "window": {"size": "1h", "lag": 0, "backfill": 2}}
    )
    one = pd.DataFrame({"f0": [0.1], "f1": [-0.2], "plan": ["b"]})
    log_frame(client, model, one, at=BASE + HOUR + 5)
    run = monitoring.run("sparse", now=BASE + 2 * HOUR)
    empty, single = run.windows
    assert empty["rows"] == 0
    assert empty["notes"]["drift"] == "empty window: no rows to compare"
    assert _value(monitoring, "sparse", "ops.requests", BASE) == 0.0  # volume series stays whole
    assert single["rows"] == 1
    assert single["drift"]["verdict"] == "no_drift"  # a valid test with little power


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        ("missing_column", "schema"),
        ("all_null", "null"),
        ("constant", "constant"),
        ("unseen_categories", "unseen"),
        ("mismatched_dtype", "dtype"),
        ("huge_cardinality", "cardinality"),
    ],
)
def test_bad_input_is_reported_not_fatal(
    deployed: Deployed, monitoring: Any, fault: str, check: str
) -> None:
    client, model = deployed.client, deployed.model
    n = 3000 if fault == "huge_cardinality" else 300  # more distinct values than max_categories
    rows = frame(n, seed=31)
    preds = model.predict(rows)
    columns: dict[str, Any] = {c: rows[c].to_numpy() for c in rows.columns}
    if fault == "missing_column":
        del columns["plan"]
    elif fault == "all_null":
        columns["f1"] = np.full(n, np.nan)
    elif fault == "constant":
        columns["f0"] = np.zeros(n)
    elif fault == "unseen_categories":
        columns["plan"] = np.asarray(["zzz"] * n, dtype=object)
    elif fault == "mismatched_dtype":
        columns["f0"] = np.asarray([f"v{i}" for i in range(n)], dtype=object)
    else:
        columns["plan"] = np.asarray([f"id-{i}" for i in range(n)], dtype=object)
    from tests.monitoring.lifecycle import write_log

    write_log(client, columns, preds, at=BASE + 5)
    monitoring.create(
        {"name": "bad", "deployment": "prod", "window": {"size": "1h", "lag": 0, "backfill": 1}}
    )
    (window,) = monitoring.run("bad", now=BASE + HOUR).windows
    report = monitoring.report("bad", window=f"{BASE}/{BASE + HOUR}")
    drift, quality = report["drift"], report["quality"]
    by_col = {c["column"]: c for c in drift["columns"]}
    q_col = {c["column"]: c for c in quality["columns"]}
    if check == "schema":
        assert by_col["plan"]["status"] == "schema"
        assert "column 'plan' (large_string) is missing from the current data" in quality["summary"]
        assert window["quality"]["passed"] is False
    elif check == "null":
        assert by_col["f1"]["status"] == "no_data"
        assert "null_rate" in q_col["f1"]["issues"]
    elif check == "constant":
        assert by_col["f0"]["drifted"] is True  # a constant is far from a normal column
        assert by_col["f0"]["method"] == "ks"
    elif check == "unseen":
        assert q_col["plan"]["unseen_categories"] == ["zzz"]
        assert by_col["plan"]["drifted"] is True
    elif check == "dtype":
        assert by_col["f0"]["status"] == "schema"
        assert any(i["issue"] == "type_mismatch" for i in drift["schema_issues"])
    else:
        # Unseen values are counted among the 1,000 most frequent (a lower bound here).
        assert q_col["plan"]["unseen_share"] == pytest.approx(1000 / 3000)
        assert "unseen_categories" in q_col["plan"]["issues"]
        assert len(q_col["plan"]["unseen_categories"]) == 10  # listed up to 10
        assert by_col["plan"]["drifted"] is True
        assert by_col["plan"]["approximate"] is True  # 1,000 values listed, the rest pooled


def test_a_down_webhook_never_blocks_the_run(deployed: Deployed, monitoring: Any) -> None:
    client, model = deployed.client, deployed.model
    url = f"http://127.0.0.1:{closed_port()}/hook"
    monitoring.create(
        {
            "name": "down",
            "deployment": "prod",
            "window": {"size": "1h", "lag": 0, "backfill": 1},
            "alert_rules": [{"name": "any", "metric": "window.rows", "condition": "> 0"}],
            "notifiers": [
                {"name": "hook", "type": "webhook", "url": url, "attempts": 3, "backoff": 1.0}
            ],
        }
    )
    log_frame(client, model, frame(50, seed=41), at=BASE + 5)
    began = time.monotonic()
    run = monitoring.run("down", now=BASE + HOUR)
    took = time.monotonic() - began
    assert [e.action for e in run.alerts] == ["fired"]
    assert took < 2.5  # the three attempts need >= 3 s of backoff: they did not run here
    assert monitoring.flush(30)
    (note,) = monitoring.notifications(monitor="down")
    assert note.status is NotificationStatus.FAILED
    assert note.attempts == 3
    assert "ConnectError" in str(note.last_error)


def test_dataset_version_window_compares_the_target_directly(
    deployed: Deployed, monitoring: Any
) -> None:
    client = deployed.client
    newer = frame(800, seed=51, shift=1.0)
    newer["target"] = truth(newer)
    client.datasets.ingest(newer, name="churn-fresh")
    monitoring.create(
        {
            "name": "datasets",
            "reference": "churn@1",
            "window": {"type": "dataset", "dataset": "churn-fresh@1"},
            "checks": {"drift": {"target": "target"}},
        }
    )
    run = monitoring.run("datasets")
    (window,) = run.windows
    assert window["window"]["label"] == "churn-fresh@1"
    assert "f0" in window["drift"]["drifted_columns"]
    roles = {
        c.key: c.details.get("role") for c in monitoring.results("datasets", prefix="drift.column.")
    }
    assert roles["drift.column.target"] == "prediction"
    assert monitoring.run("datasets").windows == []  # a dataset is evaluated once


def test_create_validates_references(deployed: Deployed, monitoring: Any) -> None:
    client = deployed.client
    with pytest.raises(NotFound, match="deployment 'nope' does not exist"):
        monitoring.create({"name": "x", "deployment": "nope"})
    with pytest.raises(NotFound):
        monitoring.create({"name": "x", "deployment": "prod", "reference": "ghost@1"})
    monitoring.create({"name": "x", "deployment": "prod"})
    with pytest.raises(AlreadyExists, match="monitor 'x' already exists"):
        monitoring.create({"name": "x", "deployment": "prod"})
    replaced = monitoring.create(
        {"name": "x", "deployment": "prod", "schedule": "5s"}, replace=True
    )
    assert replaced.schedule == 5.0
    # A model whose run recorded no training data needs an explicit reference.
    other = client.tracking.start_run("adhoc")
    logged = client.models.log_model(
        deployed.model, "model", run_id=other.id, input_example=frame(3, seed=1)
    )
    client.registry.register(logged.uri, "bare", alias="champion")
    client.deployments.create("bare-prod", "bare@champion")
    with pytest.raises(InvalidInput, match="cannot find the training data of model bare version 1"):
        monitoring.create({"name": "y", "deployment": "bare-prod"})
    assert monitoring.create({"name": "y", "deployment": "bare-prod", "reference": "churn@1"})
    with pytest.raises(InvalidInput, match="the reference has no column\\(s\\) 'zz'"):
        monitoring.create(
            {"name": "z", "deployment": "prod", "checks": {"drift": {"columns": ["zz"]}}}
        )


def test_html_report_is_self_contained(deployed: Deployed, monitoring: Any, tmp_path: Any) -> None:
    from html.parser import HTMLParser

    client, model = deployed.client, deployed.model
    monitoring.create(
        {"name": "rep", "deployment": "prod", "window": {"size": "1h", "lag": 0, "backfill": 2}}
    )
    log_frame(client, model, frame(300, seed=61), at=BASE + 5)
    log_frame(client, model, frame(300, seed=62, shift=1.0), at=BASE + HOUR + 5)
    monitoring.run("rep", now=BASE + 2 * HOUR)
    path = monitoring.write_report("rep", tmp_path / "out" / "report.html")
    json_path = monitoring.write_report("rep", tmp_path / "report.json")

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, dict(attrs)))

    parser = Collect()
    html = path.read_text(encoding="utf-8")
    parser.feed(html)
    sections = [a.get("id") for t, a in parser.tags if t == "section"]
    assert sections == [
        "verdict",
        "summary",
        "drift",
        "quality",
        "performance",
        "operations",
        "timeseries",
        "alerts",
    ]
    assert sum(1 for t, _ in parser.tags if t == "svg") >= 5  # 4 columns + charts, inline
    assert not [t for t, _ in parser.tags if t in ("script", "link", "img", "iframe")]
    assert not [a for _, a in parser.tags if str(a.get("src", "")).startswith("http")]
    # The default window is the latest evaluated one: the shifted hour, drifted columns first.
    verdict = html.index('id="verdict"')
    assert html.index("Drifted columns: f0", verdict) < html.index('id="summary"')
    import json

    data = json.loads(json_path.read_text())
    assert data["format"] == "modelward.monitor-report/1"
    assert data["window"]["start"] == BASE + HOUR
    assert [p["value"] for p in data["series"]["ops.requests"]] == [30.0, 30.0]
    assert data["reference"]["baseline"] == {"accuracy": 0.93, "f1": 0.92}


def test_watch_runs_monitors_on_schedule_and_stops_cleanly(
    deployed: Deployed, monitoring: Any
) -> None:
    monitoring.create(
        {"name": "w", "deployment": "prod", "window": {"rows": 10, "lag": 0}, "schedule": "50ms"}
    )
    serve(deployed.client, frame(40, seed=71), batch=10)
    stop = threading.Event()
    results: list[Any] = []
    thread = threading.Thread(
        target=lambda: monitoring.watch(stop, poll=0.02, on_result=results.append)
    )
    thread.start()
    deadline = time.monotonic() + 30
    while len(results) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    thread.join(15)
    assert not thread.is_alive()
    assert len(results) >= 3
    assert sum(len(r.windows) for r in results) == 4  # 40 rows, blocks of 10, each once
    assert monitoring.get("w").last_run_at is not None


def test_a_failing_monitor_does_not_stop_the_others(deployed: Deployed, monitoring: Any) -> None:
    client = deployed.client
    monitoring.create({"name": "a", "deployment": "prod", "window": {"rows": 5, "lag": 0}})
    monitoring.create({"name": "b", "deployment": "prod", "window": {"rows": 5, "lag": 0}})
    client.deployments.delete("prod")  # monitor "a" and "b" now point at nothing
    results = monitoring.run_due()
    assert [r.message.startswith("failed: deployment 'prod' does not exist") for r in results] == [
        True,
        True,
    ]
    assert monitoring.run_due() == []  # attempts count as runs: retried on schedule


def test_alerts_api(deployed: Deployed, monitoring: Any) -> None:
    client, model = deployed.client, deployed.model
    monitoring.create(
        {
            "name": "al",
            "deployment": "prod",
            "window": {"size": "1h", "lag": 0, "backfill": 1},
            "alert_rules": [{"name": "rows", "metric": "window.rows", "condition": "> 0"}],
        }
    )
    log_frame(client, model, frame(20, seed=81), at=BASE + 5)
    (event,) = monitoring.run("al", now=BASE + HOUR).alerts
    assert [a.id for a in monitoring.alerts(status=["firing"])] == [event.alert.id]
    acked = monitoring.acknowledge(event.alert.id)
    assert acked.acknowledged_by == "alice"
    assert monitoring.alerts(status=["firing"]) == []
    assert monitoring.resolve(event.alert.id).status is AlertStatus.RESOLVED
    with pytest.raises(InvalidInput, match="alert status 'open' is unknown"):
        monitoring.alerts(status=["open"])
