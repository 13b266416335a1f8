"""Logical artifact paths and scopes: what is accepted, what is refused and why."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

from modelward.artifacts.paths import (
    check_scope,
    normalize_artifact_path,
    normalize_artifact_prefix,
)
from modelward.errors import InvalidInput, PermissionDenied


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("model.skops", "model.skops"),
        ("model/weights.bin", "model/weights.bin"),
        ("./model/./weights.bin", "model/weights.bin"),
        ("données/été.csv", "données/été.csv"),
        ("a b/c-d_e.f", "a b/c-d_e.f"),
    ],
)
def test_plain_relative_paths_are_accepted(path: str, expected: str) -> None:
    assert normalize_artifact_path(path) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../x", "contains '..'"),
        ("a/../../b", "contains '..'"),
        ("a/..", "contains '..'"),
        ("/etc/passwd", "is absolute"),
        ("/", "is absolute"),
        ("C:/Windows/system32", "is absolute"),
        ("c:evil", "is absolute"),
    ],
)
def test_paths_leaving_their_root_are_denied(path: str, message: str) -> None:
    with pytest.raises(PermissionDenied, match=message):
        normalize_artifact_path(path)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "the artifact path is empty"),
        ("a//b", "has an empty name"),
        ("a/", "has an empty name"),
        (".", "names no file"),
        ("a\\..\\..\\b", "contains a backslash; separate folders with '/'"),
        ("model\\weights.bin", "contains a backslash"),
        ("a\x00b", "contains the control character '\\\\x00'"),
        ("line\nbreak", "contains the control character '\\\\n'"),
        ("x" * 256, "longer than 255 bytes"),
        ("/".join(["abcdefghij"] * 100), "the limit is 1024"),
    ],
)
def test_malformed_paths_are_invalid(path: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        normalize_artifact_path(path)


@pytest.mark.parametrize("value", [None, 3, b"model.bin", PurePosixPath("model.bin")])
def test_non_strings_are_invalid(value: Any) -> None:
    with pytest.raises(InvalidInput, match="artifact path must be a string"):
        normalize_artifact_path(value)


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("", ""), (".", ""), ("./", ""), ("model", "model"), ("model/", "model"), ("a/b/", "a/b")],
)
def test_prefixes_allow_everything_and_a_trailing_slash(prefix: str, expected: str) -> None:
    assert normalize_artifact_prefix(prefix) == expected


def test_prefixes_are_confined_like_paths() -> None:
    with pytest.raises(PermissionDenied, match=r"contains '..'"):
        normalize_artifact_prefix("../")
    with pytest.raises(PermissionDenied, match="is absolute"):
        normalize_artifact_prefix("/tmp/")


@pytest.mark.parametrize(
    "scope", ["runs/0a1b2c3d4e5f", "datasets/iris.v2", "models/churn/3", "runs/A-b_c.1"]
)
def test_well_formed_scopes_are_accepted(scope: str) -> None:
    assert check_scope(scope) == scope


@pytest.mark.parametrize(
    "scope",
    [
        "",
        "runs",
        "runs/",
        "/runs/x",
        "runs/../x",
        "runs/.hidden",
        "Runs/x",
        "runs/x y",
        "runs//x",
        "runs/x\x00",
        "runs/" + "x" * 200,
    ],
)
def test_malformed_scopes_are_invalid(scope: str) -> None:
    with pytest.raises(InvalidInput, match=r"artifact scope .*(malformed|control character)"):
        check_scope(scope)
