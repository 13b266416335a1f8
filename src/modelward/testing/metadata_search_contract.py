"""The search part of the metadata store contract: the filter language on every backend.

Part of :mod:`modelward.testing.metadata_contract` (import that module, not this one): every
operator, AND/OR/parentheses, quoted keys, attributes, LIKE/ILIKE case semantics, ordering with
missing values last, paging, bad page tokens, ``max_results`` bounds and hostile values. Results
must be identical on every backend.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence

import pytest

from modelward.entities import Run, RunStatus
from modelward.errors import FilterSyntaxError, InvalidInput
from modelward.store.metadata.base import MetadataStore

__all__ = [
    "test_search_across_experiments",
    "test_search_and_or_parentheses",
    "test_search_attribute_filters",
    "test_search_bad_page_tokens",
    "test_search_default_order_is_newest_first",
    "test_search_excludes_deleted_runs_unless_asked",
    "test_search_filter_errors",
    "test_search_like_escapes_are_literal",
    "test_search_like_is_case_sensitive_ilike_is_not",
    "test_search_max_results_bounds",
    "test_search_metric_operators",
    "test_search_order_by_attributes_params_and_several_keys",
    "test_search_order_by_metric_puts_missing_last",
    "test_search_paging_visits_every_run_once",
    "test_search_param_and_tag_operators",
    "test_search_parent_id_and_user",
    "test_search_quoted_keys",
    "test_search_values_are_bound_not_pasted",
]

NAN = float("nan")
INF = float("inf")


# -- helpers --------------------------------------------------------------------------------
def _names(runs: Sequence[Run]) -> list[str]:
    return [r.name for r in runs]


def _search(
    store: MetadataStore,
    experiment_ids: Sequence[str],
    filter_string: str = "",
    order_by: Sequence[str] = (),
) -> list[str]:
    page = store.search_runs(experiment_ids, filter_string, order_by, max_results=1000)
    assert page.next_token is None
    return _names(page.items)


def _runs(
    store: MetadataStore,
    experiment_id: str,
    specs: Sequence[
        tuple[str, int, RunStatus, Mapping[str, float], Mapping[str, str], Mapping[str, str]]
    ],
) -> dict[str, str]:
    ids: dict[str, str] = {}
    for name, start, status, metrics, params, tags in specs:
        run = store.create_run(experiment_id, name=name, start_time=start, tags=tags)
        ids[name] = run.id
        if params:
            store.log_params(run.id, params)
        if metrics:
            store.log_metrics([(run.id, k, v, 0, start) for k, v in metrics.items()])
        if status is not RunStatus.RUNNING:
            store.set_run_status(run.id, status, end_time=start + 500)
    return ids


def _searchable(store: MetadataStore) -> tuple[str, dict[str, str]]:
    """Five runs covering every kind of value the search language meets."""
    exp = store.create_experiment("search")
    ids = _runs(
        store,
        exp.id,
        [
            (
                "alpha",
                1000,
                RunStatus.FINISHED,
                {"acc": 0.9, "loss": 0.1, "train/loss": 0.2},
                {"depth": "3", "opt": "adam"},
                {"team": "Vision", "my key": "a"},
            ),
            (
                "beta",
                2000,
                RunStatus.FINISHED,
                {"acc": 0.8, "loss": 0.3},
                {"depth": "5", "opt": "sgd"},
                {"team": "vision"},
            ),
            (
                "gamma",
                3000,
                RunStatus.FAILED,
                {"acc": 0.5},
                {"depth": "10", "opt": "Adam"},
                {"team": "nlp"},
            ),
            ("delta", 4000, RunStatus.RUNNING, {"acc": NAN, "loss": INF}, {"depth": "3"}, {}),
            ("epsilon", 5000, RunStatus.KILLED, {}, {}, {"team": "100%_sure"}),
        ],
    )
    return exp.id, ids


# -- tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc = 0.9", {"alpha"}),
        ("metrics.acc == 0.9", {"alpha"}),
        ("metrics.acc != 0.9", {"beta", "gamma"}),
        ("metrics.acc <> 0.9", {"beta", "gamma"}),
        ("metrics.acc < 0.8", {"gamma"}),
        ("metrics.acc <= 0.8", {"beta", "gamma"}),
        ("metrics.acc > 0.8", {"alpha"}),
        ("metrics.acc >= 0.8", {"alpha", "beta"}),
        ("metrics.acc IN (0.5, 0.9)", {"alpha", "gamma"}),
        ("metrics.acc NOT IN (0.5, 0.9)", {"beta"}),
        ("metrics.loss > 1e300", {"delta"}),
        ("metrics.loss < -1", set()),
        ("metrics.acc > -1", {"alpha", "beta", "gamma"}),
        ("metric.acc >= .8", {"alpha", "beta"}),
        ("metrics.missing > 0", set()),
    ],
)
def test_search_metric_operators(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """Metric comparisons are numeric; NaN and missing metrics never match a comparison."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("params.depth = '3'", {"alpha", "delta"}),
        ('params.depth = "3"', {"alpha", "delta"}),
        ("params.depth != '3'", {"beta", "gamma"}),
        ("params.depth < '5'", {"alpha", "gamma", "delta"}),
        ("params.depth <= '3'", {"alpha", "gamma", "delta"}),
        ("params.depth > '3'", {"beta"}),
        ("params.depth >= '3'", {"alpha", "beta", "delta"}),
        ("params.depth IN ('3', '5')", {"alpha", "beta", "delta"}),
        ("params.depth NOT IN ('3')", {"beta", "gamma"}),
        ("params.opt LIKE 'a%'", {"alpha"}),
        ("params.opt NOT LIKE 'a%'", {"beta", "gamma"}),
        ("params.opt ILIKE 'A%'", {"alpha", "gamma"}),
        ("params.opt NOT ILIKE 'a%'", {"beta"}),
        ("tags.team = 'vision'", {"beta"}),
        ("tags.team != 'vision'", {"alpha", "gamma", "epsilon"}),
        ("tags.team IN ('nlp', 'Vision')", {"alpha", "gamma"}),
        ("tags.team LIKE '%ision'", {"alpha", "beta"}),
        ("tags.team like '_lp'", {"gamma"}),
        ("tag.team = 'nlp'", {"gamma"}),
        ("parameters.opt = 'sgd'", {"beta"}),
    ],
)
def test_search_param_and_tag_operators(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """Param and tag comparisons are on strings; runs without the key never match."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("tags.team LIKE 'vision'", {"beta"}),
        ("tags.team LIKE 'VISION'", set()),
        ("tags.team ILIKE 'VISION'", {"alpha", "beta"}),
        ("tags.team NOT LIKE 'vision'", {"alpha", "gamma", "epsilon"}),
        ("tags.team NOT ILIKE 'vision'", {"gamma", "epsilon"}),
        ("params.opt LIKE 'Adam'", {"gamma"}),
        ("name LIKE 'ALPHA'", set()),
        ("name ILIKE 'ALPHA'", {"alpha"}),
    ],
)
def test_search_like_is_case_sensitive_ilike_is_not(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """LIKE matches case exactly and ILIKE ignores case, the same on every backend."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("tags.team LIKE '100%'", {"epsilon"}),
        ("tags.team LIKE '100\\%\\_sure'", {"epsilon"}),
        ("tags.team LIKE '100\\_%'", set()),
        ("tags.team LIKE '10\\%'", set()),
        ("tags.team LIKE '_00%'", {"epsilon"}),
    ],
)
def test_search_like_escapes_are_literal(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """In LIKE patterns a backslash makes ``%`` and ``_`` literal, on every backend."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc > 0.6 and params.depth = '3'", {"alpha"}),
        ("metrics.acc > 0.6 AND params.opt IN ('adam', 'sgd')", {"alpha", "beta"}),
        ("metrics.acc > 0.85 or tags.team = 'nlp'", {"alpha", "gamma"}),
        (
            "(metrics.acc > 0.85 OR tags.team = 'nlp') and params.opt ILIKE 'adam'",
            {"alpha", "gamma"},
        ),
        ("metrics.acc > 0.85 or tags.team = 'nlp' and params.opt = 'sgd'", {"alpha"}),
        ("(metrics.acc > 0.85 or tags.team = 'nlp') and params.opt = 'sgd'", set()),
        ("params.depth = '3' and params.depth = '5'", set()),
        (
            "params.depth = '3' or params.depth = '5' or params.depth = '10'",
            {"alpha", "beta", "gamma", "delta"},
        ),
        ("((status = 'KILLED'))", {"epsilon"}),
        (
            "metrics.acc >= 0.5 and "
            "(params.depth = '10' or (tags.team = 'vision' and metrics.loss < 1))",
            {"beta", "gamma"},
        ),
        (
            "status = 'RUNNING' or metrics.acc < 0.6 or tags.team LIKE '1%'",
            {"gamma", "delta", "epsilon"},
        ),
    ],
)
def test_search_and_or_parentheses(
    store: MetadataStore, filter_string: str, expected: set[str]
) -> None:
    """AND binds tighter than OR; parentheses group; keywords ignore case."""
    exp_id, _ = _searchable(store)
    assert set(_search(store, [exp_id], filter_string)) == expected


def test_search_quoted_keys(store: MetadataStore) -> None:
    """Keys with spaces or odd characters are quoted with backticks or double quotes."""
    exp_id, _ = _searchable(store)
    assert _search(store, [exp_id], "tags.`my key` = 'a'") == ["alpha"]
    assert _search(store, [exp_id], "tags.\"my key\" = 'a'") == ["alpha"]
    assert _search(store, [exp_id], "metrics.train/loss < 1") == ["alpha"]
    assert _search(store, [exp_id], "metrics.`train/loss` < 1") == ["alpha"]
    assert _search(store, [exp_id], "tags.`my key` = 'a'", ["tags.`my key` DESC"]) == ["alpha"]


def test_search_attribute_filters(store: MetadataStore) -> None:
    """Run attributes: status (its values ignore case), name, ids and times."""
    exp_id, ids = _searchable(store)

    def found(filter_string: str) -> set[str]:
        return set(_search(store, [exp_id], filter_string))

    assert found("status = 'FAILED'") == {"gamma"}
    assert found("attributes.status = 'finished'") == {"alpha", "beta"}
    assert found("status IN ('RUNNING', 'killed')") == {"delta", "epsilon"}
    assert found("status != 'FINISHED'") == {"gamma", "delta", "epsilon"}
    assert found("status LIKE 'fin%'") == {"alpha", "beta"}
    assert found("name = 'beta'") == {"beta"}
    assert found("run_name LIKE '%lta'") == {"delta"}
    assert found("start_time >= 3000") == {"gamma", "delta", "epsilon"}
    assert found("attributes.start_time < 2000") == {"alpha"}
    assert found("end_time <= 2500") == {"alpha", "beta"}
    assert found(f"run_id = '{ids['gamma']}'") == {"gamma"}
    assert found(f"id IN ('{ids['alpha']}', '{ids['beta']}')") == {"alpha", "beta"}
    assert found(f"experiment_id = '{exp_id}'") == set(ids)
    assert found("experiment_id = 'other'") == set()


def test_search_parent_id_and_user(store: MetadataStore) -> None:
    """parent_id finds nested runs; user finds who ran them."""
    exp = store.create_experiment("exp")
    parent = store.create_run(exp.id, name="parent", user="ann")
    store.create_run(exp.id, name="child", parent_id=parent.id, user="bob")
    store.create_run(exp.id, name="other", user="bob")
    assert _search(store, [exp.id], f"parent_id = '{parent.id}'") == ["child"]
    assert set(_search(store, [exp.id], "user = 'bob'")) == {"child", "other"}
    assert _search(store, [exp.id], "attributes.user LIKE 'a%'") == ["parent"]


def test_search_values_are_bound_not_pasted(store: MetadataStore) -> None:
    """Values that look like SQL are compared as plain text and match nothing."""
    exp_id, _ = _searchable(store)
    with pytest.raises(FilterSyntaxError, match="unexpected token"):
        store.search_runs([exp_id], "params.depth = 'x'' OR 1=1 --'")
    hostile = [
        'params.depth = "x\' OR 1=1 --"',
        "tags.team LIKE \"%' OR '1'='1\"",
        'name IN ("a\'); DROP TABLE runs; --")',
        "tags.`x' OR 1=1 --` = 'a'",
    ]
    for filter_string in hostile:
        assert _search(store, [exp_id], filter_string) == [], filter_string
    assert len(_search(store, [exp_id])) == 5


def test_search_order_by_metric_puts_missing_last(store: MetadataStore) -> None:
    """Ordering by a metric puts runs without it (or with NaN) last, in both directions."""
    exp_id, _ = _searchable(store)
    assert _search(store, [exp_id], order_by=["metrics.acc DESC"]) == [
        "alpha",
        "beta",
        "gamma",
        "epsilon",
        "delta",
    ]
    assert _search(store, [exp_id], order_by=["metrics.acc"]) == [
        "gamma",
        "beta",
        "alpha",
        "epsilon",
        "delta",
    ]
    assert _search(store, [exp_id], order_by=["metrics.loss asc"]) == [
        "alpha",
        "beta",
        "delta",
        "epsilon",
        "gamma",
    ]
    assert _search(store, [exp_id], "metrics.acc > 0.6", ["metrics.acc ASC"]) == ["beta", "alpha"]


def test_search_order_by_attributes_params_and_several_keys(store: MetadataStore) -> None:
    """order_by works on params (as strings), tags and attributes, and combines keys."""
    exp_id, _ = _searchable(store)
    assert _search(store, [exp_id], order_by=["params.depth"]) == [
        "gamma",
        "delta",
        "alpha",
        "beta",
        "epsilon",
    ]
    assert _search(store, [exp_id], order_by=["params.depth DESC"]) == [
        "beta",
        "delta",
        "alpha",
        "gamma",
        "epsilon",
    ]
    assert _search(store, [exp_id], order_by=["name"]) == [
        "alpha",
        "beta",
        "delta",
        "epsilon",
        "gamma",
    ]
    assert _search(store, [exp_id], order_by=["start_time ASC"]) == [
        "alpha",
        "beta",
        "gamma",
        "delta",
        "epsilon",
    ]
    assert _search(store, [exp_id], order_by=["end_time DESC"]) == [
        "epsilon",
        "gamma",
        "beta",
        "alpha",
        "delta",
    ]
    assert _search(store, [exp_id], order_by=["status", "metrics.acc DESC"]) == [
        "gamma",
        "alpha",
        "beta",
        "epsilon",
        "delta",
    ]
    assert _search(store, [exp_id], "params.depth = '3'", ["params.depth", "name DESC"]) == [
        "delta",
        "alpha",
    ]
    assert _search(store, [exp_id], order_by=["tags.team DESC", "start_time"])[-1] == "delta"


def test_search_default_order_is_newest_first(store: MetadataStore) -> None:
    """Without order_by, runs come newest first."""
    exp_id, _ = _searchable(store)
    assert _search(store, [exp_id]) == ["epsilon", "delta", "gamma", "beta", "alpha"]


def test_search_across_experiments(store: MetadataStore) -> None:
    """Several experiment ids search them all; an empty list searches every experiment."""
    exp_a, exp_b, exp_c = (store.create_experiment(n) for n in ("a", "b", "c"))
    for exp in (exp_a, exp_b, exp_c):
        store.create_run(exp.id, name=f"run-{exp.name}")
    assert sorted(_search(store, [exp_a.id, exp_b.id])) == ["run-a", "run-b"]
    assert sorted(_search(store, [])) == ["run-a", "run-b", "run-c"]
    assert _search(store, ["0" * 32]) == []


def test_search_excludes_deleted_runs_unless_asked(store: MetadataStore) -> None:
    """Deleted runs are hidden from search unless include_deleted is set."""
    exp = store.create_experiment("exp")
    keep = store.create_run(exp.id, name="keep")
    gone = store.create_run(exp.id, name="gone")
    store.delete_run(gone.id)
    assert _search(store, [exp.id]) == ["keep"]
    page = store.search_runs([exp.id], include_deleted=True)
    assert {r.id for r in page.items} == {keep.id, gone.id}


def test_search_paging_visits_every_run_once(store: MetadataStore) -> None:
    """Following next_token visits every match exactly once, in the unpaged order."""
    exp = store.create_experiment("exp")
    points = []
    for i in range(23):
        # Equal start times and tied metric values force the tie-breakers to do their job.
        run = store.create_run(exp.id, name=f"r{i:02d}", start_time=1000)
        if i % 6:
            points.append((run.id, "m", float(i % 4), 0, 1))
    store.log_metrics(points)
    # The order computed independently: runs with the metric by value, ties by id; then runs
    # without it by id (all start times are equal).
    values = {p[0]: p[2] for p in points}
    all_ids = [r.id for r in store.search_runs([exp.id], "", max_results=100).items]
    with_metric = sorted((i for i in all_ids if i in values), key=lambda i: (-values[i], i))
    without = sorted(i for i in all_ids if i not in values)
    by_desc = store.search_runs([exp.id], "", ["metrics.m DESC"], max_results=100).items
    assert [r.id for r in by_desc] == with_metric + without
    for order_by in ([], ["metrics.m DESC"], ["metrics.m", "name DESC"]):
        everything = store.search_runs([exp.id], "", order_by, max_results=100)
        expected = [r.id for r in everything.items]
        assert len(expected) == 23
        assert everything.next_token is None
        seen: list[str] = []
        token: str | None = None
        pages = 0
        while True:
            page = store.search_runs([exp.id], "", order_by, max_results=5, page_token=token)
            pages += 1
            seen.extend(r.id for r in page.items)
            token = page.next_token
            if token is None:
                break
            assert isinstance(token, str)
            assert len(page.items) == 5
        assert seen == expected, order_by
        assert pages == 5
    exact = store.search_runs([exp.id], "", max_results=23)
    assert len(exact.items) == 23
    assert exact.next_token is None
    filtered = store.search_runs([exp.id], "metrics.m >= 2", max_results=3)
    rest = store.search_runs(
        [exp.id], "metrics.m >= 2", max_results=3, page_token=filtered.next_token
    )
    assert not {r.id for r in filtered.items} & {r.id for r in rest.items}


def test_search_bad_page_tokens(store: MetadataStore) -> None:
    """Malformed tokens, and tokens of another search, are refused with advice."""
    exp = store.create_experiment("exp")
    for i in range(3):
        store.create_run(exp.id, name=f"r{i}")
    token = store.search_runs([exp.id], "", max_results=1).next_token
    assert token is not None
    forged = base64.urlsafe_b64encode(json.dumps({"o": -5, "q": "x"}).encode()).decode()
    for bad in ["garbage!!", "e30", "bm90IGpzb24", forged, "€€€", token[:-3]]:
        with pytest.raises(InvalidInput, match="page token"):
            store.search_runs([exp.id], "", max_results=1, page_token=bad)
    with pytest.raises(InvalidInput, match="page token belongs to another search"):
        store.search_runs([exp.id], "name = 'r1'", max_results=1, page_token=token)
    with pytest.raises(InvalidInput, match="page token belongs to another search"):
        store.search_runs([exp.id], "", ["name"], max_results=1, page_token=token)
    second = store.search_runs([exp.id], "", max_results=1, page_token=token)
    assert len(second.items) == 1


def test_search_max_results_bounds(store: MetadataStore) -> None:
    """max_results must be an integer from 1 to 50,000."""
    exp = store.create_experiment("exp")
    store.create_run(exp.id)
    for bad in (0, -1, 50_001, 2.5, "10", True):
        with pytest.raises(InvalidInput, match="max_results must be an integer from 1 to 50000"):
            store.search_runs([exp.id], max_results=bad)  # type: ignore[arg-type]
    assert len(store.search_runs([exp.id], max_results=50_000).items) == 1
    assert len(store.search_runs([exp.id], max_results=1).items) == 1


def test_search_filter_errors(store: MetadataStore) -> None:
    """Malformed filters and order-by clauses raise FilterSyntaxError naming the token."""
    exp = store.create_experiment("exp")
    with pytest.raises(FilterSyntaxError, match=r"column 1 \('bogus.x'\): unknown prefix"):
        store.search_runs([exp.id], "bogus.x = 1")
    with pytest.raises(FilterSyntaxError, match=r"column 15.*is numeric"):
        store.search_runs([exp.id], "metrics.acc > 'high'")
    with pytest.raises(FilterSyntaxError, match=r"column 1 \('colour'\): unknown key"):
        store.search_runs([exp.id], "", ["colour DESC"])
