"""Dataset ingest figures: a 1,000,000-row x 25-column CSV, next to pandas and DVC.

Usage: PYTHONPATH=src python bench/data.py [--rows N] [--repeats K] [--dvc PATH]

Generates the CSV (fixed seed: 18 float, 4 integer and 3 text columns, about 390 MB) in a
temporary folder, then runs each step in a child process of its own, so peak memory is the
child's high-water mark (VmHWM) and no step warms another's caches but the operating system's:

- ``pandas``: ``pandas.read_csv`` + ``DataFrame.to_parquet`` (the baseline);
- ``ingest``: ``modelward`` ingest (parse, content digest, profile, Parquet, store, record);
- ``reingest``: ingesting the unchanged file again (recognised by hashing it);
- ``hash``: SHA-256 of the file alone (the floor for ``reingest``);
- ``profile``: profiling the ingested version (reading it back, and the profile alone);
- ``query``: ``data query`` latency on the ingested version (in-process, median of 5);
- ``cli``: the same ingest through ``modelward data ingest`` (wall time, start-up included);
- ``dvc``: ``dvc add`` of the same file, when ``--dvc`` names the dvc executable.

Besides wall time, each row shows CPU seconds (all threads): on a shared machine wall time
depends on how many cores are free, CPU time does not. Commands (CLI, dvc) count their whole
process, start-up included.

Steps alternate (pandas, ingest, ...) per repeat; medians are printed. Everything is deleted
afterwards.
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
import time
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parent.parent / "src"


def generate(path: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(42)
    columns: dict[str, Any] = {}
    for i in range(18):
        columns[f"f{i}"] = rng.normal(i, 1 + i, rows)
    for i in range(4):
        columns[f"i{i}"] = rng.integers(0, 10**6, rows)
    words = np.array(["red", "green", "blue", "cyan", "magenta", "yellow", "black"])
    for i in range(3):
        columns[f"c{i}"] = words[rng.integers(0, len(words), rows)]
    pacsv.write_csv(pa.table(columns), path)


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- steps, each run in a child process ---------------------------------------------------
def step_pandas(csv: Path, work: Path) -> dict[str, Any]:
    import pandas as pd

    start, cpu = time.perf_counter(), time.process_time()
    pd.read_csv(csv).to_parquet(work / "pandas.parquet")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    size = (work / "pandas.parquet").stat().st_size
    (work / "pandas.parquet").unlink()
    return {"seconds": seconds, "cpu": cpu, "parquet_mb": size / 1e6}


def _service(work: Path) -> Any:
    from modelward.datasets import DatasetService
    from modelward.store.artifacts.local import LocalArtifactStore
    from modelward.store.metadata import open_store

    tmp = work / "tmp"
    tmp.mkdir(exist_ok=True)
    store = open_store(f"sqlite:///{work / 'mw.db'}")
    return DatasetService(store, LocalArtifactStore(work / "artifacts"), tmp_dir=tmp)


def step_ingest(csv: Path, work: Path) -> dict[str, Any]:
    # Like the pandas step, imports and opening the store are not part of the figure (the CLI
    # row has them); a new store's schema is created once, so it is made beforehand.
    import psutil  # noqa: F401
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401

    import modelward.datasets.sources.files
    import modelward.profiling  # noqa: F401

    service = _service(work)
    start, cpu = time.perf_counter(), time.process_time()
    result = service.ingest(csv, name="bench")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu": cpu,
        "created": result.created,
        "reused_by": result.reused_by,
        "rows": result.version.rows,
        "parquet_mb": result.version.size / 1e6,
    }


def step_hash(csv: Path, work: Path) -> dict[str, Any]:
    import hashlib

    start, cpu = time.perf_counter(), time.process_time()
    digest = hashlib.sha256()
    with csv.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}


def step_profile(csv: Path, work: Path) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from modelward.profiling import ProfileBuilder

    service = _service(work)
    path = service.path("bench")
    start = time.perf_counter()
    batches = list(pq.ParquetFile(path).iter_batches(batch_size=131_072))
    read = time.perf_counter() - start
    start = time.perf_counter()
    builder = ProfileBuilder()
    for batch in batches:
        builder.update(batch)
    builder.finish()
    return {"read_seconds": read, "seconds": time.perf_counter() - start}


QUERIES = {
    "count": "SELECT count(*) FROM bench@1",
    "group by": "SELECT c0, count(*), avg(f3), max(i1) FROM bench@1 GROUP BY c0",
    "filter + sort": "SELECT * FROM bench@1 WHERE f5 > 20 ORDER BY f5 DESC LIMIT 10",
}


def step_query(csv: Path, work: Path) -> dict[str, Any]:
    service = _service(work)
    service.query(QUERIES["count"])  # warm: imports and the first open
    out: dict[str, Any] = {}
    for label, sql in QUERIES.items():
        times = []
        for _ in range(5):
            start = time.perf_counter()
            service.query(sql)
            times.append(time.perf_counter() - start)
        out[label] = statistics.median(times)
    return out


STEPS = {
    "pandas": step_pandas,
    "ingest": step_ingest,
    "reingest": step_ingest,
    "hash": step_hash,
    "profile": step_profile,
    "query": step_query,
}


def child(step: str, csv: Path, work: Path) -> None:
    # Steps report "cpu": CPU seconds of every thread over the timed part (load-independent,
    # unlike wall time).
    result = STEPS[step](csv, work)
    result["peak_mb"] = peak_mb()
    print(json.dumps(result))


def run_child(step: str, csv: Path, work: Path) -> dict[str, Any]:
    # Earlier steps' writes still being flushed would slow this step's writes (and the local
    # artifact store fsyncs a new blob): every step starts with nothing left to write back.
    os.sync()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", step, str(csv), str(work)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_command(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall time and peak memory (of the largest process waited for) of a command."""
    os.sync()
    code = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "s = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "r, c = u.ru_maxrss / 1024, u.ru_utime + u.ru_stime\n"
        "print(json.dumps({'seconds': s, 'peak_mb': r, 'cpu': c, 'rc': p.returncode, "
        "'err': p.stderr.decode()[-500:]}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True, text=True, env=env
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {result['err']}")
    return result


