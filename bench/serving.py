"""Serving benchmark: modelward's endpoint against MLServer and `mlflow models serve`.

One small scikit-learn pipeline (StandardScaler + LogisticRegression on 8 features), the same
fitted object served by every server, single-row JSON requests over loopback from one client
process (a raw-socket HTTP/1.1 keep-alive client on uvloop, so the client is not the limit):

- sequential latency p50/p99 (one client),
- throughput and p99 with 8 and 32 concurrent clients (bounded in time),
- our server's readiness time (process start -> /v2/health/ready 200) and resident memory.

    python bench/serving.py
    python bench/serving.py --mlserver /work/mlserver-venv/bin/mlserver \\
        --mlflow /work/mlflow-venv/bin/mlflow

Peers are skipped with a note when not given. MLServer runs with ``parallel_workers=0`` and,
for the 32-client batched figure, adaptive batching (32 rows / 10 ms), as in ANCHORS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
FEATURES = [f"f{i}" for i in range(8)]
ROW = [0.12, -1.3, 2.5, 0.0, 1.1, -0.4, 3.3, 0.7]

# Targets from the issue, relative to the anchors measured in the same run.
TARGET_VS_MLFLOW = 10.0
TARGET_VS_MLSERVER = 2.0


# -- load generator -------------------------------------------------------------------------------
class _Conn(asyncio.Protocol):
    """One keep-alive connection sending a fixed request and timing each response."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._check()

    def _check(self) -> None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower()
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line.startswith(b"content-length:"):
                length = int(line[15:])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        del self.buffer[:total]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    async def send(self) -> int:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(self.request)
        return await self.waiter


def _http_request(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _load(
    port: int, request: bytes, clients: int, *, seconds: float, max_requests: int
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    conns = []
    for _ in range(clients):
        _, proto = await loop.create_connection(lambda: _Conn(request), "127.0.0.1", port)
        conns.append(proto)
    for proto in conns:  # warm-up
        for _ in range(20):
            await proto.send()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    budget = [max_requests]

    async def worker(proto: _Conn) -> None:
        nonlocal errors
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            t = time.perf_counter()
            try:
                status = await proto.send()
            except (ConnectionError, RuntimeError):
                # The server dropped the connection (counted as an error); open a new one.
                errors += 1
                _, proto = await loop.create_connection(lambda: _Conn(request), "127.0.0.1", port)
                conns.append(proto)
                continue
            latencies.append(time.perf_counter() - t)
            if status != 200:
                errors += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(p) for p in conns))
    elapsed = time.perf_counter() - started
    for proto in conns:
        proto.transport.close()
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors,
        "rps": n / elapsed,
        "p50_ms": 1000 * latencies[n // 2],
        "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))],
    }


def measure(port: int, path: str, body: bytes, seconds: float) -> dict[str, Any]:
    """Sequential, 8 and 32 clients against one endpoint."""
    import uvloop

    request = _http_request(path, body)
    out = {}
    for clients, limit in ((1, 3000), (8, 200_000), (32, 200_000)):
        out[clients] = uvloop.run(
            _load(port, request, clients, seconds=seconds, max_requests=limit)
        )
    return out


# -- servers -----------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> float:
    import httpx

    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=0.5).status_code == 200:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def _rss_mb(pid: int) -> float:
    import psutil

    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["ORT_DISABLE_TELEMETRY"] = "1"
    for name in ("MODELWARD_HOME", "MODELWARD_URI", "MODELWARD_ARTIFACTS"):
        env.pop(name, None)
    return env


