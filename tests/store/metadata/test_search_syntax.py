"""The search language parser: the AST it builds and errors that point at the bad token."""

from __future__ import annotations

import pytest

from modelward.errors import FilterSyntaxError, InvalidInput
from modelward.store.metadata.search_syntax import (
    BoolOp,
    Comparison,
    OrderKey,
    parse_filter,
    parse_order_by,
)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_filter_is_none(text: str) -> None:
    assert parse_filter(text) is None


def test_conjunction_builds_typed_comparisons() -> None:
    expr = parse_filter("metrics.acc > 0.8 and params.depth = '3'")
    assert expr == BoolOp(
        "and",
        (Comparison("metric", "acc", ">", 0.8, 1), Comparison("param", "depth", "=", "3", 23)),
    )


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("metrics.m = 3", "=", 3),
        ("metrics.m == 3", "=", 3),
        ("metrics.m != 3", "!=", 3),
        ("metrics.m <> 3", "!=", 3),
        ("metrics.m < -.5", "<", -0.5),
        ("metrics.m <= 1e3", "<=", 1000.0),
        ("metrics.m > +2.5E-1", ">", 0.25),
        ("metrics.m >= 0", ">=", 0),
    ],
)
def test_comparison_operators_and_numbers(text: str, op: str, value: float) -> None:
    expr = parse_filter(text)
    assert isinstance(expr, Comparison)
    assert (expr.entity, expr.key, expr.op, expr.value) == ("metric", "m", op, value)
    assert type(expr.value) is type(value)


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("tags.t IN ('a')", "in", ("a",)),
        ("tags.t in ('a', \"b\")", "in", ("a", "b")),
        ("tags.t NOT IN ('a','b')", "not in", ("a", "b")),
        ("metrics.m IN (1, 2.5)", "in", (1, 2.5)),
        ("tags.t LIKE 'a%'", "like", "a%"),
        ("tags.t not like 'a%'", "not like", "a%"),
        ("tags.t ILike 'A_'", "ilike", "A_"),
        ("tags.t NOT ILIKE 'a'", "not ilike", "a"),
    ],
)
def test_in_and_like(text: str, op: str, value: object) -> None:
    expr = parse_filter(text)
    assert isinstance(expr, Comparison)
    assert (expr.op, expr.value) == (op, value)


def test_and_binds_tighter_than_or_and_nesting_is_flattened() -> None:
    expr = parse_filter("tags.a = '1' or tags.b = '2' and (tags.c = '3' and tags.d = '4')")
    assert isinstance(expr, BoolOp)
    assert expr.op == "or"
    left, right = expr.items
    assert isinstance(left, Comparison)
    assert left.key == "a"
    assert isinstance(right, BoolOp)
    assert right.op == "and"
    assert [c.key for c in right.items if isinstance(c, Comparison)] == ["b", "c", "d"]


@pytest.mark.parametrize(
    ("text", "entity", "key"),
    [
        ("metrics.`val loss` < 1", "metric", "val loss"),
        ("params.\"a.b\" = 'x'", "param", "a.b"),
        ("tags.`it's` = 'x'", "tag", "it's"),
        ("metrics.train/loss:avg-1 > 0", "metric", "train/loss:avg-1"),
        ("METRICS.Acc > 0", "metric", "Acc"),
        ("metric.a > 0", "metric", "a"),
        ("param.a = 'x'", "param", "a"),
        ("parameters.a = 'x'", "param", "a"),
        ("tag.a = 'x'", "tag", "a"),
        ("status = 'FAILED'", "attribute", "status"),
        ("Status = 'FAILED'", "attribute", "status"),
        ("attributes.start_time > 5", "attribute", "start_time"),
        ("attr.name = 'x'", "attribute", "name"),
        ("run.run_id = 'x'", "attribute", "run_id"),
    ],
)
def test_key_forms(text: str, entity: str, key: str) -> None:
    expr = parse_filter(text)
    assert isinstance(expr, Comparison)
    assert (expr.entity, expr.key) == (entity, key)


def test_quoted_strings_unescape() -> None:
    expr = parse_filter(
        "params.a = 'it\\'s' and params.b = \"say \\\"hi\\\"\" and params.c = 'a\\%'"
    )
    assert isinstance(expr, BoolOp)
    assert [c.value for c in expr.items if isinstance(c, Comparison)] == [
        "it's",
        'say "hi"',
        "a\\%",
    ]


@pytest.mark.parametrize(
    ("text", "column", "token", "why"),
    [
        ("metrics.acc >", 14, "<end>", "ends too early"),
        ("metrics.acc > 0.8 and", 22, "<end>", "ends too early"),
        ("(metrics.acc > 1", 17, "<end>", "ends too early"),
        ("metrics.acc ~ 1", 13, "~", "unexpected character"),
        ("params.x = 'open", 12, "'", "unexpected character"),
        ("metrics.acc > 0.8 params.x = '1'", 19, "params.x", "expected AND or OR or the end"),
        ("metrics.acc > 1)", 16, ")", "expected the end"),
        ("params.x IN ()", 14, ")", "expected a number or a quoted string"),
        ("params.x NOT = '1'", 14, "=", "expected IN or LIKE/ILIKE"),
        ("foo = 'x'", 1, "foo", "unknown key; use metrics.NAME"),
        ("bogus.x = 1", 1, "bogus.x", "unknown prefix 'bogus'"),
        ("attributes.colour = 'x'", 1, "attributes.colour", "unknown attribute"),
        ("metrics. = 1", 1, "metrics.", "empty key name"),
        ("metrics.acc = 'x'", 15, "'x'", "metric 'acc' is numeric"),
        ("start_time = '2024'", 14, "'2024'", "attribute 'start_time' is numeric"),
        ("params.depth = 3", 16, "3", "is a string; quote the value: '3'"),
        ("tags.t IN ('a', 2)", 17, "2", "is a string"),
        ("status = 'DONE'", 10, "'DONE'", "unknown status; use RUNNING"),
        ("metrics.acc LIKE 'x'", 13, "LIKE", "LIKE needs a string key"),
        ("start_time ilike '1%'", 12, "ilike", "LIKE needs a string key"),
    ],
)
def test_errors_name_column_and_token(text: str, column: int, token: str, why: str) -> None:
    with pytest.raises(FilterSyntaxError, match=f"column {column} .*{why}") as info:
        parse_filter(text)
    error = info.value
    assert isinstance(error, InvalidInput)  # callers may catch ValueError-like input errors
    assert error.code == "INVALID_FILTER"
    assert error.details["column"] == column
    assert error.details["token"] == token
    assert error.details["input"] == text
    assert error.details["pointer"] == " " * (column - 1) + "^"
    assert f"({token!r})" in error.message


def test_order_by_terms() -> None:
    assert parse_order_by(["metrics.acc DESC", "name", "params.`a b` asc", "  ", ""]) == [
        OrderKey("metric", "acc", True),
        OrderKey("attribute", "name", False),
        OrderKey("param", "a b", False),
    ]
    assert parse_order_by(("tags.t desc",)) == [OrderKey("tag", "t", True)]


@pytest.mark.parametrize(
    ("clause", "why"),
    [
        ("metrics.acc DOWN", r"column 13 \('DOWN'\): unexpected token; expected ASC/DESC"),
        ("colour", r"column 1 \('colour'\): unknown key"),
        ("metrics.acc DESC extra", r"column 18 \('extra'\)"),
        ("metrics.acc > 1", r"column 13 \('>'\)"),
    ],
)
def test_order_by_errors(clause: str, why: str) -> None:
    with pytest.raises(FilterSyntaxError, match=why):
        parse_order_by([clause])