def median(results: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(r[key] for r in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dvc", default=None, help="Path to the dvc executable.")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "CSV", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    root = Path(tempfile.mkdtemp(prefix="modelward-bench-data-"))
    try:
        bench(root, args.rows, args.repeats, args.dvc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def bench(root: Path, rows: int, repeats: int, dvc: str | None) -> None:
    csv = root / "data.csv"
    generate(csv, rows)
    size_mb = csv.stat().st_size / 1e6
    print(
        f"CSV: {rows:,} rows x 25 columns, {size_mb:.0f} MB; {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    results: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("pandas", "ingest", "reingest", "hash", "cli", "dvc")
    }
    for repeat in range(repeats):
        work = root / f"work{repeat}"
        work.mkdir()
        results["pandas"].append(run_child("pandas", csv, work))
        results["ingest"].append(run_child("ingest", csv, work))
        results["reingest"].append(run_child("reingest", csv, work))
        results["hash"].append(run_child("hash", csv, work))
        cli_home = root / f"cli{repeat}"
        env = {**os.environ, "PYTHONPATH": str(SRC)}
        # The store exists already, as it does for a user: its creation is not timed.
        subprocess.run(
            [sys.executable, "-m", "modelward", "--home", str(cli_home), "data", "list"],
            check=True,
            capture_output=True,
            env=env,
        )
        results["cli"].append(
            run_command(
                [
                    sys.executable,
                    "-m",
                    "modelward",
                    "--home",
                    str(cli_home),
                    "data",
                    "ingest",
                    str(csv),
                    "--name",
                    "bench",
                ],
                root,
                env,
            )
        )
        if dvc:
            repo = root / f"dvc{repeat}"
            repo.mkdir()
            shutil.copyfile(csv, repo / "data.csv")  # dvc moves the file into its cache
            subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=repo, check=True)
            subprocess.run([dvc, "config", "core.analytics", "false"], cwd=repo, check=True)
            results["dvc"].append(run_command([dvc, "add", "-q", "data.csv"], repo))
            shutil.rmtree(repo)
        if repeat < repeats - 1:
            shutil.rmtree(cli_home, ignore_errors=True)
    last = root / f"work{repeats - 1}"
    profile = run_child("profile", csv, last)
    query = run_child("query", csv, last)
    ingest_s = median(results["ingest"], "seconds")
    pandas_s = median(results["pandas"], "seconds")
    parquet_mb = results["ingest"][-1]["parquet_mb"]
    assert results["ingest"][0]["created"]
    assert results["reingest"][0]["reused_by"] == "fingerprint"
    print(f"medians of {repeats} run(s); peak memory = the process's high-water mark (VmHWM)\n")
    print(f"{'step':<52} {'time':>8} {'peak MB':>8} {'CPU s':>6}")
    rows_out = [
        ("pandas read_csv + to_parquet", "pandas"),
        ("modelward ingest (SDK; digest + profile + store)", "ingest"),
        ("modelward data ingest (CLI, start-up included)", "cli"),
        ("re-ingest, source unchanged (SDK)", "reingest"),
        ("sha256 of the CSV alone", "hash"),
    ]
    if dvc:
        rows_out.append(("dvc add (CLI, start-up included)", "dvc"))
    for label, key in rows_out:
        cpu = median(results[key], "cpu") if "cpu" in results[key][0] else float("nan")
        print(
            f"{label:<52} {median(results[key], 'seconds'):7.2f}s "
            f"{median(results[key], 'peak_mb'):8.0f} {cpu:6.2f}"
        )
    print(f"{'profile alone (batches in memory)':<52} {profile['seconds']:7.2f}s")
    print(f"{'  reading the version back for it':<52} {profile['read_seconds']:7.2f}s")
    for label, sql in QUERIES.items():
        print(f"{'data query: ' + label:<52} {query[label] * 1000:6.0f}ms   {sql}")
    print()
    print(
        f"Parquet: {parquet_mb:.0f} MB (pandas wrote {results['pandas'][-1]['parquet_mb']:.0f} MB)"
    )
    print(
        f"ingest / pandas time: {ingest_s / pandas_s:.2f}x (target <= 1.5x); CPU: "
        f"{median(results['ingest'], 'cpu') / median(results['pandas'], 'cpu'):.2f}x"
    )
    if dvc:
        print(
            f"ingest / dvc add time: {ingest_s / median(results['dvc'], 'seconds'):.2f}x "
            f"(target <= 2x); CLI / dvc add: "
            f"{median(results['cli'], 'seconds') / median(results['dvc'], 'seconds'):.2f}x"
        )
    else:
        print("dvc: skipped (pass --dvc PATH to the dvc executable to compare)")
    peak = median(results["ingest"], "peak_mb")
    print(f"ingest peak / Parquet size: {peak / parquet_mb:.2f}x (target < 2x)")
    print(
        f"re-ingest / hashing alone: "
        f"{median(results['reingest'], 'seconds') / median(results['hash'], 'seconds'):.2f}x"
    )


if __name__ == "__main__":
    main()
