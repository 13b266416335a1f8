"""Tracking benchmarks: metric logging, run creation, concurrent writers, search, start-up.

Prints the figures the Foundation issue asks for, and runs the same workloads on MLflow when
an interpreter with MLflow is given (``--mlflow-python``), printing the ratio.

    python bench/tracking.py                       # modelward only
    python bench/tracking.py --mlflow-python /path/to/venv/bin/python

Each workload runs in a fresh child process on a fresh SQLite store under a temp folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("MODELWARD_HOME", None)
    env.pop("MODELWARD_URI", None)
    env["MODELWARD_SYSTEM_METRICS"] = "false"
    return env


def _child(python: str, code: str, timeout: float = 900) -> dict[str, Any]:
    out = subprocess.run(
        [python, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# -- modelward workloads -------------------------------------------------------------------
MW_LOG_METRIC = """
import json, sys, time, modelward as mw
home = sys.argv[1] if len(sys.argv) > 1 else None
mw.connect("sqlite:///{db}", artifacts="{art}", system_metrics=False, capture_environment=False)
n = {n}
with mw.start_run(experiment="bench") as run:
    log = mw.log_metric
    t0 = time.perf_counter()
    for i in range(n):
        log("loss", 0.5, step=i)
    t1 = time.perf_counter()
    mw.flush()
    t2 = time.perf_counter()
stored = len(mw.get_metric_history(run.id, "loss"))
print(json.dumps({{"calls_per_s": n / (t1 - t0), "stored_per_s": n / (t2 - t0), "stored": stored}}))
"""

MW_CREATE_RUNS = """
import json, time, modelward as mw
mw.connect("sqlite:///{db}", artifacts="{art}", system_metrics=False)
n = {n}
with mw.start_run(experiment="warm"):
    pass
t0 = time.perf_counter()
for i in range(n):
    with mw.start_run(experiment="bench"):
        mw.log_params({{"p0": i, "p1": "a", "p2": 0.1, "p3": True, "p4": "x"}})
        mw.log_metrics({{"m0": 0.1, "m1": 0.2, "m2": 0.3, "m3": 0.4, "m4": float(i)}})
elapsed = time.perf_counter() - t0
print(json.dumps({{"runs_per_s": n / elapsed}}))
"""

MW_WRITER = """
import sys, modelward as mw
mw.connect("sqlite:///{db}", artifacts="{art}", system_metrics=False)
with mw.start_run(experiment="concurrent", name=sys.argv[1]):
    for i in range({n}):
        mw.log_metric("x", float(i), step=i)
"""

MW_SEARCH = """
import json, random, statistics, time, uuid
import sqlalchemy as sa
import modelward as mw
from modelward.store.metadata.sql.tables import tracking as t

n = {n}
client = mw.connect("sqlite:///{db}", artifacts="{art}", system_metrics=False)
exp = client.tracking.get_or_create_experiment("search")
rng = random.Random(7)
runs, params, latest = [], [], []
now = 1_700_000_000_000
for i in range(n):
    rid = uuid.uuid4().hex
    runs.append(dict(id=rid, experiment_id=exp.id, name=f"r{{i}}", status="FINISHED",
                     start_time=now + i, end_time=now + i + 10, lifecycle_stage="active"))
    params.append(dict(run_id=rid, key="depth", value=str(rng.randint(1, 10))))
    params.append(dict(run_id=rid, key="lr", value=str(rng.choice([0.1, 0.01, 0.001]))))
    for key in ("acc", "loss"):
        latest.append(dict(run_id=rid, key=key, step=0, timestamp=now, value=rng.random()))
db = client.store.database
with db.write() as conn:
    for table, rows in ((t.runs, runs), (t.params, params), (t.latest_metrics, latest)):
        for s in range(0, len(rows), 20_000):
            conn.execute(table.insert(), rows[s:s + 20_000])
with db.write() as conn:
    conn.exec_driver_sql("ANALYZE")
queries = [
    ("metrics.acc > 0.5 and params.depth = '3'", ["metrics.acc DESC"]),
    ("params.lr = '0.01' and metrics.loss < 0.2", ["metrics.loss ASC"]),
    ("status = 'FINISHED' and name LIKE 'r1%'", ["start_time DESC"]),
]
result = {{}}
for filt, order in queries:
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        page = mw.search_runs(experiment="search", filter=filt, order_by=order, max_results=100)
        times.append(time.perf_counter() - t0)
        assert len(page.items) == 100, len(page.items)
    result[filt + " | " + order[0]] = statistics.median(times) * 1000
print(json.dumps(result))
"""

# -- MLflow workloads (run with --mlflow-python) ------------------------------------------------
ML_LOG_METRIC = """
import json, time, mlflow
mlflow.set_tracking_uri("sqlite:///{db}")
mlflow.set_experiment("bench")
n = {n}
with mlflow.start_run():
    t0 = time.perf_counter()
    for i in range(n):
        mlflow.log_metric("loss", 0.5, step=i)
    t1 = time.perf_counter()
print(json.dumps({{"calls_per_s": n / (t1 - t0), "stored_per_s": n / (t1 - t0)}}))
"""

ML_CREATE_RUNS = """
import json, time, mlflow
mlflow.set_tracking_uri("sqlite:///{db}")
mlflow.set_experiment("bench")
with mlflow.start_run():
    pass
n = {n}
t0 = time.perf_counter()
for i in range(n):
    with mlflow.start_run():
        mlflow.log_params({{"p0": i, "p1": "a", "p2": 0.1, "p3": True, "p4": "x"}})
        mlflow.log_metrics({{"m0": 0.1, "m1": 0.2, "m2": 0.3, "m3": 0.4, "m4": float(i)}})
