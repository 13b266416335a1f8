"""``modelward monitor`` and ``modelward alerts`` through the real entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.monitoring.lifecycle import Deployed, deployed, frame, serve

__all__ = ["deployed"]


@pytest.fixture
def mw(cli: Any, deployed: Deployed) -> Any:
    """A CLI bound to the deployed chain's store."""
    c = deployed.client
    base = (
        "--uri",
        c.settings.metadata_uri(),
        "--artifacts",
        c.settings.artifact_uri(),
        "--home",
        str(c.settings.home),
    )
    return lambda *args: cli(*base, *args)


DEFINITION = """\
name: churn
deployment: prod
description: churn model in production
window: {rows: 200, lag: 0}
schedule: 1s
checks:
  drift: {alpha: 0.05}
  anomaly: {series: [ops.latency_p95]}
alert_rules:
  - name: drift
    metric: drift.share
    condition: ">= 0.3"
    severity: critical
notifiers:
  - {name: log, type: log}
"""


def test_monitor_lifecycle(mw: Any, deployed: Deployed, tmp_path: Path) -> None:
    spec = tmp_path / "monitor.yaml"
    spec.write_text(DEFINITION)
    r = mw("monitor", "create", "-f", str(spec), "--json")
    assert r.code == 0, r.err
    assert r.json()["window"] == {
        "type": "rows",
        "size": 200,
        "lag": 0.0,
        "backfill": 24,
        "max_windows": 24,
        "roles": ["champion", "canary"],
    }
    r = mw("monitor", "create", "-f", str(spec))
    assert r.code == 1
    assert r.err.strip() == (
        "error: monitor 'churn' already exists; replace it with: "
        "modelward monitor create -f FILE --replace"
    )
    assert mw("monitor", "create", "-f", str(spec), "--replace").code == 0

    serve(deployed.client, frame(200, seed=5, shift=1.0))
    r = mw("monitor", "run", "churn", "--json")
    assert r.code == 0, r.err
    run = r.json()
    assert "f0" in run["windows"][0]["drift"]["drifted_columns"]
    assert run["alerts"][0]["action"] == "fired"

    r = mw("monitor", "list")
    assert r.code == 0
    assert "churn" in r.out
    assert "rows 200" in r.out
    shown = mw("monitor", "show", "churn", "--json").json()
    assert {p["key"] for p in shown["latest"]} >= {"drift.share", "quality.passed", "ops.requests"}
    assert shown["open_alerts"][0]["severity"] == "critical"
    text = mw("monitor", "show", "churn").out
    assert "drift.share" in text
    assert "alert 1" in text

    out = tmp_path / "report.html"
    r = mw("monitor", "report", "churn", "--window", "rows:200", "--output", str(out))
    assert r.code == 0, r.err
    assert "<svg" in out.read_text()
    assert mw("monitor", "report", "churn", "--json").json()["rows"] == 200

    alerts = mw("alerts", "list", "--status", "firing", "--notifications", "--json").json()
    assert [a["rule"] for a in alerts] == ["drift"]
    assert alerts[0]["notifications"][0]["status"] == "sent"
    assert mw("alerts", "ack", "1", "--json").json()["status"] == "acknowledged"
    assert mw("alerts", "list", "--status", "firing", "--json").json() == []
    assert "resolved" in mw("alerts", "resolve", "1").out
    r = mw("alerts", "ack", "1")
    assert r.code == 1
    assert r.err.strip() == "error: alert 1 is resolved already; nothing to acknowledge"

    r = mw("monitor", "watch", "--max-cycles", "1", "--poll", "0.01")
    assert r.code == 0, r.err
    assert "stopped after 1 cycle(s)" in r.out

    assert mw("monitor", "delete", "churn").code == 0
    r = mw("monitor", "run", "churn")
    assert r.code == 1
    assert r.err.strip() == (
        "error: monitor 'churn' does not exist; list them with: modelward monitor list"
    )


def test_create_from_flags_and_bad_input(mw: Any) -> None:
    r = mw(
        "monitor",
        "create",
        "--name",
        "flags",
        "--deployment",
        "prod",
        "--window",
        "30m",
        "--alert",
        "drift.share>=0.5",
        "--webhook",
        "http://127.0.0.1:9/hook",
        "--json",
    )
    assert r.code == 0, r.err
    data = r.json()
    assert data["window"]["size"] == 1800.0
    assert data["alert_rules"][0]["condition"] == ">= 0.5"
    assert data["notifiers"][0]["url"] == "http://127.0.0.1:9/hook"
    r = mw("monitor", "create", "--name", "x", "--deployment", "prod", "--alert", "oops")
    assert r.code == 2
    assert "expected METRIC OP VALUE such as 'drift.share>=0.3'" in r.err
    r = mw("monitor", "create", "--deployment", "prod")
    assert r.code == 2
    assert "give the monitor a name" in r.err
    r = mw("monitor", "report", "flags")
    assert r.code == 2
    assert "give --output report.html" in r.err
    r = mw("monitor", "report", "flags", "--window", "soon", "--json")
    assert r.code == 1
    assert r.err.strip().startswith("error: --window 'soon' is not understood")


def test_watch_stops_cleanly_on_sigterm(deployed: Deployed, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    c = deployed.client
    c.monitoring.create({"name": "w", "deployment": "prod", "window": {"rows": 10, "lag": 0}})
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelward",
            "--uri",
            c.settings.metadata_uri(),
            "--artifacts",
            c.settings.artifact_uri(),
            "--home",
            str(c.settings.home),
            "monitor",
            "watch",
            "--poll",
            "0.05",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while c.monitoring.get("w").last_run_at is None:  # it ran once: it is watching
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped after" in out
