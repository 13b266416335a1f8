"""The run search language: parsing filters and order-by clauses into a small AST.

Grammar (keywords are case-insensitive)::

    filter     := disjunct (OR disjunct)*
    disjunct   := term (AND term)*
    term       := comparison | "(" filter ")"
    comparison := key OP value | key [NOT] IN "(" value ("," value)* ")" | key [NOT] (I)LIKE string
    key        := metrics.NAME | params.NAME | tags.NAME | attributes.NAME | NAME
    NAME       := letters, digits, _ . / : -   or quoted with `backticks` or "double quotes"
    OP         := = | == | != | <> | < | <= | > | >=
    value      := 'string' | "string" | number

``params`` and ``tags`` compare as strings, ``metrics`` as numbers, and attributes by their type
(``status``, ``name``, ``run_id``/``id``, ``experiment_id``, ``user``, ``parent_id`` are strings;
``start_time``, ``end_time`` are integers in ms since the epoch).

The AST is dialect-free: :mod:`modelward.store.metadata.sql.search` compiles it to bound SQL.
Every error is a :class:`~modelward.errors.FilterSyntaxError` whose message names the offending
token and its column, and whose ``details`` carry ``column`` and ``token``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

from modelward.errors import FilterSyntaxError

__all__ = [
    "ATTRIBUTES",
    "BoolOp",
    "Comparison",
    "Expr",
    "OrderKey",
    "parse_filter",
    "parse_order_by",
]

Entity = Literal["metric", "param", "tag", "attribute"]

#: Searchable run attributes and their value kind.
ATTRIBUTES: dict[str, Literal["str", "int"]] = {
    "id": "str",
    "run_id": "str",
    "name": "str",
    "run_name": "str",
    "status": "str",
    "experiment_id": "str",
    "user": "str",
    "parent_id": "str",
    "start_time": "int",
    "end_time": "int",
}

_ENTITY_PREFIXES: dict[str, Entity] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
}

_GRAMMAR = r"""
?start: disj
?disj: conj (_OR conj)*
?conj: term (_AND term)*
?term: comparison | "(" disj ")"
comparison: key CMP value                       -> compare
          | key _IN "(" value ("," value)* ")"         -> in_list
          | key _NOT _IN "(" value ("," value)* ")"    -> not_in_list
          | key LIKEOP string                   -> like
          | key _NOT LIKEOP string              -> not_like
key: KEY
value: string | number
string: STRING
number: NUMBER
order: key DIRECTION?

KEY: /[A-Za-z_][A-Za-z0-9_]*\.(`[^`]+`|"[^"]+")/
   | /[A-Za-z_][A-Za-z0-9_.\/:\-]*/
CMP: "==" | "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
LIKEOP.2: /i?like\b/i
_IN.2: /in\b/i
_NOT.2: /not\b/i
_AND.2: /and\b/i
_OR.2: /or\b/i
DIRECTION.2: /(asc|desc)\b/i
STRING: /'([^'\\]|\\.)*'/ | /"([^"\\]|\\.)*"/
NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/

%import common.WS
%ignore WS
"""


@dataclass(frozen=True, slots=True)
class Comparison:
    """``entity.key op value``; ``value`` is a tuple for IN / NOT IN."""

    entity: Entity
    key: str
    op: str
    value: float | int | str | tuple[Any, ...]
    column: int


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``AND`` or ``OR`` over two or more sub-expressions."""

    op: Literal["and", "or"]
    items: tuple[Expr, ...]


Expr = Comparison | BoolOp


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One order-by term."""

    entity: Entity
    key: str
    descending: bool


@functools.cache
def _parser(start: str) -> Any:
    from lark import Lark

    return Lark(
        _GRAMMAR, start=start, parser="lalr", propagate_positions=True, maybe_placeholders=False
    )


def _fail(text: str, column: int, token: str, why: str) -> FilterSyntaxError:
    pointer = " " * max(column - 1, 0) + "^"
    return FilterSyntaxError(
        f"invalid search at column {column} ({token!r}): {why}",
        details={"column": column, "token": token, "input": text, "pointer": pointer},
    )


def _split_key(raw: str, text: str, column: int) -> tuple[Entity, str]:
    head, dot, rest = raw.partition(".")
    if not dot:
        name = raw.lower()
        if name in ATTRIBUTES:
            return "attribute", name
        raise _fail(
            text,
            column,
            raw,
            "unknown key; use metrics.NAME, params.NAME, tags.NAME or an attribute "
            f"({', '.join(sorted(ATTRIBUTES))})",
        )
    entity = _ENTITY_PREFIXES.get(head.lower())
    if entity is None:
        raise _fail(
            text,
            column,
            raw,
            f"unknown prefix {head!r}; use metrics., params., tags. or attributes.",
        )
    if len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in '`"':
        rest = rest[1:-1]
    if not rest:
        raise _fail(text, column, raw, "empty key name")
    if entity == "attribute":
        name = rest.lower()
        if name not in ATTRIBUTES:
            raise _fail(
                text, column, raw, f"unknown attribute; use one of {', '.join(sorted(ATTRIBUTES))}"
            )
        return entity, name
    return entity, rest


def _unquote(token: str) -> str:
    body = token[1:-1]
    quote = token[0]
    return body.replace("\\" + quote, quote).replace("\\\\", "\\")


def _number(token: str) -> float | int:
    try:
        return int(token)
    except ValueError:
        return float(token)


