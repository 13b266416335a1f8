"""Search compilation: values only ever travel as bound parameters; page tokens are opaque."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from modelward.errors import InvalidInput
from modelward.store.metadata.base import MetadataStore
from modelward.store.metadata.sql.search import (
    build_search,
    decode_page_token,
    encode_page_token,
)

HOSTILE = "x' OR 1=1 --"


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "pg"])
def test_values_and_keys_are_bound_parameters(dialect: object) -> None:
    filter_string = (
        f'params.depth = "{HOSTILE}" or tags.`{HOSTILE}` LIKE "{HOSTILE}%" '
        f'or name IN ("{HOSTILE}") or metrics.m > 1'
    )
    query = build_search(
        [HOSTILE],
        filter_string,
        [f"params.`{HOSTILE}` DESC"],
        include_deleted=False,
        offset=0,
        limit=10,
    )
    compiled = query.compile(dialect=dialect)  # type: ignore[arg-type]
    sql = str(compiled)
    assert "OR 1=1" not in sql
    assert "'x'" not in sql
    bound = [v for v in compiled.params.values() if isinstance(v, str)]
    bound += [x for v in compiled.params.values() if isinstance(v, list) for x in v]
    assert bound.count(HOSTILE) == 5  # param value, tag key, experiment id, name, order key
    assert f"{HOSTILE}%" in bound


def test_hostile_value_matches_nothing_and_harms_nothing(sqlite_store: MetadataStore) -> None:
    exp = sqlite_store.create_experiment("exp")
    run = sqlite_store.create_run(exp.id, name="r", tags={"t": "v"})
    sqlite_store.log_params(run.id, {"depth": "3"})
    sqlite_store.log_metrics([(run.id, "m", 1.0, 0, 1)])
    for filter_string in [
        f'params.depth = "{HOSTILE}"',
        f'params.depth != "{HOSTILE}" and tags.t = "{HOSTILE}"',
        f'name = "{HOSTILE}"',
        'name = "r\'; DELETE FROM runs; --"',
    ]:
        assert sqlite_store.search_runs([exp.id], filter_string).items == []
    assert [r.id for r in sqlite_store.search_runs([exp.id]).items] == [run.id]
    assert sqlite_store.search_runs([exp.id], f'params.depth != "{HOSTILE}"').items[0].id == run.id


def test_page_token_round_trips_for_the_same_search_only() -> None:
    token = encode_page_token(40, ["b", "a"], "metrics.m > 1", ["name"])
    assert decode_page_token(token, ["a", "b"], "metrics.m > 1", ["name"]) == 40
    assert decode_page_token(None, ["a"], "", []) == 0
    assert decode_page_token("", ["a"], "", []) == 0
    for other in [
        (["a"], "metrics.m > 1", ["name"]),
        (["a", "b"], "metrics.m > 2", ["name"]),
        (["a", "b"], "metrics.m > 1", ["name DESC"]),
    ]:
        with pytest.raises(InvalidInput, match="page token belongs to another search"):
            decode_page_token(token, *other)
    with pytest.raises(InvalidInput, match="the page token is not valid; pass the next_token"):
        decode_page_token("not-a-token", ["a"], "", [])
