"""Search strategies: grid, random and TPE hand out deterministic trials and resume exactly."""

from __future__ import annotations

import pytest

from modelward.errors import InvalidInput
from modelward.training.space import CandidateSearch, TrialPlan, grid_size
from modelward.training.spec import Range, SearchSettings


def _drain(search: CandidateSearch, score: float = 0.5) -> list[TrialPlan]:
    """Hand out every trial, telling each a score derived from its params."""
    plans: list[TrialPlan] = []
    while True:
        batch = search.ready()
        if not batch:
            break
        for plan in batch:
            plans.append(plan)
            search.tell(plan.index, score + 0.01 * plan.index)
    return plans


def test_grid_is_every_combination_in_a_stable_order() -> None:
    space = {"C": [0.1, 1.0], "kernel": ["linear", "rbf", "poly"]}
    search = CandidateSearch(0, space, SearchSettings(strategy="grid"), seed=0, maximize=True)
    plans = _drain(search)
    assert len(plans) == 6 == grid_size(space) == search.total
    assert [p.index for p in plans] == list(range(6))
    assert {(p.params["C"], p.params["kernel"]) for p in plans} == {
        (c, k) for c in (0.1, 1.0) for k in ("linear", "rbf", "poly")
    }
    assert search.exhausted


def test_grid_takes_points_from_a_range_with_num() -> None:
    space = {
        "alpha": Range(low=0.001, high=10, log=True, num=5),
        "n": Range(low=1, high=3, type="int", num=3),
    }
    plans = _drain(CandidateSearch(0, space, SearchSettings(), seed=0, maximize=True))
    assert sorted({p.params["alpha"] for p in plans}) == pytest.approx(
        [0.001, 0.01, 0.1, 1.0, 10.0]
    )
    assert sorted({p.params["n"] for p in plans}) == [1, 2, 3]


def test_grid_over_a_range_without_num_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"candidates\[0\]\.space\.C: a grid search needs"):
        CandidateSearch(
            0,
            {"C": Range(low=0.1, high=1)},
            SearchSettings(),
            seed=0,
            maximize=True,
            where="candidates[0].space",
        )


def test_random_is_seeded_and_respects_ranges() -> None:
    space = {
        "C": Range(low=1e-3, high=10, log=True),
        "depth": Range(low=2, high=9, type="int"),
        "crit": ["gini", "entropy"],
    }
    settings = SearchSettings(strategy="random", trials=7)
    first = _drain(CandidateSearch(0, space, settings, seed=11, maximize=True))
    again = _drain(CandidateSearch(0, space, settings, seed=11, maximize=True))
    other = _drain(CandidateSearch(0, space, settings, seed=12, maximize=True))
    assert [p.params for p in first] == [p.params for p in again]
    assert [p.params for p in first] != [p.params for p in other]
    assert len(first) == 7
    for p in first:
        assert 1e-3 <= p.params["C"] <= 10
        assert isinstance(p.params["depth"], int)
        assert 2 <= p.params["depth"] <= 9
        assert p.params["crit"] in ("gini", "entropy")


def test_random_over_small_lists_never_repeats_or_warns() -> None:
    settings = SearchSettings(strategy="random", trials=50)
    plans = _drain(CandidateSearch(0, {"a": [1, 2, 3]}, settings, seed=0, maximize=True))
    assert sorted(p.params["a"] for p in plans) == [1, 2, 3]


def test_tpe_asks_in_batches_and_waits_for_results() -> None:
    settings = SearchSettings(strategy="tpe", trials=5, batch_size=2)
    search = CandidateSearch(
        0, {"x": Range(low=-5, high=5), "k": [[8], [16, 8]]}, settings, seed=4, maximize=False
    )
    batch = search.ready()
    assert [p.index for p in batch] == [0, 1]
    assert search.ready() == []  # the batch is still running
    search.tell(0, 1.0)
    assert search.ready() == []
    search.tell(1, 2.0)
    assert [p.index for p in search.ready()] == [2, 3]
    assert all(p.params["k"] in ([8], [16, 8]) for p in batch)


def test_tpe_sequence_depends_only_on_seed_and_results() -> None:
    settings = SearchSettings(strategy="tpe", trials=12, batch_size=3)
    space = {"x": Range(low=-5, high=5), "n": Range(low=1, high=50, type="int", log=True)}

    def run() -> list[dict[str, object]]:
        search = CandidateSearch(1, space, settings, seed=9, maximize=False)
        out = []
        while batch := search.ready():
            for p in batch:
                out.append(p.params)
                search.tell(p.index, (float(p.params["x"]) - 1.0) ** 2)
        return out

    first, second = run(), run()
    assert first == second
    assert len(first) == 12


def test_tpe_resume_replays_history_and_continues_identically() -> None:
    settings = SearchSettings(strategy="tpe", trials=10, batch_size=2)
    space = {"x": Range(low=-5, high=5)}

    def objective(p: TrialPlan) -> float:
        return (float(p.params["x"]) - 2.0) ** 2

    full = CandidateSearch(0, space, settings, seed=5, maximize=False)
    plans: list[TrialPlan] = []
    while batch := full.ready():
        for p in batch:
            plans.append(p)
            full.tell(p.index, objective(p))
    resumed = CandidateSearch(0, space, settings, seed=5, maximize=False)
    resumed.restore([(p.index, p.params, objective(p)) for p in plans[:6]])
    rest: list[TrialPlan] = []
    while batch := resumed.ready():
        for p in batch:
            rest.append(p)
            resumed.tell(p.index, objective(p))
    assert [p.index for p in rest] == [6, 7, 8, 9]
    assert [p.params for p in rest] == [p.params for p in plans[6:]]


def test_failed_trials_are_told_as_failures() -> None:
    settings = SearchSettings(strategy="tpe", trials=4, batch_size=2)
    search = CandidateSearch(0, {"x": Range(low=0, high=1)}, settings, seed=0, maximize=True)
    first = search.ready()
    search.tell(first[0].index, None)
    search.tell(first[1].index, float("nan"))
    assert [p.index for p in search.ready()] == [2, 3]


def test_grid_restore_skips_done_trials() -> None:
    search = CandidateSearch(0, {"a": [1, 2, 3, 4]}, SearchSettings(), seed=0, maximize=True)
    search.restore([(0, {"a": 1}, 0.5), (2, {"a": 3}, None)])
    assert [p.params["a"] for p in search.ready()] == [2, 4]
