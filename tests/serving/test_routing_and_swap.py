"""Hot swap under load, canary split (random and sticky), shadow mirroring."""

from __future__ import annotations

import asyncio
import collections
import threading
import time

import httpx
import pytest

from tests.serving.helpers import (
    Doubler,
    FakeSource,
    Wanted,
    make_state,
    real_server,
    record,
    running,
)

pytestmark = pytest.mark.anyio


def test_hot_swap_under_load_fails_no_request() -> None:
    source = FakeSource("m", Wanted(("m", 1)))

    def slow_load(name: str, version: int) -> Doubler:
        time.sleep(0.3)  # the new version loads while traffic goes on
        return Doubler(version)

    state = make_state(source, slow_load)
    versions: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    stop = threading.Event()

    def client(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            while not stop.is_set():
                r = http.post("/predict", json=[record(1)])
                if r.status_code != 200:
                    failures.append(r.text)
                    continue
                v = r.headers["x-model-version"]
                if r.json()["predictions"] != [float(v)]:  # answered by the version it names
                    failures.append(r.text)
                versions[v] += 1

    with real_server(state) as base:
        threads = [threading.Thread(target=client, args=(base,)) for _ in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        source.current = Wanted(("m", 2))
        deadline = time.monotonic() + 10
        while versions["2"] < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
    assert not failures
    assert versions["1"] > 0
    assert versions["2"] >= 50
    assert source.served_versions == [1, 2]


async def test_a_version_that_fails_to_load_leaves_the_old_one_serving() -> None:
    source = FakeSource("m", Wanted(("m", 1)))

    def loader(name: str, version: int) -> Doubler:
        if version == 2:
            raise ValueError("corrupt model")
        return Doubler(version)

    state = make_state(source, loader)
    async with running(state) as client:
        source.current = Wanted(("m", 2))
        await asyncio.sleep(0.2)
        r = await client.post("/predict", json=[record(1)])
        metrics = (await client.get("/metrics")).text
    assert r.headers["x-model-version"] == "1"
    assert (
        'modelward_model_load_failures_total{deployment="m",model="m",version="2"} 1.0' in metrics
    )
    assert "corrupt model" in (state.last_error or "")


async def test_canary_receives_its_share() -> None:
    source = FakeSource("m", Wanted(("m", 1), canary=("m", 2), canary_percent=30))
    async with running(make_state(source)) as client:
        replies = await asyncio.gather(
            *(client.post("/predict", json=[record(1)]) for _ in range(400))
        )
    counts = collections.Counter(r.headers["x-model-version"] for r in replies)
    assert all(r.status_code == 200 for r in replies)
    assert 70 <= counts["2"] <= 170  # 30% of 400, with room for chance


async def test_sticky_canary_pins_each_caller() -> None:
    source = FakeSource(
        "m", Wanted(("m", 1), canary=("m", 2), canary_percent=50, sticky_header="x-user")
    )
    async with running(make_state(source)) as client:
        seen: dict[str, set[str]] = collections.defaultdict(set)
        for user in range(40):
            for _ in range(3):
                r = await client.post("/predict", json=[record(1)], headers={"x-user": f"u{user}"})
                seen[f"u{user}"].add(r.headers["x-model-version"])
    assert all(len(v) == 1 for v in seen.values())
    sides = collections.Counter(next(iter(v)) for v in seen.values())
    assert sides["1"] > 5
    assert sides["2"] > 5


async def test_shadow_gets_a_copy_and_never_touches_the_reply() -> None:
    shadow = Doubler(3, delay=0.05)  # slow and different
    models = {1: Doubler(1), 3: shadow}
    source = FakeSource("m", Wanted(("m", 1), shadow=("m", 3)))
    state = make_state(source, lambda name, version: models[version])
    async with running(state) as client:
        started = time.perf_counter()
        replies = [await client.post("/predict", json=[record(i)]) for i in range(1, 6)]
        elapsed = time.perf_counter() - started
        for _ in range(100):
            metrics = (await client.get("/metrics")).text
            if 'outcome="predicted"} 5.0' in metrics:
                break
            await asyncio.sleep(0.05)
    assert [r.json()["predictions"] for r in replies] == [[float(i)] for i in range(1, 6)]
    assert {r.headers["x-model-version"] for r in replies} == {"1"}
    assert elapsed < 0.25  # five shadow calls take 0.25 s: the replies did not wait for them
    assert sum(shadow.calls) == 5
    assert 'modelward_shadow_requests_total{deployment="m",outcome="predicted"} 5.0' in metrics
