"""Drift detection benchmark: modelward's DriftDetector next to Evidently's DataDriftPreset.

Workload (the one in shared/ANCHORS.md): reference and current frames of N rows x (20 numeric +
5 categorical) columns; in the current frame 5 numeric columns are shifted by 0.3 standard
deviations and one categorical distribution is reversed. Exactly those 6 columns must be
flagged. Data come from fixed seeds and are written once per size to uncompressed Arrow IPC
files (Feather v2: reading them costs no decoding memory, unlike Parquet, whose reader needs
about 2.5 times the data while decoding); every tool reads the same files in a child process
of its own, so each peak RSS belongs to one tool alone.

Measured per size:

- ours, from frames: read reference -> ``fit`` -> release it -> read current -> ``score``.
- ours, from a profile: profile the reference file batch by batch (timed apart), ``fit``
  on the profile, ``score`` the current frame (the monitoring path: the reference is never
  loaded whole).
- Evidently 0.7.x (when ``--evidently-python`` names an interpreter that has it):
  ``Dataset.from_pandas`` + ``Report([DataDriftPreset()]).run`` on both frames read with
  ``pandas.read_feather``.

Seconds exclude interpreter start, imports and reading files; peak MB is the child's peak RSS
(interpreter, imports and data included). Usage::

    python bench/drift.py                                   # ours only, 10k / 100k / 1M rows
    python bench/drift.py --evidently-python /work/evidently-venv/bin/python
    python bench/drift.py --rows 10000,100000 --evidently-python ...

This file imports only the standard library at module level, so the same file runs as the
Evidently child under an interpreter without modelward.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SHIFTED = ["num_0", "num_1", "num_2", "num_3", "num_4", "cat_0"]
NUMERIC = [f"num_{i}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
ROOT = Path(__file__).resolve().parent.parent


def _peak_mb() -> float:
    """Peak resident memory of this process (VmHWM).

    Not ``getrusage().ru_maxrss``: Linux carries the parent's peak across fork/exec into it, so a
    child started by a parent holding the generated frames would report the parent's memory.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # not Linux