class _Builder:
    """Turns a Lark tree into the AST, checking value types per entity."""

    def __init__(self, text: str) -> None:
        self.text = text

    def build(self, tree: Any) -> Expr:
        data = tree.data
        if data in {"disj", "conj"}:
            op: Literal["and", "or"] = "or" if data == "disj" else "and"
            items: list[Expr] = []
            for child in tree.children:
                built = self.build(child)
                # Flatten a AND (b AND c) into one node: simpler SQL.
                if isinstance(built, BoolOp) and built.op == op:
                    items.extend(built.items)
                else:
                    items.append(built)
            return BoolOp(op, tuple(items))
        key_tree = tree.children[0]
        key_token = key_tree.children[0]
        column = key_token.column
        entity, key = _split_key(str(key_token), self.text, column)
        if data == "compare":
            op_token, value_tree = tree.children[1], tree.children[2]
            cmp = {"==": "=", "<>": "!="}.get(str(op_token), str(op_token))
            value = self._value(value_tree)
            self._check(entity, key, cmp, value, value_tree)
            return Comparison(entity, key, cmp, value, column)
        if data in {"in_list", "not_in_list"}:
            values = tuple(self._value(v) for v in tree.children[1:])
            for value, value_tree in zip(values, tree.children[1:], strict=True):
                self._check(entity, key, "=", value, value_tree)
            return Comparison(entity, key, "in" if data == "in_list" else "not in", values, column)
        # like / not_like
        like_token, string_tree = tree.children[1], tree.children[2]
        if entity == "metric" or (entity == "attribute" and ATTRIBUTES[key] == "int"):
            raise _fail(self.text, like_token.column, str(like_token), "LIKE needs a string key")
        pattern = _unquote(str(string_tree.children[0]))
        like = str(like_token).lower()
        return Comparison(entity, key, like if data == "like" else "not " + like, pattern, column)

    def _value(self, tree: Any) -> float | int | str:
        inner = tree.children[0]
        token = inner.children[0]
        if inner.data == "string":
            return _unquote(str(token))
        return _number(str(token))

    def _check(self, entity: Entity, key: str, op: str, value: Any, tree: Any) -> None:
        token = tree.children[0].children[0]
        kind = "int" if entity == "attribute" and ATTRIBUTES[key] == "int" else "str"
        if entity == "metric":
            kind = "num"
        if kind in {"num", "int"} and isinstance(value, str):
            raise _fail(
                self.text,
                token.column,
                str(token),
                f"{entity} {key!r} is numeric; compare it with a number",
            )
        if kind == "str" and not isinstance(value, str):
            raise _fail(
                self.text,
                token.column,
                str(token),
                f"{entity} {key!r} is a string; quote the value: '{token}'",
            )
        if entity == "attribute" and key == "status" and isinstance(value, str):
            from modelward.entities import RunStatus

            if value.upper() not in RunStatus.__members__:
                raise _fail(
                    self.text,
                    token.column,
                    str(token),
                    "unknown status; use RUNNING, FINISHED, FAILED or KILLED",
                )


#: How grammar terminals are named in error messages.
_TERMINAL_WORDS = {
    "$END": "the end",
    "_AND": "AND",
    "_OR": "OR",
    "_IN": "IN",
    "_NOT": "NOT",
    "LIKEOP": "LIKE/ILIKE",
    "CMP": "a comparison (= != < <= > >=)",
    "KEY": "a key",
    "STRING": "a quoted string",
    "NUMBER": "a number",
    "LPAR": "'('",
    "RPAR": "')'",
    "COMMA": "','",
    "DIRECTION": "ASC/DESC",
}


def _explain(exc: Any, text: str) -> FilterSyntaxError:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedEOF) or (
        isinstance(exc, UnexpectedToken) and exc.token.type == "$END"
    ):
        return _fail(text, len(text) + 1, "<end>", "the expression ends too early")
    if isinstance(exc, UnexpectedToken):
        token = str(exc.token)
        # ``accepts`` is exact; ``expected`` (LALR table) may list terminals of merged states.
        names = exc.accepts or exc.expected
        expected = sorted({_TERMINAL_WORDS.get(name, name) for name in names})
        return _fail(text, exc.column, token, f"unexpected token; expected {' or '.join(expected)}")
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else "<end>"
        return _fail(text, exc.column, char, "unexpected character")
    return _fail(text, 1, text[:20], str(exc))


@functools.lru_cache(maxsize=256)
def parse_filter(text: str) -> Expr | None:
    """Parse a filter string; return ``None`` for an empty filter.

    Raises:
        FilterSyntaxError: with the column and token at fault.
    """
    from lark.exceptions import UnexpectedInput

    if not text or not text.strip():
        return None
    try:
        tree = _parser("start").parse(text)
    except UnexpectedInput as exc:
        raise _explain(exc, text) from None
    return _Builder(text).build(tree)


@functools.lru_cache(maxsize=256)
def _parse_order(text: str) -> OrderKey:
    from lark.exceptions import UnexpectedInput

    try:
        tree = _parser("order").parse(text)
    except UnexpectedInput as exc:
        raise _explain(exc, text) from None
    key_token = tree.children[0].children[0]
    entity, key = _split_key(str(key_token), text, key_token.column)
    descending = len(tree.children) > 1 and str(tree.children[1]).lower() == "desc"
    return OrderKey(entity, key, descending)


def parse_order_by(clauses: tuple[str, ...] | list[str]) -> list[OrderKey]:
    """Parse order-by terms such as ``"metrics.acc DESC"`` or ``"start_time"``."""
    return [_parse_order(clause) for clause in clauses if clause and clause.strip()]