print(json.dumps({{"runs_per_s": n / (time.perf_counter() - t0)}}))
"""


def _time_command(argv: list[str], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, capture_output=True, env=_env(), check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _concurrent(python: str, tmp: Path, procs: int, points: int) -> dict[str, Any]:
    db, art = tmp / "conc.db", tmp / "conc-art"
    # Create the schema once so the writers start on an initialised store.
    _child(
        python,
        f"import json, modelward as mw; mw.connect('sqlite:///{db}', artifacts='{art}'); "
        "print(json.dumps({}))",
    )
    code = textwrap.dedent(MW_WRITER.format(db=db, art=art, n=points))
    t0 = time.perf_counter()
    children = [
        subprocess.Popen(
            [python, "-c", code, f"w{i}"],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(procs)
    ]
    errors = []
    for child in children:
        _, err = child.communicate(timeout=600)
        if child.returncode != 0:
            errors.append(err.decode()[-500:])
    elapsed = time.perf_counter() - t0
    import sqlite3

    with sqlite3.connect(db) as conn:
        stored = conn.execute("SELECT count(*) FROM metrics").fetchone()[0]
        finished = conn.execute("SELECT count(*) FROM runs WHERE status = 'FINISHED'").fetchone()[0]
    return {
        "stored": stored,
        "expected": procs * points,
        "errors": len(errors),
        "finished_runs": finished,
        "seconds": elapsed,
        "first_error": errors[0] if errors else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mlflow-python", help="interpreter with mlflow installed, to compare")
    parser.add_argument("--metric-calls", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2_000)
    parser.add_argument("--search-runs", type=int, default=100_000)
    parser.add_argument("--mlflow-metric-calls", type=int, default=2_000)
    parser.add_argument("--mlflow-runs", type=int, default=200)
    args = parser.parse_args()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="mw-bench-"))
    rows: list[tuple[str, str, str, str]] = []
    try:
        lm = _child(py, MW_LOG_METRIC.format(db=tmp / "lm.db", art=tmp / "a1", n=args.metric_calls))
        cr = _child(py, MW_CREATE_RUNS.format(db=tmp / "cr.db", art=tmp / "a2", n=args.runs))
        ml_lm = ml_cr = None
        if args.mlflow_python:
            ml_lm = _child(
                args.mlflow_python,
                ML_LOG_METRIC.format(db=tmp / "ml-lm.db", n=args.mlflow_metric_calls),
            )
            ml_cr = _child(
                args.mlflow_python, ML_CREATE_RUNS.format(db=tmp / "ml-cr.db", n=args.mlflow_runs)
            )

        def ratio(ours: float, theirs: dict[str, Any] | None, key: str) -> str:
            return f"{ours / theirs[key]:,.0f}x" if theirs else "n/a (MLflow not given)"

        rows.append(
            (
                "log_metric calls/s (caller)",
                f"{lm['calls_per_s']:,.0f}",
                ">= 200,000",
                ratio(lm["calls_per_s"], ml_lm, "calls_per_s"),
            )
        )
        rows.append(
            (
                "log_metric points/s durable (flush incl.)",
                f"{lm['stored_per_s']:,.0f}",
                ">= 50,000",
                ratio(lm["stored_per_s"], ml_lm, "stored_per_s"),
            )
        )
        assert lm["stored"] == args.metric_calls, lm
        rows.append(
            (
                "runs/s with 5 params + 5 metrics",
                f"{cr['runs_per_s']:,.0f}",
                ">= 1,000",
                ratio(cr["runs_per_s"], ml_cr, "runs_per_s"),
            )
        )
        conc = _concurrent(py, tmp, 8, 20_000)
        rows.append(
            (
                "8 processes x 20,000 points",
                f"{conc['stored']:,} stored, {conc['errors']} errors, {conc['seconds']:.1f} s",
                "160,000 stored, 0 errors",
                "",
            )
        )
        search = _child(py, MW_SEARCH.format(db=tmp / "s.db", art=tmp / "a3", n=args.search_runs))
        for name, ms in search.items():
            rows.append(
                (f"search {args.search_runs:,} runs: {name}", f"{ms:.1f} ms", "< 100 ms", "")
            )
        cli = shutil.which("modelward", path=str(Path(py).parent)) or ""
        help_argv = [cli, "--help"] if cli else [py, "-m", "modelward", "--help"]
        rows.append(
            ("modelward --help", f"{_time_command(help_argv) * 1000:.0f} ms", "< 300 ms", "")
        )
        rows.append(
            (
                "python -c 'import modelward'",
                f"{_time_command([py, '-c', 'import modelward']) * 1000:.0f} ms",
                "< 300 ms",
                "",
            )
        )
        if ml_lm:
            rows.append(
                ("MLflow log_metric calls/s", f"{ml_lm['calls_per_s']:,.0f}", "(anchor ~300)", "")
            )
        if ml_cr:
            rows.append(("MLflow runs/s", f"{ml_cr['runs_per_s']:,.0f}", "(anchor ~65)", ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print(f"{'workload'.ljust(width)}  {'modelward':>30}  {'target':>24}  vs MLflow")
    for name, value, target, versus in rows:
        print(f"{name.ljust(width)}  {value:>30}  {target:>24}  {versus}")
    if conc["errors"] or conc["stored"] != conc["expected"]:
        print("concurrent writers FAILED:", conc["first_error"])
        sys.exit(1)


if __name__ == "__main__":
    main()