def generate(rows: int, folder: Path) -> tuple[Path, Path]:
    """Write the reference and current frames of ``rows`` rows as Arrow IPC (fixed seeds)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.feather as feather

    cats = np.array(["a", "b", "c", "d", "e"])
    base = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
    paths = []
    for name, seed, shift in (("reference", 1, False), ("current", 2, True)):
        rng = np.random.default_rng(seed)
        cols: dict[str, Any] = {}
        for i in range(20):
            x = rng.normal(0.0, 1.0, rows)
            cols[f"num_{i}"] = x + 0.3 if shift and i < 5 else x
        for i in range(5):
            p = base[::-1] if shift and i == 0 else base
            cols[f"cat_{i}"] = pa.array(cats[rng.choice(5, rows, p=p)])
        path = folder / f"{name}_{rows}.arrow"
        feather.write_feather(pa.table(cols), path, compression="uncompressed", chunksize=65_536)
        paths.append(path)
    return paths[0], paths[1]


# -- children -------------------------------------------------------------------------------


def child_ours(ref_path: str, cur_path: str, mode: str) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.compute  # loaded by modelward on first use; not measured

    # What the default methods use at these sizes (>1,000 values: Wasserstein and
    # Jensen-Shannon); imported here so that import time is not measured. scipy.stats is left
    # to load on demand, as it would in use.
    import scipy.special  # noqa: F401

    from modelward.monitoring.drift import DriftDetector
    from modelward.profiling import ProfileBuilder

    profile_s = None
    if mode == "profile":
        t0 = time.perf_counter()
        builder = ProfileBuilder()
        with pa.OSFile(ref_path) as source:
            reader = pa.ipc.open_file(source)
            for i in range(reader.num_record_batches):
                builder.update(reader.get_batch(i))
        reference: Any = builder.finish()
        profile_s = time.perf_counter() - t0
    else:
        reference = _read_ipc(ref_path)
    t0, c0 = time.perf_counter(), time.process_time()
    detector = DriftDetector().fit(reference)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    del reference  # the fitted detector keeps what it needs
    current = _read_ipc(cur_path)
    t0, c0 = time.perf_counter(), time.process_time()
    report = detector.score(current)
    score_s, score_cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "seconds": fit_s + score_s,
        "cpu_seconds": fit_cpu + score_cpu,
        "profile_seconds": profile_s,
        "peak_mb": _peak_mb(),
        "flagged": list(report.drifted_columns),
        "methods": sorted({c.method for c in report.columns if c.method}),
    }


def _read_ipc(path: str) -> Any:
    import pyarrow as pa

    with pa.OSFile(path) as source:
        return pa.ipc.open_file(source).read_all()


def child_evidently(ref_path: str, cur_path: str) -> dict[str, Any]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref = pd.read_feather(ref_path)
    cur = pd.read_feather(cur_path)
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    t0, c0 = time.perf_counter(), time.process_time()
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    flagged, methods = [], set()
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        method, threshold, value = config["method"], config["threshold"], metric["value"]
        methods.add(method)
        drifted = value < threshold if "p_value" in method else value >= threshold
        if drifted:
            flagged.append(config["column"])
    order = {c: i for i, c in enumerate(NUMERIC + CATEGORICAL)}
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_mb": _peak_mb(),
        "flagged": sorted(flagged, key=order.__getitem__),
        "methods": sorted(methods),
    }


def run_child(python: str, args: list[str], timeout: float) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(
        [python, str(Path(__file__).resolve()), "--child", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def median_run(python: str, args: list[str], timeout: float, repeat: int) -> dict[str, Any]:
    """Run a child ``repeat`` times; median seconds and peak MB, and every run's flags agree."""
    runs = [run_child(python, args, timeout) for _ in range(max(1, repeat))]
    flagged = [r["flagged"] for r in runs]
    if any(f != flagged[0] for f in flagged):
        raise RuntimeError(f"runs disagree on flagged columns: {flagged}")
    out = dict(runs[0])
    for key in ("seconds", "cpu_seconds", "profile_seconds", "peak_mb"):
        values = sorted(r[key] for r in runs if r.get(key) is not None)
        if values:
            out[key] = values[len(values) // 2]
    return out


# -- parent ---------------------------------------------------------------------------------


def _fmt_flagged(flagged: list[str]) -> str:
    if flagged == SHIFTED:
        return "exactly the 6"
    return f"{len(flagged)}: {','.join(flagged)} (WRONG)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="10000,100000,1000000", help="comma-separated sizes")
    parser.add_argument("--evidently-python", help="interpreter with evidently 0.7.x installed")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per child run")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of ours per size (median reported)"
    )
    parser.add_argument(
        "--evidently-repeat", type=int, default=1, help="runs of Evidently per size (median)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = child_ours(*rest) if kind == "ours" else child_evidently(*rest)
        print(json.dumps(result))
        return

    sizes = [int(x) for x in args.rows.split(",")]
    header = (
        f"{'rows':>9} | {'ours s':>7} {'cpu s':>6} {'MB':>5} {'flagged':<13} | "
        f"{'profile s':>9} {'fit+score s':>11} {'MB':>5} {'flagged':<13}"
    )
    if args.evidently_python:
        header += (
            f" | {'Evidently s':>11} {'cpu s':>6} {'MB':>5} {'flagged':<13} | "
            f"{'speed x':>7} {'cpu x':>6} {'mem /':>5}"
        )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="mw-bench-drift-") as tmp:
        for rows in sizes:
            ref, cur = generate(rows, Path(tmp))
            ours = median_run(
                sys.executable, ["ours", str(ref), str(cur), "frame"], args.timeout, args.repeat
            )
            prof = median_run(
                sys.executable, ["ours", str(ref), str(cur), "profile"], args.timeout, args.repeat
            )
            line = (
                f"{rows:>9,} | {ours['seconds']:>7.3f} {ours['cpu_seconds']:>6.2f} "
                f"{ours['peak_mb']:>5.0f} {_fmt_flagged(ours['flagged']):<13} | "
                f"{prof['profile_seconds']:>9.3f} {prof['seconds']:>11.3f} "
                f"{prof['peak_mb']:>5.0f} {_fmt_flagged(prof['flagged']):<13}"
            )
            if args.evidently_python:
                ev_args = ["evidently", str(ref), str(cur)]
                ev = median_run(args.evidently_python, ev_args, args.timeout, args.evidently_repeat)
                line += (
                    f" | {ev['seconds']:>11.2f} {ev['cpu_seconds']:>6.1f} {ev['peak_mb']:>5.0f} "
                    f"{_fmt_flagged(ev['flagged']):<13} | "
                    f"{ev['seconds'] / ours['seconds']:>7.1f} "
                    f"{ev['cpu_seconds'] / ours['cpu_seconds']:>6.1f} "
                    f"{ev['peak_mb'] / ours['peak_mb']:>5.1f}"
                )
            print(line, flush=True)
            for path in (ref, cur):
                path.unlink()
    print(
        "\nours: DriftDetector() defaults (at these sizes normalised Wasserstein and "
        "Jensen-Shannon distance, threshold 0.1). Evidently: DataDriftPreset() defaults."
        "\nseconds: fit + score (profile s: streaming profile of the reference file, apart);"
        " cpu s: process CPU time of the same span (steadier than wall time on a busy machine);"
        "\nMB: child peak RSS (VmHWM). Medians of --repeat runs. speed x, cpu x, mem /: Evidently"
        " divided by ours (from frames)."
    )


if __name__ == "__main__":
    main()