def prepare(workdir: Path) -> dict[str, Any]:
    """Fit the model; register it (with its ONNX export) in a fresh store; save peer copies."""
    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from modelward.client import Client
    from modelward.config import Settings

    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(2000, len(FEATURES))), columns=FEATURES)
    y = (x["f0"] + x["f3"] - x["f5"] > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    home = workdir / "mw"
    settings = Settings.defaults(home=home, system_metrics=False, capture_environment=False)
    with Client(settings=settings) as client:
        run = client.tracking.start_run("bench-serving")
        logged = client.models.log_model(
            model, "model", run_id=run.id, input_example=x.head(20), onnx=True
        )
        client.tracking.end_run(run.id)
        client.registry.register(logged.uri, "bench", alias="champion")
        again = client.models.log_model(
            model, "model-v2", run_id=run.id, input_example=x.head(20), onnx=True
        )
        client.registry.register(again.uri, "bench")  # version 2, for the hot swap
        client.deployments.create("bench", "bench@champion")
    peer = workdir / "peer"
    peer.mkdir()
    joblib.dump(model, peer / "model.joblib")
    return {"home": home, "peer": peer, "model": model}


def hot_swap(home: Path, port: int, body: bytes, seconds: float) -> dict[str, Any]:
    """8 clients for ``seconds`` while the champion alias moves 1 -> 2 (then back)."""
    import threading

    import httpx
    import uvloop

    from modelward.client import Client
    from modelward.config import Settings

    out: dict[str, Any] = {}

    def load() -> None:
        request = _http_request("/v2/models/bench/infer", body)
        out.update(uvloop.run(_load(port, request, 8, seconds=seconds, max_requests=1_000_000)))

    settings = Settings.defaults(home=home, system_metrics=False, capture_environment=False)
    with Client(settings=settings) as client:
        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(seconds / 3)
        client.registry.set_alias("bench", "champion", 2)
        thread.join()
        served = httpx.get(f"http://127.0.0.1:{port}/v2/models/bench").json()["versions"]
        client.registry.set_alias("bench", "champion", 1)
        time.sleep(1.5)  # let the server swap back before the next run
    out["served_after"] = served
    return out


def run_ours(home: Path, backend: str, seconds: float, swap: bool = False) -> dict[str, Any]:
    port = _free_port()
    cmd = [
        sys.executable,
        "-m",
        "modelward",
        "--home",
        str(home),
        "serve",
        "bench",
        "--port",
        str(port),
        "--backend",
        backend,
    ]
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready_s = _wait_ready(f"http://127.0.0.1:{port}/v2/health/ready", proc, 60)
        rss_ready = _rss_mb(proc.pid)
        oip = json.dumps(
            {
                "inputs": [
                    {"name": "x", "shape": [1, len(FEATURES)], "datatype": "FP64", "data": ROW}
                ]
            }
        ).encode()
        split = json.dumps({"dataframe_split": {"columns": FEATURES, "data": [ROW]}}).encode()
        records = json.dumps([dict(zip(FEATURES, ROW, strict=True))]).encode()
        results = {
            "infer": measure(port, "/v2/models/bench/infer", oip, seconds),
            "invocations": measure(port, "/invocations", split, seconds),
            "predict": measure(port, "/predict", records, seconds),
        }
        if swap:
            results["swap"] = hot_swap(home, port, oip, seconds)
        results["ready_s"] = ready_s
        results["rss_ready_mb"] = rss_ready
        results["rss_after_mb"] = _rss_mb(proc.pid)
        return results
    finally:
        _stop(proc)


def run_mlserver(binary: str, peer: Path, seconds: float, batching: bool) -> dict[str, Any]:
    folder = peer / ("mlserver-batch" if batching else "mlserver")
    (folder / "bench").mkdir(parents=True)
    shutil.copy(peer / "model.joblib", folder / "bench" / "model.joblib")
    port = _free_port()
    settings: dict[str, Any] = {
        "http_port": port,
        "grpc_port": _free_port(),
        "metrics_port": _free_port(),
        "parallel_workers": 0,
        "host": "127.0.0.1",
        "debug": False,
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    model_settings: dict[str, Any] = {
        "name": "bench",
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib"},
    }
    if batching:
        model_settings.update({"max_batch_size": 32, "max_batch_time": 0.01})
    (folder / "bench" / "model-settings.json").write_text(json.dumps(model_settings))
    proc = subprocess.Popen(
        [binary, "start", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=folder,
    )
    try:
        ready_s = _wait_ready(f"http://127.0.0.1:{port}/v2/models/bench/ready", proc, 120)
        body = json.dumps(
            {
                "inputs": [
                    {"name": "x", "shape": [1, len(FEATURES)], "datatype": "FP64", "data": ROW}
                ]
            }
        ).encode()
        out: dict[str, Any] = {"infer": measure(port, "/v2/models/bench/infer", body, seconds)}
        out["ready_s"] = ready_s
        out["rss_after_mb"] = _rss_mb(proc.pid)
        return out
    finally:
        _stop(proc)


def run_mlflow(binary: str, peer: Path, seconds: float) -> dict[str, Any]:
    python = str(Path(binary).with_name("python"))
    target = peer / "mlflow-model"
    code = (
        "import joblib, mlflow.sklearn, sys; "
        f"mlflow.sklearn.save_model(joblib.load({str(peer / 'model.joblib')!r}), {str(target)!r})"
    )
    subprocess.run([python, "-c", code], check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "models",
            "serve",
            "-m",
            str(target),
            "-p",
            str(port),
            "-h",
            "127.0.0.1",
            "--env-manager",
            "local",
            "-w",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # `mlflow models serve` starts `uvicorn` from PATH: put its venv's bin first.
        env={
            **os.environ,
            "PATH": f"{Path(binary).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
    )
    try:
        ready_s = _wait_ready(f"http://127.0.0.1:{port}/ping", proc, 180)
        body = json.dumps({"dataframe_split": {"columns": FEATURES, "data": [ROW]}}).encode()
        out: dict[str, Any] = {"invocations": measure(port, "/invocations", body, seconds)}
        out["ready_s"] = ready_s
        out["rss_after_mb"] = _rss_mb(proc.pid)
        return out
    finally:
        _stop(proc)


# -- report ------------------------------------------------------------------------------------
def _row(name: str, m: dict[Any, Any]) -> str:
    s, c8, c32 = m[1], m[8], m[32]
    return (
        f"{name:<38} {s['p50_ms']:7.2f} {s['p99_ms']:7.2f} | {c8['rps']:8.0f} {c8['p99_ms']:7.2f} "
        f"| {c32['rps']:8.0f} {c32['p99_ms']:7.2f} | {c8['errors'] + c32['errors']:5d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mlserver", help="path to the `mlserver` executable (private venv)")
    parser.add_argument("--mlflow", help="path to the `mlflow` executable (private venv)")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per concurrent run")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args()
    sys.path.insert(0, str(SRC))
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    workdir = Path(tempfile.mkdtemp(prefix="mw-bench-serving-"))
    results: dict[str, Any] = {}
    try:
        prepared = prepare(workdir)
        runs: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            (f"modelward ({b})", partial(run_ours, prepared["home"], b, args.seconds, b == "auto"))
            for b in ("auto", "native")
        ]
        if args.mlserver:
            for batching in (False, True):
                name = "mlserver (batching)" if batching else "mlserver"
                runs.append(
                    (
                        name,
                        lambda b=batching: run_mlserver(
                            args.mlserver, prepared["peer"], args.seconds, b
                        ),
                    )  # type: ignore[misc]
                )
        if args.mlflow:
            runs.append(
                ("mlflow", partial(run_mlflow, args.mlflow, prepared["peer"], args.seconds))
            )
        for name, run in runs:
            try:
                results[name] = run()
            except Exception as exc:  # one peer failing must not lose the others' figures
                print(f"{name}: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    print(
        f"\nserving benchmark ({os.cpu_count()} CPUs; single-row JSON; "
        f"{args.seconds} s per concurrent run)"
    )
    print(
        f"{'server / endpoint':<38} {'seq p50':>7} {'p99':>7} | {'8 cl r/s':>8} {'p99':>7} "
        f"| {'32 cl r/s':>8} {'p99':>7} | {'errs':>5}"
    )
    for server, data in results.items():
        for endpoint in ("infer", "invocations", "predict"):
            if endpoint in data:
                print(_row(f"{server} {endpoint}", data[endpoint]))
    print()
    for server, data in results.items():
        extra = f", RSS at ready {data['rss_ready_mb']:.0f} MB" if "rss_ready_mb" in data else ""
        print(
            f"{server}: ready in {data['ready_s']:.2f} s{extra}, "
            f"RSS after load {data['rss_after_mb']:.0f} MB"
        )
    ours = results.get("modelward (auto)")
    if ours is None:
        return
    print("\ntargets (same run):")
    _ratio("ready < 1 s", ours["ready_s"], 1.0, lower=True, unit="s")
    _ratio("RSS at ready < 150 MB", ours["rss_ready_mb"], 150.0, lower=True, unit="MB")
    print(f"  (RSS after the load runs, prediction log on: {ours['rss_after_mb']:.0f} MB)")
    if "swap" in ours:
        swap = ours["swap"]
        print(
            f"  hot swap under load (8 clients): {swap['requests']} requests, "
            f"{swap['errors']} failed, p99 {swap['p99_ms']:.2f} ms, serving {swap['served_after']} "
            f"after  {'OK' if swap['errors'] == 0 and swap['served_after'] == ['2'] else 'MISSED'}"
        )
    mlserver, batched, mlflow = (
        results.get(k) for k in ("mlserver", "mlserver (batching)", "mlflow")
    )
    if mlserver:
        ratio = ours["infer"][8]["rps"] / mlserver["infer"][8]["rps"]
        _ratio("8 clients vs MLServer (>= 2x)", ratio, TARGET_VS_MLSERVER)
        _ratio(
            "p99 at 8 clients vs MLServer's (<=)",
            ours["infer"][8]["p99_ms"],
            mlserver["infer"][8]["p99_ms"],
            lower=True,
            unit="ms",
        )
    else:
        print("  MLServer: not given (--mlserver PATH); ANCHORS: 1,460 req/s at 8 clients")
    if batched:
        best = max(batched["infer"][32]["rps"], (mlserver or batched)["infer"][32]["rps"])
        _ratio(
            "32 clients vs MLServer batched (>= 2x)",
            ours["infer"][32]["rps"] / best,
            TARGET_VS_MLSERVER,
        )
    native = results.get("modelward (native)")
    if native and mlserver and batched:
        print("  same backend (scikit-learn) as MLServer:")
        _ratio(
            "  8 clients, native vs MLServer",
            native["infer"][8]["rps"] / mlserver["infer"][8]["rps"],
            TARGET_VS_MLSERVER,
        )
        best32 = max(batched["infer"][32]["rps"], mlserver["infer"][32]["rps"])
        _ratio(
            "  32 clients, native vs MLServer best",
            native["infer"][32]["rps"] / best32,
            TARGET_VS_MLSERVER,
        )
    if mlflow:
        ratio = ours["invocations"][8]["rps"] / mlflow["invocations"][8]["rps"]
        _ratio("8 clients vs MLflow /invocations (>= 10x)", ratio, TARGET_VS_MLFLOW)
    else:
        print("  MLflow: not given (--mlflow PATH); ANCHORS: ~330 req/s at 8 clients")


def _ratio(
    label: str, value: float, target: float, *, lower: bool = False, unit: str = "x"
) -> None:
    ok = value <= target if lower else value >= target
    print(
        f"  {label:<44} {value:8.2f} {unit:<3} target {target:g} {unit}  {'OK' if ok else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
